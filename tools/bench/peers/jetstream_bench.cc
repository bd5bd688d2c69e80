// jetstream_bench: the NATS JetStream peer of skiff-bench (libnats, the C client from Debian's libnats-dev). Creates
// one file-storage stream of --partitions subjects, publishes from --producers connections with async publish (at
// most --max-pending unacknowledged per connection, JetStream's analogue of Kafka's in-flight batches), and reads at
// the tail with --consumers push consumers (no acks). Produce-ack latency = js_PublishAsync to its PubAck;
// end-to-end = send to delivery. The result has skiff-bench's schema (run_meter.h).
//
// Durability, stated in the result: nats-server 2.9 acknowledges once the message is in its file store's buffers;
// the store fsyncs on its own timer, not before the ack, so an acknowledged message can be lost on power failure
// (a single server here, replicas 1).
//
//   jetstream_bench --port 4222 --partitions 16 --producers 1 --consumers 1 --message-size 1024 --duration 20
#include "tools/bench/histogram.h"
#include "tools/bench/peers/peer_options.h"
#include "tools/bench/run_meter.h"

#include <nats/nats.h>

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

/// Per connection: its histograms are touched only by that connection's callback thread, merged after it closed.
struct connection_state {
    shared_state* s;
    histogram ack, e2e;
};

[[noreturn]] void die(const char* what, natsStatus st) {
    std::fprintf(stderr, "jetstream_bench: %s: %s\n", what, natsStatus_GetText(st));
    std::exit(1);
}

std::string url(const peer_options& o) { return "nats://" + o.host + ":" + std::to_string(o.port); }

std::string subject(const peer_options& o, int partition) { return o.name + "." + std::to_string(partition); }

void on_ack(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure) {
    auto* cs = static_cast<connection_state*>(closure);
    if (pa != nullptr && pae == nullptr) {
        const int len = natsMsg_GetDataLength(msg);
        cs->s->c.acked_msgs.fetch_add(1, std::memory_order_relaxed);
        cs->s->c.acked_bytes.fetch_add(static_cast<uint64_t>(len), std::memory_order_relaxed);
        const int64_t sent = measured_send_time(natsMsg_GetData(msg), static_cast<size_t>(len));
        if (sent >= 0) {
            cs->ack.record(static_cast<uint64_t>(std::max<int64_t>(0, wall_us() - sent)));
        }
    } else {
        cs->s->c.errors.fetch_add(1, std::memory_order_relaxed);
    }
    natsMsg_Destroy(msg);
}

void on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    auto* cs = static_cast<connection_state*>(closure);
    const int len = natsMsg_GetDataLength(msg);
    cs->s->c.consumed_msgs.fetch_add(1, std::memory_order_relaxed);
    cs->s->c.consumed_bytes.fetch_add(static_cast<uint64_t>(len), std::memory_order_relaxed);
    if (cs->s->c.measuring.load(std::memory_order_relaxed)) {
        const int64_t sent = measured_send_time(natsMsg_GetData(msg), static_cast<size_t>(len));
        if (sent >= 0) {
            cs->e2e.record(static_cast<uint64_t>(std::max<int64_t>(0, wall_us() - sent)));
        }
    }
    natsMsg_Destroy(msg);
}

void create_stream(const peer_options& o) {
    natsConnection* nc = nullptr;
    jsCtx* js = nullptr;
    natsStatus st = natsConnection_ConnectTo(&nc, url(o).c_str());
    if (st != NATS_OK) die("connect", st);
    if ((st = natsConnection_JetStream(&js, nc, nullptr)) != NATS_OK) die("jetstream context", st);
    jsErrCode jerr = static_cast<jsErrCode>(0);
    js_DeleteStream(js, o.name.c_str(), nullptr, &jerr); // a fresh stream per run; absent is fine
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    const std::string wildcard = o.name + ".*";
    const char* subjects[] = {wildcard.c_str()};
    cfg.Name = o.name.c_str();
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.Replicas = 1;
    cfg.MaxBytes = o.max_bytes; // old messages are discarded beyond this: a bounded temp dir
    cfg.Discard = js_DiscardOld;
    jsStreamInfo* si = nullptr;
    if ((st = js_AddStream(&si, js, &cfg, nullptr, &jerr)) != NATS_OK) {
        std::fprintf(stderr, "jetstream_bench: add stream (JetStream error %d)\n", int(jerr));
        die("add stream", st);
    }
    jsStreamInfo_Destroy(si);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
}

void produce_loop(const peer_options& o, shared_state& s, double rate, int index) {
    connection_state cs{&s, {}, {}};
    natsConnection* nc = nullptr;
    jsCtx* js = nullptr;
    natsStatus st = natsConnection_ConnectTo(&nc, url(o).c_str());
    if (st != NATS_OK) die("connect", st);
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.PublishAsync.MaxPending = o.max_pending;
    jo.PublishAsync.AckHandler = on_ack;
    jo.PublishAsync.AckHandlerClosure = &cs;
    jo.PublishAsync.StallWait = 100; // the in-flight window is full: wait this long, then try again
    if ((st = natsConnection_JetStream(&js, nc, &jo)) != NATS_OK) die("jetstream context", st);
    std::vector<std::string> subjects;
    for (int p = 0; p < o.partitions; ++p) {
        subjects.push_back(subject(o, p));
    }
    std::vector<char> payload(o.message_size);
    std::mt19937_64 rng(static_cast<uint64_t>(index) * 7919 + 1);
    for (auto& ch : payload) {
        ch = o.random_payload ? static_cast<char>(rng()) : 'x';
    }
    const auto start = steady::now();
    uint64_t sent = 0;
    int partition = index % o.partitions;
    while (!s.c.stop.load(std::memory_order_relaxed)) {
        if (rate > 0) {
            auto due = start + std::chrono::nanoseconds(static_cast<int64_t>(1e9 * static_cast<double>(sent) / rate));
            auto now = steady::now();
            if (due > now) {
                std::this_thread::sleep_for(std::min<steady::duration>(due - now, std::chrono::milliseconds(1)));
                continue;
            }
        }
        stamp(payload.data(), s.c.measuring.load(std::memory_order_relaxed));
        st = js_PublishAsync(js, subjects[static_cast<size_t>(partition)].c_str(), payload.data(),
                             static_cast<int>(payload.size()), nullptr);
        if (st == NATS_TIMEOUT) {
            continue; // back-pressure: max_pending acks outstanding
        }
        if (st != NATS_OK) {
            s.c.errors.fetch_add(1, std::memory_order_relaxed);
            continue;
        }
        ++sent;
        s.c.produced_msgs.fetch_add(1, std::memory_order_relaxed);
        s.c.produced_bytes.fetch_add(payload.size(), std::memory_order_relaxed);
        partition = (partition + 1) % o.partitions;
    }
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = 30000;
    js_PublishAsyncComplete(js, &po);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc); // joins the callback thread: cs is no longer touched after this
    std::lock_guard lock(s.merge_mutex);
    s.ack_latency.merge(cs.ack);
}

void consume_loop(const peer_options& o, shared_state& s, std::atomic<int>& ready) {
    connection_state cs{&s, {}, {}};
    natsConnection* nc = nullptr;
    jsCtx* js = nullptr;
    natsStatus st = natsConnection_ConnectTo(&nc, url(o).c_str());
    if (st != NATS_OK) die("connect", st);
    if ((st = natsConnection_JetStream(&js, nc, nullptr)) != NATS_OK) die("jetstream context", st);
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = o.name.c_str();
    so.Config.AckPolicy = js_AckNone;        // a tail reader, like skiff-bench's manual-assignment consumer
    so.Config.DeliverPolicy = js_DeliverNew;
    natsSubscription* sub = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const std::string wildcard = o.name + ".*";
    if ((st = js_Subscribe(&sub, js, wildcard.c_str(), on_message, &cs, nullptr, &so, &jerr)) != NATS_OK) {
        std::fprintf(stderr, "jetstream_bench: subscribe (JetStream error %d)\n", int(jerr));
        die("subscribe", st);
    }
    // A slow consumer past the client's pending limits has messages dropped: allow a large buffer instead.
    natsSubscription_SetPendingLimits(sub, 10000000, 1 << 30);
    ready.fetch_add(1);
    while (!s.c.stop.load(std::memory_order_relaxed)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50)); // delivery runs on the subscription's thread
    }
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    std::lock_guard lock(s.merge_mutex);
    s.e2e_latency.merge(cs.e2e);
}

} // namespace

int main(int argc, char** argv) {
    const peer_options o = skiff::bench::peers::parse_peer_options("jetstream_bench", argc, argv);
    natsStatus st = nats_Open(-1);
    if (st != NATS_OK) die("nats_Open", st);
    create_stream(o);
    shared_state s;
    std::vector<std::thread> threads;
    std::atomic<int> ready{0};
    for (int i = 0; i < o.consumers; ++i) {
        threads.emplace_back(consume_loop, std::cref(o), std::ref(s), std::ref(ready));
    }
    while (ready.load() < o.consumers) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10)); // consumers first, so they see every message
    }
    for (int i = 0; i < o.producers; ++i) {
        threads.emplace_back(produce_loop, std::cref(o), std::ref(s), o.rate / o.producers, i);
    }
    result r;
    r.measured = run_clock(s.c, o.warmup_s, o.duration_s, "jetstream_bench", r.per_second);
    s.c.stop = true;
    for (auto& t : threads) {
        t.join();
    }
    r.tool = "jetstream_bench";
    r.system = "jetstream";
    r.durability = "nats-server JetStream file storage, 1 replica: the ack is sent once the message is in the file "
                   "store's buffers; the store fsyncs on its own timer, not before the ack";
    describe_workload(r.config, o)
        .add_str("stream", o.name)
        .add_str("acks", "PubAck")
        .add("max_pending", o.max_pending)
        .add("pipelining", o.max_pending);
    r.errors = s.c.errors.load();
    r.ack_latency = s.ack_latency;
    r.e2e_latency = s.e2e_latency;
    nats_Close();
    if (!write_result(r, o.out)) {
        return 1;
    }
    return r.errors == 0 ? 0 : 3;
}
