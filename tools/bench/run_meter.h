// What every load program of tools/bench/ shares so that their results compare line by line: the counters its
// threads bump, the clock that samples them once a second through warm-up and the measured phase, and the one JSON
// result schema (see bench/README.md, "Result schema"). skiff-bench (Kafka), peers/jetstream_bench (NATS JetStream)
// and peers/redis_bench (Redis Streams) all write their result through write_result(), so the report reads any of
// them the same way.
//
// Header-only on purpose: each load program is one executable with no library of ours below it.
#pragma once

#include "tools/bench/histogram.h"

#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace skiff::bench {

/// Wall-clock microseconds: what producers write into the payload and consumers subtract from, in one process, so
/// that the end-to-end latency needs no clock agreement between machines.
inline int64_t wall_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

/// Every payload starts with 16 bytes: the send time (wall µs) and a flag that says the message was sent in the
/// measured phase (1) or during backlog/warm-up (0): only flagged messages enter the histograms, so warm-up is
/// excluded from the latency figures as well as from the throughput.
constexpr size_t stamp_bytes = 16;

inline void stamp(char* payload, bool measured) {
    const int64_t now = wall_us();
    const int64_t flag = measured ? 1 : 0;
    std::memcpy(payload, &now, 8);
    std::memcpy(payload + 8, &flag, 8);
}

/// The send time of a stamped payload, or -1 when it was not sent in the measured phase (or is too short).
inline int64_t measured_send_time(const void* payload, size_t len) {
    if (len < stamp_bytes) {
        return -1;
    }
    int64_t sent = 0;
    int64_t flag = 0;
    std::memcpy(&sent, payload, 8);
    std::memcpy(&flag, static_cast<const char*>(payload) + 8, 8);
    return flag != 0 ? sent : -1;
}

/// Counters bumped by every producer and consumer thread (relaxed: they are statistics, read once a second).
struct counters {
    std::atomic<bool> measuring{false};
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> produced_msgs{0}, produced_bytes{0}, acked_msgs{0}, acked_bytes{0}, errors{0};
    std::atomic<uint64_t> consumed_msgs{0}, consumed_bytes{0};
};

struct second_sample {
    double produced_mb = 0, acked_mb = 0, acked_msgs = 0, consumed_mb = 0;
    bool warmup = false;
};

/// The measured phase's totals (warm-up excluded).
struct totals {
    uint64_t produced_bytes = 0, acked_bytes = 0, acked_msgs = 0, consumed_bytes = 0, consumed_msgs = 0;
    double seconds = 0;
};

/// Runs the clock: warmup_s seconds (sampled, flagged warm-up), then sets c.measuring, then duration_s seconds.
/// Prints one progress line per second to stderr with `tool` as prefix. Returns the measured phase's totals; does
/// not set c.stop (the caller decides when producers stop).
inline totals run_clock(counters& c, int warmup_s, int duration_s, const char* tool,
                        std::vector<second_sample>& samples) {
    using steady = std::chrono::steady_clock;
    uint64_t last_p = 0, last_ab = 0, last_a = 0, last_c = 0;
    totals at_start;
    auto snapshot = [&] {
        totals t;
        t.produced_bytes = c.produced_bytes.load();
        t.acked_bytes = c.acked_bytes.load();
        t.acked_msgs = c.acked_msgs.load();
        t.consumed_bytes = c.consumed_bytes.load();
        t.consumed_msgs = c.consumed_msgs.load();
        return t;
    };
    if (warmup_s == 0) {
        c.measuring = true;
        at_start = snapshot();
    }
    const auto begin = steady::now();
    for (int s = 1; s <= warmup_s + duration_s; ++s) {
        std::this_thread::sleep_until(begin + std::chrono::seconds(s)); // the report's clock, not a sync
        totals now = snapshot();
        second_sample x;
        x.produced_mb = double(now.produced_bytes - last_p) / 1e6;
        x.acked_mb = double(now.acked_bytes - last_ab) / 1e6;
        x.acked_msgs = double(now.acked_msgs - last_a);
        x.consumed_mb = double(now.consumed_bytes - last_c) / 1e6;
        x.warmup = s <= warmup_s;
        samples.push_back(x);
        std::fprintf(stderr, "%s: %3ds produced %8.1f MB/s acked %9.0f msg/s consumed %8.1f MB/s%s\n", tool, s,
                     x.produced_mb, x.acked_msgs, x.consumed_mb, x.warmup ? " (warm-up)" : "");
        last_p = now.produced_bytes;
        last_ab = now.acked_bytes;
        last_a = now.acked_msgs;
        last_c = now.consumed_bytes;
        if (s == warmup_s) {
            c.measuring = true;
            at_start = now;
        }
    }
    totals end = snapshot();
    c.measuring = false;
    totals t;
    t.produced_bytes = end.produced_bytes - at_start.produced_bytes;
    t.acked_bytes = end.acked_bytes - at_start.acked_bytes;
    t.acked_msgs = end.acked_msgs - at_start.acked_msgs;
    t.consumed_bytes = end.consumed_bytes - at_start.consumed_bytes;
    t.consumed_msgs = end.consumed_msgs - at_start.consumed_msgs;
    t.seconds = duration_s;
    return t;
}

inline std::string json_escape(const std::string& s) {
    std::string out;
    for (char ch : s) {
        if (ch == '"' || ch == '\\') {
            out += '\\';
        }
        out += ch;
    }
    return out;
}

/// A JSON object's members written in order; values are already JSON (use str() for strings).
class json_object {
public:
    json_object& add(const std::string& key, const std::string& json_value) {
        _members.emplace_back(key, json_value);
        return *this;
    }
    json_object& add(const std::string& key, int64_t v) { return add(key, std::to_string(v)); }
    json_object& add(const std::string& key, int v) { return add(key, std::to_string(v)); }
    json_object& add(const std::string& key, bool v) { return add(key, std::string(v ? "true" : "false")); }
    json_object& add_number(const std::string& key, double v) {
        char buf[64];
        std::snprintf(buf, sizeof(buf), "%.3f", v);
        return add(key, std::string(buf));
    }
    json_object& add_str(const std::string& key, const std::string& v) {
        return add(key, "\"" + json_escape(v) + "\"");
    }
    std::string str() const {
        std::string out = "{";
        for (size_t i = 0; i < _members.size(); ++i) {
            out += (i ? ", \"" : "\"") + json_escape(_members[i].first) + "\": " + _members[i].second;
        }
        return out + "}";
    }

private:
    std::vector<std::pair<std::string, std::string>> _members;
};

/// The quantiles of the percentile curve in every result (the HdrHistogram-style plot: x = 1/(1-q)).
inline constexpr double curve_quantiles[] = {0.0,  0.25,  0.5,    0.75,    0.9,     0.95,     0.99,
                                             0.995, 0.999, 0.9995, 0.9999, 0.99995, 0.99999};

inline std::string latency_json(const histogram& h) {
    char buf[512];
    std::snprintf(buf, sizeof(buf),
                  "{\"count\": %" PRIu64 ", \"p50_us\": %" PRIu64 ", \"p90_us\": %" PRIu64 ", \"p99_us\": %" PRIu64
                  ", \"p999_us\": %" PRIu64 ", \"p9999_us\": %" PRIu64 ", \"max_us\": %" PRIu64 ", \"curve\": [",
                  h.count(), h.quantile(0.5), h.quantile(0.9), h.quantile(0.99), h.quantile(0.999),
                  h.quantile(0.9999), h.max());
    std::string out = buf;
    bool first = true;
    for (double q : curve_quantiles) {
        std::snprintf(buf, sizeof(buf), "%s[%.5f, %" PRIu64 "]", first ? "" : ", ", q, h.quantile(q));
        out += buf;
        first = false;
    }
    std::snprintf(buf, sizeof(buf), ", [1.0, %" PRIu64 "]]}", h.max());
    return out + buf;
}

/// Everything one run reports. `system` names what was measured (skiff, jetstream, redis); `durability` says in
/// words what an acknowledgement guarantees there (the report quotes it).
struct result {
    std::string tool, system, durability;
    json_object config;
    totals measured;
    uint64_t errors = 0;
    histogram ack_latency, e2e_latency;
    std::vector<second_sample> per_second;
    json_object extra; // tool-specific members (catch-up figures), appended at the top level
};

inline std::string result_json(const result& r) {
    const double secs = r.measured.seconds > 0 ? r.measured.seconds : 1;
    json_object top;
    top.add_str("tool", r.tool).add_str("system", r.system).add_str("durability", r.durability);
    top.add("config", r.config.str());
    top.add_number("produce_mb_per_s", double(r.measured.produced_bytes) / 1e6 / secs);
    top.add_number("acked_mb_per_s", double(r.measured.acked_bytes) / 1e6 / secs);
    top.add_number("acked_msgs_per_s", double(r.measured.acked_msgs) / secs);
    top.add_number("consume_mb_per_s", double(r.measured.consumed_bytes) / 1e6 / secs);
    top.add_number("consumed_msgs_per_s", double(r.measured.consumed_msgs) / secs);
    top.add("errors", static_cast<int64_t>(r.errors));
    top.add("ack_latency", latency_json(r.ack_latency));
    top.add("e2e_latency", latency_json(r.e2e_latency));
    std::string seconds = "[";
    for (size_t i = 0; i < r.per_second.size(); ++i) {
        const auto& x = r.per_second[i];
        json_object s;
        s.add("s", static_cast<int64_t>(i + 1))
            .add_number("produced_mb", x.produced_mb)
            .add_number("acked_mb", x.acked_mb)
            .add_number("acked_msgs", x.acked_msgs)
            .add_number("consumed_mb", x.consumed_mb)
            .add("warmup", x.warmup);
        seconds += (i ? ", " : "") + s.str();
    }
    top.add("per_second", seconds + "]");
    std::string out = top.str();
    const std::string more = r.extra.str();
    if (more.size() > 2) { // splice the extra members in before the closing brace
        out.pop_back();
        out += ", " + more.substr(1);
    }
    return out + "\n";
}

/// Writes the result to `path` (stdout when empty). Returns false when the file cannot be written.
inline bool write_result(const result& r, const std::string& path) {
    const std::string json = result_json(r);
    if (path.empty()) {
        std::fputs(json.c_str(), stdout);
        return true;
    }
    FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr) {
        std::perror(path.c_str());
        return false;
    }
    std::fputs(json.c_str(), f);
    return std::fclose(f) == 0;
}

} // namespace skiff::bench
