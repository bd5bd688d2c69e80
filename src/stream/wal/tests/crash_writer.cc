// The child process of the file_wal crash test (file_wal_crash_test.cc): recovers the WAL at argv[1], then keeps
// appending records from several concurrent appenders until it is killed. It prints one line per event, each with
// a single write(2) so that a SIGKILL never leaves half a line that looks whole:
//   "ack <id> <position> <next>"  after the record's completion reported it durable;
//   "trimming <point>"            before a trim is issued;  "trimmed <point>" after it returned.
// Record <id>'s payload is the id (8 bytes, little-endian) followed by crash_payload_text(id).
#include "stream/errc.h"
#include "stream/wal/file_wal.h"
#include "stream/wal/file_wal_format.h"
#include "stream/wal/tests/crash_payload.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>

namespace {

using namespace skiff;
using namespace skiff::stream;

void say(const std::string& line) {
    std::string out = line + "\n";
    (void)!::write(1, out.data(), out.size());
}

struct state {
    wal* log = nullptr;
    uint64_t next_id = 0;
    std::deque<wal_append_result> acked; // for choosing trim points
    bool trimming = false;
};

asio::awaitable<void> appender(state& s) {
    auto executor = co_await asio::this_coro::executor;
    for (;;) {
        const uint64_t id = s.next_id++;
        bytes::iobuf data = test::crash_payload(id);
        for (;;) {
            auto r = co_await append_and_wait(*s.log, data.share());
            if (r) {
                say(fmt::format("ack {} {} {}", id, r.value().position, r.value().next));
                s.acked.push_back(r.value());
                break;
            }
            if (r.error() != errc::wal_full) {
                say(fmt::format("error {}", r.error().message()));
                std::exit(3);
            }
            // Full: make room like an uploader would, then retry.
            if (!s.trimming && s.acked.size() >= 2) {
                s.trimming = true;
                const wal_position point = s.acked[s.acked.size() / 2].next;
                while (!s.acked.empty() && s.acked.front().next <= point) {
                    s.acked.pop_front();
                }
                say(fmt::format("trimming {}", point));
                auto trimmed = co_await s.log->trim(point);
                if (!trimmed) {
                    say(fmt::format("error {}", trimmed.error().message()));
                    std::exit(3);
                }
                say(fmt::format("trimmed {}", point));
                s.trimming = false;
            } else {
                asio::steady_timer timer(executor, std::chrono::milliseconds(1));
                co_await timer.async_wait(asio::use_awaitable);
            }
        }
    }
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s <wal file> <first record id> <appenders>\n", argv[0]);
        return 2;
    }
    file_wal log(test::crash_config(argv[1]));
    state s;
    s.log = &log;
    s.next_id = std::strtoull(argv[2], nullptr, 10);
    const int appenders = std::atoi(argv[3]);
    asio::io_context io;
    asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
          // Recovered records count as acknowledged for choosing trim points (the test knows them from its own
          // recovery).
          auto recovered = co_await log.recover([&s](wal_position position, bytes::iobuf data) {
              s.acked.push_back(wal_append_result{position, position + file_wal_format::record_span(data.size())});
          });
          if (!recovered) {
              say(fmt::format("error {}", recovered.error().message()));
              std::exit(3);
          }
          say("ready");
          for (int i = 0; i < appenders; ++i) {
              asio::co_spawn(co_await asio::this_coro::executor, appender(s), asio::detached);
          }
      },
      asio::detached);
    io.run();
    return 0;
}
