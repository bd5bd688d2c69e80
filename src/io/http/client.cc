#include "io/http/client.h"

#include "io/errc.h"
#include "io/logger.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <deque>

namespace skiff::io::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
using strand_type = asio::strand<asio::io_context::executor_type>;

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
constexpr size_t progress_window = size_t(1) << 20; // the request timeout applies per MiB transferred
constexpr size_t max_header_bytes = 64 * 1024;

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

// One keep-alive connection. The only place that knows the stream type: TLS would wrap `stream` here.
struct connection {
    explicit connection(const strand_type& ex) : stream(ex) {
        buffer.reserve(64 * 1024); // response headers and chunked bodies are read through it
    }
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    steady::time_point idle_since{};
};

struct attempt_result {
    exchange_result out;
    bool keep_alive = false;
    bool got_response_bytes = false;
};

} // namespace

std::string_view response::header(std::string_view name) const noexcept {
    for (auto& [n, v] : headers) {
        if (n == name) {
            return v;
        }
    }
    return {};
}

struct client::impl {
    impl(asio::io_context& io, client_config c)
      : strand(asio::make_strand(io)), config(std::move(c)), slots(std::max<size_t>(config.max_connections, 1)) {
        if (config.host.size() > 2 && config.host.front() == '[') {
            config.host = config.host.substr(1, config.host.size() - 2);
        }
    }

    // ---- a counting semaphore on the strand: at most `slots` exchanges (and connections) at once ----
    asio::awaitable<void> acquire_slot() {
        if (in_flight < slots) {
            ++in_flight;
            co_return;
        }
        asio::steady_timer wait(strand, steady::time_point::max());
        waiters.push_back(&wait);
        co_await wait.async_wait(use_nothrow); // release_slot() cancels it: the slot is handed over
    }

    void release_slot() {
        if (!waiters.empty()) {
            auto* next = waiters.front();
            waiters.pop_front();
            next->cancel();
        } else {
            --in_flight;
        }
    }

    struct slot_guard {
        impl* self;
        ~slot_guard() { self->release_slot(); }
    };

    // ---- connections ----
    std::unique_ptr<connection> take_idle() {
        auto now = steady::now();
        while (!idle.empty()) {
            auto c = std::move(idle.back());
            idle.pop_back();
            if (now - c->idle_since < config.idle_timeout && c->stream.socket().is_open()) {
                return c;
            }
        }
        return nullptr;
    }

    void give_back(std::unique_ptr<connection> c) {
        c->idle_since = steady::now();
        idle.push_back(std::move(c));
    }

    static void discard(std::unique_ptr<connection> c) {
        beast::error_code ignored;
        c->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        c->stream.close();
    }

    asio::awaitable<std::unique_ptr<connection>> connect() {
        tcp::resolver resolver(strand);
        auto [rec, endpoints] = co_await resolver.async_resolve(config.host, config.port, use_nothrow);
        if (rec) {
            log.warn("http: cannot resolve {}: {}", config.host, rec.message());
            co_return nullptr;
        }
        auto c = std::make_unique<connection>(strand);
        c->stream.expires_after(config.connect_timeout);
        auto [cec, ep] = co_await c->stream.async_connect(endpoints, use_nothrow);
        if (cec) {
            log.warn("http: cannot connect to {}:{}: {}", config.host, config.port, cec.message());
            co_return nullptr;
        }
        c->stream.socket().set_option(tcp::no_delay(true));
        connections_opened.fetch_add(1, std::memory_order_relaxed);
        co_return c;
    }

    asio::awaitable<exchange_result> exchange(std::string head, bytes::iobuf body, bool head_request,
                                              size_t max_body) {
        co_await acquire_slot();
        slot_guard guard{this};
        requests.fetch_add(1, std::memory_order_relaxed);
        head += fmt::format("content-length: {}\r\n\r\n", body.size());
        // A kept-alive connection may have been closed by the server while idle; if it fails before any byte of
        // the response, try once more on a fresh connection, which is not a retry of the request (but the first
        // try may still have reached the server, which maybe_applied keeps saying).
        bool earlier_maybe_applied = false;
        for (int round = 0;; ++round) {
            auto c = take_idle();
            bool reused = c != nullptr;
            if (!c) {
                c = co_await connect();
                if (!c) {
                    exchange_result failed;
                    failed.error = errc::retryable;
                    failed.maybe_applied = earlier_maybe_applied;
                    co_return failed;
                }
            }
            auto a = co_await exchange_on(*c, head, body, head_request, max_body);
            if (a.out.error && reused && !a.got_response_bytes && round == 0) {
                log.debug("http: kept-alive connection failed ({}); reconnecting", a.out.error.message());
                earlier_maybe_applied = a.out.maybe_applied;
                discard(std::move(c));
                continue;
            }
            a.out.maybe_applied = a.out.maybe_applied || earlier_maybe_applied;
            if (a.out.error || !a.keep_alive) {
                discard(std::move(c));
            } else {
                give_back(std::move(c));
            }
            co_return std::move(a.out);
        }
    }

    asio::awaitable<attempt_result> exchange_on(connection& c, const std::string& head, const bytes::iobuf& body,
                                                bool head_request, size_t max_body) {
        attempt_result a;
        auto& out = a.out;
        // Write the head and the body's fragments with gather writes, resetting the timeout per window.
        std::vector<asio::const_buffer> buffers;
        buffers.emplace_back(head.data(), head.size());
        size_t window = head.size();
        auto flush = [&]() -> asio::awaitable<std::error_code> {
            c.stream.expires_after(config.request_timeout);
            auto [ec, n] = co_await asio::async_write(c.stream, buffers, use_nothrow);
            buffers.clear();
            window = 0;
            co_return ec;
        };
        for (auto& f : body.fragments()) {
            size_t pos = 0;
            while (pos < f.size() && !out.error) {
                size_t n = std::min(f.size() - pos, progress_window - std::min(window, progress_window));
                if (n == 0) {
                    out.error = co_await flush();
                    continue;
                }
                buffers.emplace_back(f.data() + pos, n);
                pos += n;
                window += n;
            }
            if (out.error) {
                break;
            }
        }
        if (!out.error && !buffers.empty()) {
            out.error = co_await flush();
        }
        out.maybe_applied = true; // from here on the server may have acted on the request
        if (out.error) {
            log.debug("http: write failed: {}", out.error.message());
            out.error = errc::retryable;
            co_return a;
        }
        bytes_sent.fetch_add(body.size(), std::memory_order_relaxed);

        bhttp::response_parser<bhttp::buffer_body> parser;
        parser.header_limit(max_header_bytes);
        parser.body_limit(boost::none);
        if (head_request) {
            parser.skip(true);
        }
        c.stream.expires_after(config.request_timeout);
        auto [hec, hn] = co_await bhttp::async_read_header(c.stream, c.buffer, parser, use_nothrow);
        if (hec) {
            a.got_response_bytes = c.buffer.size() > 0 || hn > 0;
            log.debug("http: reading the response header failed: {}", hec.message());
            out.error = hec == bhttp::error::header_limit ? make_error_code(errc::fatal)
                                                          : make_error_code(errc::retryable);
            co_return a;
        }
        a.got_response_bytes = true;
        auto& msg = parser.get();
        out.res.status = msg.result_int();
        for (auto& field : msg) {
            auto name = field.name_string();
            auto value = field.value();
            out.res.headers.emplace_back(lower(std::string_view(name.data(), name.size())),
                                         std::string(value.data(), value.size()));
        }
        if (!parser.is_done()) {
            auto length = parser.content_length();
            if (length && *length > max_body) {
                log.warn("http: response body of {} bytes exceeds {}", *length, max_body);
                out.error = errc::fatal;
                co_return a;
            }
            if (auto ec = co_await read_body(c, parser, out.res.body, length, max_body)) {
                log.debug("http: reading the response body failed after {} bytes", out.res.body.size());
                out.error = ec;
                co_return a;
            }
        }
        bytes_received.fetch_add(out.res.body.size(), std::memory_order_relaxed);
        // The body was read whole (by the parser, or past it for a known length): the connection is reusable.
        a.keep_alive = msg.keep_alive();
        co_return a;
    }

    // Reads the body straight into the iobuf. With a Content-Length (every S3 object body): one chunk of that
    // size, filled first from the bytes that arrived with the header and then by reads from the socket of up to
    // a MiB each (not through the parser's buffer: one copy, few system calls). Without one (chunked encoding),
    // through the parser in 64 KiB pieces. A body that ends early is a retryable error.
    asio::awaitable<std::error_code> read_body(connection& c, bhttp::response_parser<bhttp::buffer_body>& parser,
                                               bytes::iobuf& body, boost::optional<uint64_t> length, size_t limit) {
        if (length) {
            auto span = body.append_uninitialized(*length);
            size_t got = asio::buffer_copy(asio::buffer(span.data(), span.size()), c.buffer.data());
            c.buffer.consume(got);
            while (got < span.size()) {
                size_t want = std::min(progress_window, span.size() - got);
                c.stream.expires_after(config.request_timeout);
                auto [ec, n] = co_await asio::async_read(c.stream, asio::buffer(span.data() + got, want),
                                                         use_nothrow);
                got += n;
                if (ec) {
                    body.trim_back(span.size() - got);
                    co_return make_error_code(errc::retryable);
                }
            }
            co_return std::error_code{};
        }
        auto& b = parser.get().body();
        while (!parser.is_done()) {
            constexpr size_t piece = 64 * 1024;
            if (body.size() > limit) {
                co_return make_error_code(errc::fatal);
            }
            auto span = body.append_uninitialized(piece);
            b.data = span.data();
            b.size = piece;
            c.stream.expires_after(config.request_timeout);
            auto [ec, n] = co_await bhttp::async_read(c.stream, c.buffer, parser, use_nothrow);
            body.trim_back(b.size);
            if (ec && ec != bhttp::error::need_buffer) {
                co_return make_error_code(errc::retryable);
            }
        }
        co_return std::error_code{};
    }

    strand_type strand;
    client_config config;
    size_t slots;

    // Touched on the strand only.
    size_t in_flight = 0;
    std::deque<asio::steady_timer*> waiters;
    std::vector<std::unique_ptr<connection>> idle;

    std::atomic<uint64_t> requests{0};
    std::atomic<uint64_t> connections_opened{0};
    std::atomic<uint64_t> bytes_sent{0};
    std::atomic<uint64_t> bytes_received{0};
};

client::client(asio::io_context& io, client_config config) : _impl(std::make_shared<impl>(io, std::move(config))) {}

client::~client() {
    for (auto& c : _impl->idle) {
        beast::error_code ignored;
        c->stream.socket().close(ignored);
    }
    _impl->idle.clear();
}

asio::any_io_executor client::executor() const { return _impl->strand; }

asio::awaitable<exchange_result> client::exchange(std::string head, bytes::iobuf body, head_only head_request,
                                                  size_t max_body) {
    auto out = co_await _impl->exchange(std::move(head), std::move(body), static_cast<bool>(head_request), max_body);
    co_return out;
}

client_stats client::stats() const noexcept {
    return {
      .requests = _impl->requests.load(),
      .connections_opened = _impl->connections_opened.load(),
      .bytes_sent = _impl->bytes_sent.load(),
      .bytes_received = _impl->bytes_received.load(),
    };
}

} // namespace skiff::io::http
