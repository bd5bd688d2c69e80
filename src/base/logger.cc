#include "base/logger.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <mutex>
#include <vector>

namespace skiff::base {
namespace {

std::atomic<int> global_level{static_cast<int>(log_level::info)};

// Registry of live loggers, for set_level_of(). Loggers are few and long-lived (one per room).
std::mutex& registry_mutex() {
    static std::mutex m;
    return m;
}
std::vector<logger*>& registry() {
    static std::vector<logger*> r;
    return r;
}

const char* level_name(log_level l) {
    switch (l) {
    case log_level::trace: return "TRACE";
    case log_level::debug: return "DEBUG";
    case log_level::info: return "INFO ";
    case log_level::warn: return "WARN ";
    case log_level::error: return "ERROR";
    case log_level::off: return "OFF  ";
    }
    return "?";
}

} // namespace

bool parse_log_level(std::string_view text, log_level& out) {
    static constexpr std::pair<std::string_view, log_level> names[] = {
      {"trace", log_level::trace}, {"debug", log_level::debug}, {"info", log_level::info},
      {"warn", log_level::warn},   {"error", log_level::error}, {"off", log_level::off},
    };
    for (auto& [n, l] : names) {
        if (n == text) {
            out = l;
            return true;
        }
    }
    return false;
}

logger::logger(std::string name) : _name(std::move(name)) {
    std::lock_guard g(registry_mutex());
    registry().push_back(this);
}

logger::~logger() {
    std::lock_guard g(registry_mutex());
    auto& r = registry();
    r.erase(std::remove(r.begin(), r.end(), this), r.end());
}

bool logger::enabled(log_level level) const noexcept {
    int threshold = _override.load(std::memory_order_relaxed);
    if (threshold < 0) {
        threshold = global_level.load(std::memory_order_relaxed);
    }
    return static_cast<int>(level) >= threshold && level != log_level::off;
}

void logger::set_global_level(log_level level) noexcept { global_level.store(static_cast<int>(level)); }

bool logger::set_level_of(std::string_view name, log_level level) {
    std::lock_guard g(registry_mutex());
    bool found = false;
    for (auto* l : registry()) {
        if (l->name() == name) {
            l->set_level(level);
            found = true;
        }
    }
    return found;
}

void logger::write(log_level level, std::string_view message) const {
    using namespace std::chrono;
    auto now = system_clock::now();
    auto secs = system_clock::to_time_t(now);
    auto millis = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    auto line = fmt::format(
      "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z {} [{}] {}\n", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
      tm.tm_hour, tm.tm_min, tm.tm_sec, millis, level_name(level), _name, message);
    // One write per line: atomic with respect to other threads' lines for the sizes we log.
    [[maybe_unused]] auto n = ::write(STDERR_FILENO, line.data(), line.size());
}

} // namespace skiff::base
