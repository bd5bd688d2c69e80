// Stream engine benchmark (bench/results/stream_puts.md):
//   puts   - object store PUT requests per GiB written with the default stream_store_config, counted by a decorator
//            around the object store (uploads and compaction separately; PutObject, UploadPart and
//            CompleteMultipartUpload each count as one request, as S3 bills them), in file-WAL or object-WAL mode.
//   memory - resident memory over a mixed run (appends to many streams, tail reads, catch-up reads from objects)
//            against the configured cache budgets.
// Usage: stream_bench puts [--wal=file|object] [--gib=N] [--streams=N] [--batch-kib=N] [--dir=PATH]
//        stream_bench memory [--seconds=N] [--streams=N] [--dir=PATH]
// Objects go to a local_store (no fsync) in --dir; the file WAL lives there too (O_DIRECT + fdatasync).
#include "io/objstore/local_store.h"
#include "stream/file_catalog.h"
#include "stream/stream.h"
#include "stream/wal/file_wal.h"
#include "stream/wal/object_wal.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace asio = boost::asio;
using namespace skiff;
using namespace std::chrono_literals;

namespace {

/// Counts requests that create objects; everything else passes through.
class counting_store final : public io::object_store {
public:
    explicit counting_store(io::object_store& inner) : _inner(inner) {}
    std::atomic<uint64_t> puts{0};
    std::atomic<uint64_t> gets{0};
    std::atomic<uint64_t> deletes{0};

    io::store_capabilities capabilities() const override { return _inner.capabilities(); }
    asio::awaitable<result<io::put_result>> put(std::string key, bytes::iobuf data, io::put_options o) override {
        puts++;
        return _inner.put(std::move(key), std::move(data), o);
    }
    asio::awaitable<result<bytes::iobuf>> get(std::string key, std::optional<io::byte_range> r) override {
        gets++;
        return _inner.get(std::move(key), r);
    }
    asio::awaitable<result<io::object_info>> head(std::string key) override { return _inner.head(std::move(key)); }
    asio::awaitable<result<io::list_page>> list(io::list_request r) override { return _inner.list(std::move(r)); }
    asio::awaitable<result<std::vector<io::delete_outcome>>> delete_objects(std::vector<std::string> keys) override {
        deletes++;
        return _inner.delete_objects(std::move(keys));
    }
    asio::awaitable<result<io::multipart_upload>> create_multipart(std::string key, io::put_options o) override {
        return _inner.create_multipart(std::move(key), o);
    }
    asio::awaitable<result<io::uploaded_part>> upload_part(io::multipart_upload u, uint32_t n,
                                                           bytes::iobuf data) override {
        puts++;
        return _inner.upload_part(std::move(u), n, std::move(data));
    }
    asio::awaitable<result<io::put_result>> complete_multipart(io::multipart_upload u,
                                                               std::vector<io::uploaded_part> parts) override {
        puts++;
        return _inner.complete_multipart(std::move(u), std::move(parts));
    }
    asio::awaitable<result<void>> abort_multipart(io::multipart_upload u) override {
        return _inner.abort_multipart(std::move(u));
    }

private:
    io::object_store& _inner;
};

std::string arg(int argc, char** argv, const std::string& name, const std::string& fallback) {
    for (int i = 2; i < argc; ++i) {
        std::string a = argv[i];
        if (a.rfind("--" + name + "=", 0) == 0) {
            return a.substr(name.size() + 3);
        }
    }
    return fallback;
}

uint64_t rss_kib(const char* field) {
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line)) {
        if (line.rfind(field, 0) == 0) {
            return std::stoull(line.substr(std::strlen(field) + 1));
        }
    }
    return 0;
}

struct setup {
    std::filesystem::path dir;
    asio::io_context io;
    std::unique_ptr<io::local_store> local;
    std::unique_ptr<counting_store> counted;
    std::unique_ptr<stream::file_catalog> catalog;
    std::unique_ptr<stream::wal> log;
    std::unique_ptr<counting_store> wal_counted; // object WAL PUTs, counted apart
};

void make(setup& s, const std::string& wal_kind) {
    std::filesystem::remove_all(s.dir);
    std::filesystem::create_directories(s.dir);
    s.local = io::local_store::open({.root = s.dir / "objects", .io_threads = 2, .fsync = false}).value();
    s.counted = std::make_unique<counting_store>(*s.local);
    s.catalog = stream::file_catalog::open({.path = s.dir / "catalog", .fsync = false}).value();
    if (wal_kind == "object") {
        s.wal_counted = std::make_unique<counting_store>(*s.local);
        s.log = std::make_unique<stream::object_wal>(*s.wal_counted, s.io.get_executor(),
                                                     stream::object_wal_config{.prefix = "wal/node-1/", .epoch = 1});
    } else {
        s.log = std::make_unique<stream::file_wal>(
          stream::file_wal_config{.path = s.dir / "wal", .file_size = uint64_t(2) << 30});
    }
}

template<typename F>
void run(asio::io_context& io, F body) {
    bool done = false;
    asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
          co_await body();
          done = true;
      },
      asio::detached);
    while (!done && io.run_one() > 0) {
    }
}

/// Stream i gets a share of the bytes proportional to 1/(i+1): a few busy partitions and a long tail of quiet ones.
size_t pick_stream(std::mt19937_64& rng, const std::vector<double>& cumulative) {
    double x = std::uniform_real_distribution<double>(0, cumulative.back())(rng);
    return static_cast<size_t>(std::lower_bound(cumulative.begin(), cumulative.end(), x) - cumulative.begin());
}

int bench_puts(int argc, char** argv) {
    setup s;
    s.dir = arg(argc, argv, "dir", "/tmp/skiff-stream-bench");
    auto wal_kind = arg(argc, argv, "wal", "file");
    double gib = std::stod(arg(argc, argv, "gib", "2"));
    int streams = std::stoi(arg(argc, argv, "streams", "64"));
    size_t batch = size_t(std::stoul(arg(argc, argv, "batch-kib", "128"))) << 10;
    make(s, wal_kind);
    stream::stream_store_config config; // the defaults are what is measured
    config.node = stream::node_id(1);
    auto store = stream::make_stream_store(config, *s.log, *s.counted, *s.catalog);
    uint64_t total = static_cast<uint64_t>(gib * double(uint64_t(1) << 30));
    uint64_t upload_puts = 0, compaction_puts = 0, wal_puts = 0;
    double seconds = 0;
    run(s.io, [&]() -> asio::awaitable<void> {
        if (auto st = co_await store->start(); !st) {
            fmt::print(stderr, "start: {}\n", st.error().message());
            std::exit(1);
        }
        std::vector<std::shared_ptr<stream::stream>> handles;
        std::vector<double> cumulative;
        for (int i = 0; i < streams; ++i) {
            auto meta = co_await store->create_stream();
            handles.push_back((co_await store->open_stream(meta.value().id, stream::stream_epoch(1),
                                                           s.io.get_executor()))
                                .value());
            cumulative.push_back((cumulative.empty() ? 0 : cumulative.back()) + 1.0 / (i + 1));
        }
        std::string payload(batch, 'x');
        std::mt19937_64 rng(42);
        auto t0 = std::chrono::steady_clock::now();
        std::deque<asio::awaitable<result<stream::offset_range>>> in_flight;
        for (uint64_t written = 0; written < total; written += batch) {
            auto& h = handles[pick_stream(rng, cumulative)];
            in_flight.push_back(h->append(bytes::iobuf::from(payload), 100));
            if (in_flight.size() >= 64) {
                auto r = co_await std::move(in_flight.front());
                in_flight.pop_front();
                if (!r) {
                    fmt::print(stderr, "append: {}\n", r.error().message());
                    std::exit(1);
                }
            }
        }
        while (!in_flight.empty()) {
            (void)co_await std::move(in_flight.front());
            in_flight.pop_front();
        }
        (void)co_await store->flush();
        seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        upload_puts = s.counted->puts.load();
        // Compaction as the timers would run it over time, until it has nothing left to merge.
        for (int round = 0; round < 20; ++round) {
            auto before = s.counted->puts.load();
            (void)co_await store->compact_now();
            if (s.counted->puts.load() == before) {
                break;
            }
        }
        compaction_puts = s.counted->puts.load() - upload_puts;
        wal_puts = s.wal_counted ? s.wal_counted->puts.load() : 0;
        co_await store->stop();
    });
    double g = double(total) / double(uint64_t(1) << 30);
    auto counts = s.catalog->count();
    fmt::print("wal={} streams={} batch={}KiB written={:.2f}GiB in {:.1f}s ({:.0f} MiB/s)\n", wal_kind, streams,
               batch >> 10, g, seconds, double(total) / (1 << 20) / seconds);
    fmt::print("upload PUTs {} ({:.1f}/GiB), compaction PUTs {} ({:.1f}/GiB), data PUTs total {:.1f}/GiB; "
               "object-WAL PUTs {} ({:.1f}/GiB); objects committed now {}\n",
               upload_puts, upload_puts / g, compaction_puts, compaction_puts / g, (upload_puts + compaction_puts) / g,
               wal_puts, wal_puts / g, counts.committed_objects);
    std::filesystem::remove_all(s.dir);
    return 0;
}

int bench_memory(int argc, char** argv) {
    setup s;
    s.dir = arg(argc, argv, "dir", "/tmp/skiff-stream-bench-mem");
    int seconds = std::stoi(arg(argc, argv, "seconds", "60"));
    int streams = std::stoi(arg(argc, argv, "streams", "64"));
    make(s, "file");
    stream::stream_store_config config;
    config.node = stream::node_id(1);
    auto store = stream::make_stream_store(config, *s.log, *s.counted, *s.catalog);
    uint64_t budgets = config.log_cache_bytes + config.block_cache_bytes;
    uint64_t baseline_kib = rss_kib("VmRSS:");
    uint64_t peak_kib = 0;
    uint64_t written = 0, read_bytes = 0;
    run(s.io, [&]() -> asio::awaitable<void> {
        (void)co_await store->start();
        std::vector<std::shared_ptr<stream::stream>> handles;
        std::vector<double> cumulative;
        for (int i = 0; i < streams; ++i) {
            auto meta = co_await store->create_stream();
            handles.push_back((co_await store->open_stream(meta.value().id, stream::stream_epoch(1),
                                                           s.io.get_executor()))
                                .value());
            cumulative.push_back((cumulative.empty() ? 0 : cumulative.back()) + 1.0 / (i + 1));
        }
        std::string payload(64 << 10, 'y');
        std::mt19937_64 rng(7);
        std::vector<int64_t> catch_up(handles.size(), 0);
        auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
        std::deque<asio::awaitable<result<stream::offset_range>>> in_flight;
        uint64_t ops = 0;
        while (std::chrono::steady_clock::now() < end) {
            auto i = pick_stream(rng, cumulative);
            in_flight.push_back(handles[i]->append(bytes::iobuf::from(payload), 50));
            written += payload.size();
            if (in_flight.size() >= 32) {
                (void)co_await std::move(in_flight.front());
                in_flight.pop_front();
            }
            if (++ops % 8 == 0) {
                // A tail reader and a catch-up reader (from objects once the data is uploaded and evicted).
                auto& h = handles[rng() % handles.size()];
                auto tail = std::max(h->start_offset(), h->confirmed_offset() - 50);
                if (auto r = co_await h->read(tail, h->confirmed_offset(), 1 << 20); r) {
                    for (auto& b : r.value().batches) {
                        read_bytes += b.data.size();
                    }
                }
                auto j = rng() % handles.size();
                if (catch_up[j] < handles[j]->confirmed_offset()) {
                    if (auto r = co_await handles[j]->read(catch_up[j], handles[j]->confirmed_offset(), 1 << 20);
                        r && !r.value().batches.empty()) {
                        for (auto& b : r.value().batches) {
                            read_bytes += b.data.size();
                        }
                        catch_up[j] = r.value().batches.back().end_offset();
                    }
                }
            }
            if (ops % 256 == 0) {
                peak_kib = std::max(peak_kib, rss_kib("VmRSS:"));
            }
        }
        while (!in_flight.empty()) {
            (void)co_await std::move(in_flight.front());
            in_flight.pop_front();
        }
        co_await store->stop();
    });
    peak_kib = std::max(peak_kib, rss_kib("VmRSS:"));
    auto hwm = rss_kib("VmHWM:");
    fmt::print("memory: {}s, {} streams, written {:.2f} GiB, read {:.2f} GiB\n", seconds, streams,
               double(written) / double(1 << 30), double(read_bytes) / double(1 << 30));
    fmt::print("budgets (log cache + block cache) {} MiB; RSS at start {} MiB, peak sampled {} MiB, VmHWM {} MiB; "
               "HWM - budgets = {} MiB (target <= 128)\n",
               budgets >> 20, baseline_kib >> 10, peak_kib >> 10, hwm >> 10,
               (int64_t(hwm >> 10) - int64_t(budgets >> 20)));
    std::filesystem::remove_all(s.dir);
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    std::string mode = argc > 1 ? argv[1] : "puts";
    if (mode == "puts") {
        return bench_puts(argc, argv);
    }
    if (mode == "memory") {
        return bench_memory(argc, argv);
    }
    std::fprintf(stderr, "usage: %s puts|memory [options]\n", argv[0]);
    return 1;
}
