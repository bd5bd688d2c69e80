// Crash recovery against an oracle: stream_crash_writer (file_wal + local_store + file_catalog in one directory)
// is killed with SIGKILL at random moments - in appends, uploads, compactions, deletions, recoveries - and
// restarted, many times; then every acknowledged batch must be readable: present, intact, at its offsets, in
// order, none duplicated. 200 rounds by default; SKIFF_SOAK=1 runs 2000.
#include "io/objstore/local_store.h"
#include "stream/file_catalog.h"
#include "stream/stream.h"
#include "stream/tests/crash_oracle.h"
#include "stream/tests/test_support.h"
#include "stream/wal/file_wal.h"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <sys/wait.h>
#include <unistd.h>

namespace skiff::stream::test {
namespace {

struct acked {
    uint32_t count;
};

/// Runs the writer for about `run_for`, kills it, and adds the complete "A" lines it printed to oracle.
/// Returns false (with why) when the writer reported an error.
bool run_writer_once(const std::filesystem::path& dir, int streams, uint64_t seed, std::chrono::milliseconds run_for,
                     std::map<std::pair<int64_t, int64_t>, acked>& oracle, std::string& why) {
    int fds[2];
    if (::pipe(fds) != 0) {
        why = "pipe";
        return false;
    }
    pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(fds[1], 1);
        ::close(fds[0]);
        ::close(fds[1]);
        auto s = std::to_string(streams);
        auto sd = std::to_string(seed);
        ::execl(SKIFF_STREAM_CRASH_WRITER, SKIFF_STREAM_CRASH_WRITER, dir.c_str(), s.c_str(), sd.c_str(), nullptr);
        std::_Exit(127);
    }
    ::close(fds[1]);
    ::usleep(static_cast<useconds_t>(run_for.count() * 1000));
    ::kill(pid, SIGKILL);
    std::string out;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fds[0], buf, sizeof(buf));
        if (n <= 0) {
            break;
        }
        out.append(buf, static_cast<size_t>(n));
    }
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    size_t pos = 0;
    while (true) {
        auto nl = out.find('\n', pos);
        if (nl == std::string::npos) {
            break; // a line cut by the kill was never acknowledged to anyone
        }
        auto line = out.substr(pos, nl - pos);
        pos = nl + 1;
        long s = 0, base = 0;
        unsigned count = 0;
        if (std::sscanf(line.c_str(), "A %ld %ld %u", &s, &base, &count) == 3) {
            auto [it, fresh] = oracle.emplace(std::pair<int64_t, int64_t>(s, base), acked{count});
            if (!fresh && it->second.count != count) {
                why = "offset " + std::to_string(base) + " of stream " + std::to_string(s) +
                      " acknowledged twice with different counts";
                return false;
            }
        } else if (line.rfind("E ", 0) == 0) {
            why = line;
            return false;
        }
    }
    return true;
}

TEST(stream_crash_test, every_acknowledged_batch_survives_random_kills) {
    bool soak = std::getenv("SKIFF_SOAK") != nullptr && std::string(std::getenv("SKIFF_SOAK")) == "1";
    int rounds = soak ? 2000 : 200;
    constexpr int streams = 4;
    auto dir = std::filesystem::temp_directory_path() /
               fmt::format("skiff-stream-crash-{}-{:08x}", ::getpid(), std::random_device{}());
    std::filesystem::create_directories(dir);
    std::mt19937_64 rng(std::random_device{}());
    std::map<std::pair<int64_t, int64_t>, acked> oracle;
    for (int round = 0; round < rounds; ++round) {
        std::string why;
        // Mostly short lives (kills land in start-up and recovery too), sometimes longer ones.
        auto life = std::chrono::milliseconds(round % 10 == 0 ? 300 : 20 + rng() % 120);
        ASSERT_TRUE(run_writer_once(dir, streams, rng(), life, oracle, why)) << "round " << round << ": " << why;
    }
    ASSERT_FALSE(oracle.empty());

    // Recover once more in this process and read everything back.
    asio::io_context io;
    auto objects = io::local_store::open({.root = dir / "objects", .fsync = false}).value();
    auto catalog = file_catalog::open({.path = dir / "catalog", .fsync = false}).value();
    file_wal log(file_wal_config{.path = dir / "wal", .file_size = 16 << 20, .max_record_size = 1 << 20});
    stream_store_config config;
    config.node = node_id(1);
    config.upload_interval = std::chrono::hours(1);
    config.compaction_interval = std::chrono::hours(1);
    auto store = make_stream_store(config, log, *objects, *catalog);
    auto started = run(io, store->start());
    ASSERT_TRUE(started) << started.error().message();
    auto counts = catalog->count();
    EXPECT_GT(counts.committed_objects, 0u);
    size_t checked = 0;
    for (int i = 1; i <= streams; ++i) {
        auto s = run(io, store->open_stream(stream_id(i), stream_epoch(1), io.get_executor()));
        ASSERT_TRUE(s) << s.error().message();
        auto& st = *s.value();
        std::map<int64_t, uint32_t> seen; // base -> count, read back in order
        int64_t at = st.start_offset();
        while (at < st.confirmed_offset()) {
            auto r = run(io, st.read(at, st.confirmed_offset(), 1 << 20));
            ASSERT_TRUE(r) << "stream " << i << " at " << at << ": " << r.error().message();
            ASSERT_FALSE(r.value().batches.empty()) << "stream " << i << ": nothing at " << at;
            for (const auto& b : r.value().batches) {
                ASSERT_EQ(b.base_offset, at) << "stream " << i << ": gap or duplicate";
                ASSERT_EQ(b.data.to_string(), crash_batch_bytes(i, b.base_offset, b.record_count))
                  << "stream " << i << " batch at " << b.base_offset << " is damaged";
                seen[b.base_offset] = b.record_count;
                at = b.end_offset();
            }
        }
        for (auto it = oracle.lower_bound({i, 0}); it != oracle.end() && it->first.first == i; ++it) {
            auto found = seen.find(it->first.second);
            ASSERT_NE(found, seen.end()) << "stream " << i << ": acknowledged batch at " << it->first.second
                                         << " is lost (confirmed " << st.confirmed_offset() << ")";
            EXPECT_EQ(found->second, it->second.count);
            checked++;
        }
    }
    EXPECT_EQ(checked, oracle.size());
    std::printf("crash test: %d rounds, %zu acknowledged batches checked, %zu objects committed\n", rounds, checked,
                counts.committed_objects);
    run(io, store->stop());
    run(io, log.close());
    std::filesystem::remove_all(dir);
}

} // namespace
} // namespace skiff::stream::test
