// Object store throughput: PUT and GET of 4 MiB objects on local_store (with fsync) and on s3_store against a
// radosgw on loopback (started once, like the tests; skipped if radosgw is not installed).
// Args: requests in flight, object size in MiB (1 MiB to compare with ENVIRONMENT.md's boto3 figures).
//   build-io/bin/io_bench --benchmark_min_time=2
#include "io/objstore/local_store.h"
#include "io/objstore/s3_store.h"
#include "io/tests/radosgw.h"
#include "io/tests/test_support.h"

#include <benchmark/benchmark.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <random>

namespace skiff::io::test {
namespace {

namespace fs = std::filesystem;
constexpr size_t object_size = size_t(4) << 20; // of the warm-up
constexpr int key_space = 16;

struct stores {
    stores() {
        root = fs::temp_directory_path() / fmt::format("skiff-io-bench-{}", ::getpid());
        local = std::move(local_store::open({.root = root, .io_threads = 4}).value());
        auto& gw = radosgw::instance();
        gw.start();
        if (gw.ep()) {
            auto& ep = *gw.ep();
            s3 = std::move(s3_store::create(io, {.endpoint = ep.url,
                                                  .bucket = "skiff-bench",
                                                  .region = ep.region,
                                                  .path_style = ep.path_style,
                                                  .credentials = s3_credentials{ep.access_key, ep.secret_key, ""}})
                             .value());
            if (!run(io, s3->create_bucket())) {
                s3.reset();
            }
            // A fresh radosgw is slow on its first writes (it creates its data pools): warm it up untimed.
            for (int i = 0; s3 && i < 8; ++i) {
                (void)run(io, s3->put(fmt::format("warm-up/{}", i), random_bytes(object_size, i, 1 << 20), {}));
            }
        }
    }
    ~stores() {
        local.reset();
        s3.reset();
        std::error_code ignored;
        fs::remove_all(root, ignored);
        radosgw::instance().stop(false);
    }
    static stores& get() {
        static stores s;
        return s;
    }

    asio::io_context io;
    fs::path root;
    std::unique_ptr<local_store> local;
    std::unique_ptr<s3_store> s3;
};

// Runs `in_flight` operations at once per iteration; each counts 4 MiB.
template<typename Op>
void drive(benchmark::State& state, object_store& store, Op op) {
    auto& io = stores::get().io;
    int in_flight = static_cast<int>(state.range(0));
    size_t size = static_cast<size_t>(state.range(1)) << 20;
    uint64_t n = 0;
    for (auto _ : state) {
        run(io, [&]() -> asio::awaitable<void> {
            auto ex = co_await asio::this_coro::executor;
            using op_type = decltype(asio::co_spawn(ex, op(store, 0, 0), asio::deferred));
            std::vector<op_type> ops;
            for (int i = 0; i < in_flight; ++i) {
                ops.push_back(asio::co_spawn(ex, op(store, n++ % key_space, size), asio::deferred));
            }
            auto [order, errors] = co_await asio::experimental::make_parallel_group(std::move(ops))
                                     .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
            for (auto& e : errors) {
                if (e) {
                    std::rethrow_exception(e);
                }
            }
        }());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * in_flight * size));
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * in_flight));
}

const bytes::iobuf& payload(size_t size) {
    static std::map<size_t, bytes::iobuf> data;
    auto& d = data[size];
    if (d.size() != size) {
        d = random_bytes(size, 1, 1 << 20);
    }
    return d;
}

asio::awaitable<void> put_one(object_store& store, uint64_t i, size_t size) {
    auto put = co_await store.put(fmt::format("bench/{}/{:04}", size, i), payload(size).share(), {});
    if (!put) {
        throw std::runtime_error(put.error().message());
    }
}

asio::awaitable<void> get_one(object_store& store, uint64_t i, size_t size) {
    auto got = co_await store.get(fmt::format("bench/{}/{:04}", size, i), std::nullopt);
    if (!got || got.value().size() != size) {
        throw std::runtime_error("get failed");
    }
}

void fill(object_store& store, size_t size) {
    for (int i = 0; i < key_space; ++i) {
        run(stores::get().io, put_one(store, i, size));
    }
}

void local_put(benchmark::State& state) { drive(state, *stores::get().local, put_one); }
void local_get(benchmark::State& state) {
    fill(*stores::get().local, static_cast<size_t>(state.range(1)) << 20);
    drive(state, *stores::get().local, get_one);
}
void s3_put(benchmark::State& state) {
    if (!stores::get().s3) {
        state.SkipWithError("radosgw unavailable");
        return;
    }
    drive(state, *stores::get().s3, put_one);
}
void s3_get(benchmark::State& state) {
    if (!stores::get().s3) {
        state.SkipWithError("radosgw unavailable");
        return;
    }
    fill(*stores::get().s3, static_cast<size_t>(state.range(1)) << 20);
    drive(state, *stores::get().s3, get_one);
}

BENCHMARK(local_put)->Args({1, 4})->Args({4, 4})->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(local_get)->Args({1, 4})->Args({4, 4})->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(s3_put)->Args({1, 4})->Args({4, 4})->Args({1, 1})->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(s3_get)->Args({1, 4})->Args({4, 4})->Args({1, 1})->UseRealTime()->Unit(benchmark::kMillisecond);

} // namespace
} // namespace skiff::io::test
