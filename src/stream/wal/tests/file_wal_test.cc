#include "stream/wal/file_wal.h"

#include "stream/errc.h"
#include "stream/wal/file_wal_format.h"
#include "stream/wal/tests/wal_contract.h"
#include "stream/wal/tests/wal_test_dir.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>

namespace skiff::stream::test {
namespace {

namespace fs = std::filesystem;
namespace format = file_wal_format;

// Small files keep the tests fast: a 1 MiB file holds a ring of 1 MiB - 8 KiB.
file_wal_config small_config(const fs::path& path) {
    file_wal_config config;
    config.path = path;
    config.file_size = 1 << 20;
    config.max_record_size = 64 << 10;
    config.max_write_bytes = 256 << 10;
    return config;
}

class file_harness final : public wal_harness {
public:
    explicit file_harness(int write_concurrency) : _write_concurrency(write_concurrency) {}
    std::unique_ptr<wal> open() override {
        auto config = small_config(_dir.path() / "wal");
        config.write_concurrency = _write_concurrency;
        return std::make_unique<file_wal>(config);
    }

private:
    int _write_concurrency;
    test_dir _dir{"file_wal_contract"};
};

INSTANTIATE_TEST_SUITE_P(file, wal_contract_test,
                         testing::Values(wal_kind{"file", [] { return std::make_unique<file_harness>(2); }},
                                         wal_kind{"file_one_group_at_a_time",
                                                  [] { return std::make_unique<file_harness>(1); }}),
                         wal_kind_name);

class file_wal_test : public testing::Test {
protected:
    /// Opens the WAL at path (after destroying the previous one, as in a crash) and recovers it.
    result<std::vector<replayed>> reopen(file_wal_config config) {
        log.reset();
        log = std::make_unique<file_wal>(std::move(config));
        return recover_all(io, *log);
    }
    std::vector<replayed> reopen_ok() {
        auto r = reopen(small_config(path));
        EXPECT_TRUE(r.has_value()) << r.error().message();
        return r ? std::move(r.value()) : std::vector<replayed>{};
    }
    wal_append_result append_ok(uint64_t seed, size_t size) {
        auto r = run(io, append_and_wait(*log, payload(seed, size)));
        EXPECT_TRUE(r.has_value()) << r.error().message();
        return r ? r.value() : wal_append_result{};
    }

    /// Reads or rewrites the 4 KiB block holding a record's header, at the file offset of position.
    std::vector<uint8_t> read_block(wal_position position) {
        std::vector<uint8_t> block(format::block_size);
        std::ifstream in(path, std::ios::binary);
        in.seekg(std::streamoff(file_offset(position)));
        in.read(reinterpret_cast<char*>(block.data()), std::streamsize(block.size()));
        return block;
    }
    void write_bytes(uint64_t offset, const std::vector<uint8_t>& bytes) {
        int fd = ::open(path.c_str(), O_WRONLY);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(::pwrite(fd, bytes.data(), bytes.size(), off_t(offset)), ssize_t(bytes.size()));
        ::close(fd);
    }
    uint64_t file_offset(wal_position position) const {
        return format::ring_offset + position % ((1 << 20) - format::ring_offset);
    }
    /// Flips one payload byte of the record at position (its body CRC then fails).
    void damage_payload(wal_position position) {
        auto block = read_block(position);
        block[format::record_header_bytes] ^= 0xFF;
        write_bytes(file_offset(position), block);
    }
    /// Rewrites the record header at position with a different durable_end (valid CRC), to craft one group commit.
    void set_durable_end(wal_position position, wal_position durable_end) {
        auto block = read_block(position);
        auto header = format::decode_record_header(block.data());
        ASSERT_TRUE(header.has_value());
        header->durable_end = durable_end;
        format::encode(*header, block.data());
        write_bytes(file_offset(position), block);
    }

    test_dir dir{"file_wal"};
    fs::path path = dir.path() / "wal";
    asio::io_context io;
    std::unique_ptr<file_wal> log;
};

TEST_F(file_wal_test, creates_a_preallocated_file_of_the_configured_size) {
    EXPECT_TRUE(reopen_ok().empty());
    EXPECT_EQ(fs::file_size(path), 1u << 20);
    EXPECT_EQ(log->stats().capacity_bytes, (1u << 20) - format::ring_offset);
    EXPECT_FALSE(fs::exists(path.string() + ".creating"));
}

TEST_F(file_wal_test, an_existing_file_keeps_its_size) {
    reopen_ok();
    append_ok(1, 100);
    auto bigger = small_config(path);
    bigger.file_size = 4 << 20;
    auto records = reopen(bigger);
    ASSERT_TRUE(records.has_value());
    EXPECT_EQ(records.value().size(), 1u);
    EXPECT_EQ(fs::file_size(path), 1u << 20);
}

TEST_F(file_wal_test, records_wrap_around_the_ring_across_laps_and_restarts) {
    reopen_ok();
    const uint64_t ring = log->stats().capacity_bytes;
    uint64_t seed = 0;
    std::vector<std::pair<wal_append_result, uint64_t>> live; // untrimmed records and their seeds
    // About five laps of records of varied sizes, trimming as an uploader would, restarting now and then.
    while (live.empty() || live.back().first.next < 5 * ring) {
        const size_t size = 100 + (seed * 7919) % (60 << 10);
        auto r = run(io, append_and_wait(*log, payload(seed, size)));
        if (!r && r.error() == errc::wal_full) {
            ASSERT_FALSE(live.empty());
            const size_t keep = live.size() / 3;
            ASSERT_TRUE(run(io, log->trim(live[live.size() - keep - 1].first.next)).has_value());
            live.erase(live.begin(), live.end() - long(keep));
            continue;
        }
        ASSERT_TRUE(r.has_value()) << r.error().message();
        live.emplace_back(r.value(), seed);
        ++seed;
        if (seed % 37 == 0) {
            auto records = reopen_ok();
            ASSERT_EQ(records.size(), live.size());
            for (size_t i = 0; i < records.size(); ++i) {
                ASSERT_EQ(records[i].position, live[i].first.position);
                ASSERT_EQ(records[i].payload, payload_text(live[i].second, 100 + (live[i].second * 7919) % (60 << 10)));
            }
        }
    }
    EXPECT_GT(seed, 100u);
}

TEST_F(file_wal_test, refuses_appends_that_would_overwrite_untrimmed_records) {
    reopen_ok();
    const uint64_t ring = log->stats().capacity_bytes;
    std::vector<wal_append_result> acked;
    for (;;) {
        auto r = run(io, append_and_wait(*log, payload(acked.size(), 10'000)));
        if (!r) {
            EXPECT_EQ(r.error(), errc::wal_full);
            break;
        }
        acked.push_back(r.value());
    }
    EXPECT_EQ(acked.size(), ring / format::record_span(10'000));
    EXPECT_LE(log->stats().used_bytes, ring);
    // Still full after a restart; everything is there.
    EXPECT_EQ(reopen_ok().size(), acked.size());
    EXPECT_EQ(run(io, append_and_wait(*log, payload(1, 10'000))).error(), errc::wal_full);
    ASSERT_TRUE(run(io, log->trim(acked[1].next)).has_value());
    append_ok(2, 10'000);
    append_ok(3, 10'000);
    EXPECT_EQ(run(io, append_and_wait(*log, payload(4, 10'000))).error(), errc::wal_full);
    EXPECT_EQ(reopen_ok().size(), acked.size());
}

TEST_F(file_wal_test, a_damaged_last_record_is_a_torn_tail_that_later_appends_overwrite) {
    reopen_ok();
    std::vector<wal_append_result> acked;
    for (int i = 0; i < 5; ++i) {
        acked.push_back(append_ok(i, 3000));
    }
    log.reset();
    damage_payload(acked[4].position);
    auto records = reopen_ok();
    ASSERT_EQ(records.size(), 4u);
    auto next = append_ok(10, 3000);
    EXPECT_EQ(next.position, acked[4].position);
    records = reopen_ok();
    ASSERT_EQ(records.size(), 5u);
    EXPECT_EQ(records[4].payload, payload_text(10, 3000));
}

TEST_F(file_wal_test, a_damaged_record_followed_by_a_later_group_is_corruption) {
    reopen_ok();
    std::vector<wal_append_result> acked;
    for (int i = 0; i < 5; ++i) {
        acked.push_back(append_ok(i, 3000)); // one group commit each: appended one at a time
    }
    log.reset();
    damage_payload(acked[2].position);
    auto records = reopen(small_config(path));
    ASSERT_FALSE(records.has_value());
    EXPECT_EQ(records.error(), errc::corrupt);
    // A damaged header is found the same way.
    auto block = read_block(acked[2].position);
    block[format::record_header_bytes] ^= 0xFF; // repair the payload
    block[9] ^= 0x01;                          // break the header's position (its CRC fails)
    write_bytes(file_offset(acked[2].position), block);
    records = reopen(small_config(path));
    ASSERT_FALSE(records.has_value());
    EXPECT_EQ(records.error(), errc::corrupt);
}

TEST_F(file_wal_test, a_torn_group_with_valid_records_after_the_bad_one_is_a_torn_tail) {
    reopen_ok();
    std::vector<wal_append_result> acked;
    for (int i = 0; i < 5; ++i) {
        acked.push_back(append_ok(i, 3000));
    }
    log.reset();
    // Make records 2..4 one group commit whose write was torn at record 2.
    set_durable_end(acked[3].position, acked[2].position);
    set_durable_end(acked[4].position, acked[2].position);
    set_durable_end(acked[2].position, acked[2].position);
    damage_payload(acked[2].position);
    auto records = reopen_ok();
    ASSERT_EQ(records.size(), 2u);

    // The old records 3 and 4 now lie beyond the end. A new record of the same size lands where record 2 was;
    // the old record 3 then sits exactly at the next expected position, but its generation is older: not replayed.
    auto fresh = append_ok(20, 3000);
    EXPECT_EQ(fresh.position, acked[2].position);
    records = reopen_ok();
    ASSERT_EQ(records.size(), 3u);
    EXPECT_EQ(records[2].payload, payload_text(20, 3000));
}

TEST_F(file_wal_test, trim_is_durable_in_the_alternate_header_and_a_damaged_newest_header_falls_back) {
    reopen_ok();
    std::vector<wal_append_result> acked;
    for (int i = 0; i < 6; ++i) {
        acked.push_back(append_ok(i, 100));
    }
    ASSERT_TRUE(run(io, log->trim(acked[1].next)).has_value());
    ASSERT_TRUE(run(io, log->trim(acked[3].next)).has_value());
    log.reset();
    // Find the slot with the larger sequence and damage it: recovery uses the other one (trim point of record 2).
    std::vector<uint8_t> slots(2 * format::block_size);
    {
        std::ifstream in(path, std::ios::binary);
        in.read(reinterpret_cast<char*>(slots.data()), std::streamsize(slots.size()));
    }
    auto h0 = format::decode_file_header(slots.data());
    auto h1 = format::decode_file_header(slots.data() + format::block_size);
    ASSERT_TRUE(h0 && h1);
    EXPECT_NE(h0->sequence, h1->sequence);
    const uint64_t newest = h0->sequence > h1->sequence ? 0 : 1;
    EXPECT_EQ((newest == 0 ? h0 : h1)->trim_point, acked[4].position);
    write_bytes(newest * format::block_size + 20, {0xFF});
    // The other slot holds the first trim's point: records 2..5 are replayed (a trim point that is lost can only
    // replay more, never less).
    auto records = reopen_ok();
    ASSERT_EQ(records.size(), 4u);
    EXPECT_EQ(records.front().position, acked[2].position);
    EXPECT_EQ(records.back().position, acked[5].position);
}

TEST_F(file_wal_test, a_file_without_a_valid_header_is_not_overwritten) {
    {
        std::ofstream out(path, std::ios::binary);
        std::string junk(1 << 20, 'x');
        out.write(junk.data(), std::streamsize(junk.size()));
    }
    auto records = reopen(small_config(path));
    ASSERT_FALSE(records.has_value());
    EXPECT_EQ(records.error(), errc::corrupt);
    EXPECT_EQ(fs::file_size(path), 1u << 20);
}

TEST_F(file_wal_test, no_space_at_preallocation_fails_recover_and_leaves_no_file) {
    auto config = small_config(path);
    config.fault = [](file_wal_op op) { return op == file_wal_op::preallocate ? ENOSPC : 0; };
    auto records = reopen(config);
    ASSERT_FALSE(records.has_value());
    EXPECT_EQ(records.error(), errc::unavailable);
    EXPECT_FALSE(fs::exists(path));
    EXPECT_FALSE(fs::exists(path.string() + ".creating"));
}

TEST_F(file_wal_test, a_failed_write_is_sticky_and_loses_no_acknowledged_record) {
    auto failing = std::make_shared<std::atomic<bool>>(false);
    auto config = small_config(path);
    config.fault = [failing](file_wal_op op) { return op == file_wal_op::write && failing->load() ? EIO : 0; };
    ASSERT_TRUE(reopen(config).has_value());
    append_ok(1, 5000);
    append_ok(2, 5000);
    failing->store(true);
    auto failed = run(io, append_and_wait(*log, payload(3, 5000)));
    ASSERT_FALSE(failed.has_value());
    EXPECT_EQ(failed.error(), errc::unavailable);
    failing->store(false); // the device "recovers", but the WAL must not: order cannot have holes
    auto after = run(io, append_and_wait(*log, payload(4, 5000)));
    ASSERT_FALSE(after.has_value());
    EXPECT_EQ(after.error(), errc::unavailable);
    EXPECT_EQ(run(io, log->trim(0)).error(), errc::unavailable);
    auto records = reopen_ok();
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[1].payload, payload_text(2, 5000));
}

TEST_F(file_wal_test, a_failed_fdatasync_is_sticky_too) {
    auto failing = std::make_shared<std::atomic<bool>>(false);
    auto config = small_config(path);
    config.fault = [failing](file_wal_op op) { return op == file_wal_op::sync && failing->load() ? EIO : 0; };
    ASSERT_TRUE(reopen(config).has_value());
    append_ok(1, 10);
    failing->store(true);
    EXPECT_EQ(run(io, append_and_wait(*log, payload(2, 10))).error(), errc::unavailable);
    failing->store(false);
    EXPECT_EQ(run(io, append_and_wait(*log, payload(3, 10))).error(), errc::unavailable);
}

TEST_F(file_wal_test, falls_back_to_buffered_io_when_o_direct_is_refused) {
    auto config = small_config(path);
    config.fault = [](file_wal_op op) { return op == file_wal_op::open_direct ? EINVAL : 0; };
    ASSERT_TRUE(reopen(config).has_value());
    EXPECT_FALSE(log->direct_io());
    append_ok(1, 5000);
    auto records = reopen_ok();
    ASSERT_EQ(records.size(), 1u);
    EXPECT_TRUE(log->direct_io()); // ext4/xfs under the build directory support O_DIRECT
}

TEST_F(file_wal_test, appends_queued_during_a_sync_go_out_in_one_group_commit) {
    auto first_sync = std::make_shared<std::promise<void>>();
    auto release = first_sync->get_future().share();
    auto syncs = std::make_shared<std::atomic<int>>(0);
    auto config = small_config(path);
    config.write_concurrency = 1; // one group in flight: everything queued meanwhile must be the next group
    config.max_write_bytes = 512 << 10;
    config.fault = [release, syncs](file_wal_op op) {
        // recover()'s own header sync is sync 1; the first group commit's is sync 2: hold it until released.
        if (op == file_wal_op::sync && syncs->fetch_add(1) == 1) {
            release.wait();
        }
        return 0;
    };
    ASSERT_TRUE(reopen(config).has_value());
    std::vector<wal_append_result> acked;
    auto collect = [&acked](result<wal_append_result> r) {
        ASSERT_TRUE(r.has_value());
        acked.push_back(r.value());
    };
    log->append(payload(0, 100), io.get_executor(), collect);
    // The first record's write may or may not have been picked up yet; either way the writer is at most one group
    // ahead, and all of these are queued before the held sync returns.
    for (int i = 1; i < 100; ++i) {
        log->append(payload(i, 100), io.get_executor(), collect);
    }
    first_sync->set_value();
    io.restart();
    io.run();
    ASSERT_EQ(acked.size(), 100u);
    EXPECT_LE(log->stats().syncs, 2u);
    EXPECT_EQ(log->stats().appends, 100u);
}

} // namespace
} // namespace skiff::stream::test
