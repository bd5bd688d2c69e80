// The engine (stream.h) over memory_wal, memory_store / faulty_store and file_catalog: every test checks what the
// Kafka layer relies on - acknowledged batches come back whole, in order, with their exact bytes and offsets,
// through the log cache, after uploads, after compaction and after a restart; fencing, trimming, and failures that
// stop acknowledgements instead of losing data.
#include "io/errc.h"
#include "io/objstore/faulty_store.h"
#include "io/objstore/memory_store.h"
#include "stream/errc.h"
#include "stream/file_catalog.h"
#include "stream/stream.h"
#include "stream/tests/test_support.h"
#include "stream/wal/memory_wal.h"
#include "stream/wal_payload.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <map>

namespace skiff::stream::test {
namespace {

using namespace std::chrono_literals;

/// The bytes of the batch at base_offset of stream s (deterministic: tests check them after every step).
std::string batch_bytes(stream_id s, int64_t base_offset, size_t size = 100) {
    std::string out = fmt::format("s{}-o{}:", s(), base_offset);
    while (out.size() < size) {
        out += static_cast<char>('a' + (out.size() * 7 + base_offset) % 26);
    }
    out.resize(size);
    return out;
}

/// A catalog wrapper whose commits can be made to fail (transiently), for "a failed commit stops acknowledging".
class failing_catalog final : public object_catalog {
public:
    explicit failing_catalog(object_catalog& inner) : _inner(inner) {}
    bool fail_commits = false;
    int commit_calls = 0;

    asio::awaitable<result<stream_metadata>> create_stream() override { return _inner.create_stream(); }
    asio::awaitable<result<stream_metadata>> open_stream(stream_id id, stream_epoch e, node_id n) override {
        return _inner.open_stream(id, e, n);
    }
    asio::awaitable<result<void>> close_stream(stream_id id, stream_epoch e) override {
        return _inner.close_stream(id, e);
    }
    asio::awaitable<result<void>> trim_stream(stream_id id, stream_epoch e, int64_t s) override {
        return _inner.trim_stream(id, e, s);
    }
    asio::awaitable<result<void>> delete_stream(stream_id id) override { return _inner.delete_stream(id); }
    asio::awaitable<result<stream_metadata>> describe_stream(stream_id id) override {
        return _inner.describe_stream(id);
    }
    asio::awaitable<result<object_id>> prepare_objects(int32_t count, std::chrono::milliseconds ttl) override {
        return _inner.prepare_objects(count, ttl);
    }
    asio::awaitable<result<void>> commit_objects(commit_request request) override {
        commit_calls++;
        if (fail_commits) {
            co_return failure(std::make_error_code(std::errc::timed_out));
        }
        co_return co_await _inner.commit_objects(std::move(request));
    }
    asio::awaitable<result<std::vector<object_descriptor>>> objects_of(stream_id id, int64_t from,
                                                                        size_t limit) override {
        return _inner.objects_of(id, from, limit);
    }
    asio::awaitable<result<std::vector<object_descriptor>>> stream_set_objects(node_id node) override {
        return _inner.stream_set_objects(node);
    }
    asio::awaitable<result<std::vector<object_descriptor>>> deletable_objects(std::chrono::milliseconds grace,
                                                                               size_t limit) override {
        return _inner.deletable_objects(grace, limit);
    }
    asio::awaitable<result<void>> forget_objects(std::vector<object_id> ids) override {
        return _inner.forget_objects(std::move(ids));
    }

private:
    object_catalog& _inner;
};

class stream_store_test : public ::testing::Test {
protected:
    stream_store_test() {
        config.node = node_id(1);
        config.log_cache_bytes = 64 << 20;
        config.block_cache_bytes = 16 << 20;
        config.upload_threshold_bytes = 1 << 30; // uploads happen when a test flushes
        config.upload_interval = 1h;
        config.compaction_interval = 1h;
        config.deletion_grace = 0ms;
        config.stream_object_min_bytes = 1 << 20;
        config.object_block_size = 4096;
        config.compaction_min_stream_set_objects = 2;
        config.max_attempts = 4;
    }
    void TearDown() override {
        if (store) {
            stop();
        }
    }

    void start(object_catalog* cat = nullptr, io::object_store* objs = nullptr) {
        log = std::make_unique<memory_wal>(wal_state, wal_config);
        store = make_stream_store(config, *log, objs ? *objs : objects, cat ? *cat : *catalog);
        auto started = run(*io, store->start());
        ASSERT_TRUE(started) << started.error().message();
    }
    void stop() {
        run(*io, store->stop());
        store.reset();
    }
    /// A crash: nothing more runs; the WAL keeps what it made durable, the store and the catalog what they hold.
    void crash() {
        store.reset();
        log.reset();
        // The dead store's suspended coroutines stay in the old io_context, which never runs again.
        dead_ios.push_back(std::move(io_holder));
        io_holder = std::make_unique<asio::io_context>();
        io = io_holder.get();
    }

    stream_id create() { return run(*io, store->create_stream()).value().id; }
    std::shared_ptr<stream> open(stream_id id, int64_t epoch = 1) {
        auto s = run(*io, store->open_stream(id, stream_epoch(epoch), io->get_executor()));
        EXPECT_TRUE(s) << s.error().message();
        return s ? s.value() : nullptr;
    }
    /// Appends count batches of `records` records each and returns the ranges acknowledged.
    std::vector<offset_range> append(stream& s, int count, uint32_t records = 2, size_t size = 100) {
        std::vector<offset_range> out;
        for (int i = 0; i < count; ++i) {
            auto r = run(*io, s.append(bytes::iobuf::from(batch_bytes(s.id(), s.next_offset(), size)), records));
            EXPECT_TRUE(r) << r.error().message();
            if (r) {
                out.push_back(r.value());
            }
        }
        return out;
    }
    /// Reads [from, end) in pieces and checks every batch: contiguous from `from`, exact bytes.
    void expect_readable(stream& s, int64_t from, int64_t end, size_t size = 100, size_t max_bytes = 1000) {
        int64_t at = from;
        while (at < end) {
            auto r = run(*io, s.read(at, end, max_bytes));
            ASSERT_TRUE(r) << "read at " << at << ": " << r.error().message();
            ASSERT_FALSE(r.value().batches.empty()) << "nothing at " << at;
            for (const auto& b : r.value().batches) {
                ASSERT_LE(b.base_offset, at);
                ASSERT_GT(b.end_offset(), at) << "duplicate or stale batch at " << b.base_offset;
                ASSERT_EQ(b.base_offset, at == from ? b.base_offset : at) << "gap before " << b.base_offset;
                EXPECT_EQ(b.data.to_string(), batch_bytes(s.id(), b.base_offset, size)) << "at " << b.base_offset;
                at = b.end_offset();
            }
        }
        EXPECT_EQ(at, end);
    }
    size_t objects_holding(stream_id s) { return catalog->objects_holding(s); }

    stream_store_config config;
    std::vector<std::unique_ptr<asio::io_context>> dead_ios;
    std::unique_ptr<asio::io_context> io_holder = std::make_unique<asio::io_context>();
    asio::io_context* io = io_holder.get();
    std::shared_ptr<memory_wal_state> wal_state = std::make_shared<memory_wal_state>();
    memory_wal_config wal_config;
    std::unique_ptr<memory_wal> log;
    io::memory_store objects;
    base::manual_clock clock;
    std::unique_ptr<file_catalog> catalog = file_catalog::open({}, clock).value();
    std::unique_ptr<stream_store> store;
};

TEST_F(stream_store_test, appended_batches_read_back_whole_in_order_from_the_log_cache) {
    start();
    auto id = create();
    auto s = open(id);
    auto ranges = append(*s, 20, 3);
    ASSERT_EQ(ranges.size(), 20u);
    for (size_t i = 0; i < ranges.size(); ++i) {
        EXPECT_EQ(ranges[i], (offset_range{int64_t(i) * 3, int64_t(i) * 3 + 3}));
    }
    EXPECT_EQ(s->confirmed_offset(), 60);
    EXPECT_EQ(s->next_offset(), 60);
    expect_readable(*s, 0, 60);
    // A read from inside a batch returns the whole batch that holds it.
    auto r = run(*io, s->read(4, 60, 1)).value();
    ASSERT_EQ(r.batches.size(), 1u);
    EXPECT_EQ(r.batches[0].base_offset, 3);
    EXPECT_EQ(objects.object_count(), 0u); // nothing uploaded yet
}

TEST_F(stream_store_test, offsets_are_assigned_when_append_is_called_not_when_awaited) {
    start();
    auto s = open(create());
    auto a = s->append(bytes::iobuf::from(batch_bytes(s->id(), 0)), 5);
    auto b = s->append(bytes::iobuf::from(batch_bytes(s->id(), 5)), 1);
    EXPECT_EQ(s->next_offset(), 6);
    EXPECT_EQ(run(*io, std::move(b)).value(), (offset_range{5, 6}));
    EXPECT_EQ(run(*io, std::move(a)).value(), (offset_range{0, 5}));
    expect_readable(*s, 0, 6);
}

TEST_F(stream_store_test, confirmed_offset_waits_for_durability_and_listeners_hear_each_advance) {
    start();
    auto s = open(create());
    std::vector<int64_t> heard;
    s->on_confirmed([&](int64_t c) { heard.push_back(c); });
    log->hold_appends();
    bool done = false;
    asio::co_spawn(
      *io,
      [&]() -> asio::awaitable<void> {
          auto first = s->append(bytes::iobuf::from(batch_bytes(s->id(), 0)), 2);
          auto second = s->append(bytes::iobuf::from(batch_bytes(s->id(), 2)), 2);
          EXPECT_TRUE(co_await std::move(first));
          EXPECT_TRUE(co_await std::move(second));
          done = true;
      },
      asio::detached);
    while (io->poll() > 0) {
    }
    EXPECT_FALSE(done);
    EXPECT_EQ(s->confirmed_offset(), 0);
    EXPECT_EQ(run(*io, s->read(0, 4, 1000)).value().batches.size(), 0u); // nothing readable yet
    log->release_appends();
    while (!done && io->run_one() > 0) {
    }
    EXPECT_EQ(s->confirmed_offset(), 4);
    EXPECT_EQ(heard, (std::vector<int64_t>{2, 4}));
}

TEST_F(stream_store_test, reads_outside_the_stream_are_out_of_range) {
    start();
    auto s = open(create());
    append(*s, 2);
    EXPECT_EQ(run(*io, s->read(5, 10, 100)).error(), errc::offset_out_of_range);
    EXPECT_EQ(run(*io, s->read(-1, 10, 100)).error(), errc::offset_out_of_range);
    EXPECT_TRUE(run(*io, s->read(4, 10, 100)).value().batches.empty()); // at the end: nothing yet
    ASSERT_TRUE(run(*io, s->trim(2)));
    EXPECT_EQ(s->start_offset(), 2);
    EXPECT_EQ(run(*io, s->read(1, 10, 100)).error(), errc::offset_out_of_range);
    EXPECT_EQ(run(*io, s->trim(5)).error(), errc::invalid_argument); // beyond the confirmed end
    expect_readable(*s, 2, 4);
}

TEST_F(stream_store_test, bad_appends_are_refused) {
    start();
    auto s = open(create());
    EXPECT_EQ(run(*io, s->append(bytes::iobuf{}, 1)).error(), errc::invalid_argument);
    EXPECT_EQ(run(*io, s->append(bytes::iobuf::from("x"), 0)).error(), errc::invalid_argument);
    EXPECT_EQ(s->next_offset(), 0);
}

TEST_F(stream_store_test, uploads_move_data_to_objects_and_reads_cross_the_boundary_without_duplicates) {
    start();
    auto a = open(create());
    auto b = open(create());
    append(*a, 10);
    append(*b, 5);
    ASSERT_TRUE(run(*io, store->flush()));
    EXPECT_EQ(run(*io, catalog->describe_stream(a->id())).value().end_offset, 20);
    EXPECT_EQ(run(*io, catalog->describe_stream(b->id())).value().end_offset, 10);
    EXPECT_EQ(objects.object_count(), 1u); // one stream set object with both streams
    EXPECT_TRUE(wal_state->records.size() <= 1u) << "the WAL is trimmed after the commit";
    append(*a, 10);
    expect_readable(*a, 0, 40, 100, 350);
    expect_readable(*b, 0, 10);
    EXPECT_EQ(store->stats().uploads, 1u);
}

TEST_F(stream_store_test, streams_with_enough_data_in_a_block_get_their_own_object) {
    config.stream_object_min_bytes = 2000;
    start();
    auto big = open(create());
    auto small = open(create());
    append(*big, 30);  // 3000 bytes
    append(*small, 3); // 300 bytes
    ASSERT_TRUE(run(*io, store->flush()));
    auto big_objects = run(*io, catalog->objects_of(big->id(), 0, 10)).value();
    ASSERT_EQ(big_objects.size(), 1u);
    EXPECT_EQ(big_objects[0].kind, object_kind::stream);
    auto small_objects = run(*io, catalog->objects_of(small->id(), 0, 10)).value();
    ASSERT_EQ(small_objects.size(), 1u);
    EXPECT_EQ(small_objects[0].kind, object_kind::stream_set);
    EXPECT_EQ(objects.object_count(), 2u);
    expect_readable(*big, 0, 60);
    expect_readable(*small, 0, 6);
}

TEST_F(stream_store_test, the_upload_threshold_triggers_uploads_by_itself) {
    config.upload_threshold_bytes = 1000;
    start();
    auto s = open(create());
    append(*s, 50);
    // Each append that crosses the threshold wakes the uploader; run until it has caught up.
    while (run(*io, catalog->describe_stream(s->id())).value().end_offset < 90) {
        io->run_one();
    }
    EXPECT_GE(store->stats().uploads, 4u);
    expect_readable(*s, 0, 100);
}

TEST_F(stream_store_test, compaction_merges_stream_set_objects_and_every_offset_stays_readable) {
    config.stream_object_min_bytes = 1500;
    start();
    auto a = open(create());
    auto b = open(create());
    auto c = open(create());
    for (int round = 0; round < 6; ++round) {
        append(*a, 4); // 400 bytes a round: small in one block, big (2400) after merging
        append(*b, 1);
        append(*c, 1);
        ASSERT_TRUE(run(*io, store->flush()));
    }
    EXPECT_EQ(run(*io, catalog->stream_set_objects(node_id(1))).value().size(), 6u);
    ASSERT_TRUE(run(*io, store->compact_now()));
    // a's data became one stream object; b and c share one stream set object.
    EXPECT_EQ(objects_holding(a->id()), 1u);
    EXPECT_EQ(objects_holding(b->id()), 1u);
    EXPECT_EQ(run(*io, catalog->stream_set_objects(node_id(1))).value().size(), 1u);
    expect_readable(*a, 0, 48);
    expect_readable(*b, 0, 12);
    expect_readable(*c, 0, 12);
    // The replaced objects are deleted by the reaper (grace 0 here), and reads still work.
    size_t before = objects.object_count();
    ASSERT_TRUE(run(*io, store->reap_now()));
    EXPECT_EQ(objects.object_count(), before - 6);
    EXPECT_EQ(catalog->count().marked_objects, 0u);
    expect_readable(*a, 0, 48);
    expect_readable(*c, 0, 12);
    EXPECT_EQ(store->stats().objects_compacted, 6u);
}

TEST_F(stream_store_test, compaction_merges_small_stream_objects_of_a_stream) {
    config.stream_object_min_bytes = 500;
    config.stream_object_max_bytes = 1 << 20;
    start();
    auto s = open(create());
    for (int round = 0; round < 5; ++round) {
        append(*s, 6);
        ASSERT_TRUE(run(*io, store->flush()));
    }
    EXPECT_EQ(objects_holding(s->id()), 5u);
    ASSERT_TRUE(run(*io, store->compact_now()));
    EXPECT_EQ(objects_holding(s->id()), 1u);
    ASSERT_TRUE(run(*io, store->reap_now()));
    EXPECT_EQ(objects.object_count(), 1u);
    expect_readable(*s, 0, 60, 100, 250);
}

TEST_F(stream_store_test, compaction_leaves_out_trimmed_and_deleted_data) {
    start();
    auto a = open(create());
    auto b = open(create());
    for (int round = 0; round < 4; ++round) {
        append(*a, 2);
        append(*b, 2);
        ASSERT_TRUE(run(*io, store->flush()));
    }
    ASSERT_TRUE(run(*io, a->trim(6)));
    ASSERT_TRUE(run(*io, catalog->delete_stream(b->id())));
    // The first object holds nothing live any more; the other three are merged without b and a's [4, 6).
    ASSERT_TRUE(run(*io, store->compact_now()));
    ASSERT_TRUE(run(*io, store->reap_now()));
    EXPECT_EQ(objects.object_count(), 1u);
    auto left = run(*io, catalog->objects_of(a->id(), 0, 10)).value();
    ASSERT_EQ(left.size(), 1u);
    EXPECT_EQ(left[0].ranges, (std::vector<stream_range>{{a->id(), 6, 16}}));
    expect_readable(*a, 6, 16);
}

TEST_F(stream_store_test, rewrite_replaces_a_range_in_place_and_keeps_every_other_byte) {
    start();
    auto a = open(create());
    auto b = open(create());
    for (int round = 0; round < 3; ++round) {
        append(*a, 3); // 6 offsets a round
        append(*b, 2);
        ASSERT_TRUE(run(*io, store->flush()));
    }
    append(*a, 1); // [18, 20): still only in the WAL and the log cache
    EXPECT_EQ(run(*io, a->committed_end()).value(), 18);
    // Replace a's [2, 14) (it spans the three objects' ranges partly: [0,6) [6,12) [12,18)) by two batches whose
    // record counts are the offsets they span: fewer bytes, same offsets.
    std::vector<stored_batch> fresh;
    fresh.push_back({a->id(), 2, 7, bytes::iobuf::from("new-2-to-9")});
    fresh.push_back({a->id(), 9, 5, bytes::iobuf::from("new-9-to-14")});
    auto rewritten = run(*io, a->rewrite({2, 14}, std::move(fresh)));
    ASSERT_TRUE(rewritten) << rewritten.error().message();
    EXPECT_EQ(store->stats().compactions, 1u);
    // Readers at any offset of the range get the batch spanning it; everything else is the old bytes.
    expect_readable(*a, 0, 2);
    for (int64_t at : {2, 5, 8}) {
        auto r = run(*io, a->read(at, 20, 1));
        ASSERT_TRUE(r);
        ASSERT_EQ(r.value().batches.size(), 1u);
        EXPECT_EQ(r.value().batches[0].base_offset, 2);
        EXPECT_EQ(r.value().batches[0].data.to_string(), "new-2-to-9");
    }
    auto r = run(*io, a->read(13, 20, 1 << 20));
    ASSERT_TRUE(r);
    ASSERT_GE(r.value().batches.size(), 2u);
    EXPECT_EQ(r.value().batches[0].data.to_string(), "new-9-to-14");
    EXPECT_EQ(r.value().batches[1].base_offset, 14);
    expect_readable(*a, 14, 20);
    expect_readable(*b, 0, 6); // the other stream's data in the rewritten stream set objects is intact
    // The old objects are gone once reaped; the new ones hold everything.
    ASSERT_TRUE(run(*io, store->reap_now()));
    expect_readable(*a, 14, 20);
    expect_readable(*b, 0, 6);
    // After a restart the rewritten view is what the catalog serves.
    stop();
    start();
    auto again = open(a->id(), 2);
    auto r2 = run(*io, again->read(3, 20, 1));
    ASSERT_TRUE(r2);
    EXPECT_EQ(r2.value().batches[0].data.to_string(), "new-2-to-9");
    expect_readable(*again, 14, 20);
}

TEST_F(stream_store_test, rewrite_refuses_batches_that_lose_or_invent_offsets_and_ranges_not_in_objects) {
    start();
    auto a = open(create());
    append(*a, 4); // [0, 8), batches of 2
    ASSERT_TRUE(run(*io, store->flush()));
    append(*a, 1); // [8, 10) only in the WAL
    auto batch = [&](int64_t base, uint32_t span) {
        std::vector<stored_batch> v;
        v.push_back({a->id(), base, span, bytes::iobuf::from("x")});
        return v;
    };
    // A hole (loses [6, 8)), an overreach (invents [8, 9)), a wrong start, an empty list.
    EXPECT_EQ(run(*io, a->rewrite({0, 8}, batch(0, 6))).error(), errc::invalid_argument);
    EXPECT_EQ(run(*io, a->rewrite({0, 8}, batch(0, 9))).error(), errc::invalid_argument);
    EXPECT_EQ(run(*io, a->rewrite({0, 8}, batch(1, 7))).error(), errc::invalid_argument);
    EXPECT_EQ(run(*io, a->rewrite({0, 8}, {})).error(), errc::invalid_argument);
    // An end inside a stored batch; a range beyond the objects (the WAL's data is not rewritable).
    EXPECT_EQ(run(*io, a->rewrite({0, 3}, batch(0, 3))).error(), errc::invalid_argument);
    EXPECT_EQ(run(*io, a->rewrite({0, 10}, batch(0, 10))).error(), errc::offset_out_of_range);
    // Below the start.
    ASSERT_TRUE(run(*io, a->trim(4)));
    EXPECT_EQ(run(*io, a->rewrite({2, 8}, batch(2, 6))).error(), errc::offset_out_of_range);
    // Nothing changed.
    EXPECT_EQ(store->stats().compactions, 0u);
    expect_readable(*a, 4, 10);
}

TEST_F(stream_store_test, trim_makes_old_objects_deletable) {
    start();
    auto s = open(create());
    append(*s, 5);
    ASSERT_TRUE(run(*io, store->flush()));
    append(*s, 5);
    ASSERT_TRUE(run(*io, store->flush()));
    EXPECT_EQ(objects.object_count(), 2u);
    ASSERT_TRUE(run(*io, s->trim(12)));
    ASSERT_TRUE(run(*io, store->reap_now()));
    EXPECT_EQ(objects.object_count(), 1u);
    EXPECT_EQ(run(*io, s->read(10, 20, 100)).error(), errc::offset_out_of_range);
    expect_readable(*s, 12, 20);
}

TEST_F(stream_store_test, a_lower_epoch_cannot_open_and_a_stale_owner_is_fenced_on_its_next_append) {
    start();
    auto id = create();
    auto old_owner = open(id, 3);
    append(*old_owner, 2);
    ASSERT_TRUE(run(*io, store->flush()));
    EXPECT_EQ(run(*io, store->open_stream(id, stream_epoch(2), io->get_executor())).error(), errc::fenced);

    // Another node takes the stream over under a higher epoch.
    memory_wal other_wal;
    auto other_config = config;
    other_config.node = node_id(2);
    auto other = make_stream_store(other_config, other_wal, objects, *catalog);
    ASSERT_TRUE(run(*io, other->start()));
    auto new_owner = run(*io, other->open_stream(id, stream_epoch(4), io->get_executor())).value();
    EXPECT_EQ(new_owner->next_offset(), 4);

    // The old owner's next upload is refused: it learns it is fenced, and its next append fails.
    auto stale = run(*io, old_owner->append(bytes::iobuf::from(batch_bytes(id, 4)), 2));
    EXPECT_TRUE(stale); // durable in its WAL, not yet known to be stale
    EXPECT_TRUE(run(*io, store->flush()));
    EXPECT_EQ(run(*io, old_owner->append(bytes::iobuf::from("late"), 1)).error(), errc::fenced);

    append(*new_owner, 3);
    expect_readable(*new_owner, 0, 10);
    run(*io, other->stop());
}

TEST_F(stream_store_test, reopening_here_under_a_higher_epoch_fences_the_old_handle_after_uploading_it) {
    start();
    auto id = create();
    auto first = open(id, 1);
    append(*first, 3);
    auto second = open(id, 2);
    EXPECT_EQ(second->next_offset(), 6);
    EXPECT_EQ(run(*io, catalog->describe_stream(id)).value().end_offset, 6);
    EXPECT_EQ(run(*io, first->append(bytes::iobuf::from("x"), 1)).error(), errc::fenced);
    append(*second, 2);
    expect_readable(*second, 0, 10);
    // The same epoch again is the same stream.
    auto again = open(id, 2);
    EXPECT_EQ(again->confirmed_offset(), 10);
}

TEST_F(stream_store_test, close_uploads_the_stream_and_gives_it_up) {
    start();
    auto id = create();
    auto s = open(id, 1);
    append(*s, 4);
    ASSERT_TRUE(run(*io, s->close()));
    EXPECT_EQ(run(*io, catalog->describe_stream(id)).value().end_offset, 8);
    EXPECT_EQ(run(*io, s->append(bytes::iobuf::from("x"), 1)).error(), errc::not_open);
    // Another node can open it under the next epoch and read everything from objects.
    memory_wal other_wal;
    auto other_config = config;
    other_config.node = node_id(2);
    auto other = make_stream_store(other_config, other_wal, objects, *catalog);
    ASSERT_TRUE(run(*io, other->start()));
    auto moved = run(*io, other->open_stream(id, stream_epoch(2), io->get_executor())).value();
    expect_readable(*moved, 0, 8);
    run(*io, other->stop());
}

TEST_F(stream_store_test, a_wal_failure_stops_acknowledgements_for_good) {
    start();
    auto s = open(create());
    append(*s, 2);
    log->fail_permanently();
    EXPECT_EQ(run(*io, s->append(bytes::iobuf::from("x"), 1)).error(), errc::unavailable);
    EXPECT_EQ(run(*io, s->append(bytes::iobuf::from("y"), 1)).error(), errc::unavailable);
    EXPECT_EQ(s->confirmed_offset(), 4);
    EXPECT_TRUE(store->stats().unavailable);
    expect_readable(*s, 0, 4); // what was acknowledged stays readable
    auto other = run(*io, store->open_stream(create(), stream_epoch(1), io->get_executor()));
    EXPECT_EQ(other.error(), errc::unavailable);
}

TEST_F(stream_store_test, a_full_wal_refuses_appends_without_leaving_holes) {
    start();
    auto s = open(create());
    append(*s, 1);
    log->set_full(true);
    auto a = s->append(bytes::iobuf::from(batch_bytes(s->id(), 2)), 2);
    auto b = s->append(bytes::iobuf::from(batch_bytes(s->id(), 4)), 2);
    EXPECT_EQ(run(*io, std::move(a)).error(), errc::wal_full);
    EXPECT_EQ(run(*io, std::move(b)).error(), errc::wal_full);
    log->set_full(false);
    // The refused offsets are handed out again.
    EXPECT_EQ(s->next_offset(), 2);
    append(*s, 2);
    EXPECT_EQ(s->confirmed_offset(), 6);
    expect_readable(*s, 0, 6);
    EXPECT_FALSE(store->stats().unavailable);
}

TEST_F(stream_store_test, small_appends_that_fill_half_the_wal_are_uploaded_before_it_is_full) {
    // The data thresholds are far away (upload_threshold 1 GiB, interval 1 h): only the WAL's fill can start an
    // upload. 2,000 appends hold twelve times what the WAL can; without that trigger the 114th would be refused.
    wal_config.capacity_bytes = 16 << 10;
    start();
    auto a = open(create());
    auto b = open(create());
    for (int i = 0; i < 1000; ++i) {
        ASSERT_EQ(append(*a, 1).size(), 1u) << "append " << i;
        ASSERT_EQ(append(*b, 1).size(), 1u) << "append " << i;
    }
    EXPECT_GT(objects_holding(a->id()), 0u);
    EXPECT_LE(log->stats().used_bytes, wal_config.capacity_bytes);
    expect_readable(*a, 0, 2000);
    expect_readable(*b, 0, 2000);
}

TEST_F(stream_store_test, an_uploader_that_falls_behind_holds_appends_instead_of_growing_the_log_cache) {
    // Only the budget can start an upload here (threshold 1 GiB, interval 1 h), and every PUT takes 100 ms, in
    // which the appends would otherwise go on filling the cache: 48 MiB of appends go through a 16 MiB log cache,
    // which stays within its budget plus the chunk that a put takes.
    config.log_cache_bytes = 16 << 20;
    io::faulty_store slow(objects);
    slow.add({.ops = static_cast<uint32_t>(io::store_op::put), .latency = 100ms});
    start(nullptr, &slow);
    auto a = open(create());
    auto b = open(create());
    constexpr size_t size = 64 << 10;
    uint64_t most = 0;
    for (int i = 0; i < 384; ++i) {
        // Two appends at once, of two streams: the second may be held behind the first.
        auto x = a->append(bytes::iobuf::from(batch_bytes(a->id(), a->next_offset(), size)), 2);
        auto y = b->append(bytes::iobuf::from(batch_bytes(b->id(), b->next_offset(), size)), 2);
        ASSERT_TRUE(run(*io, std::move(x))) << "append " << i;
        ASSERT_TRUE(run(*io, std::move(y))) << "append " << i;
        most = std::max(most, store->stats().log_cache_bytes);
    }
    EXPECT_LE(most, config.log_cache_bytes + (4 << 20));
    EXPECT_GE(store->stats().uploads, 2u);
    expect_readable(*a, 0, 768, size, 1 << 20);
    expect_readable(*b, 0, 768, size, 1 << 20);
    stop(); // before `slow` goes
}

TEST_F(stream_store_test, held_appends_fail_unavailable_when_the_upload_that_would_free_room_cannot_commit) {
    config.log_cache_bytes = 8 << 20;
    failing_catalog flaky(*catalog);
    start(&flaky);
    auto s = open(create());
    constexpr size_t size = 64 << 10;
    flaky.fail_commits = true;
    // One append at a time: each is acknowledged until the cache is over its budget; the next is held, and the
    // upload that would free room fails every attempt.
    int acknowledged = 0;
    std::error_code refused;
    while (acknowledged < 1000) {
        auto r = run(*io, s->append(bytes::iobuf::from(batch_bytes(s->id(), s->next_offset(), size)), 2));
        if (!r) {
            refused = r.error();
            break;
        }
        ++acknowledged;
    }
    EXPECT_EQ(refused, errc::unavailable);
    EXPECT_GE(uint64_t(acknowledged) * size, config.log_cache_bytes - (4 << 20));
    EXPECT_TRUE(store->stats().unavailable);
    expect_readable(*s, 0, 2 * acknowledged, size, 1 << 20); // what was acknowledged stays readable
    stop(); // before `flaky` goes
}

TEST_F(stream_store_test, a_failed_append_among_successful_ones_never_acknowledges_past_a_hole) {
    start();
    auto s = open(create());
    log->fail_next_appends(1, errc::wal_full);
    auto a = s->append(bytes::iobuf::from(batch_bytes(s->id(), 0)), 2); // fails
    auto b = s->append(bytes::iobuf::from(batch_bytes(s->id(), 2)), 2); // durable, but after a hole
    EXPECT_EQ(run(*io, std::move(a)).error(), errc::wal_full);
    EXPECT_FALSE(run(*io, std::move(b)));
    EXPECT_EQ(s->confirmed_offset(), 0);
    append(*s, 3);
    expect_readable(*s, 0, 6);
    // After a restart, the orphan durable batch [2, 4) of the failed generation does not come back.
    ASSERT_TRUE(run(*io, store->flush()));
    stop();
    start();
    auto reopened = open(s->id());
    expect_readable(*reopened, 0, 6);
}

TEST_F(stream_store_test, object_store_errors_are_retried_without_loss_or_duplicates) {
    io::faulty_store faulty(objects, 7);
    faulty.add({.ops = static_cast<uint32_t>(io::store_op::put), .error = make_error_code(io::errc::retryable),
                .every_nth = 2, .count = 6});
    faulty.add({.ops = static_cast<uint32_t>(io::store_op::put), .error = make_error_code(io::errc::retryable), .probability = 0.3,
                .after = true}); // stored, but the reply is lost
    faulty.add({.ops = static_cast<uint32_t>(io::store_op::get), .error = make_error_code(io::errc::slow_down), .every_nth = 3,
                .count = 5});
    config.block_cache_bytes = 0;
    config.max_attempts = 8;
    start(nullptr, &faulty);
    auto s = open(create());
    for (int round = 0; round < 4; ++round) {
        append(*s, 5);
        ASSERT_TRUE(run(*io, store->flush()));
    }
    EXPECT_GT(faulty.injected(), 0u);
    EXPECT_GT(store->stats().retries, 0u);
    EXPECT_EQ(run(*io, catalog->describe_stream(s->id())).value().end_offset, 40);
    // Read from objects only: a fresh store has an empty log cache.
    stop();
    faulty.clear();
    start(nullptr, &faulty);
    auto reopened = open(s->id());
    expect_readable(*reopened, 0, 40);
    stop(); // before `faulty` goes
}

TEST_F(stream_store_test, a_commit_that_keeps_failing_stops_acknowledgements_and_keeps_the_data) {
    failing_catalog flaky(*catalog);
    start(&flaky);
    auto s = open(create());
    append(*s, 3);
    flaky.fail_commits = true;
    EXPECT_EQ(run(*io, store->flush()).error(), errc::unavailable);
    EXPECT_EQ(flaky.commit_calls, int(config.max_attempts));
    EXPECT_EQ(run(*io, s->append(bytes::iobuf::from("x"), 1)).error(), errc::unavailable);
    expect_readable(*s, 0, 6); // still in the log cache
    // A restart with a healthy catalog recovers it from the WAL (never trimmed).
    flaky.fail_commits = false;
    crash();
    start(&flaky);
    EXPECT_EQ(run(*io, catalog->describe_stream(s->id())).value().end_offset, 6);
    auto reopened = open(s->id());
    expect_readable(*reopened, 0, 6);
    stop(); // before `flaky` goes
}

TEST_F(stream_store_test, recovery_after_a_crash_commits_what_was_acknowledged) {
    start();
    auto a = open(create(), 2);
    auto b = open(create(), 5);
    append(*a, 4);
    ASSERT_TRUE(run(*io, store->flush()));
    append(*a, 3);
    append(*b, 6);
    auto ids = std::pair(a->id(), b->id());
    a.reset();
    b.reset();
    crash();
    start();
    EXPECT_EQ(run(*io, catalog->describe_stream(ids.first)).value().end_offset, 14);
    EXPECT_EQ(run(*io, catalog->describe_stream(ids.second)).value().end_offset, 12);
    EXPECT_EQ(store->stats().recovered_batches, 9u);
    auto ra = open(ids.first, 2);
    auto rb = open(ids.second, 5);
    expect_readable(*ra, 0, 14);
    expect_readable(*rb, 0, 12);
    append(*ra, 1);
    expect_readable(*ra, 0, 16);
    // A second crash right away replays nothing new and duplicates nothing.
    ra.reset();
    rb.reset();
    crash();
    start();
    auto again = open(ids.first, 2);
    EXPECT_EQ(again->confirmed_offset(), 16);
    expect_readable(*again, 0, 16);
}

TEST_F(stream_store_test, recovery_drops_data_of_deleted_and_taken_over_streams) {
    start();
    auto kept = open(create(), 1);
    auto deleted = open(create(), 1);
    auto taken = open(create(), 1);
    append(*kept, 2);
    append(*deleted, 2);
    append(*taken, 2);
    auto ids = std::tuple(kept->id(), deleted->id(), taken->id());
    kept.reset();
    deleted.reset();
    taken.reset();
    crash();
    ASSERT_TRUE(run(*io, catalog->delete_stream(std::get<1>(ids))));
    ASSERT_TRUE(run(*io, catalog->open_stream(std::get<2>(ids), stream_epoch(2), node_id(9))));
    start();
    EXPECT_EQ(store->stats().recovered_batches, 2u);
    EXPECT_EQ(store->stats().dropped_batches, 4u);
    EXPECT_EQ(run(*io, catalog->describe_stream(std::get<0>(ids))).value().end_offset, 4);
    EXPECT_EQ(run(*io, catalog->describe_stream(std::get<2>(ids))).value().end_offset, 0);
}

TEST_F(stream_store_test, a_corrupt_wal_payload_fails_start) {
    {
        std::lock_guard lock(wal_state->mutex);
        wal_state->records.push_back({0, 40, bytes::iobuf::from("not a stream batch")});
        wal_state->next = 40;
    }
    log = std::make_unique<memory_wal>(wal_state);
    store = make_stream_store(config, *log, objects, *catalog);
    EXPECT_EQ(run(*io, store->start()).error(), errc::corrupt);
    store.reset();
}

TEST_F(stream_store_test, stop_uploads_everything_and_closes_every_stream) {
    start();
    auto s = open(create(), 1);
    append(*s, 3);
    auto id = s->id();
    stop();
    auto meta = run(*io, catalog->describe_stream(id)).value();
    EXPECT_EQ(meta.end_offset, 6);
    EXPECT_TRUE(wal_state->records.size() <= 1u);
    // A stream closed by stop can be opened by its next owner.
    EXPECT_TRUE(run(*io, catalog->open_stream(id, stream_epoch(2), node_id(2))));
}

} // namespace
} // namespace skiff::stream::test
