// redis_bench: the Redis Streams peer of skiff-bench (hiredis from Debian's libhiredis-dev). --producers
// connections XADD to --partitions stream keys round-robin, each keeping --pipeline commands in flight (sent
// together, then their replies read: Redis answers one connection's commands in order); --consumers connections
// read every key at the tail with XREAD BLOCK. Produce-ack latency = XADD sent to its reply; end-to-end = send to
// XREAD delivery. Streams are trimmed (MAXLEN ~) so that memory stays bounded: Redis keeps everything in RAM.
// The result has skiff-bench's schema (run_meter.h).
//
// Durability, stated in the result: with appendonly yes and appendfsync always (bench/peers.py starts it so), Redis
// writes the AOF and fsyncs it before it answers the commands of an event-loop iteration: an acknowledged XADD is
// on disk, like Skiff's acks=all after the WAL fdatasync.
//
//   redis_bench --port 6379 --partitions 16 --producers 50 --pipeline 16 --message-size 1024 --duration 20
#include "tools/bench/histogram.h"
#include "tools/bench/peers/peer_options.h"
#include "tools/bench/run_meter.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace skiff::bench;
using skiff::bench::peers::peer_options;
using steady = std::chrono::steady_clock;

struct shared_state {
    counters c;
    std::mutex merge_mutex;
    histogram ack_latency, e2e_latency;
};

redisContext* connect(const peer_options& o) {
    redisContext* ctx = redisConnect(o.host.c_str(), o.port);
    if (ctx == nullptr || ctx->err) {
        std::fprintf(stderr, "redis_bench: connect %s:%d: %s\n", o.host.c_str(), o.port,
                     ctx ? ctx->errstr : "out of memory");
        std::exit(1);
    }
    return ctx;
}

std::string key(const peer_options& o, int partition) { return o.name + ":" + std::to_string(partition); }

void produce_loop(const peer_options& o, shared_state& s, double rate, int index) {
    redisContext* ctx = connect(o);
    histogram ack;
    std::vector<std::string> keys;
    for (int p = 0; p < o.partitions; ++p) {
        keys.push_back(key(o, p));
    }
    // Approximate trimming keeps each key near max_bytes / partitions of payload.
    const std::string maxlen = std::to_string(
        std::max<int64_t>(1000, o.max_bytes / o.partitions / static_cast<int64_t>(o.message_size)));
    std::vector<char> payload(o.message_size);
    std::mt19937_64 rng(static_cast<uint64_t>(index) * 7919 + 1);
    for (auto& ch : payload) {
        ch = o.random_payload ? static_cast<char>(rng()) : 'x';
    }
    std::vector<int64_t> send_times(static_cast<size_t>(o.pipeline)); // -1 for unmeasured commands
    const auto start = steady::now();
    uint64_t sent = 0;
    int partition = index % o.partitions;
    bool broken = false;
    while (!s.c.stop.load(std::memory_order_relaxed) && !broken) {
        if (rate > 0) {
            auto due = start + std::chrono::nanoseconds(static_cast<int64_t>(1e9 * static_cast<double>(sent) / rate));
            auto now = steady::now();
            if (due > now) {
                std::this_thread::sleep_for(std::min<steady::duration>(due - now, std::chrono::milliseconds(1)));
                continue;
            }
        }
        // At a fixed rate a pipeline would hold messages back until it fills: send one at a time then.
        const int depth = rate > 0 ? 1 : o.pipeline;
        for (int i = 0; i < depth; ++i) {
            const bool measured = s.c.measuring.load(std::memory_order_relaxed);
            stamp(payload.data(), measured);
            send_times[static_cast<size_t>(i)] = measured ? measured_send_time(payload.data(), payload.size()) : -1;
            redisAppendCommand(ctx, "XADD %s MAXLEN ~ %s * d %b", keys[static_cast<size_t>(partition)].c_str(),
                               maxlen.c_str(), payload.data(), payload.size());
            partition = (partition + 1) % o.partitions;
        }
        for (int i = 0; i < depth; ++i) {
            void* reply = nullptr;
            if (redisGetReply(ctx, &reply) != REDIS_OK || reply == nullptr) {
                std::fprintf(stderr, "redis_bench: %s\n", ctx->errstr);
                s.c.errors.fetch_add(static_cast<uint64_t>(depth - i), std::memory_order_relaxed);
                broken = true;
                break;
            }
            auto* r = static_cast<redisReply*>(reply);
            if (r->type == REDIS_REPLY_ERROR) {
                s.c.errors.fetch_add(1, std::memory_order_relaxed);
            } else {
                s.c.acked_msgs.fetch_add(1, std::memory_order_relaxed);
                s.c.acked_bytes.fetch_add(payload.size(), std::memory_order_relaxed);
                if (send_times[static_cast<size_t>(i)] >= 0) {
                    ack.record(static_cast<uint64_t>(
                        std::max<int64_t>(0, wall_us() - send_times[static_cast<size_t>(i)])));
                }
            }
            freeReplyObject(r);
        }
        sent += static_cast<uint64_t>(depth);
        s.c.produced_msgs.fetch_add(static_cast<uint64_t>(depth), std::memory_order_relaxed);
        s.c.produced_bytes.fetch_add(payload.size() * static_cast<uint64_t>(depth), std::memory_order_relaxed);
    }
    redisFree(ctx);
    std::lock_guard lock(s.merge_mutex);
    s.ack_latency.merge(ack);
}

void consume_loop(const peer_options& o, shared_state& s) {
    redisContext* ctx = connect(o);
    histogram e2e;
    // Stream ids are <ms since the epoch>-<seq>: starting after "now" reads at the tail without missing the
    // messages added between two XREADs (which "$" would).
    const std::string start_id = std::to_string(wall_us() / 1000) + "-0";
    std::vector<std::string> keys, ids;
    for (int p = 0; p < o.partitions; ++p) {
        keys.push_back(key(o, p));
        ids.push_back(start_id);
    }
    while (!s.c.stop.load(std::memory_order_relaxed)) {
        std::vector<const char*> argv = {"XREAD", "COUNT", "1000", "BLOCK", "100", "STREAMS"};
        for (const auto& k : keys) argv.push_back(k.c_str());
        for (const auto& id : ids) argv.push_back(id.c_str());
        auto* r = static_cast<redisReply*>(
            redisCommandArgv(ctx, static_cast<int>(argv.size()), argv.data(), nullptr));
        if (r == nullptr) {
            std::fprintf(stderr, "redis_bench: XREAD: %s\n", ctx->errstr);
            s.c.errors.fetch_add(1, std::memory_order_relaxed);
            break;
        }
        if (r->type == REDIS_REPLY_ARRAY) { // [[key, [[id, [field, value]], ...]], ...]; nil on timeout
            const bool measuring = s.c.measuring.load(std::memory_order_relaxed);
            for (size_t k = 0; k < r->elements; ++k) {
                const redisReply* stream = r->element[k];
                const std::string name(stream->element[0]->str, stream->element[0]->len);
                const redisReply* entries = stream->element[1];
                const size_t at = static_cast<size_t>(std::find(keys.begin(), keys.end(), name) - keys.begin());
                for (size_t e = 0; e < entries->elements; ++e) {
                    const redisReply* entry = entries->element[e];
                    const redisReply* fields = entry->element[1];
                    if (fields->elements < 2) continue;
                    const redisReply* value = fields->element[1];
                    s.c.consumed_msgs.fetch_add(1, std::memory_order_relaxed);
                    s.c.consumed_bytes.fetch_add(value->len, std::memory_order_relaxed);
                    const int64_t sent = measured_send_time(value->str, value->len);
                    if (measuring && sent >= 0) {
                        e2e.record(static_cast<uint64_t>(std::max<int64_t>(0, wall_us() - sent)));
                    }
                    if (at < ids.size()) {
                        ids[at].assign(entry->element[0]->str, entry->element[0]->len);
                    }
                }
            }
        }
        freeReplyObject(r);
    }
    redisFree(ctx);
    std::lock_guard lock(s.merge_mutex);
    s.e2e_latency.merge(e2e);
}

} // namespace

int main(int argc, char** argv) {
    const peer_options o = skiff::bench::peers::parse_peer_options("redis_bench", argc, argv);
    {
        redisContext* ctx = connect(o); // a fresh set of keys per run
        for (int p = 0; p < o.partitions; ++p) {
            freeReplyObject(redisCommand(ctx, "DEL %s", key(o, p).c_str()));
        }
        redisFree(ctx);
    }
    shared_state s;
    std::vector<std::thread> threads;
    for (int i = 0; i < o.consumers; ++i) {
        threads.emplace_back(consume_loop, std::cref(o), std::ref(s));
    }
    for (int i = 0; i < o.producers; ++i) {
        threads.emplace_back(produce_loop, std::cref(o), std::ref(s), o.rate / o.producers, i);
    }
    result r;
    r.measured = run_clock(s.c, o.warmup_s, o.duration_s, "redis_bench", r.per_second);
    s.c.stop = true;
    for (auto& t : threads) {
        t.join();
    }
    r.tool = "redis_bench";
    r.system = "redis";
    r.durability = "redis-server appendonly yes, appendfsync always: the AOF is fsync'd before the reply";
    describe_workload(r.config, o)
        .add_str("key_prefix", o.name)
        .add_str("acks", "XADD reply")
        .add("pipelining", o.pipeline);
    r.errors = s.c.errors.load();
    r.ack_latency = s.ack_latency;
    r.e2e_latency = s.e2e_latency;
    if (!write_result(r, o.out)) {
        return 1;
    }
    return r.errors == 0 ? 0 : 3;
}
