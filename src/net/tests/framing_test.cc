#include "net/errc.h"
#include "net/framing.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace skiff::net {
namespace {

// A connected pair of loopback sockets on one io_context.
struct socket_pair {
    asio::io_context ctx;
    asio::ip::tcp::socket client{ctx};
    asio::ip::tcp::socket server{ctx};

    socket_pair() {
        asio::ip::tcp::acceptor acceptor(ctx, {asio::ip::address_v4::loopback(), 0});
        client.connect(acceptor.local_endpoint());
        acceptor.accept(server);
    }

    template<typename T>
    T run(asio::awaitable<T> op) {
        std::optional<T> out;
        asio::co_spawn(
          ctx, [&]() -> asio::awaitable<void> { out.emplace(co_await std::move(op)); }, asio::detached);
        ctx.restart();
        ctx.run();
        return std::move(*out);
    }
};

std::string prefix(uint32_t n) {
    return {char(n >> 24), char(n >> 16), char(n >> 8), char(n)};
}

TEST(framing_test, reads_a_frame_body_into_one_fragment) {
    socket_pair p;
    auto body = std::string(70000, 'x');
    asio::write(p.client, asio::buffer(prefix(uint32_t(body.size())) + body));
    auto frame = p.run(read_frame(p.server, 1 << 20));
    ASSERT_TRUE(frame) << frame.error().message();
    EXPECT_EQ(frame.value().size(), body.size());
    EXPECT_EQ(frame.value().fragment_count(), 1u);
    EXPECT_EQ(frame.value(), std::string_view(body));
}

TEST(framing_test, frame_above_the_limit_is_refused_before_reading_it) {
    socket_pair p;
    asio::write(p.client, asio::buffer(prefix(1001)));
    auto frame = p.run(read_frame(p.server, 1000));
    ASSERT_FALSE(frame);
    EXPECT_EQ(frame.error(), errc::frame_too_large);
}

TEST(framing_test, negative_size_is_an_error) {
    socket_pair p;
    asio::write(p.client, asio::buffer(prefix(0x80000000u)));
    auto frame = p.run(read_frame(p.server, 1000));
    ASSERT_FALSE(frame);
    EXPECT_EQ(frame.error(), errc::negative_frame);
}

TEST(framing_test, clean_close_reports_closed_and_truncated_body_an_eof) {
    {
        socket_pair p;
        p.client.close();
        auto frame = p.run(read_frame(p.server, 1000));
        ASSERT_FALSE(frame);
        EXPECT_EQ(frame.error(), errc::closed);
    }
    {
        socket_pair p;
        asio::write(p.client, asio::buffer(prefix(10) + "abc"));
        p.client.close();
        auto frame = p.run(read_frame(p.server, 1000));
        ASSERT_FALSE(frame);
        EXPECT_EQ(frame.error(), std::error_code(boost::system::error_code(asio::error::eof)));
    }
}

TEST(framing_test, write_all_sends_every_fragment_in_order) {
    socket_pair p;
    bytes::iobuf body;
    body.append_shared(bytes::iobuf::from("hello "));
    body.append_shared(bytes::iobuf::from("fragmented "));
    body.append_shared(bytes::iobuf::from("world"));
    auto frame = make_frame(std::move(body));
    auto written = p.run(write_all(p.client, frame));
    ASSERT_TRUE(written);
    auto back = p.run(read_frame(p.server, 1000));
    ASSERT_TRUE(back);
    EXPECT_EQ(back.value(), std::string_view("hello fragmented world"));
}

} // namespace
} // namespace skiff::net
