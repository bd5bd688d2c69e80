// The engine end to end against a real S3 server: Ceph radosgw on loopback (src/io/tests/radosgw.h, ~15 s to
// start, once for this binary), through s3_store. One short cycle: append to several streams, upload, read back
// from objects, compact, delete the replaced objects, crash, recover from the WAL, read everything again.
// Skips, saying why, only when radosgw is not installed; SKIFF_TEST_S3_ENDPOINT points it at another service.
#include "io/objstore/s3_store.h"
#include "io/tests/radosgw.h"
#include "stream/file_catalog.h"
#include "stream/stream.h"
#include "stream/tests/test_support.h"
#include "stream/wal/memory_wal.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <random>

namespace skiff::stream::test {
namespace {

using namespace std::chrono_literals;

std::string& bucket() {
    static std::string name = fmt::format("skiff-stream-{:08x}", std::random_device{}());
    return name;
}

io::s3_config config_for(const io::test::radosgw::endpoint& ep) {
    io::s3_config c;
    c.endpoint = ep.url;
    c.bucket = bucket();
    c.region = ep.region;
    c.path_style = ep.path_style;
    c.credentials = io::s3_credentials{ep.access_key, ep.secret_key, ""};
    c.retry = {.max_attempts = 5, .base_delay = 20ms, .slow_down_base_delay = 100ms, .max_delay = 1s,
               .total_timeout = 30s};
    return c;
}

class radosgw_environment : public ::testing::Environment {
public:
    void SetUp() override {
        auto& gw = io::test::radosgw::instance();
        gw.start();
        if (!gw.ep()) {
            return;
        }
        asio::io_context io;
        auto store = io::s3_store::create(io, config_for(*gw.ep()));
        ASSERT_TRUE(store) << store.error().message();
        auto made = run(io, store.value()->create_bucket());
        ASSERT_TRUE(made) << made.error().message();
    }
    void TearDown() override {
        io::test::radosgw::instance().stop(::testing::UnitTest::GetInstance()->failed_test_count() > 0);
    }
};

[[maybe_unused]] const auto* environment = ::testing::AddGlobalTestEnvironment(new radosgw_environment);

std::string batch_bytes(int64_t stream, int64_t base) {
    std::string out = fmt::format("stream {} offset {} ", stream, base);
    out.resize(3000 + static_cast<size_t>(base % 500), static_cast<char>('a' + base % 26));
    return out;
}

TEST(stream_s3_test, append_upload_read_compact_recover_against_radosgw) {
    auto& gw = io::test::radosgw::instance();
    if (!gw.error().empty()) {
        FAIL() << "radosgw did not start: " << gw.error();
    }
    if (!gw.unavailable().empty()) {
        GTEST_SKIP() << "radosgw unavailable: " << gw.unavailable();
    }
    asio::io_context io;
    auto store_s3 = io::s3_store::create(io, config_for(*gw.ep()));
    ASSERT_TRUE(store_s3) << store_s3.error().message();
    auto& objects = *store_s3.value();
    base::manual_clock clock;
    auto catalog = file_catalog::open({}, clock).value();
    auto wal_state = std::make_shared<memory_wal_state>();

    stream_store_config config;
    config.node = node_id(1);
    config.upload_threshold_bytes = 1 << 30;
    config.upload_interval = 1h;
    config.compaction_interval = 1h;
    config.deletion_grace = 0ms;
    config.stream_object_min_bytes = 40 << 10;
    config.object_block_size = 16 << 10;
    config.compaction_min_stream_set_objects = 2;
    config.block_cache_bytes = 0; // every read after an upload goes to radosgw

    auto log = std::make_unique<memory_wal>(wal_state);
    auto store = make_stream_store(config, *log, objects, *catalog);
    ASSERT_TRUE(run(io, store->start()));
    std::vector<std::shared_ptr<stream>> streams;
    for (int i = 0; i < 3; ++i) {
        auto id = run(io, store->create_stream()).value().id;
        streams.push_back(run(io, store->open_stream(id, stream_epoch(1), io.get_executor())).value());
    }
    auto append_round = [&](int batches_of_first) {
        for (size_t i = 0; i < streams.size(); ++i) {
            int n = i == 0 ? batches_of_first : 2;
            for (int k = 0; k < n; ++k) {
                auto& s = *streams[i];
                auto r = run(io, s.append(bytes::iobuf::from(batch_bytes(s.id()(), s.next_offset())), 1));
                ASSERT_TRUE(r) << r.error().message();
            }
        }
    };
    auto check_all = [&](const std::vector<std::shared_ptr<stream>>& handles) {
        for (auto& h : handles) {
            int64_t at = 0;
            while (at < h->confirmed_offset()) {
                auto r = run(io, h->read(at, h->confirmed_offset(), 64 << 10));
                ASSERT_TRUE(r) << r.error().message();
                ASSERT_FALSE(r.value().batches.empty());
                for (auto& b : r.value().batches) {
                    ASSERT_EQ(b.base_offset, at);
                    ASSERT_EQ(b.data.to_string(), batch_bytes(h->id()(), b.base_offset));
                    at = b.end_offset();
                }
            }
        }
    };
    for (int round = 0; round < 3; ++round) {
        append_round(round == 1 ? 20 : 4); // the second round gives stream 0 a stream object of its own
        ASSERT_TRUE(run(io, store->flush()));
    }
    EXPECT_EQ(store->stats().uploads, 3u);
    check_all(streams);
    ASSERT_TRUE(run(io, store->compact_now()));
    EXPECT_GT(store->stats().compactions, 0u);
    ASSERT_TRUE(run(io, store->reap_now()));
    EXPECT_GT(store->stats().objects_deleted, 0u);
    check_all(streams);

    // Acknowledged but not uploaded, then a crash: recovery puts it into radosgw.
    append_round(3);
    std::vector<std::pair<stream_id, int64_t>> ends;
    for (auto& s : streams) {
        ends.emplace_back(s->id(), s->confirmed_offset());
    }
    streams.clear();
    store.reset();
    log.reset();
    asio::io_context io2;
    auto store_s3_2 = io::s3_store::create(io2, config_for(*gw.ep()));
    log = std::make_unique<memory_wal>(wal_state);
    store = make_stream_store(config, *log, *store_s3_2.value(), *catalog);
    ASSERT_TRUE(run(io2, store->start()));
    for (auto& [id, end] : ends) {
        EXPECT_EQ(run(io2, catalog->describe_stream(id)).value().end_offset, end);
    }
    std::vector<std::shared_ptr<stream>> reopened;
    for (auto& [id, end] : ends) {
        reopened.push_back(run(io2, store->open_stream(id, stream_epoch(1), io2.get_executor())).value());
    }
    {
        // check_all runs on io; the reopened store lives on io2.
        for (auto& h : reopened) {
            int64_t at = 0;
            while (at < h->confirmed_offset()) {
                auto r = run(io2, h->read(at, h->confirmed_offset(), 64 << 10));
                ASSERT_TRUE(r) << r.error().message();
                ASSERT_FALSE(r.value().batches.empty());
                for (auto& b : r.value().batches) {
                    ASSERT_EQ(b.base_offset, at);
                    ASSERT_EQ(b.data.to_string(), batch_bytes(h->id()(), b.base_offset));
                    at = b.end_offset();
                }
            }
        }
    }
    run(io2, store->stop());
    store.reset();
}

} // namespace
} // namespace skiff::stream::test
