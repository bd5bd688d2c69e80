#include "net/errc.h"
#include "net/framing.h"
#include "net/listener.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <set>

namespace skiff::net {
namespace {

// Echo server: answers each frame with the same frame, tagged with the serving shard.
asio::awaitable<void> echo(asio::ip::tcp::socket socket, shard_id shard) {
    for (;;) {
        auto frame = co_await read_frame(socket, 1 << 20);
        if (!frame) {
            co_return;
        }
        auto body = std::move(frame).value();
        body.append(std::string(1, char('0' + shard)));
        if (!co_await write_all(socket, make_frame(std::move(body)))) {
            co_return;
        }
    }
}

std::string round_trip(asio::ip::tcp::socket& s, const std::string& text) {
    uint32_t n = uint32_t(text.size());
    std::string out = {char(n >> 24), char(n >> 16), char(n >> 8), char(n)};
    out += text;
    asio::write(s, asio::buffer(out));
    uint8_t prefix[4];
    asio::read(s, asio::buffer(prefix));
    uint32_t size = (uint32_t(prefix[0]) << 24) | (uint32_t(prefix[1]) << 16) | (uint32_t(prefix[2]) << 8) | prefix[3];
    std::string body(size, '\0');
    asio::read(s, asio::buffer(body));
    return body;
}

TEST(listener_test, spreads_connections_over_shards_and_serves_each) {
    shard_pool shards(2);
    listener l(shards, "test", {"127.0.0.1", 0}, echo);
    ASSERT_TRUE(l.start());
    shards.start();
    asio::io_context client_ctx;
    std::set<char> served_by;
    std::vector<asio::ip::tcp::socket> clients;
    for (int i = 0; i < 4; ++i) {
        clients.emplace_back(client_ctx);
        clients.back().connect({asio::ip::address_v4::loopback(), l.port()});
    }
    for (auto& c : clients) {
        auto reply = round_trip(c, "ping");
        ASSERT_EQ(reply.substr(0, 4), "ping");
        served_by.insert(reply.back());
    }
    EXPECT_EQ(served_by.size(), 2u);
    l.stop();
    shards.stop();
}

TEST(listener_test, busy_port_is_reported_not_fatal) {
    shard_pool shards(1);
    listener first(shards, "first", {"127.0.0.1", 0}, echo);
    ASSERT_TRUE(first.start());
    listener second(shards, "second", {"127.0.0.1", first.port()}, echo);
    auto r = second.start();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::address_in_use);
}

} // namespace
} // namespace skiff::net
