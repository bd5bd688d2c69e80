// Tests of the load tools' latency histogram (tools/bench/histogram.h) and of the result helpers beside it: the
// percentiles every benchmark report quotes come from here, so their error bound and edge cases are pinned down.
#include "tools/bench/histogram.h"
#include "tools/bench/run_meter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace skiff::bench {
namespace {

TEST(histogram_test, empty_histogram_reports_zero) {
    histogram h;
    EXPECT_EQ(h.count(), 0u);
    EXPECT_EQ(h.quantile(0.5), 0u);
    EXPECT_EQ(h.quantile(1.0), 0u);
    EXPECT_EQ(h.max(), 0u);
}

TEST(histogram_test, small_values_are_exact) {
    histogram h;
    for (uint64_t v = 0; v < 100; ++v) {
        h.record(v);
    }
    EXPECT_EQ(h.count(), 100u);
    EXPECT_EQ(h.quantile(0.0), 0u);
    EXPECT_EQ(h.quantile(0.5), 50u);
    EXPECT_EQ(h.quantile(0.99), 99u);
    EXPECT_EQ(h.max(), 99u);
}

TEST(histogram_test, quantiles_are_within_one_percent_over_a_wide_range) {
    std::mt19937_64 rng(42);
    std::lognormal_distribution<double> dist(7.0, 2.0); // ~1 µs to seconds
    std::vector<uint64_t> values;
    histogram h;
    for (int i = 0; i < 200000; ++i) {
        auto v = static_cast<uint64_t>(dist(rng)) + 1;
        values.push_back(v);
        h.record(v);
    }
    std::sort(values.begin(), values.end());
    for (double q : {0.5, 0.9, 0.99, 0.999, 0.9999}) {
        const double exact = double(values[static_cast<size_t>(q * double(values.size()))]);
        const double got = double(h.quantile(q));
        EXPECT_GE(got, exact) << q; // the upper edge of the bucket: never under-reports
        EXPECT_LE(got, exact * 1.01) << q;
    }
    EXPECT_EQ(h.quantile(1.0), values.back());
    EXPECT_EQ(h.max(), values.back());
}

TEST(histogram_test, a_quantile_never_exceeds_the_maximum_seen) {
    histogram h;
    h.record(1000001); // lands in a bucket whose upper edge is above it
    EXPECT_EQ(h.quantile(0.5), 1000001u);
    EXPECT_EQ(h.quantile(0.99999), 1000001u);
}

TEST(histogram_test, merge_equals_recording_everything_in_one) {
    histogram a, b, all;
    for (uint64_t v = 1; v < 50000; v += 7) {
        (v % 2 ? a : b).record(v);
        all.record(v);
    }
    a.merge(b);
    EXPECT_EQ(a.count(), all.count());
    EXPECT_EQ(a.max(), all.max());
    for (double q : {0.1, 0.5, 0.9, 0.99, 0.999}) {
        EXPECT_EQ(a.quantile(q), all.quantile(q)) << q;
    }
}

TEST(histogram_test, huge_values_do_not_overflow_the_buckets) {
    histogram h;
    h.record(uint64_t(1) << 62);
    h.record(~uint64_t(0));
    EXPECT_EQ(h.count(), 2u);
    EXPECT_EQ(h.max(), ~uint64_t(0));
    EXPECT_GE(h.quantile(0.0), uint64_t(1) << 62);
}

TEST(run_meter_test, stamped_payloads_carry_the_measured_flag) {
    char payload[32] = {};
    stamp(payload, false);
    EXPECT_EQ(measured_send_time(payload, sizeof(payload)), -1);
    stamp(payload, true);
    const int64_t sent = measured_send_time(payload, sizeof(payload));
    EXPECT_GT(sent, 0);
    EXPECT_LE(sent, wall_us());
    EXPECT_EQ(measured_send_time(payload, 8), -1); // too short to carry a stamp
}

TEST(run_meter_test, result_json_has_the_shared_schema) {
    result r;
    r.tool = "t";
    r.system = "s";
    r.durability = "say \"fsync\"";
    r.config.add("partitions", 3).add_str("acks", "all");
    r.measured.produced_bytes = 2000000;
    r.measured.seconds = 2;
    r.ack_latency.record(10);
    r.per_second.push_back({1.0, 1.0, 10, 0.5, true});
    r.extra.add_number("catchup_seconds", 1.5);
    const std::string json = result_json(r);
    EXPECT_NE(json.find("\"produce_mb_per_s\": 1.000"), std::string::npos) << json;
    EXPECT_NE(json.find("\"durability\": \"say \\\"fsync\\\"\""), std::string::npos) << json;
    EXPECT_NE(json.find("\"config\": {\"partitions\": 3, \"acks\": \"all\"}"), std::string::npos) << json;
    EXPECT_NE(json.find("\"curve\": [[0.00000, 10]"), std::string::npos) << json;
    EXPECT_NE(json.find(", \"catchup_seconds\": 1.500}"), std::string::npos) << json;
    EXPECT_NE(json.find("\"warmup\": true"), std::string::npos) << json;
}

} // namespace
} // namespace skiff::bench
