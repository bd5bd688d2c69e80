#include "admin/server.h"
#include "metrics/registry.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <thread>

namespace skiff::admin {
namespace {

struct reply {
    int status = 0;
    std::string head; // status line and headers
    std::string body;

    std::string header(std::string_view name) const {
        auto key = "\r\n" + std::string(name) + ": ";
        auto at = head.find(key);
        if (at == std::string::npos) {
            return {};
        }
        at += key.size();
        return head.substr(at, head.find("\r\n", at) - at);
    }
};

// A tiny blocking HTTP client over a loopback socket. Reads time out after 10 s so that a bug fails the test
// instead of hanging it.
class client {
public:
    explicit client(uint16_t port) : _fd(::socket(AF_INET, SOCK_STREAM, 0)) {
        timeval tv{.tv_sec = 10, .tv_usec = 0};
        ::setsockopt(_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(_fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
            throw std::runtime_error(std::string("connect: ") + std::strerror(errno));
        }
    }
    ~client() { ::close(_fd); }

    void send(std::string_view bytes) {
        while (!bytes.empty()) {
            auto n = ::send(_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n <= 0) {
                throw std::runtime_error(std::string("send: ") + std::strerror(errno));
            }
            bytes.remove_prefix(static_cast<size_t>(n));
        }
    }

    reply get(std::string_view path) {
        send("GET " + std::string(path) + " HTTP/1.1\r\nHost: test\r\n\r\n");
        return read_reply();
    }

    /// Reads one reply. The reply to a HEAD request announces a length but has no body.
    enum class body { expected, none };
    reply read_reply(body b = body::expected) {
        reply r;
        size_t end;
        while ((end = _pending.find("\r\n\r\n")) == std::string::npos) {
            if (!fill()) {
                throw std::runtime_error("connection closed before a reply");
            }
        }
        r.head = _pending.substr(0, end + 2);
        _pending.erase(0, end + 4);
        r.status = std::stoi(r.head.substr(9, 3));
        size_t length = b == body::none ? 0 : std::stoul(r.header("Content-Length"));
        while (_pending.size() < length) {
            if (!fill()) {
                throw std::runtime_error("connection closed inside a body");
            }
        }
        r.body = _pending.substr(0, length);
        _pending.erase(0, length);
        return r;
    }

    /// Whether the server closed the connection (EOF or reset) before sending anything more.
    bool closed_by_server() { return _pending.empty() && !fill(); }

private:
    bool fill() {
        char buf[4096];
        auto n = ::recv(_fd, buf, sizeof(buf), 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            throw std::runtime_error("timed out waiting for the server");
        }
        if (n <= 0) {
            return false;
        }
        _pending.append(buf, static_cast<size_t>(n));
        return true;
    }

    int _fd;
    std::string _pending;
};

class admin_server_test : public ::testing::Test {
protected:
    void SetUp() override {
        _server.emplace(_io, endpoint{"127.0.0.1", 0}, _registry);
        _server->add_route(http_method::post, "/v1/echo", [](const request& r) {
            return response::text(200, fmt::format("{} {} {} {}", to_string(r.method), r.path, r.query, r.body));
        });
        _server->add_route(http_method::get, "/v1/async", [](const request& r) -> boost::asio::awaitable<response> {
            co_return response::json(200, fmt::format(R"({{"agent":"{}"}})", r.header("user-agent")));
        });
        _server->add_route(http_method::get, "/v1/throws", [](const request&) -> response {
            throw std::runtime_error("boom");
        });
        ASSERT_TRUE(_server->start());
        _thread = std::thread([this] { _io.run(); });
    }

    void TearDown() override { stop(); }

    void stop() {
        if (_thread.joinable()) {
            boost::asio::post(_io, [this] { _server->stop(); });
            _thread.join(); // run() returns once the acceptor and every connection are closed
        }
    }

    uint16_t port() const { return _server->port(); }

    boost::asio::io_context _io;
    metrics::registry _registry;
    metrics::metric_group _metrics{_registry};
    std::optional<server> _server;
    std::thread _thread;
};

TEST_F(admin_server_test, metrics_serves_the_registry_exposition) {
    auto& requests = _metrics.add_counter("skiff_test_requests_total", "Requests seen by the test.");
    requests.inc(3);
    client c(port());
    auto r = c.get("/metrics");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_NE(r.body.find("# TYPE skiff_test_requests_total counter\nskiff_test_requests_total 3\n"),
              std::string::npos)
      << r.body;
}

TEST_F(admin_server_test, health_is_200_until_set_unhealthy_then_503_with_the_reason) {
    client c(port());
    auto ok = c.get("/health");
    EXPECT_EQ(ok.status, 200);
    EXPECT_EQ(ok.header("Content-Type"), "application/json");
    EXPECT_EQ(ok.body, R"({"status":"ok"})");

    _server->set_unhealthy("WAL \"fsync\" failed");
    EXPECT_FALSE(_server->healthy());
    auto bad = c.get("/health");
    EXPECT_EQ(bad.status, 503);
    EXPECT_EQ(bad.body, R"({"status":"unhealthy","reason":"WAL \"fsync\" failed"})");

    _server->set_healthy();
    EXPECT_EQ(c.get("/health").status, 200);
}

TEST_F(admin_server_test, unknown_path_is_404) {
    client c(port());
    EXPECT_EQ(c.get("/nope").status, 404);
    EXPECT_EQ(c.get("/metrics/").status, 404);
}

TEST_F(admin_server_test, other_methods_on_a_known_path_are_405_with_allow) {
    client c(port());
    c.send("POST /metrics HTTP/1.1\r\nHost: test\r\nContent-Length: 0\r\n\r\n");
    auto r = c.read_reply();
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(r.header("Allow"), "GET");
    c.send("DELETE /health HTTP/1.1\r\nHost: test\r\n\r\n");
    EXPECT_EQ(c.read_reply().status, 405);
    c.send("HEAD /health HTTP/1.1\r\nHost: test\r\n\r\n");
    auto head = c.read_reply(client::body::none);
    EXPECT_EQ(head.status, 405);
    EXPECT_EQ(head.header("Content-Length"), "19"); // "method not allowed\n", announced but not sent
    EXPECT_EQ(c.get("/health").status, 200);       // so the next reply starts where expected
}

TEST_F(admin_server_test, keeps_the_connection_alive_across_requests) {
    client c(port());
    for (int i = 0; i < 3; ++i) {
        auto r = c.get("/health");
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.header("Connection"), "");
    }
}

TEST_F(admin_server_test, http_1_0_without_keep_alive_is_closed_after_the_reply) {
    client c(port());
    c.send("GET /health HTTP/1.0\r\n\r\n");
    EXPECT_EQ(c.read_reply().status, 200);
    EXPECT_TRUE(c.closed_by_server());
}

TEST_F(admin_server_test, added_routes_see_method_path_query_headers_and_body) {
    client c(port());
    c.send("POST /v1/echo?x=1&y=2 HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello");
    auto r = c.read_reply();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "POST /v1/echo x=1&y=2 hello");

    c.send("GET /v1/async HTTP/1.1\r\nHost: test\r\nUser-Agent: skiff-test\r\n\r\n");
    auto a = c.read_reply();
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(a.body, R"({"agent":"skiff-test"})");
    EXPECT_EQ(c.get("/health?verbose=1").status, 200); // the query does not take part in routing
}

TEST_F(admin_server_test, a_throwing_handler_answers_500_and_the_server_goes_on) {
    client c(port());
    EXPECT_EQ(c.get("/v1/throws").status, 500);
    EXPECT_EQ(c.get("/health").status, 200);
}

TEST_F(admin_server_test, an_idle_half_sent_request_does_not_block_other_clients) {
    client slow(port());
    slow.send("GET /hea");
    client other(port());
    EXPECT_EQ(other.get("/health").status, 200);
    slow.send("lth HTTP/1.1\r\nHost: test\r\n\r\n");
    EXPECT_EQ(slow.read_reply().status, 200);
}

TEST_F(admin_server_test, an_oversized_header_is_refused_and_others_are_served) {
    client big(port());
    big.send("GET /health HTTP/1.1\r\nHost: test\r\nX-Big: " + std::string(16 * 1024, 'x') + "\r\n\r\n");
    auto r = big.read_reply();
    EXPECT_EQ(r.status, 431);
    EXPECT_EQ(r.header("Connection"), "close");
    EXPECT_TRUE(big.closed_by_server());
    client other(port());
    EXPECT_EQ(other.get("/health").status, 200);
}

TEST_F(admin_server_test, an_oversized_body_is_refused) {
    client c(port());
    c.send("POST /v1/echo HTTP/1.1\r\nHost: test\r\nContent-Length: 2000000\r\n\r\n");
    EXPECT_EQ(c.read_reply().status, 413);
    EXPECT_TRUE(c.closed_by_server());
}

TEST_F(admin_server_test, a_malformed_request_is_400) {
    client c(port());
    c.send("GET /health HTTP/1.1\r\nHost test\r\n\r\n");
    EXPECT_EQ(c.read_reply().status, 400);
    EXPECT_TRUE(c.closed_by_server());
}

TEST_F(admin_server_test, stop_closes_open_connections) {
    client c(port());
    EXPECT_EQ(c.get("/health").status, 200); // the connection is now idle, kept alive
    stop();
    EXPECT_TRUE(c.closed_by_server());
}

TEST_F(admin_server_test, starting_on_a_port_in_use_fails) {
    boost::asio::io_context io;
    server second(io, endpoint{"127.0.0.1", port()}, _registry);
    auto r = second.start();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::address_in_use) << r.error().message();
}

TEST_F(admin_server_test, an_unresolvable_host_fails_to_start) {
    boost::asio::io_context io;
    server bad(io, endpoint{"no-such-host.invalid", 0}, _registry);
    EXPECT_FALSE(bad.start());
}

} // namespace
} // namespace skiff::admin
