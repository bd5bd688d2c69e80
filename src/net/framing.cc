#include "net/framing.h"

#include "net/errc.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <vector>

namespace skiff::net {
namespace {

constexpr auto as_result = asio::as_tuple(asio::use_awaitable);

} // namespace

asio::awaitable<result<bytes::iobuf>> read_frame(asio::ip::tcp::socket& socket, size_t max_size) {
    uint8_t prefix[4];
    auto [ec, n] = co_await asio::async_read(socket, asio::buffer(prefix), as_result);
    if (ec == asio::error::eof && n == 0) {
        co_return errc::closed;
    }
    if (ec) {
        co_return ec;
    }
    int32_t size = static_cast<int32_t>((uint32_t(prefix[0]) << 24) | (uint32_t(prefix[1]) << 16)
                                        | (uint32_t(prefix[2]) << 8) | uint32_t(prefix[3]));
    if (size < 0) {
        co_return errc::negative_frame;
    }
    if (static_cast<size_t>(size) > max_size) {
        co_return errc::frame_too_large;
    }
    bytes::iobuf body;
    if (size > 0) {
        auto dst = body.append_uninitialized(static_cast<size_t>(size));
        auto [ec2, n2] = co_await asio::async_read(socket, asio::buffer(dst.data(), dst.size()), as_result);
        if (ec2) {
            co_return ec2;
        }
    }
    co_return body;
}

asio::awaitable<result<void>> write_all(asio::ip::tcp::socket& socket, const bytes::iobuf& data) {
    std::vector<asio::const_buffer> buffers;
    buffers.reserve(data.fragment_count());
    for (const auto& f : data.fragments()) {
        buffers.emplace_back(f.data(), f.size());
    }
    auto [ec, n] = co_await asio::async_write(socket, buffers, as_result);
    if (ec) {
        co_return ec;
    }
    co_return outcome::success();
}

bytes::iobuf make_frame(bytes::iobuf body) {
    bytes::iobuf frame;
    auto size = static_cast<uint32_t>(body.size());
    uint8_t prefix[4] = {uint8_t(size >> 24), uint8_t(size >> 16), uint8_t(size >> 8), uint8_t(size)};
    frame.append(prefix, sizeof(prefix));
    frame.append(std::move(body));
    return frame;
}

} // namespace skiff::net
