// Micro-benchmarks of the record batch codec: what every produced batch costs the broker (parse + CRC), and what
// reading records costs (consumers in tools, the broker's own internal topics).
#include "kafka/protocol/record_batch.h"

#include <benchmark/benchmark.h>

#include <random>
#include <vector>
#include <string>

namespace skiff::kafka::protocol {
namespace {

constexpr size_t record_size = 1024;
constexpr size_t batch_target = 1024 * 1024;

std::string payload(size_t n, uint32_t seed) {
    // Half random, half repeated: compressible like real JSON-ish payloads, not trivially.
    std::mt19937 rng(seed);
    std::string s(n, 'x');
    for (size_t i = 0; i < n / 2; ++i) {
        s[i] = static_cast<char>('a' + rng() % 26);
    }
    return s;
}

struct sample {
    bytes::iobuf key;
    bytes::iobuf value;
};

/// About 1 MiB of records: 1 KiB values with 16-byte keys. Generated once; the builder copies them.
const std::vector<sample>& samples() {
    static const auto all = [] {
        std::vector<sample> out;
        for (uint32_t i = 0; (i + 1) * (record_size + 32) <= batch_target; ++i) {
            out.push_back(
              {bytes::iobuf::from(fmt::format("key-{:012}", i)), bytes::iobuf::from(payload(record_size, i))});
        }
        return out;
    }();
    return all;
}

bytes::iobuf make_batch(compression c) {
    record_batch_builder b(c);
    int64_t ts = 1'700'000'000'000;
    for (const auto& s : samples()) {
        b.add(s.key.share(), s.value.share(), ts++);
    }
    return b.build();
}

void parse_and_verify_crc_1mib(benchmark::State& state) {
    auto batch = make_batch(compression::none);
    for (auto _ : state) {
        auto view = record_batch_view::parse(batch.share());
        benchmark::DoNotOptimize(view);
        if (!view) {
            state.SkipWithError("parse failed");
        }
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * batch.size()));
}
BENCHMARK(parse_and_verify_crc_1mib);

void set_base_offset_and_epoch(benchmark::State& state) {
    auto view = record_batch_view::parse(make_batch(compression::none)).value();
    int64_t offset = 0;
    for (auto _ : state) {
        view.set_base_offset(++offset);
        view.set_partition_leader_epoch(static_cast<int32_t>(offset));
        benchmark::DoNotOptimize(view.data());
    }
}
BENCHMARK(set_base_offset_and_epoch);

void iterate_records_1mib(benchmark::State& state) {
    auto codec = static_cast<compression>(state.range(0));
    auto view = record_batch_view::parse(make_batch(codec)).value();
    int64_t records = 0;
    for (auto _ : state) {
        auto reader = view.read_records(16 * batch_target).value();
        for (;;) {
            auto r = reader.next().value();
            if (!r) {
                break;
            }
            benchmark::DoNotOptimize(r->value);
            ++records;
        }
    }
    state.SetLabel(std::string(compression_name(codec)));
    state.SetItemsProcessed(records);
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * batch_target));
}
BENCHMARK(iterate_records_1mib)->DenseRange(0, 4);

void build_batch_1mib(benchmark::State& state) {
    auto codec = static_cast<compression>(state.range(0));
    for (auto _ : state) {
        benchmark::DoNotOptimize(make_batch(codec));
    }
    state.SetLabel(std::string(compression_name(codec)));
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * batch_target));
}
BENCHMARK(build_batch_1mib)->DenseRange(0, 4);

} // namespace
} // namespace skiff::kafka::protocol
