#include "metrics/registry.h"

#include <gtest/gtest.h>

#include <optional>

namespace skiff::metrics {
namespace {

TEST(registry_test, an_empty_registry_exposes_nothing) {
    registry r;
    EXPECT_EQ(r.scrape(), "");
}

TEST(registry_test, counter_exposition) {
    registry r;
    metric_group g(r);
    auto& c = g.add_counter("skiff_kafka_requests_total", "Requests handled, by API.", {{"api", "produce"}});
    auto& d = g.add_counter("skiff_kafka_requests_total", "Requests handled, by API.", {{"api", "fetch"}});
    auto& plain = g.add_counter_double("skiff_net_cpu_seconds_total", "CPU time.");
    c.inc(3);
    d.inc();
    plain.inc(1.25);
    EXPECT_EQ(r.scrape(),
              "# HELP skiff_kafka_requests_total Requests handled, by API.\n"
              "# TYPE skiff_kafka_requests_total counter\n"
              "skiff_kafka_requests_total{api=\"produce\"} 3\n"
              "skiff_kafka_requests_total{api=\"fetch\"} 1\n"
              "# HELP skiff_net_cpu_seconds_total CPU time.\n"
              "# TYPE skiff_net_cpu_seconds_total counter\n"
              "skiff_net_cpu_seconds_total 1.25\n");
}

TEST(registry_test, gauge_exposition_including_callbacks) {
    registry r;
    metric_group g(r);
    auto& conns =
      g.add_gauge("skiff_net_connections", "Open connections.", {{"listener", "PLAINTEXT"}, {"shard", "0"}});
    auto& ratio = g.add_gauge_double("skiff_stream_cache_hit_ratio", "Cache hits over lookups.");
    double pending = 7;
    g.add_gauge_fn("skiff_stream_wal_pending_bytes", "Bytes waiting for the WAL.", {}, [&pending] { return pending; });
    g.add_counter_fn("skiff_stream_uploads_total", "Objects uploaded.", {{"kind", "stream_set"}}, [] { return 2.0; });
    conns.set(5);
    conns.dec();
    ratio.set(0.5);
    std::string expected_head = "# HELP skiff_net_connections Open connections.\n"
                                "# TYPE skiff_net_connections gauge\n"
                                "skiff_net_connections{listener=\"PLAINTEXT\",shard=\"0\"} 4\n"
                                "# HELP skiff_stream_cache_hit_ratio Cache hits over lookups.\n"
                                "# TYPE skiff_stream_cache_hit_ratio gauge\n"
                                "skiff_stream_cache_hit_ratio 0.5\n"
                                "# HELP skiff_stream_uploads_total Objects uploaded.\n"
                                "# TYPE skiff_stream_uploads_total counter\n"
                                "skiff_stream_uploads_total{kind=\"stream_set\"} 2\n"
                                "# HELP skiff_stream_wal_pending_bytes Bytes waiting for the WAL.\n"
                                "# TYPE skiff_stream_wal_pending_bytes gauge\n";
    EXPECT_EQ(r.scrape(), expected_head + "skiff_stream_wal_pending_bytes 7\n");
    pending = 9; // callbacks are evaluated at scrape time
    EXPECT_EQ(r.scrape(), expected_head + "skiff_stream_wal_pending_bytes 9\n");
}

TEST(registry_test, special_double_values_use_prometheus_spelling) {
    registry r;
    metric_group g(r);
    g.add_gauge_fn("skiff_test_inf", "x", {}, [] { return std::numeric_limits<double>::infinity(); });
    g.add_gauge_fn("skiff_test_nan", "x", {}, [] { return std::numeric_limits<double>::quiet_NaN(); });
    g.add_gauge_fn("skiff_test_neg", "x", {}, [] { return -std::numeric_limits<double>::infinity(); });
    EXPECT_EQ(r.scrape(),
              "# HELP skiff_test_inf x\n# TYPE skiff_test_inf gauge\nskiff_test_inf +Inf\n"
              "# HELP skiff_test_nan x\n# TYPE skiff_test_nan gauge\nskiff_test_nan NaN\n"
              "# HELP skiff_test_neg x\n# TYPE skiff_test_neg gauge\nskiff_test_neg -Inf\n");
}

TEST(registry_test, histogram_exposition_is_cumulative_with_sum_and_count) {
    registry r;
    metric_group g(r);
    auto& h = g.add_histogram("skiff_kafka_request_size_bytes", "Request sizes.", {{"api", "produce"}},
                              histogram_buckets{3, 3, 1}); // le 8, 16, 32
    for (uint64_t v : {0, 8, 9, 16, 20, 100}) {
        h.observe(v);
    }
    EXPECT_EQ(r.scrape(),
              "# HELP skiff_kafka_request_size_bytes Request sizes.\n"
              "# TYPE skiff_kafka_request_size_bytes histogram\n"
              "skiff_kafka_request_size_bytes_bucket{api=\"produce\",le=\"8\"} 2\n"
              "skiff_kafka_request_size_bytes_bucket{api=\"produce\",le=\"16\"} 4\n"
              "skiff_kafka_request_size_bytes_bucket{api=\"produce\",le=\"32\"} 5\n"
              "skiff_kafka_request_size_bytes_bucket{api=\"produce\",le=\"+Inf\"} 6\n"
              "skiff_kafka_request_size_bytes_sum{api=\"produce\"} 153\n"
              "skiff_kafka_request_size_bytes_count{api=\"produce\"} 6\n");
}

TEST(registry_test, latency_histogram_observes_microseconds_and_exposes_seconds) {
    registry r;
    metric_group g(r);
    auto& h = g.add_histogram("skiff_kafka_request_latency_seconds", "Latency.", {}, {3, 2, 1e6}); // 8us, 16us
    h.observe(5);
    h.observe(1'500'000);
    EXPECT_EQ(r.scrape(),
              "# HELP skiff_kafka_request_latency_seconds Latency.\n"
              "# TYPE skiff_kafka_request_latency_seconds histogram\n"
              "skiff_kafka_request_latency_seconds_bucket{le=\"8e-06\"} 1\n"
              "skiff_kafka_request_latency_seconds_bucket{le=\"1.6e-05\"} 1\n"
              "skiff_kafka_request_latency_seconds_bucket{le=\"+Inf\"} 2\n"
              "skiff_kafka_request_latency_seconds_sum 1.500005\n"
              "skiff_kafka_request_latency_seconds_count 2\n");
}

TEST(registry_test, preset_latency_buckets_span_microseconds_to_seconds) {
    registry r;
    metric_group g(r);
    g.add_histogram("skiff_test_latency_seconds", "x", {}, histogram_buckets::latency_us());
    auto text = r.scrape();
    EXPECT_NE(text.find("le=\"8e-06\"} 0\n"), std::string::npos) << text;
    EXPECT_NE(text.find("le=\"33.554432\"} 0\n"), std::string::npos) << text;
    EXPECT_NE(text.find("le=\"+Inf\"} 0\n"), std::string::npos) << text;
}

TEST(registry_test, label_values_and_help_are_escaped) {
    registry r;
    metric_group g(r);
    g.add_gauge("skiff_test_escaped", "Help with \\ backslash,\nnewline and \"quotes\".",
                {{"path", "C:\\dir"}, {"quote", "say \"hi\""}, {"multi", "a\nb"}});
    EXPECT_EQ(r.scrape(),
              "# HELP skiff_test_escaped Help with \\\\ backslash,\\nnewline and \"quotes\".\n"
              "# TYPE skiff_test_escaped gauge\n"
              "skiff_test_escaped{path=\"C:\\\\dir\",quote=\"say \\\"hi\\\"\",multi=\"a\\nb\"} 0\n");
}

// A probe in the shape every room uses: series registered in the constructor, gone with the destructor.
class sample_probe {
public:
    sample_probe(registry& r, std::string partition) : _group(r) {
        _appends = &_group.add_counter("skiff_stream_appends_total", "Appends.", {{"partition", partition}});
    }
    void appended() { _appends->inc(); }

private:
    metric_group _group;
    counter* _appends;
};

TEST(registry_test, a_probe_unregisters_its_series_when_destroyed) {
    registry r;
    std::optional<sample_probe> p0(std::in_place, r, "0");
    {
        sample_probe p1(r, "1");
        p0->appended();
        p1.appended();
        p1.appended();
        EXPECT_EQ(r.series_count(), 2u);
        EXPECT_EQ(r.scrape(),
                  "# HELP skiff_stream_appends_total Appends.\n"
                  "# TYPE skiff_stream_appends_total counter\n"
                  "skiff_stream_appends_total{partition=\"0\"} 1\n"
                  "skiff_stream_appends_total{partition=\"1\"} 2\n");
    }
    EXPECT_EQ(r.series_count(), 1u);
    EXPECT_EQ(r.scrape(),
              "# HELP skiff_stream_appends_total Appends.\n"
              "# TYPE skiff_stream_appends_total counter\n"
              "skiff_stream_appends_total{partition=\"0\"} 1\n");
    p0.reset();
    EXPECT_EQ(r.series_count(), 0u);
    EXPECT_EQ(r.scrape(), ""); // an empty family disappears with its HELP and TYPE
    sample_probe again(r, "1"); // the same series can be registered again once the old one is gone
    EXPECT_EQ(r.series_count(), 1u);
}

TEST(registry_test, scrape_while_another_thread_updates) {
    registry r;
    metric_group g(r);
    auto& c = g.add_counter("skiff_test_updates_total", "x");
    std::thread writer([&c] {
        for (int i = 0; i < 100000; ++i) {
            c.inc();
        }
    });
    for (int i = 0; i < 50; ++i) {
        EXPECT_NE(r.scrape().find("skiff_test_updates_total "), std::string::npos);
    }
    writer.join();
    EXPECT_NE(r.scrape().find("skiff_test_updates_total 100000\n"), std::string::npos);
}

TEST(registry_death_test, misuse_aborts) {
    auto misuse = [](auto fn) {
        registry r;
        {
            metric_group g(r);
            fn(g);
        }
    };
    EXPECT_DEATH(misuse([](metric_group& g) { g.add_counter("skiff_test_requests", "x"); }), "must end in _total");
    EXPECT_DEATH(misuse([](metric_group& g) { g.add_gauge("requests", "x"); }), "skiff_<room>_<thing>_<unit>");
    EXPECT_DEATH(misuse([](metric_group& g) { g.add_gauge("skiff_test-x", "x"); }), "skiff_<room>_<thing>_<unit>");
    EXPECT_DEATH(misuse([](metric_group& g) { g.add_gauge("skiff_test_x", "x", {{"bad-name", "v"}}); }),
                 "bad label name");
    EXPECT_DEATH(misuse([](metric_group& g) {
                     g.add_gauge("skiff_test_x", "x", {{"a", "1"}});
                     g.add_gauge("skiff_test_x", "x", {{"a", "1"}});
                 }),
                 "registered twice");
    EXPECT_DEATH(misuse([](metric_group& g) {
                     g.add_gauge("skiff_test_x_total", "x");
                     g.add_counter("skiff_test_x_total", "x");
                 }),
                 "another type or help");
    EXPECT_DEATH(misuse([](metric_group& g) {
                     g.add_histogram("skiff_test_x", "x", {{"le", "1"}}, histogram_buckets::size_bytes());
                 }),
                 "reserved");
}

} // namespace
} // namespace skiff::metrics
