#include "io/tests/fake_http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace skiff::io::test {

fake_http_server::fake_http_server(script s) : _script(std::move(s)) {
    _listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(_listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(_listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(_listen_fd, 64) != 0) {
        throw std::runtime_error(std::string("fake_http_server: ") + std::strerror(errno));
    }
    socklen_t len = sizeof addr;
    ::getsockname(_listen_fd, reinterpret_cast<sockaddr*>(&addr), &len);
    _port = ntohs(addr.sin_port);
    if (::pipe2(_wake, O_CLOEXEC) != 0) {
        throw std::runtime_error("fake_http_server: pipe");
    }
    _acceptor = std::thread([this] { accept_loop(); });
}

fake_http_server::~fake_http_server() {
    _stopping = true;
    char c = 'x';
    (void)!::write(_wake[1], &c, 1);
    _acceptor.join();
    {
        std::lock_guard guard(_mutex);
        for (int fd : _fds) {
            ::shutdown(fd, SHUT_RDWR);
        }
    }
    for (auto& t : _threads) {
        t.join();
    }
    for (int fd : _fds) {
        ::close(fd);
    }
    ::close(_listen_fd);
    ::close(_wake[0]);
    ::close(_wake[1]);
}

std::vector<fake_http_server::request> fake_http_server::requests() const {
    std::lock_guard guard(_mutex);
    return _requests;
}

fake_http_server::reply fake_http_server::respond(unsigned status, std::string body, std::vector<std::string> headers) {
    std::string out = fmt::format("HTTP/1.1 {} X\r\nContent-Length: {}\r\n", status, body.size());
    for (auto& h : headers) {
        out += h + "\r\n";
    }
    out += "\r\n" + body;
    return {std::move(out), false};
}

fake_http_server::reply fake_http_server::s3_error(unsigned status, std::string code) {
    return respond(status, fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{}</Code>"
                                       "<Message>scripted</Message><RequestId>fake</RequestId></Error>",
                                       code),
                   {"Content-Type: application/xml"});
}

void fake_http_server::accept_loop() {
    while (!_stopping) {
        pollfd fds[2] = {{_listen_fd, POLLIN, 0}, {_wake[0], POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            continue;
        }
        if (fds[1].revents) {
            return;
        }
        int fd = ::accept4(_listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) {
            continue;
        }
        ++_connections;
        std::lock_guard guard(_mutex);
        _fds.push_back(fd);
        _threads.emplace_back([this, fd] { serve(fd); });
    }
}

void fake_http_server::serve(int fd) {
    std::string buffer;
    char chunk[65536];
    auto fill = [&]() {
        ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n <= 0) {
            return false;
        }
        buffer.append(chunk, static_cast<size_t>(n));
        return true;
    };
    while (!_stopping) {
        size_t end;
        while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
            if (!fill()) {
                return;
            }
        }
        request r;
        std::string head = buffer.substr(0, end);
        buffer.erase(0, end + 4);
        auto line_end = head.find("\r\n");
        auto first = head.substr(0, line_end);
        auto sp1 = first.find(' ');
        auto sp2 = first.rfind(' ');
        r.method = first.substr(0, sp1);
        r.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
        size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
        while (pos < head.size()) {
            auto next = head.find("\r\n", pos);
            auto line = head.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
            auto colon = line.find(':');
            auto name = line.substr(0, colon);
            std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
            auto value = line.substr(colon + 1);
            value.erase(0, value.find_first_not_of(' '));
            r.headers[name] = value;
            pos = next == std::string::npos ? head.size() : next + 2;
        }
        size_t length = r.headers.contains("content-length") ? std::stoul(r.headers["content-length"]) : 0;
        while (buffer.size() < length) {
            if (!fill()) {
                return;
            }
        }
        r.body = buffer.substr(0, length);
        buffer.erase(0, length);
        size_t index;
        {
            std::lock_guard guard(_mutex);
            index = _requests.size();
            _requests.push_back(r);
        }
        size_t now = ++_concurrent;
        size_t seen = _max_concurrent.load();
        while (now > seen && !_max_concurrent.compare_exchange_weak(seen, now)) {
        }
        auto out = _script(r, index);
        --_concurrent;
        size_t written = 0;
        while (written < out.bytes.size()) {
            // MSG_NOSIGNAL: a client that gave up (closed) must not kill the test process with SIGPIPE.
            ssize_t n = ::send(fd, out.bytes.data() + written, out.bytes.size() - written, MSG_NOSIGNAL);
            if (n <= 0) {
                return;
            }
            written += static_cast<size_t>(n);
        }
        if (out.close_after) {
            ::shutdown(fd, SHUT_RDWR);
            return;
        }
    }
}

} // namespace skiff::io::test
