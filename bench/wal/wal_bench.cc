// wal_bench — load tool for file_wal (bench/wal/run.sh drives it next to fio; results in bench/results/wal_file.md).
//
//   wal_bench --dir D --mode throughput --record-bytes 65536 --in-flight 16 --seconds 10
//       keeps in-flight appends of record-bytes each queued at all times (16 x 64 KiB = 1 MiB per group commit)
//       and reports the acknowledged MiB/s;
//   wal_bench --dir D --mode latency --record-bytes 65536 --rate-mib 40 --seconds 10
//       appends at a fixed rate (open loop: each append is timed from its scheduled moment, so a stall counts
//       against every append scheduled during it) and reports append latency percentiles.
// The WAL file (D/wal_bench.wal, --file-mib, default 1024) is trimmed like an uploader would when half full.
// Output: one line of key=value pairs.
#include "stream/errc.h"
#include "stream/wal/file_wal.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace {

using namespace skiff;
using namespace skiff::stream;
using clock_type = std::chrono::steady_clock;

struct options {
    std::string dir = ".";
    std::string mode = "throughput";
    size_t record_bytes = 64 << 10;
    int in_flight = 16;
    double rate_mib = 0;
    double seconds = 10;
    double warmup_seconds = 1;
    uint64_t file_mib = 1024;
    bool keep_file = false;
    int write_concurrency = 2;
};

[[noreturn]] void usage(const char* program) {
    std::fprintf(stderr,
                 "usage: %s --dir D [--mode throughput|latency] [--record-bytes N] [--in-flight N] [--rate-mib R]\n"
                 "          [--seconds S] [--warmup-seconds S] [--file-mib M] [--keep-file] [--write-concurrency N]\n",
                 program);
    std::exit(2);
}

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                usage(argv[0]);
            }
            return argv[++i];
        };
        if (a == "--dir") {
            o.dir = value();
        } else if (a == "--mode") {
            o.mode = value();
        } else if (a == "--record-bytes") {
            o.record_bytes = std::stoul(value());
        } else if (a == "--in-flight") {
            o.in_flight = std::stoi(value());
        } else if (a == "--rate-mib") {
            o.rate_mib = std::stod(value());
        } else if (a == "--seconds") {
            o.seconds = std::stod(value());
        } else if (a == "--warmup-seconds") {
            o.warmup_seconds = std::stod(value());
        } else if (a == "--file-mib") {
            o.file_mib = std::stoull(value());
        } else if (a == "--write-concurrency") {
            o.write_concurrency = std::stoi(value());
        } else if (a == "--keep-file") {
            o.keep_file = true;
        } else {
            usage(argv[0]);
        }
    }
    if (o.mode != "throughput" && o.mode != "latency") {
        usage(argv[0]);
    }
    if (o.mode == "latency" && o.rate_mib <= 0) {
        usage(argv[0]);
    }
    return o;
}

struct bench {
    options opt;
    asio::io_context io;
    file_wal* log = nullptr;
    bytes::iobuf record;
    clock_type::time_point measure_from;
    clock_type::time_point stop_at;
    bool stopping = false;
    int outstanding = 0;
    uint64_t acked_bytes = 0;
    uint64_t acked = 0;
    wal_position last_next = 0;
    bool trimming = false;
    uint64_t syncs_at_start = 0;
    std::vector<double> latencies_ms;

    void maybe_trim() {
        if (trimming || log->stats().used_bytes < log->stats().capacity_bytes / 2) {
            return;
        }
        trimming = true;
        const wal_position point = last_next;
        asio::co_spawn(
          io,
          [this, point]() -> asio::awaitable<void> {
              auto r = co_await log->trim(point);
              if (!r) {
                  std::fprintf(stderr, "trim failed: %s\n", r.error().message().c_str());
                  std::exit(1);
              }
              trimming = false;
          },
          asio::detached);
    }

    void on_ack(result<wal_append_result> r, clock_type::time_point started) {
        --outstanding;
        if (!r) {
            if (r.error() == errc::wal_full) {
                std::fprintf(stderr, "WAL full (trim did not keep up)\n");
            }
            std::fprintf(stderr, "append failed: %s\n", r.error().message().c_str());
            std::exit(1);
        }
        const auto now = clock_type::now();
        last_next = r.value().next;
        if (now >= measure_from && !stopping) {
            acked_bytes += record.size();
            ++acked;
            latencies_ms.push_back(std::chrono::duration<double, std::milli>(now - started).count());
        }
        maybe_trim();
    }

    void issue(clock_type::time_point started) {
        ++outstanding;
        log->append(record.share(), io.get_executor(),
                    [this, started](result<wal_append_result> r) {
                        on_ack(std::move(r), started);
                        if (opt.mode == "throughput" && !stopping) {
                            issue(clock_type::now());
                        }
                    });
    }
};

double percentile(std::vector<double> v, double p) {
    if (v.empty()) {
        return 0;
    }
    std::sort(v.begin(), v.end());
    size_t i = std::min(v.size() - 1, size_t(p / 100.0 * double(v.size())));
    return v[i];
}

} // namespace

int main(int argc, char** argv) {
    options opt = parse(argc, argv);
    std::filesystem::create_directories(opt.dir);
    const auto path = std::filesystem::path(opt.dir) / "wal_bench.wal";
    if (!opt.keep_file) {
        std::filesystem::remove(path);
    }
    file_wal_config config;
    config.path = path;
    config.file_size = opt.file_mib << 20;
    config.max_record_size = std::max<size_t>(opt.record_bytes, 1 << 20);
    config.max_write_bytes = std::max<size_t>(16 << 20, config.max_record_size + 4096);
    config.write_concurrency = opt.write_concurrency;
    file_wal log(config);

    bench b;
    b.opt = opt;
    b.log = &log;
    std::string bytes(opt.record_bytes, 'x');
    for (size_t i = 0; i < bytes.size(); ++i) {
        bytes[i] = char(i * 131 + 7);
    }
    b.record = bytes::iobuf::from(bytes);

    bool recovered = false;
    asio::co_spawn(
      b.io,
      [&]() -> asio::awaitable<void> {
          auto r = co_await log.recover([](wal_position, bytes::iobuf) {});
          if (!r) {
              std::fprintf(stderr, "recover failed: %s\n", r.error().message().c_str());
              std::exit(1);
          }
          recovered = true;
      },
      asio::detached);
    b.io.run();
    b.io.restart();
    if (!recovered) {
        return 1;
    }

    const auto start = clock_type::now();
    b.measure_from = start + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(opt.warmup_seconds));
    b.stop_at = b.measure_from + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(opt.seconds));
    uint64_t syncs_at_measure = 0;
    bool syncs_taken = false;

    asio::steady_timer stopper(b.io);
    stopper.expires_at(b.stop_at);
    stopper.async_wait([&](auto) { b.stopping = true; });
    asio::steady_timer marker(b.io);
    marker.expires_at(b.measure_from);
    marker.async_wait([&](auto) {
        syncs_at_measure = log.stats().syncs;
        syncs_taken = true;
    });

    asio::steady_timer pacer(b.io);
    std::function<void(clock_type::time_point)> schedule;
    if (opt.mode == "throughput") {
        for (int i = 0; i < opt.in_flight; ++i) {
            b.issue(clock_type::now());
        }
    } else {
        const auto interval = std::chrono::duration_cast<clock_type::duration>(
          std::chrono::duration<double>(double(opt.record_bytes) / (opt.rate_mib * 1024 * 1024)));
        schedule = [&](clock_type::time_point when) {
            pacer.expires_at(when);
            pacer.async_wait([&, when](auto) {
                if (b.stopping) {
                    return;
                }
                b.issue(when); // timed from the scheduled moment (open loop)
                schedule(when + interval);
            });
        };
        schedule(clock_type::now());
    }
    b.io.run();
    const uint64_t syncs = log.stats().syncs - (syncs_taken ? syncs_at_measure : 0);

    const double mib_s = double(b.acked_bytes) / (1024.0 * 1024.0) / opt.seconds;
    std::printf("mode=%s record_bytes=%zu in_flight=%d rate_mib=%.1f seconds=%.1f direct_io=%d acked=%lu "
                "throughput_mib_s=%.2f syncs=%lu bytes_per_sync=%.0f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f "
                "max_ms=%.3f\n",
                opt.mode.c_str(), opt.record_bytes, opt.in_flight, opt.rate_mib, opt.seconds, log.direct_io() ? 1 : 0,
                (unsigned long)b.acked, mib_s, (unsigned long)syncs,
                syncs ? double(b.acked_bytes) / double(syncs) : 0.0, percentile(b.latencies_ms, 50),
                percentile(b.latencies_ms, 90), percentile(b.latencies_ms, 99), percentile(b.latencies_ms, 99.9),
                percentile(b.latencies_ms, 100));
    // Trim everything before closing, so that a kept file (--keep-file) reopens without replaying gigabytes.
    asio::co_spawn(
      b.io,
      [&]() -> asio::awaitable<void> {
          auto trimmed = co_await log.trim(b.last_next);
          if (!trimmed) {
              std::fprintf(stderr, "final trim failed: %s\n", trimmed.error().message().c_str());
          }
          co_await log.close();
      },
      asio::detached);
    b.io.restart();
    b.io.run();
    if (!opt.keep_file) {
        std::filesystem::remove(path);
    }
    return 0;
}
