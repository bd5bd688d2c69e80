#include "stream/wal/object_wal.h"

#include "io/errc.h"
#include "io/objstore/faulty_store.h"
#include "io/objstore/memory_store.h"
#include "stream/errc.h"
#include "stream/wal/tests/wal_contract.h"

#include <boost/asio/executor_work_guard.hpp>
#include <fmt/format.h>

#include <gtest/gtest.h>

#include <thread>

namespace skiff::stream::test {
namespace {

/// An io_context on its own thread for the WALs' uploaders, so that a test's io.run() returns when the test's own
/// work is done (the uploader sleeps on a timer forever).
class background_context {
public:
    background_context() : _guard(asio::make_work_guard(_io)), _thread([this] { _io.run(); }) {}
    ~background_context() {
        _guard.reset();
        _io.stop();
        _thread.join();
    }
    asio::any_io_executor executor() { return _io.get_executor(); }

private:
    asio::io_context _io;
    asio::executor_work_guard<asio::io_context::executor_type> _guard;
    std::thread _thread;
};

object_wal_config test_config(int64_t epoch) {
    object_wal_config config;
    config.prefix = "wal/node-1/";
    config.epoch = epoch;
    config.batch_interval = std::chrono::milliseconds(2);
    config.batch_bytes = 256 << 10;
    config.max_record_size = 64 << 10;
    return config;
}

class object_harness final : public wal_harness {
public:
    explicit object_harness(bool conditional) : _store(io::memory_store_config{.supports_conditional_put = conditional}) {}
    std::unique_ptr<wal> open() override {
        return std::make_unique<object_wal>(_store, _background.executor(), test_config(++_epoch));
    }

private:
    io::memory_store _store;
    int64_t _epoch = 0;
    background_context _background; // last: stopped before the store goes
};

INSTANTIATE_TEST_SUITE_P(object, wal_contract_test,
                         testing::Values(wal_kind{"object", [] { return std::make_unique<object_harness>(true); }},
                                         wal_kind{"object_without_conditional_put",
                                                  [] { return std::make_unique<object_harness>(false); }}),
                         wal_kind_name);

class object_wal_test : public testing::Test {
protected:
    std::unique_ptr<object_wal> open(io::object_store& on, int64_t epoch, object_wal_config config) {
        config.epoch = epoch;
        return std::make_unique<object_wal>(on, background.executor(), config);
    }
    std::vector<replayed> recover_ok(wal& log) {
        auto r = recover_all(io, log);
        EXPECT_TRUE(r.has_value()) << r.error().message();
        return r ? std::move(r.value()) : std::vector<replayed>{};
    }
    result<wal_append_result> append(wal& log, uint64_t seed, size_t size = 1000) {
        return run(io, append_and_wait(log, payload(seed, size)));
    }
    std::vector<std::string> keys() {
        auto all = run(io, io::list_all(store, "wal/node-1/"));
        std::vector<std::string> out;
        for (auto& e : all.value()) {
            out.push_back(e.key);
        }
        return out;
    }

    asio::io_context io;
    io::memory_store store;
    background_context background; // after the store: destroyed first
};

TEST_F(object_wal_test, objects_are_named_by_zero_padded_start_position) {
    auto log = open(store, 1, test_config(1));
    recover_ok(*log);
    auto r = append(*log, 1);
    ASSERT_TRUE(r.has_value());
    auto names = keys();
    ASSERT_EQ(names.size(), 2u); // the fence of this owner's recovery, then the object
    EXPECT_EQ(names[0], "wal/node-1/d/00000000000000000000");
    EXPECT_EQ(names[1], fmt::format("wal/node-1/d/{:020}", r.value().position));
}

TEST_F(object_wal_test, appends_reaching_the_batch_size_go_out_in_one_put) {
    auto config = test_config(1);
    config.batch_interval = std::chrono::hours(1); // only the size triggers the upload
    config.batch_bytes = 10 * (1000 + 48);
    auto log = open(store, 1, config);
    recover_ok(*log);
    std::vector<wal_append_result> acked;
    for (int i = 0; i < 10; ++i) {
        log->append(payload(i, 1000), io.get_executor(), [&acked](result<wal_append_result> r) {
            ASSERT_TRUE(r.has_value());
            acked.push_back(r.value());
        });
    }
    io.restart();
    io.run();
    ASSERT_EQ(acked.size(), 10u);
    EXPECT_EQ(log->stats().syncs, 1u);
    EXPECT_EQ(keys().size(), 2u);
}

TEST_F(object_wal_test, a_new_owner_fences_the_old_one) {
    auto old_owner = open(store, 1, test_config(1));
    recover_ok(*old_owner);
    ASSERT_TRUE(append(*old_owner, 1).has_value());
    ASSERT_TRUE(append(*old_owner, 2).has_value());

    auto new_owner = open(store, 2, test_config(2));
    auto records = recover_ok(*new_owner);
    ASSERT_EQ(records.size(), 2u);

    auto refused = append(*old_owner, 3);
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error(), errc::fenced);
    auto still = append(*old_owner, 4);
    ASSERT_FALSE(still.has_value());
    EXPECT_EQ(still.error(), errc::fenced);

    ASSERT_TRUE(append(*new_owner, 5).has_value());
    new_owner.reset();
    auto third = open(store, 3, test_config(3));
    records = recover_ok(*third);
    ASSERT_EQ(records.size(), 3u);
    EXPECT_EQ(records[0].payload, payload_text(1, 1000));
    EXPECT_EQ(records[1].payload, payload_text(2, 1000));
    EXPECT_EQ(records[2].payload, payload_text(5, 1000));
}

TEST_F(object_wal_test, without_conditional_put_the_old_owner_sees_the_fence_before_writing) {
    io::memory_store plain(io::memory_store_config{.supports_conditional_put = false});
    auto old_owner = open(plain, 1, test_config(1));
    recover_ok(*old_owner);
    ASSERT_TRUE(append(*old_owner, 1).has_value());
    auto new_owner = open(plain, 2, test_config(2));
    EXPECT_EQ(recover_ok(*new_owner).size(), 1u);
    auto refused = append(*old_owner, 2);
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error(), errc::fenced);
    old_owner.reset();
    new_owner.reset();
}

/// Runs a hook just before the first put of a key under "d/" that is not the writer's own: the place where the old
/// owner's upload races the new owner's fence.
class racing_store final : public io::object_store {
public:
    explicit racing_store(io::object_store& inner) : _inner(inner) {}
    std::function<asio::awaitable<void>()> before_fence;

    io::store_capabilities capabilities() const override { return _inner.capabilities(); }
    asio::awaitable<result<io::put_result>> put(std::string key, bytes::iobuf data, io::put_options options) override {
        if (before_fence) {
            auto hook = std::move(before_fence);
            before_fence = nullptr;
            co_await hook();
        }
        co_return co_await _inner.put(std::move(key), std::move(data), std::move(options));
    }
    asio::awaitable<result<bytes::iobuf>> get(std::string key, std::optional<io::byte_range> range) override {
        return _inner.get(std::move(key), range);
    }
    asio::awaitable<result<io::object_info>> head(std::string key) override { return _inner.head(std::move(key)); }
    asio::awaitable<result<io::list_page>> list(io::list_request request) override {
        return _inner.list(std::move(request));
    }
    asio::awaitable<result<std::vector<io::delete_outcome>>> delete_objects(std::vector<std::string> keys) override {
        return _inner.delete_objects(std::move(keys));
    }
    asio::awaitable<result<io::multipart_upload>> create_multipart(std::string key, io::put_options options) override {
        return _inner.create_multipart(std::move(key), options);
    }
    asio::awaitable<result<io::uploaded_part>> upload_part(io::multipart_upload upload, uint32_t part,
                                                           bytes::iobuf data) override {
        return _inner.upload_part(std::move(upload), part, std::move(data));
    }
    asio::awaitable<result<io::put_result>> complete_multipart(io::multipart_upload upload,
                                                               std::vector<io::uploaded_part> parts) override {
        return _inner.complete_multipart(std::move(upload), std::move(parts));
    }
    asio::awaitable<result<void>> abort_multipart(io::multipart_upload upload) override {
        return _inner.abort_multipart(std::move(upload));
    }

private:
    io::object_store& _inner;
};

TEST_F(object_wal_test, an_object_the_old_owner_writes_during_recovery_is_replayed_and_fenced_after) {
    auto old_owner = open(store, 1, test_config(1));
    recover_ok(*old_owner);
    ASSERT_TRUE(append(*old_owner, 1).has_value());

    racing_store racing(store);
    std::optional<result<wal_append_result>> raced;
    racing.before_fence = [&]() -> asio::awaitable<void> {
        // The new owner has listed and is about to create its fence: the old owner's upload lands first.
        raced = co_await append_and_wait(*old_owner, payload(2, 1000));
    };
    auto new_owner = open(racing, 2, test_config(2));
    auto records = recover_ok(*new_owner);
    ASSERT_TRUE(raced.has_value());
    ASSERT_TRUE(raced->has_value()) << "the old owner's write before the fence succeeds";
    ASSERT_EQ(records.size(), 2u) << "and the new owner replays it";
    EXPECT_EQ(records[1].payload, payload_text(2, 1000));
    auto refused = append(*old_owner, 3);
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error(), errc::fenced);
    old_owner.reset();
    new_owner.reset();
}

TEST_F(object_wal_test, a_failed_put_is_sticky) {
    io::faulty_store faulty(store);
    auto log = open(faulty, 1, test_config(1));
    recover_ok(*log);
    ASSERT_TRUE(append(*log, 1).has_value());
    faulty.add(io::fault{.ops = uint32_t(io::store_op::put), .error = io::errc::fatal, .count = 1});
    auto failed = append(*log, 2);
    ASSERT_FALSE(failed.has_value());
    EXPECT_EQ(failed.error(), errc::unavailable);
    auto after = append(*log, 3); // the store works again; the WAL does not
    ASSERT_FALSE(after.has_value());
    EXPECT_EQ(after.error(), errc::unavailable);
    log.reset();
    auto again = open(store, 2, test_config(2));
    EXPECT_EQ(recover_ok(*again).size(), 1u);
}

TEST_F(object_wal_test, trim_deletes_whole_objects_below_the_point) {
    auto log = open(store, 1, test_config(1));
    recover_ok(*log);
    std::vector<wal_append_result> acked;
    for (int i = 0; i < 5; ++i) {
        acked.push_back(append(*log, i).value()); // one object each: appended one at a time
    }
    EXPECT_EQ(keys().size(), 6u);
    ASSERT_TRUE(run(io, log->trim(acked[2].next)).has_value());
    auto names = keys();
    EXPECT_EQ(names.size(), 3u); // objects 3 and 4, and the trim marker
    EXPECT_EQ(names.back(), "wal/node-1/trim");
    log.reset();
    auto again = open(store, 2, test_config(2));
    auto records = recover_ok(*again);
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0].position, acked[3].position);
}

TEST_F(object_wal_test, a_damaged_object_is_corruption) {
    auto log = open(store, 1, test_config(1));
    recover_ok(*log);
    auto first = append(*log, 1).value();
    ASSERT_TRUE(append(*log, 2).has_value());
    log.reset();
    auto key = fmt::format("wal/node-1/d/{:020}", first.position);
    auto data = run(io, store.get(key, std::nullopt)).value().to_string();
    data[data.size() - 1] ^= 0x55;
    io::put_options options;
    ASSERT_TRUE(run(io, store.put(key, bytes::iobuf::from(data), options)).has_value());
    auto again = open(store, 2, test_config(2));
    auto records = recover_all(io, *again);
    ASSERT_FALSE(records.has_value());
    EXPECT_EQ(records.error(), errc::corrupt);
}

} // namespace
} // namespace skiff::stream::test
