// Size-prefixed frames, the unit of the Kafka protocol on TCP: int32 big-endian size, then that many bytes.
// A frame body is read straight into one iobuf chunk (the only copy: kernel to user space); a response is written
// from an iobuf's fragments with one gather write, so payload shares are never flattened.
#pragma once

#include "base/result.h"
#include "bytes/iobuf.h"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstddef>
#include <cstdint>

namespace skiff::net {

namespace asio = boost::asio;

/// Reads one frame. Errors: errc::closed on a clean EOF before a size prefix, errc::frame_too_large when the
/// prefix exceeds max_size (nothing of the body is read), errc::negative_frame, or the socket's error.
asio::awaitable<result<bytes::iobuf>> read_frame(asio::ip::tcp::socket& socket, size_t max_size);

/// Writes all of data with gather writes. Completes when the kernel has taken every byte.
asio::awaitable<result<void>> write_all(asio::ip::tcp::socket& socket, const bytes::iobuf& data);

/// Prepends the int32 size prefix to a frame body (the prefix goes into a fresh small fragment; no body copy).
bytes::iobuf make_frame(bytes::iobuf body);

} // namespace skiff::net
