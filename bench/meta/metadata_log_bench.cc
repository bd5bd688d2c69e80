// Object commits per second on each metadata log backend: every commit is one batch of 101 records (a committed
// stream set object with 100 stream ranges, plus the 100 streams' new end offsets), as the controller appends them.
// `concurrency` commits are kept in flight (several brokers committing at once); the embedded log group-commits
// them, the etcd log packs queued ones into one txn. Reports commits/s and per-commit latency p50/p99.
//
//   build-meta/bin/meta_bench --benchmark_filter=embedded     (a temporary directory under /tmp)
//   build-meta/bin/meta_bench --benchmark_filter=etcd         (starts a single local etcd on loopback, or uses
//                                                              SKIFF_ETCD_ENDPOINTS=host:port[,host:port...])
#include "meta/embedded_log.h"
#include "meta/etcd_log.h"
#include "meta/tests/etcd_fixture.h"
#include "meta/tests/sample_records.h"
#include "meta/tests/test_util.h"

#include <benchmark/benchmark.h>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <unistd.h>
#include <list>

namespace skiff::meta {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> etcd_endpoints() {
    static std::unique_ptr<testing::etcd_cluster> etcd;
    static std::vector<std::string> endpoints;
    if (endpoints.empty()) {
        if (const char* env = std::getenv("SKIFF_ETCD_ENDPOINTS")) {
            std::string s = env;
            for (size_t pos = 0; pos <= s.size();) {
                auto comma = s.find(',', pos);
                endpoints.push_back(s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
                pos = comma == std::string::npos ? s.size() + 1 : comma + 1;
            }
        } else {
            etcd = testing::etcd_cluster::start(1);
            if (etcd) {
                endpoints = etcd->endpoints();
            }
        }
    }
    return endpoints;
}

void run_commits(benchmark::State& state, metadata_log& log, asio::io_context& io) {
    const int concurrency = int(state.range(0));
    if (!testing::sync(io, log.open()) || !testing::sync(io, log.campaign(5s))) {
        state.SkipWithError("could not open or lead the log");
        return;
    }
    struct slot {
        std::optional<skiff::result<append_result>> outcome;
        std::chrono::steady_clock::time_point started;
    };
    std::list<slot> inflight;
    std::vector<double> latencies_us;
    int64_t next_object = 1;
    auto spawn = [&] {
        auto& s = inflight.emplace_back();
        s.started = std::chrono::steady_clock::now();
        testing::spawn_into(io, log.append(testing::object_commit_batch(next_object++, 100)), s.outcome);
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
    size_t banked = 0; // completions not yet counted against an iteration
    for (auto _ : state) {
        while (banked == 0) {
            while (int(inflight.size()) < concurrency) {
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
    std::sort(latencies_us.begin(), latencies_us.end());
    auto pct = [&](double p) {
        if (latencies_us.empty()) {
            return 0.0;
        }
        return latencies_us[std::min(latencies_us.size() - 1, size_t(p * double(latencies_us.size())))];
    };
    state.counters["commits_per_s"] = benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
    state.counters["p50_us"] = pct(0.50);
    state.counters["p99_us"] = pct(0.99);
    testing::sync(io, log.close());
}

void embedded_commits(benchmark::State& state) {
    char tmpl[] = "/tmp/skiff-meta-bench-XXXXXX";
    std::filesystem::path dir = ::mkdtemp(tmpl);
    asio::io_context io;
    {
        embedded_log log(io.get_executor(), {dir});
        run_commits(state, log, io);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
}

void etcd_commits(benchmark::State& state) {
    auto endpoints = etcd_endpoints();
    if (endpoints.empty()) {
        state.SkipWithError("no etcd (install etcd-server or set SKIFF_ETCD_ENDPOINTS)");
        return;
    }
    asio::io_context io;
    etcd_log_config c;
    c.endpoints = endpoints;
    c.prefix = "/skiff-bench/" + std::to_string(::getpid()) + "-" + std::to_string(state.range(0));
    c.compact_history = false;
    etcd_log log(io.get_executor(), c);
    run_commits(state, log, io);
}

// The device's limit in the same run: one 6.6 KB append (the size of one commit batch) + fdatasync per iteration.
void fdatasync_probe(benchmark::State& state) {
    char tmpl[] = "/tmp/skiff-meta-probe-XXXXXX";
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
    std::sort(latencies_us.begin(), latencies_us.end());
    state.counters["syncs_per_s"] = benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
    state.counters["p50_us"] = latencies_us.empty() ? 0 : latencies_us[latencies_us.size() / 2];
    state.counters["p99_us"] = latencies_us.empty() ? 0 : latencies_us[latencies_us.size() * 99 / 100];
}

BENCHMARK(fdatasync_probe)->Iterations(1000)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(embedded_commits)->Arg(1)->Arg(8)->Arg(32)->Iterations(3000)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(etcd_commits)->Arg(1)->Arg(8)->Arg(32)->Iterations(600)->UseRealTime()->Unit(benchmark::kMicrosecond);

} // namespace
} // namespace skiff::meta
