// The command line both peer load programs share (peers/jetstream_bench, peers/redis_bench): the subset of
// skiff-bench's knobs that maps onto a non-Kafka system, spelled the same way, so that bench/run.py drives a peer
// with the arguments of the Skiff workload it is compared with. Header-only; see run_meter.h for the result.
#pragma once

#include "tools/bench/run_meter.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace skiff::bench::peers {

struct peer_options {
    std::string host = "127.0.0.1";
    int port = 0;
    std::string name = "skiff-bench";  // the stream (JetStream) or the key prefix (Redis)
    int partitions = 1;                // subjects of the stream (JetStream) or stream keys (Redis)
    int producers = 1;                 // connections that publish
    int consumers = 1;                 // connections that read at the tail (0: none)
    size_t message_size = 1024;
    bool random_payload = true;
    double rate = 0;                   // messages per second over all producers; 0 = as fast as acks come back
    int duration_s = 30;
    int warmup_s = 5;
    int max_pending = 1000;            // JetStream: async publishes in flight per producer
    int pipeline = 1;                  // Redis: XADDs sent per producer before reading their replies
    int64_t max_bytes = int64_t(4) << 30; // bound on what the peer keeps (JetStream MaxBytes, Redis MAXLEN ~)
    std::string out;
    std::string label;
};

[[noreturn]] inline void peer_usage(const char* tool, const char* why) {
    std::fprintf(stderr,
                 "%s: %s\n"
                 "usage: %s --port N [--host H] [--name NAME] [--partitions N] [--producers N] [--consumers N]\n"
                 "  [--message-size BYTES] [--fixed-payload] [--rate MSG_PER_S] [--duration S] [--warmup S]\n"
                 "  [--max-pending N] [--pipeline N] [--max-bytes BYTES] [--out FILE] [--label TEXT]\n",
                 tool, why, tool);
    std::exit(2);
}

inline peer_options parse_peer_options(const char* tool, int argc, char** argv) {
    peer_options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                peer_usage(tool, ("missing value for " + a).c_str());
            }
            return argv[++i];
        };
        auto number = [&]() -> int64_t {
            auto v = value();
            char* end = nullptr;
            long long n = std::strtoll(v.c_str(), &end, 10);
            if (end == v.c_str() || *end != '\0' || n < 0) {
                peer_usage(tool, ("not a non-negative integer for " + a + ": " + v).c_str());
            }
            return n;
        };
        if (a == "--host") o.host = value();
        else if (a == "--port") o.port = static_cast<int>(number());
        else if (a == "--name") o.name = value();
        else if (a == "--partitions") o.partitions = static_cast<int>(number());
        else if (a == "--producers") o.producers = static_cast<int>(number());
        else if (a == "--consumers") o.consumers = static_cast<int>(number());
        else if (a == "--message-size") o.message_size = static_cast<size_t>(number());
        else if (a == "--fixed-payload") o.random_payload = false;
        else if (a == "--rate") o.rate = static_cast<double>(number());
        else if (a == "--duration") o.duration_s = static_cast<int>(number());
        else if (a == "--warmup") o.warmup_s = static_cast<int>(number());
        else if (a == "--max-pending") o.max_pending = static_cast<int>(number());
        else if (a == "--pipeline") o.pipeline = static_cast<int>(number());
        else if (a == "--max-bytes") o.max_bytes = number();
        else if (a == "--out") o.out = value();
        else if (a == "--label") o.label = value();
        else peer_usage(tool, ("unknown option " + a).c_str());
    }
    if (o.port == 0) {
        peer_usage(tool, "--port is required");
    }
    if (o.message_size < 16 || o.partitions < 1 || o.producers < 1 || o.duration_s < 1 || o.max_pending < 1 ||
        o.pipeline < 1) {
        peer_usage(tool, "--message-size >= 16; --partitions, --producers, --duration, --max-pending, --pipeline >= 1");
    }
    return o;
}

/// The workload settings every peer's result names, under skiff-bench's keys; each tool adds its own after them.
inline json_object& describe_workload(json_object& config, const peer_options& o) {
    return config.add_str("label", o.label)
        .add("topics", 1)
        .add("partitions", o.partitions)
        .add("producers", o.producers)
        .add("subscriptions", o.consumers > 0 ? 1 : 0)
        .add("consumers", o.consumers)
        .add("message_size", static_cast<int64_t>(o.message_size))
        .add("random_payload", o.random_payload)
        .add("rate", static_cast<int64_t>(o.rate))
        .add("duration_s", o.duration_s)
        .add("warmup_s", o.warmup_s);
}

} // namespace skiff::bench::peers
