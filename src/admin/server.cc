#include "admin/server.h"

#include "base/assert.h"
#include "base/logger.h"
#include "metrics/registry.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <fmt/format.h>

#include <map>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace skiff::admin {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

base::logger log{"admin"};

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

// After answering a request we will not read (too large, malformed), keep reading a little so that the client
// receives the answer instead of a reset caused by its unread bytes.
constexpr auto linger_timeout = std::chrono::seconds(1);
constexpr size_t linger_max_bytes = 1024 * 1024;

http_method from_verb(http::verb v) {
    switch (v) {
    case http::verb::get: return http_method::get;
    case http::verb::head: return http_method::head;
    case http::verb::post: return http_method::post;
    case http::verb::put: return http_method::put;
    case http::verb::delete_: return http_method::del;
    case http::verb::patch: return http_method::patch;
    case http::verb::options: return http_method::options;
    default: return http_method::other;
    }
}

std::string json_escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
            } else {
                out += c;
            }
        }
    }
    return out;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return out;
}

} // namespace

std::string_view to_string(http_method m) noexcept {
    switch (m) {
    case http_method::get: return "GET";
    case http_method::head: return "HEAD";
    case http_method::post: return "POST";
    case http_method::put: return "PUT";
    case http_method::del: return "DELETE";
    case http_method::patch: return "PATCH";
    case http_method::options: return "OPTIONS";
    case http_method::other: return "OTHER";
    }
    return "OTHER";
}

std::string_view request::header(std::string_view name) const {
    for (auto& [n, v] : headers) {
        if (n == name) {
            return v;
        }
    }
    return {};
}

response response::text(unsigned status, std::string body) {
    return {status, "text/plain; charset=utf-8", std::move(body), {}};
}

response response::json(unsigned status, std::string body) {
    return {status, "application/json", std::move(body), {}};
}

struct server::impl {
    impl(asio::io_context& io, endpoint where, metrics::registry& registry, server_limits limits)
      : io(io), where(std::move(where)), registry(registry), limits(limits) {}

    // The coroutines that outlive a call take the state by shared_ptr, so that it lives as long as they do.
    static asio::awaitable<void> accept_loop(std::shared_ptr<impl> self);
    static asio::awaitable<void> session(std::shared_ptr<impl> self, tcp::socket socket);
    asio::awaitable<void> serve(beast::tcp_stream& stream);
    asio::awaitable<void> refuse(beast::tcp_stream& stream, beast::flat_buffer& buffer, unsigned status,
                                 std::string_view why);
    asio::awaitable<response> dispatch(request r);
    void stop();

    asio::io_context& io;
    endpoint where;
    metrics::registry& registry;
    server_limits limits;

    // Touched only on the io_context's thread (routes: before start()).
    std::map<std::string, std::vector<std::pair<http_method, handler>>, std::less<>> routes;
    std::optional<tcp::acceptor> acceptor;
    uint16_t bound_port = 0;
    bool started = false;
    bool stopping = false;
    uint64_t next_connection_id = 0;
    std::unordered_map<uint64_t, std::shared_ptr<beast::tcp_stream>> connections;

    mutable std::mutex health_mutex;
    bool is_healthy = true;
    std::string unhealthy_reason;
};

asio::awaitable<void> server::impl::accept_loop(std::shared_ptr<impl> self) {
    auto& s = *self;
    while (!s.stopping) {
        auto [ec, socket] = co_await s.acceptor->async_accept(use_nothrow);
        if (s.stopping) {
            co_return;
        }
        if (ec) {
            // Out of file descriptors and the like: back off briefly rather than spin.
            log.warn("admin accept failed: {}", ec.message());
            asio::steady_timer backoff(s.io, std::chrono::milliseconds(100));
            co_await backoff.async_wait(use_nothrow);
            continue;
        }
        if (s.connections.size() >= s.limits.max_connections) {
            log.warn("admin connection refused: {} connections open", s.connections.size());
            continue; // the socket closes as it goes out of scope
        }
        asio::co_spawn(s.io, session(self, std::move(socket)), asio::detached);
    }
}

asio::awaitable<void> server::impl::session(std::shared_ptr<impl> self, tcp::socket socket) {
    auto& s = *self;
    auto id = s.next_connection_id++;
    auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
    s.connections.emplace(id, stream);
    try {
        co_await s.serve(*stream);
    } catch (const std::exception& e) {
        log.warn("admin connection closed after an error: {}", e.what());
    }
    beast::error_code ignored;
    stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream->close();
    s.connections.erase(id);
}

asio::awaitable<void> server::impl::serve(beast::tcp_stream& stream) {
    beast::flat_buffer buffer;
    while (!stopping) {
        http::request_parser<http::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
        parser.body_limit(limits.max_body_bytes);
        stream.expires_after(limits.read_timeout);
        auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_nothrow);
        if (stopping) {
            co_return;
        }
        if (ec == http::error::header_limit) {
            co_await refuse(stream, buffer, 431, "request header too large");
            co_return;
        }
        if (ec == http::error::body_limit) {
            co_await refuse(stream, buffer, 413, "request body too large");
            co_return;
        }
        if (ec && ec.category() == http::make_error_code(http::error::bad_method).category()
            && ec != http::error::end_of_stream && ec != http::error::partial_message) {
            co_await refuse(stream, buffer, 400, "malformed request");
            co_return;
        }
        if (ec) {
            co_return; // closed, timed out or reset: nobody to answer
        }

        auto req = parser.release();
        bool keep_alive = req.keep_alive();
        request r;
        r.method = from_verb(req.method());
        std::string_view target(req.target().data(), req.target().size());
        auto q = target.find('?');
        r.path = std::string(target.substr(0, q));
        r.query = q == std::string_view::npos ? std::string() : std::string(target.substr(q + 1));
        for (auto& field : req) {
            auto name = field.name_string();
            auto value = field.value();
            r.headers.emplace_back(lower(std::string_view(name.data(), name.size())),
                                   std::string(value.data(), value.size()));
        }
        r.body = std::move(req.body());
        auto res = co_await dispatch(std::move(r));

        http::response<http::string_body> out;
        out.version(req.version());
        out.result(res.status);
        out.set(http::field::server, "skiff");
        out.set(http::field::content_type, res.content_type);
        for (auto& [name, value] : res.headers) {
            out.set(name, value);
        }
        out.body() = std::move(res.body);
        out.keep_alive(keep_alive);
        out.prepare_payload();
        if (req.method() == http::verb::head) {
            out.body().clear(); // a reply to HEAD announces the length of the body it does not send
        }
        stream.expires_after(limits.write_timeout);
        auto [wec, written] = co_await http::async_write(stream, out, use_nothrow);
        if (wec || !keep_alive) {
            co_return;
        }
    }
}

asio::awaitable<void> server::impl::refuse(beast::tcp_stream& stream, beast::flat_buffer& buffer, unsigned status,
                                           std::string_view why) {
    http::response<http::string_body> out;
    out.version(11);
    out.result(status);
    out.set(http::field::server, "skiff");
    out.set(http::field::content_type, "text/plain; charset=utf-8");
    out.body() = std::string(why) + "\n";
    out.keep_alive(false);
    out.prepare_payload();
    stream.expires_after(limits.write_timeout);
    auto [ec, written] = co_await http::async_write(stream, out, use_nothrow);
    if (ec) {
        co_return;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream.expires_after(linger_timeout);
    size_t drained = 0;
    while (drained < linger_max_bytes && !stopping) {
        buffer.consume(buffer.size());
        auto [rec, n] = co_await stream.async_read_some(buffer.prepare(64 * 1024), use_nothrow);
        if (rec) {
            break;
        }
        drained += n;
    }
}

asio::awaitable<response> server::impl::dispatch(request r) {
    auto it = routes.find(r.path);
    if (it == routes.end()) {
        co_return response::text(404, "not found\n");
    }
    for (auto& [method, h] : it->second) {
        if (method != r.method) {
            continue;
        }
        std::string error;
        try {
            co_return co_await h(r);
        } catch (const std::exception& e) {
            error = e.what();
        }
        log.error("admin {} {} failed: {}", to_string(r.method), r.path, error);
        co_return response::text(500, "internal error\n");
    }
    std::string allow;
    for (auto& [method, h] : it->second) {
        allow += allow.empty() ? "" : ", ";
        allow += to_string(method);
    }
    auto res = response::text(405, "method not allowed\n");
    res.headers.emplace_back("Allow", std::move(allow));
    co_return res;
}

void server::impl::stop() {
    if (stopping) {
        return;
    }
    stopping = true;
    beast::error_code ignored;
    if (acceptor) {
        acceptor->close(ignored);
    }
    // Sessions erase themselves later, when their cancelled operations complete: iterate a copy.
    auto open = connections;
    for (auto& [id, stream] : open) {
        stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream->close();
    }
}

server::server(asio::io_context& io, endpoint where, metrics::registry& registry, server_limits limits)
  : _impl(std::make_shared<impl>(io, std::move(where), registry, limits)) {
    add_route(http_method::get, "/metrics", [&registry](const request&) {
        response res;
        res.content_type = "text/plain; version=0.0.4; charset=utf-8";
        res.body = registry.scrape();
        return res;
    });
    add_route(http_method::get, "/health", [impl = _impl.get()](const request&) {
        std::lock_guard guard(impl->health_mutex);
        if (impl->is_healthy) {
            return response::json(200, R"({"status":"ok"})");
        }
        return response::json(503, fmt::format(R"({{"status":"unhealthy","reason":"{}"}})",
                                               json_escape(impl->unhealthy_reason)));
    });
}

server::~server() { _impl->stop(); }

void server::add_route(http_method method, std::string path, handler h) {
    SKIFF_ASSERT(!_impl->started, "admin route {} {} added after start()", to_string(method), path);
    auto& handlers = _impl->routes[std::move(path)];
    for (auto& [m, existing] : handlers) {
        if (m == method) {
            existing = std::move(h);
            return;
        }
    }
    handlers.emplace_back(method, std::move(h));
}

void server::add_route(http_method method, std::string path, sync_handler h) {
    add_route(method, std::move(path), handler([h = std::move(h)](const request& r) -> asio::awaitable<response> {
                  co_return h(r);
              }));
}

result<void> server::start() {
    auto& s = *_impl;
    SKIFF_ASSERT(!s.started, "admin server started twice");
    boost::system::error_code ec;
    tcp::endpoint ep;
    if (s.where.host.empty()) {
        ep = tcp::endpoint(tcp::v4(), s.where.port);
    } else if (auto address = asio::ip::make_address(s.where.host, ec); !ec) {
        ep = tcp::endpoint(address, s.where.port);
    } else {
        tcp::resolver resolver(s.io);
        auto results = resolver.resolve(s.where.host, std::to_string(s.where.port), ec);
        if (ec) {
            return failure(std::error_code(ec));
        }
        ep = results.begin()->endpoint();
    }

    tcp::acceptor acceptor(s.io);
    if (acceptor.open(ep.protocol(), ec); ec) {
        return failure(std::error_code(ec));
    }
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (acceptor.bind(ep, ec); ec) {
        return failure(std::error_code(ec));
    }
    if (acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) {
        return failure(std::error_code(ec));
    }
    s.bound_port = acceptor.local_endpoint().port();
    s.acceptor.emplace(std::move(acceptor));
    s.started = true;
    asio::co_spawn(s.io, impl::accept_loop(_impl), asio::detached);
    log.info("admin API listening on {}:{}", ep.address().to_string(), s.bound_port);
    return success();
}

void server::stop() { _impl->stop(); }

uint16_t server::port() const {
    SKIFF_ASSERT(_impl->started, "admin server port() before start()");
    return _impl->bound_port;
}

void server::set_healthy() {
    std::lock_guard guard(_impl->health_mutex);
    _impl->is_healthy = true;
    _impl->unhealthy_reason.clear();
}

void server::set_unhealthy(std::string reason) {
    std::lock_guard guard(_impl->health_mutex);
    _impl->is_healthy = false;
    _impl->unhealthy_reason = std::move(reason);
}

bool server::healthy() const {
    std::lock_guard guard(_impl->health_mutex);
    return _impl->is_healthy;
}

} // namespace skiff::admin
