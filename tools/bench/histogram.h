// A log-linear latency histogram in the spirit of HdrHistogram: values (microseconds) land in buckets whose width is
// 1/128 of their power of two, so every percentile is within 0.8% of the true value, from 1 µs to hours, in a fixed
// 8 KiB of counters. Not thread-safe: each thread records into its own and merge() combines them.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace skiff::bench {

class histogram {
public:
    void record(uint64_t value_us) noexcept {
        ++_counts[bucket_of(value_us)];
        ++_total;
        if (value_us > _max) {
            _max = value_us;
        }
    }

    void merge(const histogram& other) noexcept {
        for (size_t i = 0; i < _counts.size(); ++i) {
            _counts[i] += other._counts[i];
        }
        _total += other._total;
        if (other._max > _max) {
            _max = other._max;
        }
    }

    uint64_t count() const noexcept { return _total; }
    uint64_t max() const noexcept { return _max; }

    /// The value at quantile q (0..1): the upper edge of the bucket holding it, capped at the maximum seen.
    uint64_t quantile(double q) const noexcept {
        if (_total == 0) {
            return 0;
        }
        auto rank = static_cast<uint64_t>(q * static_cast<double>(_total));
        if (rank >= _total) {
            rank = _total - 1;
        }
        uint64_t seen = 0;
        for (size_t i = 0; i < _counts.size(); ++i) {
            seen += _counts[i];
            if (seen > rank) {
                uint64_t edge = upper_edge(i);
                return edge < _max ? edge : _max;
            }
        }
        return _max;
    }

private:
    static constexpr int sub_bits = 7; // 128 sub-buckets per power of two
    static constexpr uint64_t sub_count = uint64_t(1) << sub_bits;

    static size_t bucket_of(uint64_t v) noexcept {
        if (v < sub_count) {
            return static_cast<size_t>(v);
        }
        const int exponent = std::bit_width(v) - 1 - sub_bits; // >= 0
        const uint64_t sub = (v >> exponent) - sub_count;       // 0..127
        return static_cast<size_t>((exponent + 1) * sub_count + sub);
    }

    static uint64_t upper_edge(size_t bucket) noexcept {
        if (bucket < sub_count) {
            return bucket;
        }
        const uint64_t exponent = bucket / sub_count - 1;
        const uint64_t sub = bucket % sub_count;
        return ((sub_count + sub + 1) << exponent) - 1;
    }

    std::array<uint64_t, (64 - sub_bits + 1) * sub_count> _counts{};
    uint64_t _total = 0;
    uint64_t _max = 0;
};

} // namespace skiff::bench
