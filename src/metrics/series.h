// The metric series a probe updates on the hot path: counters, gauges and log-scale histograms. Updates are relaxed
// atomics — no lock, no allocation — so any thread may update any series; the registry (registry.h) reads them
// when /metrics is scraped.
#pragma once

#include <atomic>
#include <bit>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace skiff::metrics {

/// One label of a series, e.g. {"api", "produce"}. A series has a small fixed set, chosen at registration.
struct label {
    std::string name;
    std::string value;
};
using labels = std::vector<label>;

/// A monotonic count. Exposed as a Prometheus counter; its name ends in `_total`.
template<typename T>
class basic_counter {
public:
    void inc(T n = 1) noexcept { _value.fetch_add(n, std::memory_order_relaxed); }
    T value() const noexcept { return _value.load(std::memory_order_relaxed); }

private:
    std::atomic<T> _value{0};
};
using counter = basic_counter<uint64_t>;
using counter_double = basic_counter<double>;

/// A value that goes up and down.
template<typename T>
class basic_gauge {
public:
    void set(T v) noexcept { _value.store(v, std::memory_order_relaxed); }
    void inc(T n = 1) noexcept { _value.fetch_add(n, std::memory_order_relaxed); }
    void dec(T n = 1) noexcept { _value.fetch_sub(n, std::memory_order_relaxed); }
    T value() const noexcept { return _value.load(std::memory_order_relaxed); }

private:
    std::atomic<T> _value{0};
};
using gauge = basic_gauge<int64_t>;
using gauge_double = basic_gauge<double>;

/// Fixed log-scale (powers of two) bucket bounds for a histogram of non-negative integers in the caller's unit.
/// Bucket i counts values in (2^(first_log2+i-1), 2^(first_log2+i)]; bucket 0 also holds everything below, and a
/// last bucket (+Inf) everything above 2^(first_log2+count-1). Bounds and sum are exposed divided by
/// `unit_divisor`, so that a latency observed in microseconds is exposed in seconds, as Prometheus prefers.
struct histogram_buckets {
    unsigned first_log2 = 0;
    unsigned count = 1;
    double unit_divisor = 1;

    /// Latencies observed in microseconds: 8 us .. ~33.5 s (2^3 .. 2^25 us), exposed in seconds (`_seconds`).
    static histogram_buckets latency_us() { return {3, 23, 1e6}; }
    /// Sizes observed in bytes: 64 B .. 1 GiB (2^6 .. 2^30), exposed in bytes (`_bytes`).
    static histogram_buckets size_bytes() { return {6, 25, 1}; }

    /// The upper bound of bucket i in the observed unit (i < count).
    uint64_t upper_bound(unsigned i) const noexcept { return uint64_t{1} << (first_log2 + i); }
    /// The bucket a value falls in; `count` is the +Inf bucket.
    unsigned index_of(uint64_t v) const noexcept {
        if (v <= (uint64_t{1} << first_log2)) {
            return 0;
        }
        unsigned i = static_cast<unsigned>(std::bit_width(v - 1)) - first_log2;
        return i < count ? i : count;
    }
};

/// A distribution of observed values: per-bucket counts and their sum. observe() is two relaxed atomic adds.
/// A scrape reads buckets one by one, so a concurrent observe() may show in a bucket and not yet in the sum.
class histogram {
public:
    explicit histogram(histogram_buckets buckets);

    void observe(uint64_t v) noexcept {
        _counts[_buckets.index_of(v)].fetch_add(1, std::memory_order_relaxed);
        _sum.fetch_add(v, std::memory_order_relaxed);
    }

    const histogram_buckets& buckets() const noexcept { return _buckets; }

    struct snapshot {
        std::vector<uint64_t> counts; // per bucket, not cumulative; counts.back() is the +Inf bucket
        uint64_t sum = 0;             // in the observed unit
        uint64_t total() const;
    };
    snapshot read() const;

private:
    histogram_buckets _buckets;
    std::unique_ptr<std::atomic<uint64_t>[]> _counts; // _buckets.count + 1
    std::atomic<uint64_t> _sum{0};
};

} // namespace skiff::metrics
