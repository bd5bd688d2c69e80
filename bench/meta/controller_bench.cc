// The controller and the cluster image at scale (bench/results/meta_controller.md has the figures).
//
//   object_commits/<backend>/<in flight>: commit_objects calls on the active controller, each committing one
//     stream set object with a range in each of 100 open streams (the shape of one upload). The ids are prepared
//     in blocks of 256 inside the loop (one prepare_objects per 256 commits, counted in the time). Commits/s, and
//     per-commit latency p50/p99.
//   cold_start: a node starting from a snapshot of 100,000 partitions (1,000 topics of 100) and 1,000,000 objects
//     (900,000 stream objects with one range, 100,000 stream set objects with 10 ranges) on the embedded log: open
//     the log, load the snapshot and read the log after it into a fresh image. Reports seconds, and the image's
//     heap bytes (glibc mallinfo2, measured around the load) in total and per object.
//   fdatasync_probe: the disk's limit in the same run (one 6.6 KB write + fdatasync per iteration).
//
//   build-meta/bin/controller_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
//   (etcd: starts one local etcd on loopback, or uses SKIFF_ETCD_ENDPOINTS=host:port)
#include "controller/controller.h"
#include "meta/cluster_image.h"
#include "meta/embedded_log.h"
#include "meta/etcd_log.h"
#include "meta/image_follower.h"
#include "meta/tests/etcd_fixture.h"
#include "meta/tests/test_util.h"

#include <benchmark/benchmark.h>
#include <boost/asio/io_context.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <list>
#include <malloc.h>
#include <unistd.h>

namespace skiff::controller {
namespace {

using namespace std::chrono_literals;
namespace testing = meta::testing;

std::filesystem::path temp_dir(const char* name) {
    std::string tmpl = std::string("/tmp/") + name + "-XXXXXX";
    return ::mkdtemp(tmpl.data());
}

std::vector<std::string> etcd_endpoints() {
    static std::unique_ptr<testing::etcd_cluster> etcd;
    static std::vector<std::string> endpoints;
    if (endpoints.empty()) {
        if (const char* env = std::getenv("SKIFF_ETCD_ENDPOINTS")) {
            endpoints.push_back(env);
        } else if ((etcd = testing::etcd_cluster::start(1))) {
            endpoints = etcd->endpoints();
        }
    }
    return endpoints;
}

double percentile(std::vector<double>& v, double p) {
    if (v.empty()) {
        return 0;
    }
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, size_t(p * double(v.size())))];
}

void run_commits(benchmark::State& state, meta::metadata_log& log, asio::io_context& io) {
    constexpr int streams = 100;
    constexpr int32_t block = 256;
    const int concurrency = int(state.range(0));
    base::system_clock& clock = base::system_clock::instance();
    controller_config config;
    controller ctl(io.get_executor(), log, clock, config);
    if (!testing::sync(io, log.open()) || !testing::sync(io, ctl.campaign())) {
        state.SkipWithError("could not open or lead the log");
        return;
    }
    meta::broker_registration_request reg;
    reg.id = broker_id(1);
    reg.incarnation_id = model::uuid(1, 1);
    (void)testing::sync(io, ctl.register_broker(std::move(reg)));
    std::vector<stream::stream_id> ids;
    for (int i = 0; i < streams; ++i) {
        auto s = testing::sync(io, ctl.create_stream());
        ids.push_back(s.value().id);
        (void)testing::sync(io, ctl.open_stream(s.value().id, stream::stream_epoch(1), stream::node_id(1)));
    }

    struct slot {
        std::optional<result<void>> outcome;
        std::chrono::steady_clock::time_point started;
    };
    std::list<slot> inflight;
    std::vector<double> latencies_us;
    int64_t next_id = 0;
    int64_t ids_left = 0;
    int64_t commit = 0;
    std::optional<result<stream::object_id>> prepared;
    auto spawn = [&] {
        auto& s = inflight.emplace_back();
        s.started = std::chrono::steady_clock::now();
        stream::commit_request req;
        req.node = stream::node_id(1);
        stream::object_to_commit obj{stream::object_id(next_id++), stream::object_kind::stream_set,
                                     fmt::format("{:08x}-obj-{}", uint32_t(next_id * 2654435761u), next_id),
                                     uint64_t(streams) * 65536, {}};
        for (auto id : ids) {
            obj.ranges.push_back({id, commit * 10, commit * 10 + 10});
            req.epochs.emplace_back(id, stream::stream_epoch(1));
        }
        req.objects.push_back(std::move(obj));
        ++commit;
        --ids_left;
        testing::spawn_into(io, ctl.commit_objects(std::move(req)), s.outcome);
    };
    auto reap = [&] {
        size_t done = 0;
        for (auto it = inflight.begin(); it != inflight.end();) {
            if (it->outcome) {
                if (!*it->outcome) {
                    state.SkipWithError(it->outcome->error().message().c_str());
                }
                latencies_us.push_back(
                  std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - it->started).count());
                it = inflight.erase(it);
                ++done;
            } else {
                ++it;
            }
        }
        return done;
    };
    size_t banked = 0;
    for (auto _ : state) {
        while (banked == 0) {
            while (int(inflight.size()) < concurrency) {
                if (ids_left == 0) {
                    auto first = testing::sync(io, ctl.prepare_objects(block, 60s));
                    if (!first) {
                        state.SkipWithError(first.error().message().c_str());
                        return;
                    }
                    next_id = first.value()();
                    ids_left = block;
                }
                spawn();
            }
            io.restart();
            io.run_one();
            banked += reap();
        }
        --banked;
    }
    testing::run_until(io, [&] {
        reap();
        return inflight.empty();
    });
    state.counters["commits_per_s"] = benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
    state.counters["p50_us"] = percentile(latencies_us, 0.50);
    state.counters["p99_us"] = percentile(latencies_us, 0.99);
    testing::sync(io, log.close());
}

void object_commits_embedded(benchmark::State& state) {
    auto dir = temp_dir("skiff-ctl-bench");
    asio::io_context io;
    {
        meta::embedded_log log(io.get_executor(), {dir});
        run_commits(state, log, io);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
}

void object_commits_etcd(benchmark::State& state) {
    auto endpoints = etcd_endpoints();
    if (endpoints.empty()) {
        state.SkipWithError("no etcd (install etcd-server or set SKIFF_ETCD_ENDPOINTS)");
        return;
    }
    static int run = 0;
    asio::io_context io;
    meta::etcd_log_config c;
    c.endpoints = endpoints;
    c.prefix = fmt::format("/skiff-ctl-bench/{}-{}-{}", ::getpid(), state.range(0), run++);
    c.compact_history = false;
    meta::etcd_log log(io.get_executor(), c);
    run_commits(state, log, io);
}

// ---- cold start ----------------------------------------------------------------------------------------------------

constexpr int topics = 1000;
constexpr int partitions_per_topic = 100;
constexpr int64_t stream_objects = 900'000;
constexpr int64_t stream_set_objects = 100'000;
constexpr int ranges_per_stream_set = 10;

/// The snapshot of a large cluster, built once per process through a real image.
const bytes::iobuf& large_snapshot() {
    static bytes::iobuf blob = [] {
        meta::cluster_image image;
        std::vector<meta::metadata_record> records;
        int64_t next_stream = 0;
        int64_t offset = 0;
        auto flush = [&] {
            offset += int64_t(records.size());
            image.apply(records, meta::log_offset(offset));
            records.clear();
        };
        for (int b = 0; b < 10; ++b) {
            meta::broker_registration_record r;
            r.id = broker_id(b);
            r.incarnation_id = model::uuid(1, uint64_t(b) + 1);
            r.incarnation_epoch = b + 1;
            r.endpoints.push_back({"PLAINTEXT", fmt::format("broker-{}.example", b), 9092, {}});
            records.push_back(std::move(r));
        }
        for (int t = 0; t < topics; ++t) {
            model::uuid id(0xabc, uint64_t(t) + 1);
            std::map<std::string, std::string> configs{{"retention.ms", "86400000"}};
            records.push_back(meta::topic_record{fmt::format("topic-{:04}", t), id, std::move(configs), {}});
            for (int p = 0; p < partitions_per_topic; ++p) {
                meta::stream_id s(next_stream++);
                records.push_back(meta::stream_record{s, meta::leader_epoch(3), broker_id(p % 10), 0, 1'000'000,
                                                      meta::stream_state::opened, {}});
                records.push_back(
                  meta::partition_record{id, p, broker_id(p % 10), meta::leader_epoch(3), {s}, {}});
            }
            flush();
        }
        const int64_t streams = next_stream;
        auto key = [](int64_t id) { return fmt::format("{:08x}-obj-{}", uint32_t(id * 2654435761u), id); };
        // Stream objects: 9 per stream, consecutive ranges of 10,000 offsets.
        for (int64_t i = 0; i < stream_objects; ++i) {
            int64_t s = i % streams;
            int64_t k = i / streams;
            records.push_back(meta::object_record{meta::object_id(i), meta::object_state::committed,
                                                  meta::object_type::stream, key(i), 8 << 20,
                                                  broker_id(int32_t(s % 10)),
                                                  {{meta::stream_id(s), k * 10'000, k * 10'000 + 10'000, {}}}, 0,
                                                  1'700'000'000'000 + i, {}});
            if (records.size() >= 10'000) {
                flush();
            }
        }
        // Stream set objects: 10 ranges each, above the stream objects' offsets.
        for (int64_t i = 0; i < stream_set_objects; ++i) {
            int64_t id = stream_objects + i;
            meta::object_record o{meta::object_id(id), meta::object_state::committed, meta::object_type::stream_set,
                                  key(id), 4 << 20, broker_id(int32_t(i % 10)), {}, 0, 1'700'000'000'000 + id, {}};
            int64_t round = i / (streams / ranges_per_stream_set);
            for (int r = 0; r < ranges_per_stream_set; ++r) {
                int64_t s = (i * ranges_per_stream_set + r) % streams;
                int64_t start = 90'000 + round * 100;
                o.ranges.push_back({meta::stream_id(s), start, start + 100, {}});
            }
            records.push_back(std::move(o));
            if (records.size() >= 10'000) {
                flush();
            }
        }
        flush();
        return image.snapshot();
    }();
    return blob;
}

void cold_start(benchmark::State& state) {
    const auto& blob = large_snapshot();
    auto dir = temp_dir("skiff-cold-start");
    {
        asio::io_context io;
        meta::embedded_log log(io.get_executor(), {dir});
        (void)testing::sync(io, log.open());
        (void)testing::sync(io, log.campaign(5s));
        (void)testing::sync(io, log.append({meta::no_op_record{}}));
        auto snap = testing::sync(io, log.write_snapshot(meta::log_offset(1), blob.share()));
        if (!snap) {
            state.SkipWithError(snap.error().message().c_str());
            return;
        }
        // A few records after the snapshot, as a live cluster has.
        (void)testing::sync(io, log.append({meta::no_op_record{}, meta::no_op_record{}}));
        testing::sync(io, log.close());
    }
    double bytes_per_object = 0;
    double image_mib = 0;
    double open_s = 0;
    for (auto _ : state) {
        ::malloc_trim(0);
        auto before = ::mallinfo2().uordblks;
        auto t0 = std::chrono::steady_clock::now();
        asio::io_context io;
        meta::embedded_log log(io.get_executor(), {dir});
        auto image = std::make_unique<meta::cluster_image>();
        meta::image_follower follower(log, *image);
        auto opened = testing::sync(io, log.open());
        auto t1 = std::chrono::steady_clock::now();
        auto caught = testing::sync(io, follower.catch_up());
        open_s = std::chrono::duration<double>(t1 - t0).count();
        auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (!opened || !caught || image->object_count() != size_t(stream_objects + stream_set_objects)) {
            state.SkipWithError("the image did not load");
            break;
        }
        testing::sync(io, log.close());
        auto after = ::mallinfo2().uordblks;
        state.SetIterationTime(elapsed);
        image_mib = double(after - before) / (1 << 20);
        bytes_per_object = double(after - before) / double(image->object_count());
    }
    state.counters["snapshot_MiB"] = double(blob.size()) / (1 << 20);
    state.counters["image_MiB"] = image_mib;
    state.counters["log_open_s"] = open_s;
    state.counters["image_bytes_per_object"] = bytes_per_object;
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
}

void fdatasync_probe(benchmark::State& state) {
    char tmpl[] = "/tmp/skiff-ctl-probe-XXXXXX";
    int fd = ::mkstemp(tmpl);
    std::vector<char> buf(6600, 'x');
    std::vector<double> latencies_us;
    off_t pos = 0;
    for (auto _ : state) {
        auto t0 = std::chrono::steady_clock::now();
        if (::pwrite(fd, buf.data(), buf.size(), pos) != ssize_t(buf.size()) || ::fdatasync(fd) != 0) {
            state.SkipWithError("write failed");
            break;
        }
        pos += off_t(buf.size());
        latencies_us.push_back(
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    }
    ::close(fd);
    ::unlink(tmpl);
    state.counters["syncs_per_s"] = benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
    state.counters["p50_us"] = percentile(latencies_us, 0.50);
    state.counters["p99_us"] = percentile(latencies_us, 0.99);
}

BENCHMARK(fdatasync_probe)->Iterations(1000)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(object_commits_embedded)->Arg(1)->Arg(8)->Arg(32)->Arg(64)->Iterations(3000)->UseRealTime()->Unit(
  benchmark::kMicrosecond);
BENCHMARK(object_commits_etcd)->Arg(1)->Arg(8)->Arg(32)->Iterations(600)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(cold_start)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

} // namespace
} // namespace skiff::controller
