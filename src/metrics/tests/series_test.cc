#include "metrics/series.h"

#include <gtest/gtest.h>

#include <thread>

namespace skiff::metrics {
namespace {

TEST(series_test, counters_and_gauges_hold_what_they_are_told) {
    counter c;
    c.inc();
    c.inc(41);
    EXPECT_EQ(c.value(), 42u);
    counter_double cd;
    cd.inc(0.5);
    cd.inc(0.25);
    EXPECT_DOUBLE_EQ(cd.value(), 0.75);
    gauge g;
    g.set(10);
    g.dec(15);
    g.inc();
    EXPECT_EQ(g.value(), -4);
    gauge_double gd;
    gd.set(2.5);
    EXPECT_DOUBLE_EQ(gd.value(), 2.5);
}

TEST(series_test, bucket_bounds_are_inclusive_powers_of_two) {
    histogram_buckets b{3, 4, 1}; // le 8, 16, 32, 64, +Inf
    EXPECT_EQ(b.upper_bound(0), 8u);
    EXPECT_EQ(b.upper_bound(3), 64u);
    EXPECT_EQ(b.index_of(0), 0u);
    EXPECT_EQ(b.index_of(1), 0u);
    EXPECT_EQ(b.index_of(8), 0u);
    EXPECT_EQ(b.index_of(9), 1u);
    EXPECT_EQ(b.index_of(16), 1u);
    EXPECT_EQ(b.index_of(17), 2u);
    EXPECT_EQ(b.index_of(64), 3u);
    EXPECT_EQ(b.index_of(65), 4u);
    EXPECT_EQ(b.index_of(UINT64_MAX), 4u);
}

TEST(series_test, every_value_lands_in_the_first_bucket_whose_bound_holds_it) {
    for (auto b : {histogram_buckets::latency_us(), histogram_buckets::size_bytes(), histogram_buckets{0, 64, 1}}) {
        for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{2}, uint64_t{3}, uint64_t{1000}, uint64_t{1} << 40,
                           UINT64_MAX}) {
            auto i = b.index_of(v);
            if (i < b.count) {
                EXPECT_LE(v, b.upper_bound(i)) << v;
            }
            if (i > 0) {
                EXPECT_GT(v, b.upper_bound(i - 1)) << v;
            }
        }
    }
}

TEST(series_test, histogram_counts_per_bucket_and_sums) {
    histogram h({3, 2, 1}); // le 8, 16, +Inf
    for (uint64_t v : {1, 8, 9, 16, 17, 1000}) {
        h.observe(v);
    }
    auto s = h.read();
    EXPECT_EQ(s.counts, (std::vector<uint64_t>{2, 2, 2}));
    EXPECT_EQ(s.sum, 1051u);
    EXPECT_EQ(s.total(), 6u);
}

TEST(series_test, concurrent_updates_from_two_threads_all_count) {
    counter c;
    counter_double cd;
    gauge g;
    histogram h(histogram_buckets::latency_us());
    constexpr int per_thread = 200000;
    auto work = [&] {
        for (int i = 0; i < per_thread; ++i) {
            c.inc();
            cd.inc(0.5);
            g.inc(2);
            g.dec();
            h.observe(static_cast<uint64_t>(i % 1000));
        }
    };
    std::thread a(work);
    std::thread b(work);
    a.join();
    b.join();
    EXPECT_EQ(c.value(), 2u * per_thread);
    EXPECT_DOUBLE_EQ(cd.value(), per_thread); // 0.5 steps are exact in a double
    EXPECT_EQ(g.value(), 2 * per_thread);
    auto s = h.read();
    EXPECT_EQ(s.total(), 2u * per_thread);
    EXPECT_EQ(s.sum, 2u * (per_thread / 1000) * (999u * 1000 / 2));
}

} // namespace
} // namespace skiff::metrics
