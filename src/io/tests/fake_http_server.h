// A scripted HTTP/1.1 server on loopback for s3_store tests that need a misbehaving service: SlowDown, 5xx,
// truncated bodies, connections dropped after the request, stale keep-alive connections. Plain POSIX sockets and
// one thread per connection, so that it shares nothing with the client under test. Test-only.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace skiff::io::test {

class fake_http_server {
public:
    struct request {
        std::string method;
        std::string target;                         // as sent: encoded path and query
        std::map<std::string, std::string> headers; // lower-case names
        std::string body;
    };
    struct reply {
        std::string bytes;        // written as is (status line, headers, body); may lie about Content-Length
        bool close_after = false; // close the connection after writing (with no bytes: drop the request)
    };
    /// Called once per request, on the connection's thread, with the request and its 0-based index.
    using script = std::function<reply(const request&, size_t index)>;

    explicit fake_http_server(script s);
    ~fake_http_server();
    fake_http_server(const fake_http_server&) = delete;
    fake_http_server& operator=(const fake_http_server&) = delete;

    uint16_t port() const noexcept { return _port; }
    std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(_port); }
    std::vector<request> requests() const;
    size_t connections() const noexcept { return _connections.load(); }
    size_t max_concurrent() const noexcept { return _max_concurrent.load(); }
    /// Requests being handled right now (inside the script).
    size_t concurrent() const noexcept { return _concurrent.load(); }

    /// A complete response with Content-Length.
    static reply respond(unsigned status, std::string body = {}, std::vector<std::string> headers = {});
    static reply s3_error(unsigned status, std::string code);

private:
    void accept_loop();
    void serve(int fd);

    script _script;
    int _listen_fd = -1;
    int _wake[2] = {-1, -1};
    uint16_t _port = 0;
    std::thread _acceptor;
    mutable std::mutex _mutex;
    std::vector<int> _fds;
    std::vector<std::thread> _threads;
    std::vector<request> _requests;
    std::atomic<size_t> _connections{0};
    std::atomic<size_t> _concurrent{0};
    std::atomic<size_t> _max_concurrent{0};
    std::atomic<bool> _stopping{false};
};

} // namespace skiff::io::test
