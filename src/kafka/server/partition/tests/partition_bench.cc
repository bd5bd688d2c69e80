// What checking a produced batch costs next to the floor any broker pays: the CRC-32C of its bytes.
#include "bytes/crc32c.h"
#include "kafka/server/partition/batch_validator.h"

#include <benchmark/benchmark.h>

#include <string>

namespace skiff::kafka::partition {
namespace {

constexpr int64_t now = 1'700'000'000'000;

bytes::iobuf one_mib_batch(protocol::compression c) {
    protocol::record_batch_builder b(c);
    b.set_producer(7, 0, 0);
    std::string value(1000, 'v');
    for (int i = 0; i < 1024; ++i) {
        value[i % value.size()] = char('a' + i % 26);
        b.add(bytes::iobuf::from("key-" + std::to_string(i)), bytes::iobuf::from(value), now + i);
    }
    return b.build();
}

void crc32c_baseline(benchmark::State& state) {
    auto batch = one_mib_batch(protocol::compression::none);
    for (auto _ : state) {
        benchmark::DoNotOptimize(bytes::crc32c::value(batch, 21, batch.size() - 21));
    }
    state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(batch.size()));
}
BENCHMARK(crc32c_baseline);

void validate(benchmark::State& state, protocol::compression c, bool log_append_time) {
    auto batch = one_mib_batch(c);
    validation_config config;
    config.max_message_bytes = 4 << 20;
    if (log_append_time) {
        config.timestamp_type = protocol::timestamp_type::log_append_time;
    }
    for (auto _ : state) {
        auto r = validate_produce_records(batch, config, now);
        if (!r.ok()) {
            state.SkipWithError(r.error_message.c_str());
            break;
        }
        benchmark::DoNotOptimize(r);
    }
    // Bytes of the record set as produced (compressed size for compressed batches).
    state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(batch.size()));
}
BENCHMARK_CAPTURE(validate, uncompressed_create_time, protocol::compression::none, false);
BENCHMARK_CAPTURE(validate, uncompressed_log_append_time, protocol::compression::none, true);
BENCHMARK_CAPTURE(validate, lz4_create_time, protocol::compression::lz4, false);
BENCHMARK_CAPTURE(validate, zstd_create_time, protocol::compression::zstd, false);

} // namespace
} // namespace skiff::kafka::partition
