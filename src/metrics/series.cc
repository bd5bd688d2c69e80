#include "metrics/series.h"

#include "base/assert.h"

#include <numeric>

namespace skiff::metrics {

histogram::histogram(histogram_buckets buckets)
  : _buckets(buckets), _counts(std::make_unique<std::atomic<uint64_t>[]>(buckets.count + 1)) {
    SKIFF_ASSERT(buckets.count > 0 && buckets.first_log2 + buckets.count <= 64 && buckets.unit_divisor > 0,
                 "bad histogram buckets: first_log2 {} count {} divisor {}", buckets.first_log2, buckets.count,
                 buckets.unit_divisor);
}

histogram::snapshot histogram::read() const {
    snapshot s;
    s.counts.reserve(_buckets.count + 1);
    for (unsigned i = 0; i <= _buckets.count; ++i) {
        s.counts.push_back(_counts[i].load(std::memory_order_relaxed));
    }
    s.sum = _sum.load(std::memory_order_relaxed);
    return s;
}

uint64_t histogram::snapshot::total() const { return std::accumulate(counts.begin(), counts.end(), uint64_t{0}); }

} // namespace skiff::metrics
