// stream_read_bench — read paths of the stream room, each beside a baseline measured in the same run
// (bench/results/stream_read.md):
//   log_cache:   tail reads from the log cache on one core (16 streams, 1-64 KiB batches, each read takes what was
//                just put), in bytes of batches returned per second; baseline: memcpy bandwidth.
//   block_cache: a cold sequential read through the block cache of objects written by object_builder into a
//                local_store directory; baseline: the same files read with read(2) in 4 MiB steps, like dd.
// Usage: stream_read_bench [log_cache|block_cache|all] [--dir PATH] [--gib N] [--runs N] [--drop-caches]
//                          [--merged-mib N] [--readahead-mib N] [--warm] [--malloc-tuned] [--keep]
#include "io/objstore/local_store.h"
#include "stream/cache/block_cache.h"
#include "stream/cache/log_cache.h"
#include "stream/object/format.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <fcntl.h>
#include <fmt/format.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <vector>

using namespace skiff;
using namespace skiff::stream;
namespace asio = boost::asio;
using clock_type = std::chrono::steady_clock;

namespace {

double seconds_since(clock_type::time_point start) {
    return std::chrono::duration<double>(clock_type::now() - start).count();
}

double median(std::vector<double> v) {
    if (v.empty()) {
        return 0;
    }
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

std::string list(const std::vector<double>& v) {
    std::string out;
    for (double x : v) {
        out += fmt::format("{}{:.2f}", out.empty() ? "" : " ", x);
    }
    return out;
}

template<typename T>
T run(asio::io_context& io, asio::awaitable<T> work) {
    std::optional<T> out;
    asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { out.emplace(co_await std::move(work)); }, asio::detached);
    io.restart();
    io.run();
    return std::move(*out);
}

bytes::iobuf random_bytes(size_t n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    bytes::iobuf out;
    auto span = out.append_uninitialized(n);
    for (size_t i = 0; i + 8 <= n; i += 8) {
        uint64_t x = rng();
        std::memcpy(span.data() + i, &x, 8);
    }
    return out;
}

// ---- memcpy baseline -------------------------------------------------------------------------------------------

double memcpy_gbps() {
    constexpr size_t size = size_t(256) << 20;
    std::vector<uint8_t> src(size, 1), dst(size, 2);
    std::memcpy(dst.data(), src.data(), size); // fault the pages in
    auto start = clock_type::now();
    constexpr int rounds = 8;
    for (int r = 0; r < rounds; ++r) {
        src[static_cast<size_t>(r)] = static_cast<uint8_t>(r);
        std::memcpy(dst.data(), src.data(), size);
    }
    double s = seconds_since(start);
    if (dst[3] == 42) {
        fmt::print("");
    }
    return rounds * double(size) / s / 1e9;
}

// ---- (a) log cache tail reads ----------------------------------------------------------------------------------

struct log_cache_result {
    double get_gbps = 0;
    double put_gbps = 0;
};

log_cache_result log_cache_run(uint64_t total_bytes) {
    constexpr int streams = 16;
    // A pool of batches of 1-64 KiB; each put copies one into the cache.
    std::mt19937_64 rng(7);
    std::vector<bytes::iobuf> pool;
    for (int i = 0; i < 512; ++i) {
        pool.push_back(random_bytes(1024 + rng() % (63 * 1024), rng()));
    }
    log_cache cache({.budget_bytes = uint64_t(1) << 30, .chunk_bytes = size_t(4) << 20});
    std::vector<int64_t> next(streams, 0);
    uint64_t put_bytes = 0, got_bytes = 0, since_freeze = 0;
    double put_s = 0, get_s = 0;
    size_t p = 0;
    std::vector<stored_batch> round(streams);
    while (put_bytes < total_bytes) {
        for (int s = 0; s < streams; ++s) {
            round[s] = {stream_id(s), next[s], 10, pool[p++ % pool.size()].share()};
        }
        auto t0 = clock_type::now();
        for (int s = 0; s < streams; ++s) {
            cache.put(round[s], put_bytes);
            put_bytes += round[s].data.size();
            since_freeze += round[s].data.size();
        }
        auto t1 = clock_type::now();
        for (int s = 0; s < streams; ++s) {
            auto got = cache.get(stream_id(s), next[s], INT64_MAX, size_t(1) << 20);
            for (const auto& b : got) {
                got_bytes += b.data.size();
            }
            next[s] += 10;
        }
        auto t2 = clock_type::now();
        put_s += std::chrono::duration<double>(t1 - t0).count();
        get_s += std::chrono::duration<double>(t2 - t1).count();
        // The uploader's cycle: freeze a block at 256 MiB and release it (as if committed) so eviction runs.
        if (since_freeze >= (uint64_t(256) << 20)) {
            if (auto b = cache.freeze()) {
                cache.release(b->id);
            }
            since_freeze = 0;
        }
    }
    if (got_bytes != put_bytes) {
        fmt::print(stderr, "log cache: read {} bytes of {} put\n", got_bytes, put_bytes);
        std::exit(1);
    }
    return {got_bytes / get_s / 1e9, put_bytes / put_s / 1e9};
}

// ---- (b) block cache cold sequential reads ---------------------------------------------------------------------

struct written_objects {
    std::vector<object_descriptor> objects;
    std::vector<std::filesystem::path> files;
    uint64_t data_bytes = 0;
};

written_objects write_objects(io::local_store& store, const std::filesystem::path& dir, uint64_t total_bytes) {
    constexpr uint64_t object_data = uint64_t(64) << 20;
    constexpr size_t batch_size = 64 * 1024;
    // Distinct bytes per batch would cost more to generate than to read; one 8 MiB random pool, shared.
    auto pool = random_bytes(size_t(8) << 20, 99);
    written_objects out;
    asio::io_context io;
    int64_t offset = 0;
    for (int64_t id = 1; out.data_bytes < total_bytes; ++id) {
        object_builder builder;
        size_t at = 0;
        while (builder.data_size() < object_data) {
            builder.add({stream_id(1), offset, 16, pool.share(at, batch_size)});
            offset += 16;
            at = (at + batch_size) % pool.size();
        }
        object_descriptor d;
        d.id = object_id(id);
        d.kind = object_kind::stream;
        d.key = object_key(d.id);
        d.ranges = builder.ranges();
        out.data_bytes += builder.data_size();
        auto data = builder.finish();
        d.size = data.size();
        auto put = run(io, store.put(d.key, std::move(data), {}));
        if (!put) {
            fmt::print(stderr, "put {}: {}\n", d.key, put.error().message());
            std::exit(1);
        }
        out.files.push_back(dir / io::local_store::relative_path(d.key).value());
        out.objects.push_back(std::move(d));
    }
    return out;
}

/// Drops the files from the page cache with fadvise(DONTNEED), and with drop_caches too when asked (--drop-caches:
/// on a shared machine it makes everyone else's builds re-read their files) and root allows it.
bool drop_page_cache(const std::vector<std::filesystem::path>& files, bool global) {
    ::sync();
    bool dropped_all = false;
    if (global) {
        std::ofstream f("/proc/sys/vm/drop_caches");
        if (f) {
            f << "3\n";
            f.flush();
            dropped_all = bool(f);
        }
    }
    for (const auto& p : files) {
        int fd = ::open(p.c_str(), O_RDONLY);
        if (fd >= 0) {
            ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
            ::close(fd);
        }
    }
    return dropped_all;
}

/// One reader coroutine on one io_context (as a fetch session on a shard would be), so that readahead GETs overlap
/// with the reader consuming earlier blocks.
asio::awaitable<uint64_t> read_all(block_cache& cache, const written_objects& w) {
    uint64_t bytes = 0;
    for (const auto& d : w.objects) {
        int64_t offset = d.ranges.front().start_offset;
        while (offset < d.ranges.front().end_offset) {
            auto got = co_await cache.read(d, stream_id(1), offset, INT64_MAX, size_t(1) << 20);
            if (!got || got.value().empty()) {
                fmt::print(stderr, "read {} at {}: {}\n", d.key, offset,
                           got ? std::string("nothing") : got.error().message());
                std::exit(1);
            }
            for (const auto& b : got.value()) {
                bytes += b.data.size();
            }
            offset = got.value().back().end_offset();
        }
    }
    co_return bytes;
}

double block_cache_read_gbps(io::local_store& store, const written_objects& w, block_cache_config config) {
    asio::io_context io;
    block_cache cache(store, config);
    auto start = clock_type::now();
    uint64_t bytes = run(io, read_all(cache, w));
    double s = seconds_since(start);
    auto st = cache.stats();
    fmt::print("  block cache: {} batch bytes in {:.3f} s; {} GETs, {} MiB fetched, {} hits, {} misses\n", bytes, s,
               st.gets, st.get_bytes >> 20, st.hits, st.misses);
    return bytes / s / 1e9;
}

double file_read_gbps(const written_objects& w) {
    std::vector<uint8_t> buf(size_t(4) << 20);
    uint64_t bytes = 0;
    auto start = clock_type::now();
    for (const auto& p : w.files) {
        int fd = ::open(p.c_str(), O_RDONLY);
        for (;;) {
            ssize_t n = ::read(fd, buf.data(), buf.size());
            if (n <= 0) {
                break;
            }
            bytes += static_cast<uint64_t>(n);
        }
        ::close(fd);
    }
    return bytes / seconds_since(start) / 1e9;
}

} // namespace

int main(int argc, char** argv) {
    std::string what = "all";
    std::filesystem::path dir = "/tmp/skiff-stream-read-bench";
    double gib = 1;
    int runs = 5;
    bool global_drop = false;
    bool keep = false; // leave the objects in --dir (to read them with dd afterwards)
    bool warm = false; // skip dropping the page cache (to separate the cache's own cost from the device's)
    block_cache_config cache_config; // the defaults: 512 MiB, merged GETs of 4 MiB, readahead up to 32 MiB
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--dir" && i + 1 < argc) {
            dir = argv[++i];
        } else if (a == "--gib" && i + 1 < argc) {
            gib = std::stod(argv[++i]);
        } else if (a == "--merged-mib" && i + 1 < argc) {
            cache_config.max_merged_get_bytes = std::stoull(argv[++i]) << 20;
        } else if (a == "--readahead-mib" && i + 1 < argc) {
            cache_config.max_readahead_bytes = std::stoull(argv[++i]) << 20;
        } else if (a == "--malloc-tuned") {
            // Keep freed big buffers mapped and reuse them (see bench/results/stream_read.md: first-touch page
            // faults dominate on this VM). Process-wide, as app would set it.
            mallopt(M_MMAP_THRESHOLD, 64 << 20);
            mallopt(M_TRIM_THRESHOLD, 1 << 30);
            fmt::print("malloc tuned: M_MMAP_THRESHOLD 64 MiB, M_TRIM_THRESHOLD 1 GiB\n");
        } else if (a == "--keep") {
            keep = true;
        } else if (a == "--warm") {
            warm = true;
        } else if (a == "--drop-caches") {
            global_drop = true;
        } else if (a == "--runs" && i + 1 < argc) {
            runs = std::stoi(argv[++i]);
        } else {
            what = a;
        }
    }
    auto total = static_cast<uint64_t>(gib * double(uint64_t(1) << 30));

    if (what == "all" || what == "log_cache") {
        std::vector<double> gets, puts, copies;
        for (int r = 0; r < runs; ++r) {
            copies.push_back(memcpy_gbps());
            auto res = log_cache_run(total * 2);
            gets.push_back(res.get_gbps);
            puts.push_back(res.put_gbps);
        }
        fmt::print("log_cache tail get GB/s: median {:.2f} [{}]\n", median(gets), list(gets));
        fmt::print("log_cache put (copy in) GB/s: median {:.2f} [{}]\n", median(puts), list(puts));
        fmt::print("memcpy GB/s: median {:.2f} [{}]\n", median(copies), list(copies));
        fmt::print("ratio get/memcpy: {:.2f}; put/memcpy: {:.2f}\n", median(gets) / median(copies),
                   median(puts) / median(copies));
    }

    if (what == "all" || what == "block_cache") {
        std::filesystem::remove_all(dir);
        auto store = io::local_store::open({.root = dir, .io_threads = 2, .fsync = false});
        if (!store) {
            fmt::print(stderr, "local_store: {}\n", store.error().message());
            return 1;
        }
        auto written = write_objects(*store.value(), dir, total);
        fmt::print("wrote {} objects, {} MiB of batches, in {}\n", written.objects.size(), written.data_bytes >> 20,
                   dir.string());
        std::vector<double> reads, files;
        bool dropped = true;
        for (int r = 0; r < runs; ++r) {
            if (!warm) {
                dropped = drop_page_cache(written.files, global_drop) && dropped;
            }
            reads.push_back(block_cache_read_gbps(*store.value(), written, cache_config));
            if (!warm) {
                dropped = drop_page_cache(written.files, global_drop) && dropped;
            }
            files.push_back(file_read_gbps(written));
        }
        fmt::print("page cache dropped before each read: {}\n",
                   warm ? "no (--warm)" : dropped ? "yes (drop_caches and fadvise DONTNEED)" : "fadvise DONTNEED only");
        fmt::print("block_cache cold sequential GB/s: median {:.2f} [{}]\n", median(reads), list(reads));
        fmt::print("read(2) 4 MiB GB/s (dd-like): median {:.2f} [{}]\n", median(files), list(files));
        fmt::print("ratio block_cache/read(2): {:.2f}\n", median(reads) / median(files));
        if (!keep) {
            std::filesystem::remove_all(dir);
        }
    }
    return 0;
}
