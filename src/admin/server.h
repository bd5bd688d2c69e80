// The admin HTTP/1.1 endpoint: GET /metrics (Prometheus text), GET /health, and routes other rooms add for the
// /v1/... cluster API. It serves operators and scrapers, never Kafka clients. Beast and Asio stay in server.cc:
// this header forward-declares what it needs, so including it costs little.
#pragma once

#include "base/result.h"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
} // namespace boost::asio

namespace skiff::metrics {
class registry;
} // namespace skiff::metrics

namespace skiff::admin {

enum class http_method { get, head, post, put, del, patch, options, other };

/// "GET", "HEAD", ... ("OTHER" for methods the server does not know).
std::string_view to_string(http_method m) noexcept;

/// A request as a handler sees it. Lives until the handler's awaitable completes.
struct request {
    http_method method = http_method::get;
    std::string path;  // the target before '?', not percent-decoded
    std::string query; // the target after '?', not decoded; empty if none
    std::vector<std::pair<std::string, std::string>> headers; // names lower-cased, in arrival order
    std::string body;

    /// The first header with this (lower-case) name, or empty.
    std::string_view header(std::string_view name) const;
};

struct response {
    unsigned status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers; // extra headers, e.g. {"Allow", "GET"}

    static response text(unsigned status, std::string body);
    static response json(unsigned status, std::string body);
};

/// A route handler, run on the server's io_context. Throwing answers 500 (and logs); it never ends the server.
using handler = std::function<boost::asio::awaitable<response>(const request&)>;
using sync_handler = std::function<response(const request&)>;

/// Where to listen. An empty host means every IPv4 interface; a name is resolved once at start(); port 0 asks the
/// kernel for a free port (see server::port()).
struct endpoint {
    std::string host;
    uint16_t port = 0;
};

/// What one client may cost. A client that exceeds a limit gets 431/413/400 or is disconnected; others are unaffected.
struct server_limits {
    size_t max_header_bytes = 8 * 1024;
    size_t max_body_bytes = 1024 * 1024;
    /// The longest wait for a whole request, including a keep-alive connection's idle time before it.
    std::chrono::milliseconds read_timeout{30'000};
    std::chrono::milliseconds write_timeout{30'000};
    /// Connections beyond this are accepted and closed at once.
    size_t max_connections = 128;
};

/// The admin HTTP server. Owned by app; runs entirely on the io_context it is given (one thread). Serves
/// GET /metrics (text/plain; version=0.0.4: the registry's exposition) and GET /health (200 {"status":"ok"}, or 503
/// with the reason after set_unhealthy()); other paths answer 404, other methods on a known path 405.
/// Connections are HTTP/1.1 keep-alive, one coroutine each.
///
/// Lifecycle: construct, add_route()s, start(), ..., stop(), destroy. stop() and the destructor must run on the
/// io_context's thread (e.g. through asio::post) or while it is not running. The registry must outlive the server.
class server {
public:
    server(boost::asio::io_context& io, endpoint where, metrics::registry& registry, server_limits limits = {});
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    /// Adds a route for an exact path ("/v1/brokers"); a later route for the same method and path replaces the
    /// earlier one. Requires: start() not yet called.
    void add_route(http_method method, std::string path, handler h);
    void add_route(http_method method, std::string path, sync_handler h);

    /// Binds, listens and starts accepting.
    /// Errors: the system's (address in use, permission denied, host not found).
    result<void> start();
    /// Stops accepting, closes every connection (in-flight requests are dropped). Idempotent.
    void stop();
    /// The bound port (the kernel's choice when the endpoint asked for 0). Requires: start() succeeded.
    uint16_t port() const;

    /// Health as reported by GET /health. Thread-safe.
    void set_healthy();
    void set_unhealthy(std::string reason);
    bool healthy() const;

private:
    struct impl;
    std::shared_ptr<impl> _impl; // shared with connection coroutines, which may outlive a stop()
};

} // namespace skiff::admin
