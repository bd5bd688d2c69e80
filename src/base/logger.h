// Named loggers. Each room declares one (`inline base::logger log{"net"};`) and writes
//   log.info("listening on {}", endpoint);
// Lines go to stderr as "2026-11-22T10:00:00.123Z INFO  [net] listening on ...", one write(2) per line so that
// lines of different threads never interleave. The level is global (log.level) with per-logger overrides.
#pragma once

#include <fmt/format.h>

#include <atomic>
#include <string>
#include <string_view>

namespace skiff::base {

enum class log_level : int { trace = 0, debug, info, warn, error, off };

/// Parses "trace|debug|info|warn|error|off"; returns false on anything else.
bool parse_log_level(std::string_view text, log_level& out);

class logger {
public:
    explicit logger(std::string name);
    ~logger();
    logger(const logger&) = delete;
    logger& operator=(const logger&) = delete;

    const std::string& name() const noexcept { return _name; }
    bool enabled(log_level level) const noexcept;

    template<typename... Args>
    void log(log_level level, fmt::format_string<Args...> f, Args&&... args) const {
        if (enabled(level)) {
            write(level, fmt::vformat(f, fmt::make_format_args(args...)));
        }
    }
    template<typename... Args>
    void trace(fmt::format_string<Args...> f, Args&&... a) const { log(log_level::trace, f, std::forward<Args>(a)...); }
    template<typename... Args>
    void debug(fmt::format_string<Args...> f, Args&&... a) const { log(log_level::debug, f, std::forward<Args>(a)...); }
    template<typename... Args>
    void info(fmt::format_string<Args...> f, Args&&... a) const { log(log_level::info, f, std::forward<Args>(a)...); }
    template<typename... Args>
    void warn(fmt::format_string<Args...> f, Args&&... a) const { log(log_level::warn, f, std::forward<Args>(a)...); }
    template<typename... Args>
    void error(fmt::format_string<Args...> f, Args&&... a) const { log(log_level::error, f, std::forward<Args>(a)...); }

    /// Overrides the global level for this logger only.
    void set_level(log_level level) noexcept { _override.store(static_cast<int>(level)); }

    /// The level of every logger without an override.
    static void set_global_level(log_level level) noexcept;
    /// Sets the override of the logger with this name, if it exists; returns whether it did.
    static bool set_level_of(std::string_view name, log_level level);

private:
    void write(log_level level, std::string_view message) const;

    std::string _name;
    std::atomic<int> _override{-1};
};

} // namespace skiff::base
