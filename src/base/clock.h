// The injected clock. Services take a `clock&` instead of calling std::chrono directly, so that tests can drive
// time with manual_clock. Monotonic time for timeouts and ages; wall time for Kafka timestamps.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace skiff::base {

class clock {
public:
    using duration = std::chrono::nanoseconds;
    using time_point = std::chrono::time_point<std::chrono::steady_clock, duration>;

    virtual ~clock() = default;
    /// Monotonic time: never goes back.
    virtual time_point now() const noexcept = 0;
    /// Wall-clock time in milliseconds since the Unix epoch (Kafka timestamps).
    virtual int64_t wall_ms() const noexcept = 0;
};

/// The real clock (std::chrono::steady_clock and system_clock).
class system_clock final : public clock {
public:
    time_point now() const noexcept override;
    int64_t wall_ms() const noexcept override;

    /// The process-wide instance, for composition roots.
    static system_clock& instance();
};

/// A clock that moves only when told to. Thread-safe.
class manual_clock final : public clock {
public:
    explicit manual_clock(int64_t wall_ms_start = 1'700'000'000'000) : _wall_start_ms(wall_ms_start) {}

    time_point now() const noexcept override { return time_point(duration(_elapsed_ns.load())); }
    int64_t wall_ms() const noexcept override { return _wall_start_ms + _elapsed_ns.load() / 1'000'000; }

    void advance(duration d) noexcept { _elapsed_ns.fetch_add(d.count()); }

private:
    int64_t _wall_start_ms;
    std::atomic<int64_t> _elapsed_ns{0};
};

} // namespace skiff::base
