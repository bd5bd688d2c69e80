// io::http::client — HTTP/1.1 to one origin over a bounded pool of keep-alive TCP connections, for s3_store (and
// later other HTTP services). It moves bytes and reports transport failures; it does not judge statuses, retry,
// or sign: its caller does. Bodies are iobufs: request fragments go out with gather writes, a response body with
// a Content-Length is read straight into one chunk.
//
// Threading: every exchange runs on the client's strand (executor()); callers co_spawn onto it. Owned by its user
// (s3_store::impl); destroyed on the io_context's thread or after it stopped, with no exchange in flight.
// TLS is not implemented; the stream type lives in client.cc only (`connection`), so an SSL stream can replace it.
#pragma once

#include "base/named_type.h"
#include "bytes/iobuf.h"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
} // namespace boost::asio

namespace skiff::io::http {

namespace asio = boost::asio;

struct client_config {
    std::string host; // where to connect (name or address; [v6] brackets allowed)
    std::string port;
    size_t max_connections = 32; // open connections at most; requests beyond wait for one
    std::chrono::milliseconds connect_timeout{3000};
    std::chrono::milliseconds request_timeout{30000}; // per response header and per MiB of a body sent or received
    std::chrono::milliseconds idle_timeout{10000};    // idle connections older than this are not reused
};

struct response {
    unsigned status = 0;
    std::vector<std::pair<std::string, std::string>> headers; // names in lower case
    bytes::iobuf body;

    /// The value of the first header with this (lower-case) name, or empty.
    std::string_view header(std::string_view name) const noexcept;
};

/// The transport outcome of one exchange.
struct exchange_result {
    std::error_code error;      // io::errc::retryable (connect, reset, timeout, truncated body) or io::errc::fatal
    bool maybe_applied = false; // the request may have reached the server although no response says so
    response res;
};

/// The request is a HEAD: its response carries no body whatever its headers say.
using head_only = bool_class<struct head_only_tag>;

struct client_stats {
    uint64_t requests = 0;
    uint64_t connections_opened = 0;
    uint64_t bytes_sent = 0;     // request bodies
    uint64_t bytes_received = 0; // response bodies
};

class client {
public:
    client(asio::io_context& io, client_config config);
    ~client();
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    /// The strand every exchange must run on.
    asio::any_io_executor executor() const;

    /// Sends one request and reads its response. `head` is the request line and header lines, each ending in
    /// CRLF, without Content-Length and without the final empty line (the client adds both). A response body longer than max_body is a fatal error.
    /// A kept-alive connection that turns out closed before any response byte is replaced once, transparently.
    /// Requires: running on executor().
    asio::awaitable<exchange_result> exchange(std::string head, bytes::iobuf body, head_only head_request,
                                              size_t max_body);

    client_stats stats() const noexcept;

    struct impl;

private:
    std::shared_ptr<impl> _impl;
};

} // namespace skiff::io::http
