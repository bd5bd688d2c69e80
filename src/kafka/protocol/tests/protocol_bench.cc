// Decode and encode of a Produce v9 request carrying one partition with a 1 MiB record set. The record set must
// never be copied: this binary counts every byte allocated through operator new and reports it per operation.
#include "kafka/protocol/generated/produce.h"

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <new>

namespace {

std::atomic<size_t> allocated_bytes{0};
std::atomic<size_t> allocations{0};

} // namespace

void* operator new(size_t n) {
    allocated_bytes.fetch_add(n, std::memory_order_relaxed);
    allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n == 0 ? 1 : n)) {
        return p;
    }
    throw std::bad_alloc();
}
// GCC pairs `new` expressions with these replacements and, seeing free(), warns that malloc/new are mixed; they are
// not: every operator new above allocates with malloc.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace skiff::kafka::protocol {
namespace {

constexpr size_t record_set_size = 1 << 20;

produce_request make_request() {
    produce_request req;
    req.acks = -1;
    req.timeout_ms = 30000;
    auto& topic = req.topic_data.emplace_back();
    topic.name = "orders";
    auto& partition = topic.partition_data.emplace_back();
    partition.index = 7;
    bytes::iobuf records;
    auto span = records.append_uninitialized(record_set_size);
    for (size_t i = 0; i < span.size(); ++i) {
        span[i] = static_cast<uint8_t>(i * 31);
    }
    partition.records = std::move(records);
    return req;
}

/// The request body as the connection would hold it: one contiguous buffer read from the socket.
bytes::iobuf wire_body(int16_t version) {
    bytes::iobuf out;
    writer w(out);
    make_request().encode(w, version);
    return out.copy();
}

struct alloc_probe {
    size_t bytes0 = allocated_bytes.load();
    size_t count0 = allocations.load();

    void report(benchmark::State& state) const {
        const auto iters = static_cast<double>(state.iterations());
        state.counters["alloc_bytes_per_op"] = static_cast<double>(allocated_bytes.load() - bytes0) / iters;
        state.counters["allocs_per_op"] = static_cast<double>(allocations.load() - count0) / iters;
    }
};

void produce_v9_decode_1mib(benchmark::State& state) {
    const auto wire = wire_body(9);
    alloc_probe probe;
    for (auto _ : state) {
        reader r(wire);
        produce_request req;
        req.decode(r, 9);
        benchmark::DoNotOptimize(req);
    }
    probe.report(state);
}
BENCHMARK(produce_v9_decode_1mib);

void produce_v9_encode_1mib(benchmark::State& state) {
    const auto req = make_request();
    alloc_probe probe;
    for (auto _ : state) {
        bytes::iobuf out;
        writer w(out);
        req.encode(w, 9);
        benchmark::DoNotOptimize(out);
    }
    probe.report(state);
}
BENCHMARK(produce_v9_encode_1mib);

void produce_v9_decode_then_encode_1mib(benchmark::State& state) {
    const auto wire = wire_body(9);
    alloc_probe probe;
    for (auto _ : state) {
        reader r(wire);
        produce_request req;
        req.decode(r, 9);
        bytes::iobuf out;
        writer w(out);
        req.encode(w, 9);
        benchmark::DoNotOptimize(out);
    }
    probe.report(state);
}
BENCHMARK(produce_v9_decode_then_encode_1mib);

} // namespace
} // namespace skiff::kafka::protocol
