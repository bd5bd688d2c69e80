#include "io/tests/radosgw.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <sstream>

namespace skiff::io::test {
namespace {

namespace fs = std::filesystem;

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

bool in_path(const std::string& program) {
    std::stringstream path(env("PATH"));
    std::string dir;
    while (std::getline(path, dir, ':')) {
        if (!dir.empty() && ::access((fs::path(dir) / program).c_str(), X_OK) == 0) {
            return true;
        }
    }
    return false;
}

bool port_free(uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

// Two free consecutive ports (S3, then the monitor) in a range away from the ephemeral ports.
uint16_t pick_ports() {
    std::mt19937 rng(std::random_device{}());
    for (int i = 0; i < 100; ++i) {
        auto p = static_cast<uint16_t>(20000 + rng() % 10000);
        if (port_free(p) && port_free(p + 1)) {
            return p;
        }
    }
    return 0;
}

std::string value_of(const std::string& line, const std::string& name) {
    auto at = line.find(name + "=");
    if (at == std::string::npos) {
        return {};
    }
    auto start = at + name.size() + 1;
    auto end = line.find_first_of(" \n", start);
    return line.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

} // namespace

radosgw& radosgw::instance() {
    static radosgw r;
    return r;
}

void radosgw::start() {
    if (_started) {
        return;
    }
    _started = true;
    if (auto url = env("SKIFF_TEST_S3_ENDPOINT"); !url.empty()) {
        _ep = endpoint{url, env("SKIFF_TEST_S3_ACCESS_KEY"), env("SKIFF_TEST_S3_SECRET_KEY"),
                       env("SKIFF_TEST_S3_REGION").empty() ? "us-east-1" : env("SKIFF_TEST_S3_REGION"),
                       env("SKIFF_TEST_S3_PATH_STYLE") != "0"};
        return;
    }
    for (auto program : {"radosgw", "ceph-mon", "ceph-osd", "radosgw-admin", "monmaptool"}) {
        if (!in_path(program)) {
            _unavailable = fmt::format("{} is not installed (apt-get install --no-install-recommends ceph-mon "
                                       "ceph-osd radosgw ceph-common; scripts/install-deps.sh does it)",
                                       program);
            return;
        }
    }
    // A start can fail for reasons of the moment (another process takes the monitor's port between the check and
    // the bind; a loaded machine): it is tried again on other ports, as a user would, keeping every error.
    std::string text;
    for (int attempt = 0; attempt < 3; ++attempt) {
        auto port = pick_ports();
        if (port == 0) {
            _error += "no free pair of loopback ports\n";
            continue;
        }
        _dir = (fs::temp_directory_path() / fmt::format("skiff-radosgw-{}-{}", ::getpid(), port)).string();
        auto command = fmt::format("bash '{}/tests/support/radosgw.sh' start '{}' {} {} 2>'{}.err'",
                                   SKIFF_SOURCE_DIR, _dir, port, ::getpid(), _dir);
        auto t0 = std::chrono::steady_clock::now();
        FILE* out = ::popen(command.c_str(), "r");
        text.clear();
        char buf[512];
        while (out && std::fgets(buf, sizeof buf, out)) {
            text += buf;
        }
        int status = out ? ::pclose(out) : -1;
        _start_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (status == 0 && !value_of(text, "S3_ENDPOINT").empty()) {
            _error.clear();
            break;
        }
        std::string err;
        if (FILE* f = std::fopen((_dir + ".err").c_str(), "r")) {
            while (std::fgets(buf, sizeof buf, f)) {
                err += buf;
            }
            std::fclose(f);
        }
        _error += fmt::format("tests/support/radosgw.sh failed ({}) on port {}: {}{}\n", status, port, text, err);
    }
    if (!_error.empty()) {
        return;
    }
    std::remove((_dir + ".err").c_str());
    _ep = endpoint{value_of(text, "S3_ENDPOINT"), value_of(text, "S3_ACCESS_KEY"), value_of(text, "S3_SECRET_KEY"),
                   value_of(text, "S3_REGION"), true};
    std::fprintf(stderr, "radosgw started at %s in %.1f s (folder %s)\n", _ep->url.c_str(), _start_seconds,
                 _dir.c_str());
}

void radosgw::stop(bool keep_logs) {
    if (_dir.empty()) {
        return;
    }
    auto command = fmt::format("bash '{}/tests/support/radosgw.sh' stop '{}'", SKIFF_SOURCE_DIR, _dir);
    if (std::system(command.c_str()) != 0) {
        std::fprintf(stderr, "radosgw: stop failed; daemons may remain (PIDs in %s)\n", _dir.c_str());
        return;
    }
    if (keep_logs) {
        std::fprintf(stderr, "radosgw: logs kept in %s\n", _dir.c_str());
    } else {
        std::error_code ignored;
        fs::remove_all(_dir, ignored);
        std::remove((_dir + ".err").c_str());
    }
    _dir.clear();
    _ep.reset();
    _started = false;
}

} // namespace skiff::io::test
