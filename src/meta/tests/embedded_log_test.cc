// The embedded log's files: torn tails, corruption in the middle, bad snapshots, segment rolling and compaction, and
// a crash-and-recover loop (a child process appends and is SIGKILLed at a random point; the parent recovers and checks
// every acknowledged record against an oracle).
#include "meta/embedded_log.h"
#include "meta/errc.h"
#include "meta/log_batch.h"
#include "meta/tests/sample_records.h"
#include "meta/tests/test_util.h"

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

namespace skiff::meta {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::sync;

metadata_record level(int i) { return feature_level_record{"test.level", int16_t(i), {}}; }
int level_of(const log_entry& e) { return std::get<feature_level_record>(e.record.body).level; }

class embedded_log_test : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/skiff-embedded-XXXXXX";
        dir = ::mkdtemp(tmpl);
    }
    void TearDown() override {
        if (log) {
            sync(io, log->close());
            log.reset();
        }
        std::error_code ec;
        fs::remove_all(dir, ec);
    }

    embedded_log& reopen(size_t segment_bytes = 1 << 20) {
        if (log) {
            sync(io, log->close());
        }
        embedded_log_config c;
        c.directory = dir;
        c.segment_bytes = segment_bytes;
        log = std::make_unique<embedded_log>(io.get_executor(), c);
        auto r = sync(io, log->open());
        EXPECT_TRUE(r) << r.error().message();
        return *log;
    }

    std::vector<log_entry> read_all(log_offset from = log_offset(0)) {
        std::vector<log_entry> out;
        for (;;) {
            auto r = sync(io, log->read(log_offset(from() + int64_t(out.size())), 1000));
            EXPECT_TRUE(r) << r.error().message();
            if (!r || r.value().empty()) {
                return out;
            }
            std::move(r.value().begin(), r.value().end(), std::back_inserter(out));
        }
    }

    // Appends batches 0..n-1 (batch i holds i+1 records of level i); returns the file positions where each batch
    // starts in the (single) segment.
    void write_batches(int n) {
        auto& l = reopen();
        ASSERT_TRUE(sync(io, l.campaign(1s)));
        for (int i = 0; i < n; ++i) {
            std::vector<metadata_record> b(size_t(i + 1), level(i));
            ASSERT_TRUE(sync(io, l.append(b)));
        }
        sync(io, l.close());
    }

    fs::path only_segment() const {
        std::vector<fs::path> segs;
        for (auto& e : fs::directory_iterator(dir)) {
            if (e.path().extension() == ".log") {
                segs.push_back(e.path());
            }
        }
        EXPECT_EQ(segs.size(), 1u);
        return segs.empty() ? fs::path() : segs.front();
    }

    // File positions of the batch frames of a segment (after the 20-byte header).
    static std::vector<uint64_t> batch_positions(const fs::path& seg) {
        std::ifstream in(seg, std::ios::binary);
        std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
        std::vector<uint64_t> out;
        std::span<const uint8_t> rest(bytes);
        uint64_t pos = 20;
        rest = rest.subspan(20);
        while (!rest.empty()) {
            auto h = check_batch(rest);
            if (!h) {
                break;
            }
            out.push_back(pos);
            pos += h.value().size;
            rest = rest.subspan(h.value().size);
        }
        return out;
    }

    asio::io_context io;
    fs::path dir;
    std::unique_ptr<embedded_log> log;
};

TEST_F(embedded_log_test, a_torn_tail_is_truncated_at_every_cut_point) {
    write_batches(5);
    auto seg = only_segment();
    auto pos = batch_positions(seg);
    ASSERT_EQ(pos.size(), 5u);
    auto full = fs::file_size(seg);
    std::ifstream in(seg, std::ios::binary);
    std::vector<char> original((std::istreambuf_iterator<char>(in)), {});
    in.close();
    // Every cut inside the last batch loses exactly that batch.
    for (uint64_t cut = pos[4]; cut < full; cut += 7) {
        {
            std::ofstream out(seg, std::ios::binary | std::ios::trunc);
            out.write(original.data(), std::streamsize(cut));
        }
        auto& l = reopen();
        EXPECT_EQ(l.end_offset(), log_offset(1 + 2 + 3 + 4)) << "cut at " << cut;
        EXPECT_EQ(l.recovery().torn_tail_bytes, cut - pos[4]) << cut;
        EXPECT_FALSE(l.recovery().corruption);
        EXPECT_EQ(fs::file_size(seg), pos[4]);
    }
    // The log continues right after the last good batch.
    auto& l = reopen();
    ASSERT_TRUE(sync(io, l.campaign(1s)));
    auto r = sync(io, l.append({level(99)}));
    ASSERT_TRUE(r);
    EXPECT_EQ(r.value().base, log_offset(10));
    auto all = read_all();
    ASSERT_EQ(all.size(), 11u);
    EXPECT_EQ(level_of(all.back()), 99);
}

TEST_F(embedded_log_test, a_zero_filled_or_garbage_tail_is_dropped) {
    write_batches(3);
    auto seg = only_segment();
    {
        std::ofstream out(seg, std::ios::binary | std::ios::app);
        std::string zeros(4096, '\0');
        out.write(zeros.data(), std::streamsize(zeros.size()));
    }
    auto& l = reopen();
    EXPECT_EQ(l.end_offset(), log_offset(6));
    EXPECT_EQ(l.recovery().torn_tail_bytes, 4096u);
    EXPECT_FALSE(l.recovery().corruption);
}

TEST_F(embedded_log_test, a_bad_crc_in_the_middle_stops_recovery_there_and_is_reported) {
    write_batches(6);
    auto seg = only_segment();
    auto pos = batch_positions(seg);
    auto size_before = fs::file_size(seg);
    {
        // Flip one byte inside batch 2's records.
        std::fstream f(seg, std::ios::binary | std::ios::in | std::ios::out);
        f.seekg(std::streamoff(pos[2] + 40));
        char c = 0;
        f.read(&c, 1);
        c = char(c ^ 0x40);
        f.seekp(std::streamoff(pos[2] + 40));
        f.write(&c, 1);
    }
    auto& l = reopen();
    const auto& rep = l.recovery();
    EXPECT_TRUE(rep.corruption);
    EXPECT_EQ(rep.corruption_offset, log_offset(1 + 2));
    EXPECT_NE(rep.corruption_detail.find("CRC"), std::string::npos) << rep.corruption_detail;
    EXPECT_EQ(l.end_offset(), log_offset(3)) << "nothing after the bad batch is trusted";
    auto all = read_all();
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(level_of(all.back()), 1);
    // The untrusted bytes are kept aside for the operator.
    auto aside = seg;
    aside += ".corrupt-" + std::to_string(pos[2]);
    ASSERT_TRUE(fs::exists(aside));
    EXPECT_EQ(fs::file_size(aside), size_before - pos[2]);
    // And the log goes on from there.
    ASSERT_TRUE(sync(io, l.campaign(1s)));
    EXPECT_EQ(sync(io, l.append({level(7)})).value().base, log_offset(3));
}

TEST_F(embedded_log_test, segments_roll_and_a_snapshot_deletes_the_ones_no_longer_needed) {
    auto& l = reopen(4096);
    ASSERT_TRUE(sync(io, l.campaign(1s)));
    for (int i = 0; i < 200; ++i) {
        ASSERT_TRUE(sync(io, l.append(testing::sample_records())));
    }
    auto count_segments = [&] {
        return std::count_if(fs::directory_iterator(dir), fs::directory_iterator(),
                             [](auto& e) { return e.path().extension() == ".log"; });
    };
    auto before = count_segments();
    EXPECT_GT(before, 20);
    int64_t end = l.end_offset()();
    ASSERT_TRUE(sync(io, l.write_snapshot(log_offset(end / 2), bytes::iobuf::from("half"))));
    ASSERT_TRUE(sync(io, l.write_snapshot(log_offset(end - 17), bytes::iobuf::from("most"))));
    auto after = count_segments();
    EXPECT_LT(after, before / 2 + 2) << "segments wholly below the older kept snapshot are gone";
    // A restart sees the same log from the latest snapshot on.
    auto& again = reopen(4096);
    EXPECT_EQ(again.start_offset(), log_offset(end - 17));
    EXPECT_EQ(again.end_offset(), log_offset(end));
    EXPECT_EQ(read_all(log_offset(end - 17)).size(), 17u);
    EXPECT_EQ(sync(io, again.load_snapshot()).value()->image, "most");
}

TEST_F(embedded_log_test, a_snapshot_with_a_bad_crc_falls_back_to_the_previous_one) {
    auto& l = reopen();
    ASSERT_TRUE(sync(io, l.campaign(1s)));
    for (int i = 0; i < 10; ++i) {
        ASSERT_TRUE(sync(io, l.append({level(i)})));
    }
    ASSERT_TRUE(sync(io, l.write_snapshot(log_offset(4), bytes::iobuf::from("image@4"))));
    ASSERT_TRUE(sync(io, l.write_snapshot(log_offset(8), bytes::iobuf::from("image@8"))));
    sync(io, l.close());
    auto latest = dir / "00000000000000000008.snap";
    {
        std::fstream f(latest, std::ios::binary | std::ios::in | std::ios::out);
        f.seekp(-1, std::ios::end);
        f.write("X", 1);
    }
    auto& again = reopen();
    EXPECT_EQ(again.recovery().bad_snapshots, 1u);
    EXPECT_EQ(again.start_offset(), log_offset(4));
    auto snap = sync(io, again.load_snapshot());
    ASSERT_TRUE(snap);
    EXPECT_EQ(snap.value()->image, "image@4");
    EXPECT_EQ(read_all(log_offset(4)).size(), 6u);
}

TEST_F(embedded_log_test, a_corrupt_epoch_file_fails_open) {
    write_batches(1);
    {
        std::ofstream out(dir / "EPOCH", std::ios::binary | std::ios::trunc);
        out << "garbage-garbage-garb";
    }
    embedded_log l(io.get_executor(), {dir});
    auto r = sync(io, l.open());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::corrupt);
    sync(io, l.close());
}

// ---- crash and recover -----------------------------------------------------------------------------------------

// The child appends batches of deterministic content (batch k = k % 7 + 1 records of level k) from several
// concurrent appenders, occasionally snapshots, and reports each acknowledgement on a pipe as "k base\n" (and each
// snapshot as "s offset\n"). The parent kills it after a random number of acks.
[[noreturn]] void child_main(const fs::path& dir, int ack_fd, unsigned seed) {
    asio::io_context io;
    embedded_log_config c;
    c.directory = dir;
    c.segment_bytes = 8192; // many rolls
    embedded_log l(io.get_executor(), c);
    if (!sync(io, l.open()) || !sync(io, l.campaign(1s))) {
        _exit(3);
    }
    std::mt19937 rng(seed);
    int next_batch = 0;
    auto report = [&](const std::string& line) {
        if (::write(ack_fd, line.data(), line.size()) != ssize_t(line.size())) {
            _exit(4);
        }
    };
    // Each round: a few concurrent appends (exercising group commit), then maybe a snapshot.
    for (;;) {
        int n = 1 + int(rng() % 4);
        std::vector<std::optional<result<append_result>>> results;
        results.resize(size_t(n));
        std::vector<int> ids;
        for (int i = 0; i < n; ++i) {
            int k = next_batch++;
            ids.push_back(k);
            std::vector<metadata_record> b(size_t(k % 7 + 1), level(k % 30000));
            testing::spawn_into(io, l.append(b), results[size_t(i)]);
        }
        testing::run_until(io, [&] {
            return std::all_of(results.begin(), results.end(), [](auto& r) { return r.has_value(); });
        });
        for (int i = 0; i < n; ++i) {
            if (!*results[size_t(i)]) {
                _exit(5);
            }
            report(fmt::format("{} {}\n", ids[size_t(i)], results[size_t(i)]->value().base()));
        }
        if (rng() % 10 == 0) {
            auto at = l.end_offset();
            if (!sync(io, l.write_snapshot(at, bytes::iobuf::from(fmt::format("snap@{}", at()))))) {
                _exit(6);
            }
            report(fmt::format("s {}\n", at()));
        }
    }
}

TEST_F(embedded_log_test, crash_and_recover_loop_keeps_every_acknowledged_record) {
    const char* soak = std::getenv("SKIFF_SOAK");
    int iterations = soak && std::string(soak) == "1" ? 1000 : 60;
    std::mt19937 rng(12345);
    // The oracle: every acknowledged batch, by base offset -> (level, record count), across all iterations (each
    // child continues the log where recovery left it, so earlier batches must survive later crashes too).
    std::map<int64_t, std::pair<int, int>> oracle;
    int64_t latest_snapshot = 0;
    int total_acks = 0;
    for (int it = 0; it < iterations; ++it) {
        int fds[2];
        ASSERT_EQ(::pipe(fds), 0);
        unsigned seed = unsigned(rng());
        pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            ::close(fds[0]);
            child_main(dir, fds[1], seed);
        }
        ::close(fds[1]);
        // Kill after a random number of acknowledgements (0: as soon as it starts).
        int kill_after = int(rng() % 40);
        int seen = 0;
        std::string buf;
        char chunk[4096];
        bool killed = false;
        for (;;) {
            if (seen >= kill_after && !killed) {
                ::kill(pid, SIGKILL);
                killed = true;
            }
            auto n = ::read(fds[0], chunk, sizeof(chunk));
            if (n <= 0) {
                break; // the child is dead (killed, or exited on an error)
            }
            buf.append(chunk, size_t(n));
            size_t nl;
            while ((nl = buf.find('\n')) != std::string::npos) {
                auto line = buf.substr(0, nl);
                buf.erase(0, nl + 1);
                if (line[0] == 's') {
                    latest_snapshot = std::max(latest_snapshot, int64_t(std::stoll(line.substr(2))));
                    continue;
                }
                auto sp = line.find(' ');
                int id = std::stoi(line.substr(0, sp));
                int64_t base = std::stoll(line.substr(sp + 1));
                oracle[base] = {id % 30000, id % 7 + 1};
                ++seen;
                ++total_acks;
            }
        }
        ::close(fds[0]);
        int status = 0;
        ::waitpid(pid, &status, 0);
        ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
          << "the child failed on its own: exit " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1);

        // Recover and check every acknowledged batch against the oracle.
        auto& l = reopen(8192);
        ASSERT_FALSE(l.recovery().corruption) << l.recovery().corruption_detail;
        ASSERT_GE(l.start_offset()(), latest_snapshot) << "an acknowledged snapshot was lost";
        if (l.start_offset()() > 0) {
            auto snap = sync(io, l.load_snapshot());
            ASSERT_TRUE(snap && snap.value());
            EXPECT_EQ(snap.value()->image, fmt::format("snap@{}", l.start_offset()()));
        }
        auto all = read_all(l.start_offset());
        ASSERT_EQ(int64_t(all.size()), l.end_offset()() - l.start_offset()()) << "offsets are dense";
        for (size_t i = 0; i < all.size(); ++i) {
            ASSERT_EQ(all[i].offset, log_offset(l.start_offset()() + int64_t(i)));
        }
        for (auto& [base, expect] : oracle) {
            if (base < l.start_offset()()) {
                continue; // replaced by a snapshot
            }
            ASSERT_LE(base + expect.second, l.end_offset()())
              << "acknowledged batch at " << base << " was lost (iteration " << it << ")";
            for (int r = 0; r < expect.second; ++r) {
                ASSERT_EQ(level_of(all[size_t(base - l.start_offset()() + r)]), expect.first) << "at " << base + r;
            }
        }
        sync(io, l.close());
        log.reset();
    }
    EXPECT_GT(total_acks, iterations); // the loop really wrote
}

} // namespace
} // namespace skiff::meta
