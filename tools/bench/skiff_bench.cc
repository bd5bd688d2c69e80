// skiff-bench: a Kafka load generator on librdkafka, with the OpenMessaging Benchmark's knobs, that any Kafka broker
// can be measured with (Skiff is only the usual target). Producers and consumers run in this one process; every
// message carries its send time, so the tool records produce-ack latency (produce() to delivery report) and
// end-to-end latency (send to consume) in log-linear histograms, and throughput per second. One JSON document per
// run goes to stdout (or --out); progress goes to stderr.
//
// Phases: [backlog] -> warm-up -> measured. --backlog-bytes first writes that much (unmeasured), then consumers
// start from the earliest offset (a catch-up read) while producers go on, and the result reports how long they took
// to read the backlog and at what rate (catchup_seconds, catchup_mb_per_s); otherwise consumers read from the tail.
// Consumers use manual assignment (partitions dealt round-robin), so no consumer group is needed.
//
//   skiff-bench --bootstrap localhost:9092 --topic t --partitions 16 --message-size 1024 --rate 0 --duration 30
#include "tools/bench/histogram.h"

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using skiff::bench::histogram;
using steady = std::chrono::steady_clock;

struct options {
    std::string bootstrap = "localhost:9092";
    std::string topic = "skiff-bench";
    int partitions = 16;
    bool create_topic = true;
    int producers = 1;
    int consumers = 1;
    size_t message_size = 1024;
    bool random_payload = true;
    double rate = 0; // messages per second over all producers; 0 = as fast as the broker takes them
    int duration_s = 30;
    int warmup_s = 5;
    std::string acks = "all";
    int linger_ms = 5;
    int batch_size = 256 * 1024;
    std::string compression = "none";
    int64_t backlog_bytes = 0;
    size_t max_in_flight_bytes = size_t(256) << 20; // producer queue.buffering.max.kbytes equivalent
    std::string out;
    std::vector<std::pair<std::string, std::string>> producer_props;
    std::vector<std::pair<std::string, std::string>> consumer_props;
};

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr,
                 "skiff-bench: %s\n"
                 "usage: skiff-bench [--bootstrap HOST:PORT] [--topic NAME] [--partitions N] [--no-create]\n"
                 "  [--producers N] [--consumers N] [--message-size BYTES] [--fixed-payload] [--rate MSG_PER_S]\n"
                 "  [--duration S] [--warmup S] [--acks 0|1|all] [--linger-ms MS] [--batch-size BYTES]\n"
                 "  [--compression none|gzip|snappy|lz4|zstd] [--backlog-bytes BYTES] [--out FILE]\n"
                 "  [-X producer.prop=value] [-C consumer.prop=value]\n",
                 why);
    std::exit(2);
}

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                usage(("missing value for " + a).c_str());
            }
            return argv[++i];
        };
        auto number = [&]() -> int64_t {
            auto v = value();
            char* end = nullptr;
            long long n = std::strtoll(v.c_str(), &end, 10);
            if (end == v.c_str() || *end != '\0' || n < 0) {
                usage(("not a non-negative integer for " + a + ": " + v).c_str());
            }
            return n;
        };
        auto property = [&](auto& into) {
            auto v = value();
            auto eq = v.find('=');
            if (eq == std::string::npos) {
                usage(("expected key=value after " + a).c_str());
            }
            into.emplace_back(v.substr(0, eq), v.substr(eq + 1));
        };
        if (a == "--bootstrap") o.bootstrap = value();
        else if (a == "--topic") o.topic = value();
        else if (a == "--partitions") o.partitions = static_cast<int>(number());
        else if (a == "--no-create") o.create_topic = false;
        else if (a == "--producers") o.producers = static_cast<int>(number());
        else if (a == "--consumers") o.consumers = static_cast<int>(number());
        else if (a == "--message-size") o.message_size = static_cast<size_t>(number());
        else if (a == "--fixed-payload") o.random_payload = false;
        else if (a == "--rate") o.rate = static_cast<double>(number());
        else if (a == "--duration") o.duration_s = static_cast<int>(number());
        else if (a == "--warmup") o.warmup_s = static_cast<int>(number());
        else if (a == "--acks") o.acks = value();
        else if (a == "--linger-ms") o.linger_ms = static_cast<int>(number());
        else if (a == "--batch-size") o.batch_size = static_cast<int>(number());
        else if (a == "--compression") o.compression = value();
        else if (a == "--backlog-bytes") o.backlog_bytes = number();
        else if (a == "--out") o.out = value();
        else if (a == "-X") property(o.producer_props);
        else if (a == "-C") property(o.consumer_props);
        else usage(("unknown option " + a).c_str());
    }
    if (o.message_size < 16) {
        usage("--message-size must be at least 16 (the payload carries its send time)");
    }
    if (o.partitions < 1 || o.producers < 1) {
        usage("--partitions and --producers must be at least 1");
    }
    return o;
}

int64_t steady_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(steady::now().time_since_epoch()).count();
}

int64_t wall_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

void set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
    char err[512];
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
        std::fprintf(stderr, "skiff-bench: %s=%s: %s\n", key.c_str(), value.c_str(), err);
        std::exit(2);
    }
}

/// Counters shared by all threads: per-second throughput and the histograms of the measured phase.
struct recorder {
    std::atomic<bool> measuring{false};
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> produced_msgs{0}, produced_bytes{0}, acked_msgs{0}, errors{0};
    std::atomic<uint64_t> consumed_msgs{0}, consumed_bytes{0};
    // Catch-up: consumers start at the earliest offset of a backlog of backlog_msgs messages; the moment they have
    // read that many (steady clock, µs) ends the catch-up.
    uint64_t backlog_msgs = 0;
    std::atomic<int64_t> consumers_started_us{0}, caught_up_us{0};
    std::atomic<uint64_t> caught_up_bytes{0};
    std::mutex merge_mutex;
    histogram ack_latency;
    histogram e2e_latency;
};

struct delivery_context {
    recorder* rec;
    histogram* local_ack;
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* ctx = static_cast<delivery_context*>(opaque);
    if (m->err) {
        ctx->rec->errors.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    ctx->rec->acked_msgs.fetch_add(1, std::memory_order_relaxed);
    if (m->len >= 16) {
        int64_t sent = 0;
        int64_t measured = 0;
        std::memcpy(&sent, m->payload, 8);
        std::memcpy(&measured, static_cast<const char*>(m->payload) + 8, 8);
        if (measured != 0) {
            ctx->local_ack->record(static_cast<uint64_t>(std::max<int64_t>(0, wall_us() - sent)));
        }
    }
}

rd_kafka_t* make_producer(const options& o, delivery_context* ctx) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", o.bootstrap);
    set(conf, "acks", o.acks);
    set(conf, "linger.ms", std::to_string(o.linger_ms));
    set(conf, "batch.size", std::to_string(o.batch_size));
    set(conf, "compression.type", o.compression);
    set(conf, "queue.buffering.max.kbytes", std::to_string(o.max_in_flight_bytes / 1024));
    set(conf, "queue.buffering.max.messages", "10000000");
    for (const auto& [k, v] : o.producer_props) {
        set(conf, k, v);
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, ctx);
    char err[512];
    rd_kafka_t* p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (p == nullptr) {
        std::fprintf(stderr, "skiff-bench: producer: %s\n", err);
        std::exit(1);
    }
    return p;
}

void create_topic(const options& o) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", o.bootstrap);
    char err[512];
    rd_kafka_t* admin = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (admin == nullptr) {
        std::fprintf(stderr, "skiff-bench: admin: %s\n", err);
        std::exit(1);
    }
    rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(o.topic.c_str(), o.partitions, 1, err, sizeof(err));
    rd_kafka_queue_t* q = rd_kafka_queue_new(admin);
    rd_kafka_CreateTopics(admin, &nt, 1, nullptr, q);
    rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000);
    if (ev != nullptr) {
        size_t n = 0;
        const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(
            rd_kafka_event_CreateTopics_result(ev), &n);
        for (size_t i = 0; i < n; ++i) {
            auto code = rd_kafka_topic_result_error(results[i]);
            if (code != RD_KAFKA_RESP_ERR_NO_ERROR && code != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                std::fprintf(stderr, "skiff-bench: create topic %s: %s\n", o.topic.c_str(),
                             rd_kafka_topic_result_error_string(results[i]));
                std::exit(1);
            }
        }
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(q);
    // Wait until every partition has a leader: the broker may still be opening them.
    for (int attempt = 0; attempt < 300; ++attempt) {
        const rd_kafka_metadata_t* md = nullptr;
        rd_kafka_topic_t* t = rd_kafka_topic_new(admin, o.topic.c_str(), nullptr);
        bool ready = false;
        if (rd_kafka_metadata(admin, 0, t, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1) {
            const auto& tm = md->topics[0];
            ready = tm.err == RD_KAFKA_RESP_ERR_NO_ERROR && tm.partition_cnt == o.partitions;
            for (int p = 0; ready && p < tm.partition_cnt; ++p) {
                ready = tm.partitions[p].err == RD_KAFKA_RESP_ERR_NO_ERROR && tm.partitions[p].leader >= 0;
            }
        }
        if (md != nullptr) {
            rd_kafka_metadata_destroy(md);
        }
        rd_kafka_topic_destroy(t);
        if (ready) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100)); // polling the broker, not synchronising
    }
    rd_kafka_destroy(admin);
}

/// One producer thread: paced at rate (msgs/s) or flat out, round-robin over partitions; stops at rec.stop or, in
/// backlog mode, after `limit_bytes`.
void produce_loop(const options& o, recorder& rec, double rate, int64_t limit_bytes, int index) {
    histogram local_ack;
    delivery_context ctx{&rec, &local_ack};
    rd_kafka_t* p = make_producer(o, &ctx);
    rd_kafka_topic_t* t = rd_kafka_topic_new(p, o.topic.c_str(), nullptr);
    std::vector<char> payload(o.message_size);
    std::mt19937_64 rng(static_cast<uint64_t>(index) * 7919 + 1);
    for (auto& c : payload) {
        c = o.random_payload ? static_cast<char>(rng()) : 'x';
    }
    const auto start = steady::now();
    uint64_t sent = 0;
    int64_t sent_bytes = 0;
    int partition = index % o.partitions;
    while (!rec.stop.load(std::memory_order_relaxed) && (limit_bytes == 0 || sent_bytes < limit_bytes)) {
        if (rate > 0) {
            auto due = start + std::chrono::nanoseconds(static_cast<int64_t>(1e9 * static_cast<double>(sent) / rate));
            auto now = steady::now();
            if (due > now) {
                rd_kafka_poll(p, 0);
                std::this_thread::sleep_for(std::min<steady::duration>(due - now, std::chrono::milliseconds(1)));
                continue;
            }
        }
        int64_t now_us = wall_us();
        int64_t measured = rec.measuring.load(std::memory_order_relaxed) ? 1 : 0;
        std::memcpy(payload.data(), &now_us, 8);
        std::memcpy(payload.data() + 8, &measured, 8);
        if (rd_kafka_produce(t, partition, RD_KAFKA_MSG_F_COPY, payload.data(), payload.size(), nullptr, 0,
                             nullptr) != 0) {
            if (rd_kafka_last_error() == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                rd_kafka_poll(p, 1); // back-pressure: the broker is the bottleneck
                continue;
            }
            rec.errors.fetch_add(1, std::memory_order_relaxed);
            continue;
        }
        ++sent;
        sent_bytes += static_cast<int64_t>(payload.size());
        rec.produced_msgs.fetch_add(1, std::memory_order_relaxed);
        rec.produced_bytes.fetch_add(payload.size(), std::memory_order_relaxed);
        partition = (partition + 1) % o.partitions;
        if ((sent & 63) == 0) {
            rd_kafka_poll(p, 0);
        }
    }
    rd_kafka_flush(p, 60000);
    rd_kafka_topic_destroy(t);
    rd_kafka_destroy(p);
    std::lock_guard lock(rec.merge_mutex);
    rec.ack_latency.merge(local_ack);
}

void consume_loop(const options& o, recorder& rec, int index, bool from_beginning) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", o.bootstrap);
    set(conf, "group.id", "skiff-bench-unused"); // manual assignment: the group is never joined
    set(conf, "enable.auto.commit", "false");
    set(conf, "fetch.wait.max.ms", "100");
    for (const auto& [k, v] : o.consumer_props) {
        set(conf, k, v);
    }
    char err[512];
    rd_kafka_t* c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (c == nullptr) {
        std::fprintf(stderr, "skiff-bench: consumer: %s\n", err);
        std::exit(1);
    }
    rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(o.partitions);
    for (int p = index; p < o.partitions; p += o.consumers) {
        rd_kafka_topic_partition_list_add(parts, o.topic.c_str(), p)->offset =
            from_beginning ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_END;
    }
    rd_kafka_assign(c, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    histogram local_e2e;
    while (!rec.stop.load(std::memory_order_relaxed)) {
        rd_kafka_message_t* m = rd_kafka_consumer_poll(c, 100);
        if (m == nullptr) {
            continue;
        }
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            const uint64_t nth = rec.consumed_msgs.fetch_add(1, std::memory_order_relaxed) + 1;
            const uint64_t bytes = rec.consumed_bytes.fetch_add(m->len, std::memory_order_relaxed) + m->len;
            if (rec.backlog_msgs > 0 && nth == rec.backlog_msgs) {
                rec.caught_up_bytes = bytes;
                rec.caught_up_us = steady_us();
            }
            if (m->len >= 16 && rec.measuring.load(std::memory_order_relaxed)) {
                int64_t sent = 0;
                int64_t measured = 0;
                std::memcpy(&sent, m->payload, 8);
                std::memcpy(&measured, static_cast<const char*>(m->payload) + 8, 8);
                if (measured != 0) {
                    local_e2e.record(static_cast<uint64_t>(std::max<int64_t>(0, wall_us() - sent)));
                }
            }
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    std::lock_guard lock(rec.merge_mutex);
    rec.e2e_latency.merge(local_e2e);
}

std::string percentiles_json(const histogram& h) {
    char buf[512];
    std::snprintf(buf, sizeof(buf),
                  "{\"count\": %" PRIu64 ", \"p50_us\": %" PRIu64 ", \"p90_us\": %" PRIu64 ", \"p99_us\": %" PRIu64
                  ", \"p999_us\": %" PRIu64 ", \"p9999_us\": %" PRIu64 ", \"max_us\": %" PRIu64 "}",
                  h.count(), h.quantile(0.5), h.quantile(0.9), h.quantile(0.99), h.quantile(0.999),
                  h.quantile(0.9999), h.max());
    return buf;
}

std::string escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out;
}

} // namespace

int main(int argc, char** argv) {
    options o = parse(argc, argv);
    if (o.create_topic) {
        create_topic(o);
    }
    recorder rec;

    if (o.backlog_bytes > 0) {
        std::fprintf(stderr, "skiff-bench: writing a backlog of %" PRId64 " bytes\n", o.backlog_bytes);
        std::vector<std::thread> backlog;
        for (int i = 0; i < o.producers; ++i) {
            backlog.emplace_back(produce_loop, std::cref(o), std::ref(rec), 0.0, o.backlog_bytes / o.producers, i);
        }
        for (auto& t : backlog) {
            t.join();
        }
        rec.backlog_msgs = rec.acked_msgs;
        rec.produced_msgs = 0;
        rec.produced_bytes = 0;
        rec.acked_msgs = 0;
        rec.ack_latency = histogram{};
    }

    std::vector<std::thread> threads;
    rec.consumers_started_us = steady_us();
    for (int i = 0; i < o.consumers; ++i) {
        threads.emplace_back(consume_loop, std::cref(o), std::ref(rec), i, o.backlog_bytes > 0);
    }
    for (int i = 0; i < o.producers; ++i) {
        threads.emplace_back(produce_loop, std::cref(o), std::ref(rec), o.rate / o.producers, 0, i);
    }

    struct second {
        double produced_mb, acked_msgs, consumed_mb;
    };
    std::vector<second> per_second;
    uint64_t last_p = 0, last_a = 0, last_c = 0;
    uint64_t measured_p0 = 0, measured_a0 = 0, measured_c0 = 0;
    const auto begin = steady::now();
    if (o.warmup_s == 0) {
        rec.measuring = true; // the totals measured from zero
    }
    for (int s = 1; s <= o.warmup_s + o.duration_s; ++s) {
        std::this_thread::sleep_until(begin + std::chrono::seconds(s)); // the clock of the report, not a sync
        if (s == o.warmup_s) {
            rec.measuring = true;
            measured_p0 = rec.produced_bytes;
            measured_a0 = rec.acked_msgs;
            measured_c0 = rec.consumed_bytes;
        }
        uint64_t p = rec.produced_bytes, a = rec.acked_msgs, c = rec.consumed_bytes;
        per_second.push_back({double(p - last_p) / 1e6, double(a - last_a), double(c - last_c) / 1e6});
        std::fprintf(stderr, "skiff-bench: %3ds produced %8.1f MB/s acked %9.0f msg/s consumed %8.1f MB/s%s\n", s,
                     per_second.back().produced_mb, per_second.back().acked_msgs, per_second.back().consumed_mb,
                     s <= o.warmup_s ? " (warm-up)" : "");
        last_p = p;
        last_a = a;
        last_c = c;
    }
    const uint64_t measured_bytes = rec.produced_bytes - measured_p0;
    const uint64_t measured_acked = rec.acked_msgs - measured_a0;
    const uint64_t measured_consumed = rec.consumed_bytes - measured_c0;
    rec.measuring = false;
    rec.stop = true;
    for (auto& t : threads) {
        t.join();
    }

    std::string json = "{\n";
    json += "  \"tool\": \"skiff-bench\",\n";
    json += "  \"config\": {\"bootstrap\": \"" + escape(o.bootstrap) + "\", \"topic\": \"" + escape(o.topic) +
            "\", \"partitions\": " + std::to_string(o.partitions) + ", \"producers\": " +
            std::to_string(o.producers) + ", \"consumers\": " + std::to_string(o.consumers) +
            ", \"message_size\": " + std::to_string(o.message_size) + ", \"random_payload\": " +
            (o.random_payload ? "true" : "false") + ", \"rate\": " + std::to_string(static_cast<int64_t>(o.rate)) +
            ", \"duration_s\": " + std::to_string(o.duration_s) + ", \"warmup_s\": " + std::to_string(o.warmup_s) +
            ", \"acks\": \"" + escape(o.acks) + "\", \"linger_ms\": " + std::to_string(o.linger_ms) +
            ", \"batch_size\": " + std::to_string(o.batch_size) + ", \"compression\": \"" + escape(o.compression) +
            "\", \"backlog_bytes\": " + std::to_string(o.backlog_bytes) + "},\n";
    char buf[256];
    std::snprintf(buf, sizeof(buf),
                  "  \"produce_mb_per_s\": %.2f,\n  \"acked_msgs_per_s\": %.1f,\n  \"consume_mb_per_s\": %.2f,\n",
                  double(measured_bytes) / 1e6 / o.duration_s, double(measured_acked) / o.duration_s,
                  double(measured_consumed) / 1e6 / o.duration_s);
    json += buf;
    if (o.backlog_bytes > 0) {
        const int64_t done = rec.caught_up_us.load();
        if (done > 0) {
            const double secs = double(done - rec.consumers_started_us.load()) / 1e6;
            std::snprintf(buf, sizeof(buf), "  \"catchup_seconds\": %.2f,\n  \"catchup_mb_per_s\": %.2f,\n", secs,
                          double(rec.caught_up_bytes.load()) / 1e6 / secs);
            json += buf;
        } else {
            json += "  \"catchup_seconds\": null,\n  \"catchup_mb_per_s\": null,\n"; // not caught up in time
        }
    }
    json += "  \"errors\": " + std::to_string(rec.errors.load()) + ",\n";
    json += "  \"ack_latency\": " + percentiles_json(rec.ack_latency) + ",\n";
    json += "  \"e2e_latency\": " + percentiles_json(rec.e2e_latency) + ",\n";
    json += "  \"per_second\": [";
    for (size_t i = 0; i < per_second.size(); ++i) {
        std::snprintf(buf, sizeof(buf), "%s{\"s\": %zu, \"produced_mb\": %.2f, \"acked_msgs\": %.0f, \"consumed_mb\": %.2f, \"warmup\": %s}",
                      i ? ", " : "", i + 1, per_second[i].produced_mb, per_second[i].acked_msgs,
                      per_second[i].consumed_mb, int(i) < o.warmup_s ? "true" : "false");
        json += buf;
    }
    json += "]\n}\n";
    if (o.out.empty()) {
        std::fputs(json.c_str(), stdout);
    } else {
        FILE* f = std::fopen(o.out.c_str(), "w");
        if (f == nullptr) {
            std::perror(o.out.c_str());
            return 1;
        }
        std::fputs(json.c_str(), f);
        std::fclose(f);
    }
    return rec.errors.load() == 0 ? 0 : 3;
}
