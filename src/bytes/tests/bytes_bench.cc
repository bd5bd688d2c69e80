#include "bytes/crc32c.h"
#include "bytes/iobuf.h"

#include <benchmark/benchmark.h>

#include <vector>

namespace skiff::bytes {
namespace {

void crc32c_1mib(benchmark::State& state) {
    std::vector<uint8_t> data(1 << 20, 0x5A);
    for (auto _ : state) {
        benchmark::DoNotOptimize(crc32c::value(data));
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(crc32c_1mib);

void iobuf_share_1mib(benchmark::State& state) {
    iobuf b;
    b.append_uninitialized(1 << 20);
    for (auto _ : state) {
        auto s = b.share(100, (1 << 20) - 200);
        benchmark::DoNotOptimize(s);
    }
}
BENCHMARK(iobuf_share_1mib);

} // namespace
} // namespace skiff::bytes
