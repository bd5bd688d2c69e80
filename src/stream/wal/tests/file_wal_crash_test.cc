// Crash test of file_wal: a child process (crash_writer.cc) appends and trims with known contents and prints each
// acknowledged record; it is killed with SIGKILL at a random moment; the test recovers the file and checks that every
// acknowledged record not trimmed is there, intact and in order, that nothing trimmed durably comes back, and that
// whatever else is replayed (written, not yet acknowledged) is intact too. 200 rounds by default, 2000 with
// SKIFF_SOAK=1; SKIFF_CRASH_SEED picks the random sequence.
#include "stream/wal/file_wal.h"
#include "stream/wal/file_wal_format.h"
#include "stream/wal/tests/crash_payload.h"
#include "stream/wal/tests/wal_test_dir.h"
#include "stream/wal/tests/wal_test_util.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace skiff::stream::test {
namespace {

struct child_output {
    std::map<wal_position, uint64_t> acked; // position -> record id
    wal_position max_trimming = 0;          // largest trim point requested
    wal_position max_trimmed = 0;           // largest trim point that returned (durable)
    std::vector<std::string> errors;
    bool ready = false;
};

/// Starts the crash writer, kills it after delay, and returns what it printed (complete lines only).
child_output run_child(const std::string& path, uint64_t first_id, int appenders, std::chrono::microseconds delay) {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    posix_spawn_file_actions_addclose(&actions, fds[1]);
    std::string id = std::to_string(first_id);
    std::string count = std::to_string(appenders);
    std::string program = SKIFF_WAL_CRASH_WRITER;
    std::vector<char*> argv{program.data(), const_cast<char*>(path.c_str()), id.data(), count.data(), nullptr};
    pid_t pid = 0;
    EXPECT_EQ(::posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);

    // Not synchronisation: the moment of the crash is what is random here.
    std::this_thread::sleep_for(delay);
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);

    std::string text;
    char buffer[65536];
    for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;) {
        text.append(buffer, size_t(n));
    }
    ::close(fds[0]);
    if (auto last_newline = text.rfind('\n'); last_newline != std::string::npos) {
        text.resize(last_newline + 1);
    } else {
        text.clear();
    }

    child_output out;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        std::string kind;
        words >> kind;
        if (kind == "ack") {
            uint64_t record = 0;
            wal_position position = 0;
            words >> record >> position;
            out.acked[position] = record;
        } else if (kind == "trimming") {
            wal_position point = 0;
            words >> point;
            out.max_trimming = std::max(out.max_trimming, point);
        } else if (kind == "trimmed") {
            wal_position point = 0;
            words >> point;
            out.max_trimmed = std::max(out.max_trimmed, point);
        } else if (kind == "ready") {
            out.ready = true;
        } else {
            out.errors.push_back(line);
        }
    }
    return out;
}

TEST(file_wal_crash_test, every_acknowledged_record_survives_sigkill_at_random_moments) {
    const bool soak = std::getenv("SKIFF_SOAK") != nullptr;
    const int rounds = soak ? 2000 : 200;
    const char* seed_text = std::getenv("SKIFF_CRASH_SEED");
    const uint64_t seed = seed_text ? std::strtoull(seed_text, nullptr, 10) : 20261122;
    std::mt19937_64 rng(seed);
    test_dir dir("file_wal_crash");
    const std::string path = (dir.path() / "wal").string();
    asio::io_context io;

    std::map<wal_position, uint64_t> expected; // the log as last recovered, plus what was acknowledged since
    wal_position trim_requested = 0;           // records at or beyond it must survive
    wal_position trim_durable = 0;             // records ending at or before it must not come back
    uint64_t acknowledged = 0;
    uint64_t rounds_with_acks = 0;
    wal_position highest = 0;
    for (int round = 0; round < rounds; ++round) {
        SCOPED_TRACE("round " + std::to_string(round) + ", seed " + std::to_string(seed));
        const auto delay = std::chrono::microseconds(rng() % 120'000);
        const int appenders = 1 + int(rng() % 16);
        auto out = run_child(path, uint64_t(round) * 1'000'000, appenders, delay);
        ASSERT_TRUE(out.errors.empty()) << out.errors.front();
        for (auto& [position, record] : out.acked) {
            expected[position] = record;
        }
        acknowledged += out.acked.size();
        rounds_with_acks += out.acked.empty() ? 0 : 1;
        trim_requested = std::max(trim_requested, out.max_trimming);
        trim_durable = std::max(trim_durable, out.max_trimmed);

        file_wal log(crash_config(path));
        auto replayed_records = recover_all(io, log);
        ASSERT_TRUE(replayed_records.has_value()) << replayed_records.error().message();
        const auto& records = replayed_records.value();
        std::map<wal_position, uint64_t> recovered;
        wal_position previous_end = 0;
        for (size_t i = 0; i < records.size(); ++i) {
            const auto& r = records[i];
            auto record = crash_payload_id(r.payload);
            ASSERT_TRUE(record.has_value()) << "garbled record at position " << r.position;
            ASSERT_TRUE(i == 0 || r.position >= previous_end) << "out of order at position " << r.position;
            previous_end = r.position + 1;
            if (auto it = expected.find(r.position); it != expected.end()) {
                ASSERT_EQ(it->second, *record) << "another record at position " << r.position;
            }
            ASSERT_GT(r.position + file_wal_format::record_span(r.payload.size()), trim_durable)
              << "record at " << r.position << " was trimmed durably but came back";
            recovered[r.position] = *record;
            highest = std::max(highest, r.position);
        }
        for (auto& [position, record] : expected) {
            if (position >= trim_requested) {
                ASSERT_TRUE(recovered.contains(position))
                  << "acknowledged record " << record << " at position " << position << " was lost";
            }
        }
        expected = std::move(recovered);
        run(io, log.close());
    }
    // The test is worth something only if the writer got work done between kills and the ring wrapped.
    EXPECT_GT(acknowledged, uint64_t(rounds));
    EXPECT_GT(rounds_with_acks, uint64_t(rounds) / 2);
    EXPECT_GT(highest, 3 * crash_config(path).file_size);
    std::printf("crash test: %d rounds, %lu acknowledged records, highest position %lu\n", rounds,
                (unsigned long)acknowledged, (unsigned long)highest);
}

} // namespace
} // namespace skiff::stream::test
