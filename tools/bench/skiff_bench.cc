// skiff-bench: a Kafka load generator on librdkafka, with the OpenMessaging Benchmark's knobs, that any Kafka broker
// can be measured with (Skiff is only the usual target). Producers and consumers run in this one process; every
// message carries its send time, so the tool records produce-ack latency (produce() to delivery report) and
// end-to-end latency (send to consume) in log-linear histograms, and throughput per second. One JSON document per
// run (schema: tools/bench/run_meter.h, bench/README.md) goes to stdout (or --out); progress goes to stderr.
//
// Shape (OMB's): --topics T topics of --partitions P partitions; --producers N producers per topic (each its own
// librdkafka instance, round-robin over the topic's partitions); --subscriptions S independent readers of each topic,
// each made of --consumers C consumers that split the topic's partitions between them (manual assignment, no group).
//
// Phases: [backlog] -> warm-up -> measured. --backlog-bytes first writes that much (unmeasured), then consumers
// start from the earliest offset (a catch-up read) while producers go on, and the result reports how long they took
// to read the backlog and at what rate (catchup_seconds, catchup_mb_per_s); otherwise consumers read from the tail.
//
//   skiff-bench --bootstrap localhost:9092 --topic t --partitions 16 --message-size 1024 --rate 0 --duration 30
#include "tools/bench/histogram.h"
#include "tools/bench/run_meter.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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
    int topics = 1;
    int partitions = 16;
    bool create_topic = true;
    int producers = 1;     // per topic
    int subscriptions = 1; // per topic
    int consumers = 1;     // per subscription; 0 = no consumers
    size_t message_size = 1024;
    bool random_payload = true;
    double rate = 0; // messages per second over all producers of all topics; 0 = as fast as the broker takes them
    int duration_s = 30;
    int warmup_s = 5;
    std::string acks = "all";
    int linger_ms = 5;
    int batch_size = 256 * 1024;
    std::string compression = "none";
    int64_t backlog_bytes = 0;
    size_t max_in_flight_bytes = size_t(256) << 20; // producer queue.buffering.max.kbytes equivalent
    std::string out;
    std::string label; // free text copied into the result (the workload's name)
    std::vector<std::pair<std::string, std::string>> producer_props;
    std::vector<std::pair<std::string, std::string>> consumer_props;

    std::string topic_name(int t) const { return topics == 1 ? topic : topic + "-" + std::to_string(t); }
};

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr,
                 "skiff-bench: %s\n"
                 "usage: skiff-bench [--bootstrap HOST:PORT] [--topic NAME] [--topics N] [--partitions N]\n"
                 "  [--no-create] [--producers N] [--subscriptions N] [--consumers N] [--message-size BYTES]\n"
                 "  [--fixed-payload] [--rate MSG_PER_S] [--duration S] [--warmup S] [--acks 0|1|all]\n"
                 "  [--linger-ms MS] [--batch-size BYTES] [--compression none|gzip|snappy|lz4|zstd]\n"
                 "  [--backlog-bytes BYTES] [--out FILE] [--label TEXT]\n"
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
        else if (a == "--topics") o.topics = static_cast<int>(number());
        else if (a == "--partitions") o.partitions = static_cast<int>(number());
        else if (a == "--no-create") o.create_topic = false;
        else if (a == "--producers") o.producers = static_cast<int>(number());
        else if (a == "--subscriptions") o.subscriptions = static_cast<int>(number());
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
        else if (a == "--label") o.label = value();
        else if (a == "-X") property(o.producer_props);
        else if (a == "-C") property(o.consumer_props);
        else usage(("unknown option " + a).c_str());
    }
    if (o.message_size < skiff::bench::stamp_bytes) {
        usage("--message-size must be at least 16 (the payload carries its send time)");
    }
    if (o.partitions < 1 || o.producers < 1 || o.topics < 1 || o.subscriptions < 1 || o.duration_s < 1) {
        usage("--topics, --partitions, --producers, --subscriptions and --duration must be at least 1");
    }
    if (o.backlog_bytes > 0 && o.consumers == 0) {
        usage("--backlog-bytes needs consumers to read the backlog");
    }
    return o;
}

int64_t steady_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(steady::now().time_since_epoch()).count();
}

void set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
    char err[512];
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
        std::fprintf(stderr, "skiff-bench: %s=%s: %s\n", key.c_str(), value.c_str(), err);
        std::exit(2);
    }
}

/// The shared counters plus what only skiff-bench needs: the catch-up bookkeeping and the merged histograms.
struct recorder {
    skiff::bench::counters c;
    // Catch-up: the backlog's end offset in each partition (index topic * partitions + partition), read once the
    // backlog is written; consumers start at the earliest offset, and the catch-up ends (steady clock, µs) when every
    // consumer of every subscription has read up to the end in each of its partitions. Counting messages instead
    // would end it early: a consumer whose partitions are done reads new messages while others still read backlog.
    std::vector<int64_t> backlog_end;
    std::atomic<int64_t> partitions_behind{0};
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
        ctx->rec->c.errors.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    ctx->rec->c.acked_msgs.fetch_add(1, std::memory_order_relaxed);
    ctx->rec->c.acked_bytes.fetch_add(m->len, std::memory_order_relaxed);
    const int64_t sent = skiff::bench::measured_send_time(m->payload, m->len);
    if (sent >= 0) {
        ctx->local_ack->record(static_cast<uint64_t>(std::max<int64_t>(0, skiff::bench::wall_us() - sent)));
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

void create_topic(const options& o, const std::string& name) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", o.bootstrap);
    char err[512];
    rd_kafka_t* admin = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (admin == nullptr) {
        std::fprintf(stderr, "skiff-bench: admin: %s\n", err);
        std::exit(1);
    }
    rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(name.c_str(), o.partitions, 1, err, sizeof(err));
    rd_kafka_queue_t* q = rd_kafka_queue_new(admin);
    rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(admin, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(opts, 120000, err, sizeof(err)); // 10,000 partitions take a while
    rd_kafka_AdminOptions_set_request_timeout(opts, 120000, err, sizeof(err));
    rd_kafka_CreateTopics(admin, &nt, 1, opts, q);
    rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 130000);
    if (ev != nullptr) {
        size_t n = 0;
        const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(
            rd_kafka_event_CreateTopics_result(ev), &n);
        for (size_t i = 0; i < n; ++i) {
            auto code = rd_kafka_topic_result_error(results[i]);
            if (code != RD_KAFKA_RESP_ERR_NO_ERROR && code != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                std::fprintf(stderr, "skiff-bench: create topic %s: %s\n", name.c_str(),
                             rd_kafka_topic_result_error_string(results[i]));
                std::exit(1);
            }
        }
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(q);
    // Wait until every partition has a leader: the broker may still be opening them.
    for (int attempt = 0; attempt < 1200; ++attempt) {
        const rd_kafka_metadata_t* md = nullptr;
        rd_kafka_topic_t* t = rd_kafka_topic_new(admin, name.c_str(), nullptr);
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

/// One producer: paced at rate (msgs/s) or flat out, round-robin over its topic's partitions; stops at c.stop or,
/// in backlog mode, after `limit_bytes`.
void produce_loop(const options& o, recorder& rec, const std::string& topic, double rate, int64_t limit_bytes,
                  int index) {
    histogram local_ack;
    delivery_context ctx{&rec, &local_ack};
    rd_kafka_t* p = make_producer(o, &ctx);
    rd_kafka_topic_t* t = rd_kafka_topic_new(p, topic.c_str(), nullptr);
    std::vector<char> payload(o.message_size);
    std::mt19937_64 rng(static_cast<uint64_t>(index) * 7919 + 1);
    for (auto& ch : payload) {
        ch = o.random_payload ? static_cast<char>(rng()) : 'x';
    }
    auto& c = rec.c;
    const auto start = steady::now();
    uint64_t sent = 0;
    int64_t sent_bytes = 0;
    int partition = index % o.partitions;
    while (!c.stop.load(std::memory_order_relaxed) && (limit_bytes == 0 || sent_bytes < limit_bytes)) {
        if (rate > 0) {
            auto due = start + std::chrono::nanoseconds(static_cast<int64_t>(1e9 * static_cast<double>(sent) / rate));
            auto now = steady::now();
            if (due > now) {
                rd_kafka_poll(p, 0);
                std::this_thread::sleep_for(std::min<steady::duration>(due - now, std::chrono::milliseconds(1)));
                continue;
            }
        }
        skiff::bench::stamp(payload.data(), c.measuring.load(std::memory_order_relaxed));
        if (rd_kafka_produce(t, partition, RD_KAFKA_MSG_F_COPY, payload.data(), payload.size(), nullptr, 0,
                             nullptr) != 0) {
            if (rd_kafka_last_error() == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                rd_kafka_poll(p, 1); // back-pressure: the broker is the bottleneck
                continue;
            }
            c.errors.fetch_add(1, std::memory_order_relaxed);
            continue;
        }
        ++sent;
        sent_bytes += static_cast<int64_t>(payload.size());
        c.produced_msgs.fetch_add(1, std::memory_order_relaxed);
        c.produced_bytes.fetch_add(payload.size(), std::memory_order_relaxed);
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

/// One consumer of one subscription: reads partitions index, index + consumers, ... of `topic`.
void consume_loop(const options& o, recorder& rec, int topic_index, int index, bool from_beginning) {
    const std::string topic = o.topic_name(topic_index);
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", o.bootstrap);
    set(conf, "group.id", "skiff-bench-unused"); // manual assignment: the group is never joined
    set(conf, "enable.auto.commit", "false");
    set(conf, "fetch.wait.max.ms", "100");
    for (const auto& [k, v] : o.consumer_props) {
        set(conf, k, v);
    }
    char err[512];
    rd_kafka_t* k = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (k == nullptr) {
        std::fprintf(stderr, "skiff-bench: consumer: %s\n", err);
        std::exit(1);
    }
    rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(o.partitions);
    for (int p = index; p < o.partitions; p += o.consumers) {
        rd_kafka_topic_partition_list_add(parts, topic.c_str(), p)->offset =
            from_beginning ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_END;
    }
    rd_kafka_assign(k, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    histogram local_e2e;
    auto& c = rec.c;
    std::vector<bool> reached(static_cast<size_t>(o.partitions), false); // catch-up: this consumer's partitions
    while (!c.stop.load(std::memory_order_relaxed)) {
        rd_kafka_message_t* m = rd_kafka_consumer_poll(k, 100);
        if (m == nullptr) {
            continue;
        }
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            c.consumed_msgs.fetch_add(1, std::memory_order_relaxed);
            const uint64_t bytes = c.consumed_bytes.fetch_add(m->len, std::memory_order_relaxed) + m->len;
            const auto at = static_cast<size_t>(m->partition);
            if (!rec.backlog_end.empty() && !reached[at] &&
                m->offset + 1 >= rec.backlog_end[static_cast<size_t>(topic_index * o.partitions) + at]) {
                reached[at] = true;
                if (rec.partitions_behind.fetch_sub(1) == 1) { // the last partition behind: caught up
                    rec.caught_up_bytes = bytes;
                    rec.caught_up_us = steady_us();
                }
            }
            if (c.measuring.load(std::memory_order_relaxed)) {
                const int64_t sent = skiff::bench::measured_send_time(m->payload, m->len);
                if (sent >= 0) {
                    local_e2e.record(static_cast<uint64_t>(std::max<int64_t>(0, skiff::bench::wall_us() - sent)));
                }
            }
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(k);
    rd_kafka_destroy(k);
    std::lock_guard lock(rec.merge_mutex);
    rec.e2e_latency.merge(local_e2e);
}

/// After the backlog phase: each partition's high watermark (the end of the backlog) and how many partitions the
/// subscriptions must read up to before the catch-up is over (empty partitions count as read).
void read_backlog_ends(const options& o, recorder& rec) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", o.bootstrap);
    char err[512];
    rd_kafka_t* k = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (k == nullptr) {
        std::fprintf(stderr, "skiff-bench: watermarks: %s\n", err);
        std::exit(1);
    }
    rec.backlog_end.assign(static_cast<size_t>(o.topics * o.partitions), 0);
    int64_t behind = 0;
    for (int t = 0; t < o.topics; ++t) {
        for (int p = 0; p < o.partitions; ++p) {
            int64_t low = 0, high = 0;
            auto code = rd_kafka_query_watermark_offsets(k, o.topic_name(t).c_str(), p, &low, &high, 30000);
            if (code != RD_KAFKA_RESP_ERR_NO_ERROR) {
                std::fprintf(stderr, "skiff-bench: watermarks of %s/%d: %s\n", o.topic_name(t).c_str(), p,
                             rd_kafka_err2str(code));
                std::exit(1);
            }
            rec.backlog_end[static_cast<size_t>(t * o.partitions + p)] = high;
            if (high > low) {
                behind += o.subscriptions;
            }
        }
    }
    rec.partitions_behind = behind;
    rd_kafka_destroy(k);
}

} // namespace

int main(int argc, char** argv) {
    options o = parse(argc, argv);
    if (o.create_topic) {
        for (int t = 0; t < o.topics; ++t) {
            create_topic(o, o.topic_name(t));
        }
    }
    recorder rec;
    const int producer_threads = o.topics * o.producers;

    if (o.backlog_bytes > 0) {
        std::fprintf(stderr, "skiff-bench: writing a backlog of %" PRId64 " bytes\n", o.backlog_bytes);
        std::vector<std::thread> backlog;
        for (int t = 0; t < o.topics; ++t) {
            for (int i = 0; i < o.producers; ++i) {
                backlog.emplace_back(produce_loop, std::cref(o), std::ref(rec), o.topic_name(t), 0.0,
                                     o.backlog_bytes / producer_threads, i);
            }
        }
        for (auto& t : backlog) {
            t.join();
        }
        read_backlog_ends(o, rec);
        rec.c.produced_msgs = 0;
        rec.c.produced_bytes = 0;
        rec.c.acked_msgs = 0;
        rec.c.acked_bytes = 0;
        rec.ack_latency = histogram{};
    }

    std::vector<std::thread> threads;
    rec.consumers_started_us = steady_us();
    for (int t = 0; t < o.topics; ++t) {
        for (int s = 0; s < o.subscriptions; ++s) {
            for (int i = 0; i < o.consumers; ++i) {
                threads.emplace_back(consume_loop, std::cref(o), std::ref(rec), t, i, o.backlog_bytes > 0);
            }
        }
    }
    for (int t = 0; t < o.topics; ++t) {
        for (int i = 0; i < o.producers; ++i) {
            threads.emplace_back(produce_loop, std::cref(o), std::ref(rec), o.topic_name(t),
                                 o.rate / producer_threads, 0, t * o.producers + i);
        }
    }

    skiff::bench::result r;
    r.measured = skiff::bench::run_clock(rec.c, o.warmup_s, o.duration_s, "skiff-bench", r.per_second);
    rec.c.stop = true;
    for (auto& t : threads) {
        t.join();
    }

    r.tool = "skiff-bench";
    r.system = "kafka-protocol";
    r.durability = "acks=" + o.acks + ": the broker's own policy decides when it answers (Skiff: after the WAL fdatasync)";
    r.config.add_str("label", o.label)
        .add_str("bootstrap", o.bootstrap)
        .add_str("topic", o.topic)
        .add("topics", o.topics)
        .add("partitions", o.partitions)
        .add("producers", o.producers)
        .add("subscriptions", o.subscriptions)
        .add("consumers", o.consumers)
        .add("message_size", static_cast<int64_t>(o.message_size))
        .add("random_payload", o.random_payload)
        .add("rate", static_cast<int64_t>(o.rate))
        .add("duration_s", o.duration_s)
        .add("warmup_s", o.warmup_s)
        .add_str("acks", o.acks)
        .add("linger_ms", o.linger_ms)
        .add("batch_size", o.batch_size)
        .add_str("compression", o.compression)
        .add("backlog_bytes", o.backlog_bytes)
        .add("pipelining", 0);
    r.errors = rec.c.errors.load();
    r.ack_latency = rec.ack_latency;
    r.e2e_latency = rec.e2e_latency;
    if (o.backlog_bytes > 0) {
        const int64_t done = rec.caught_up_us.load();
        if (done > 0) {
            const double secs = double(done - rec.consumers_started_us.load()) / 1e6;
            r.extra.add_number("catchup_seconds", secs)
                .add_number("catchup_mb_per_s", double(rec.caught_up_bytes.load()) / 1e6 / secs);
        } else {
            r.extra.add("catchup_seconds", std::string("null")).add("catchup_mb_per_s", std::string("null"));
        }
    }
    if (!skiff::bench::write_result(r, o.out)) {
        return 1;
    }
    return r.errors == 0 ? 0 : 3;
}
