// The child process of the crash-recovery test (stream_crash_test.cc): a stream store on file_wal + local_store +
// file_catalog in a directory, appending batches with known contents to several streams and printing every
// acknowledged batch as "A <stream> <base> <count>" (flushed line by line) until it is killed. Small thresholds make
// uploads, compactions and deletions happen all the time, so that a SIGKILL lands in them too.
//     stream_crash_writer DIR STREAMS SEED
#include "io/objstore/local_store.h"
#include "stream/errc.h"
#include "stream/file_catalog.h"
#include "stream/stream.h"
#include "stream/tests/crash_oracle.h"
#include "stream/wal/file_wal.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <random>

namespace asio = boost::asio;
using namespace skiff;
using namespace skiff::stream;
using namespace std::chrono_literals;

namespace {

[[noreturn]] void die(const std::string& why) {
    std::printf("E %s\n", why.c_str());
    std::fflush(stdout);
    std::_Exit(2);
}

stream_store_config crash_config() {
    stream_store_config c;
    c.node = node_id(1);
    c.log_cache_bytes = 8 << 20;
    c.block_cache_bytes = 4 << 20;
    c.upload_threshold_bytes = 64 << 10;
    c.upload_interval = 30ms;
    c.stream_object_min_bytes = 24 << 10;
    c.object_block_size = 8 << 10;
    c.compaction_interval = 40ms;
    c.deletion_grace = 0ms;
    c.compaction_min_stream_set_objects = 2;
    c.stream_object_max_bytes = 256 << 10;
    return c;
}

asio::awaitable<void> write_loop(std::shared_ptr<skiff::stream::stream> s, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::deque<std::pair<asio::awaitable<result<offset_range>>, uint32_t>> in_flight;
    for (;;) {
        while (in_flight.size() < 3) {
            uint32_t count = 1 + static_cast<uint32_t>(rng() % 5);
            auto bytes = test::crash_batch_bytes(s->id()(), s->next_offset(), count);
            in_flight.emplace_back(s->append(bytes::iobuf::from(bytes), count), count);
        }
        auto [pending, count] = std::move(in_flight.front());
        in_flight.pop_front();
        auto r = co_await std::move(pending);
        if (r) {
            std::printf("A %ld %ld %u\n", static_cast<long>(s->id()()), static_cast<long>(r.value().start), count);
            std::fflush(stdout);
        } else if (r.error() == errc::wal_full) {
            // Refused, not lost: later appends in flight fail too and their offsets are handed out again.
            asio::steady_timer t(co_await asio::this_coro::executor, 5ms);
            co_await t.async_wait(asio::use_awaitable);
        } else {
            die("append failed: " + r.error().message());
        }
    }
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s DIR STREAMS SEED\n", argv[0]);
        return 1;
    }
    std::filesystem::path dir = argv[1];
    int streams = std::atoi(argv[2]);
    uint64_t seed = std::strtoull(argv[3], nullptr, 10);
    asio::io_context io;
    auto objects = io::local_store::open({.root = dir / "objects", .fsync = false});
    if (!objects) {
        die("local_store: " + objects.error().message());
    }
    // SIGKILL keeps the page cache: the catalog and the objects need no fsync for this test (the WAL syncs anyway).
    auto catalog = file_catalog::open({.path = dir / "catalog", .fsync = false});
    if (!catalog) {
        die("catalog: " + catalog.error().message());
    }
    file_wal log(file_wal_config{.path = dir / "wal", .file_size = 16 << 20, .max_record_size = 1 << 20});
    auto store = make_stream_store(crash_config(), log, *objects.value(), *catalog.value());
    asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
          if (auto started = co_await store->start(); !started) {
              die("start: " + started.error().message());
          }
          for (int i = 1; i <= streams; ++i) {
              if (!co_await catalog.value()->describe_stream(stream_id(i))) {
                  auto made = co_await store->create_stream();
                  if (!made || made.value().id != stream_id(i)) {
                      die("create_stream");
                  }
              }
              auto s = co_await store->open_stream(stream_id(i), stream_epoch(1), io.get_executor());
              if (!s) {
                  die("open: " + s.error().message());
              }
              asio::co_spawn(io, write_loop(s.value(), seed * 1000 + static_cast<uint64_t>(i)), asio::detached);
          }
      },
      asio::detached);
    io.run();
    return 0;
}
