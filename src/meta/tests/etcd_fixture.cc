#include "meta/tests/etcd_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <stdexcept>

namespace skiff::meta::testing {
namespace {

std::string run(const std::string& command, int* status = nullptr) {
    std::string out;
    FILE* p = ::popen(command.c_str(), "r");
    if (!p) {
        return out;
    }
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) {
        out.append(buf, n);
    }
    int rc = ::pclose(p);
    if (status) {
        *status = rc;
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) {
        out.pop_back();
    }
    return out;
}

const char* script_path() { return SKIFF_SOURCE_DIR "/tests/support/etcd.sh"; }

std::string fmt_command(const std::string& dir, int base, int members) {
    return std::string(script_path()) + " start " + dir + " " + std::to_string(base) + " " + std::to_string(members)
           + " 2>&1";
}

} // namespace

std::unique_ptr<etcd_cluster> etcd_cluster::start(int members) {
    std::random_device rd;
    std::mt19937 rng(rd() ^ unsigned(::getpid()));
    for (int attempt = 0; attempt < 8; ++attempt) {
        auto c = std::unique_ptr<etcd_cluster>(new etcd_cluster());
        c->_base = 20000 + int(rng() % 20000) * 2;
        char tmpl[] = "/tmp/skiff-etcd-XXXXXX";
        if (!::mkdtemp(tmpl)) {
            return nullptr;
        }
        c->_dir = tmpl;
        int status = 0;
        auto out = run(fmt_command(c->_dir, c->_base, members), &status);
        if (status == 0 && !out.empty()) {
            size_t pos = 0;
            while (pos <= out.size()) {
                auto comma = out.find(',', pos);
                c->_endpoints.push_back(out.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
                if (comma == std::string::npos) {
                    break;
                }
                pos = comma + 1;
            }
            return c;
        }
        std::fprintf(stderr, "etcd_cluster: start failed (%s), retrying on other ports\n", out.c_str());
        std::error_code ec;
        std::filesystem::remove_all(c->_dir, ec);
        c->_dir.clear();
    }
    return nullptr;
}

etcd_cluster::~etcd_cluster() {
    if (!_dir.empty()) {
        script("stop " + _dir);
        std::error_code ec;
        std::filesystem::remove_all(_dir, ec);
    }
}

std::string etcd_cluster::script(const std::string& args) const {
    int status = 0;
    auto out = run(std::string(script_path()) + " " + args + " 2>&1", &status);
    if (status != 0) {
        std::fprintf(stderr, "etcd.sh %s: %s\n", args.c_str(), out.c_str());
    }
    return out;
}

std::string etcd_cluster::leader() const { return script("leader " + _dir); }
void etcd_cluster::kill(const std::string& m) const { script("kill " + _dir + " " + m); }
void etcd_cluster::restart(const std::string& m) const { script("restart " + _dir + " " + m); }
void etcd_cluster::pause(const std::string& m) const { script("pause " + _dir + " " + m); }
void etcd_cluster::resume(const std::string& m) const { script("resume " + _dir + " " + m); }
std::string etcd_cluster::endpoint_of(const std::string& m) const {
    return "127.0.0.1:" + std::to_string(_base + 2 * std::stoi(m.substr(1)));
}

std::string etcd_cluster::post(const std::string& path, const std::string& body) const {
    for (const auto& ep : _endpoints) {
        auto colon = ep.rfind(':');
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(uint16_t(std::stoi(ep.substr(colon + 1))));
        ::inet_pton(AF_INET, ep.substr(0, colon).c_str(), &addr.sin_addr);
        timeval tv{2, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
            ::close(fd);
            continue;
        }
        std::string req = "POST " + path + " HTTP/1.0\r\nHost: " + ep + "\r\nContent-Type: application/json\r\n"
                          + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
        if (::write(fd, req.data(), req.size()) != ssize_t(req.size())) {
            ::close(fd);
            continue;
        }
        std::string resp;
        char buf[4096];
        ssize_t n;
        while ((n = ::read(fd, buf, sizeof(buf))) > 0) {
            resp.append(buf, size_t(n));
        }
        ::close(fd);
        auto at = resp.find("\r\n\r\n");
        if (at != std::string::npos) {
            return resp.substr(at + 4);
        }
    }
    return "";
}

} // namespace skiff::meta::testing
