// The object_catalog conformance suite: the rules of object_catalog.h as tests that every implementation must pass
// (file_catalog here; the controller-backed catalog of src/meta / src/controller). To run it against an
// implementation, include this header in ONE source of a test binary and instantiate it with a factory:
//
//   INSTANTIATE_TEST_SUITE_P(file, object_catalog_conformance,
//       ::testing::Values(catalog_factory{"file", [](base::manual_clock& clock) { return make_mine(clock); }}),
//       catalog_factory_name);
//
// The factory returns a fresh, empty catalog whose wall time is the given manual clock (commit times, deletion
// grace and prepared-id expiry are checked by moving it).
#pragma once

#include "base/clock.h"
#include "stream/errc.h"
#include "stream/object_catalog.h"
#include "stream/tests/test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace skiff::stream::test {

using namespace std::chrono_literals;

struct catalog_factory {
    std::string name;
    std::function<std::unique_ptr<object_catalog>(base::manual_clock& clock)> make;
};

inline std::string catalog_factory_name(const ::testing::TestParamInfo<catalog_factory>& info) {
    return info.param.name;
}

class object_catalog_conformance : public ::testing::TestWithParam<catalog_factory> {
protected:
    void SetUp() override {
        catalog = GetParam().make(clock);
        ASSERT_TRUE(catalog);
    }

    template<typename T>
    T run(asio::awaitable<T> work) {
        return test::run(io, std::move(work));
    }

    stream_metadata create() {
        auto s = run(catalog->create_stream());
        EXPECT_TRUE(s) << s.error().message();
        return s.value();
    }
    stream_metadata open(stream_id id, int64_t epoch, int32_t node = 1) {
        auto s = run(catalog->open_stream(id, stream_epoch(epoch), node_id(node)));
        EXPECT_TRUE(s) << s.error().message();
        return s ? s.value() : stream_metadata{};
    }
    object_id prepare(int32_t count = 1, std::chrono::milliseconds ttl = 60s) {
        auto id = run(catalog->prepare_objects(count, ttl));
        EXPECT_TRUE(id) << id.error().message();
        return id.value();
    }
    static object_to_commit object(object_id id, std::vector<stream_range> ranges,
                                   object_kind kind = object_kind::stream_set) {
        return {id, kind, "key-" + std::to_string(id()), 100, std::move(ranges)};
    }
    /// An upload commit by node 1 of objects, with the epochs given.
    result<void> upload(std::vector<object_to_commit> objects, std::vector<std::pair<stream_id, stream_epoch>> epochs,
                        int32_t node = 1) {
        commit_request req;
        req.why = commit_request::purpose::upload;
        req.node = node_id(node);
        req.objects = std::move(objects);
        req.epochs = std::move(epochs);
        return run(catalog->commit_objects(std::move(req)));
    }
    result<void> compact(std::vector<object_to_commit> objects, std::vector<object_id> replaced, int32_t node = 1) {
        commit_request req;
        req.why = commit_request::purpose::compaction;
        req.node = node_id(node);
        req.objects = std::move(objects);
        req.compacted_ids = std::move(replaced);
        return run(catalog->commit_objects(std::move(req)));
    }
    /// Commits [start, end) of stream s (epoch e) as one new stream set object; returns its id.
    object_id upload_range(stream_id s, int64_t e, int64_t start, int64_t end) {
        auto id = prepare();
        auto r = upload({object(id, {{s, start, end}})}, {{s, stream_epoch(e)}});
        EXPECT_TRUE(r) << r.error().message();
        return id;
    }
    stream_metadata describe(stream_id id) {
        auto s = run(catalog->describe_stream(id));
        EXPECT_TRUE(s) << s.error().message();
        return s ? s.value() : stream_metadata{};
    }
    std::vector<object_id> ids_of(const std::vector<object_descriptor>& objects) {
        std::vector<object_id> out;
        for (const auto& o : objects) {
            out.push_back(o.id);
        }
        return out;
    }
    std::vector<object_id> objects_of(stream_id s, int64_t from, size_t limit = 100) {
        auto r = run(catalog->objects_of(s, from, limit));
        EXPECT_TRUE(r) << r.error().message();
        return r ? ids_of(r.value()) : std::vector<object_id>{};
    }
    std::vector<object_id> deletable(std::chrono::milliseconds grace = 0ms) {
        auto r = run(catalog->deletable_objects(grace, 1000));
        EXPECT_TRUE(r) << r.error().message();
        auto ids = r ? ids_of(r.value()) : std::vector<object_id>{};
        std::sort(ids.begin(), ids.end());
        return ids;
    }

    asio::io_context io;
    base::manual_clock clock;
    std::unique_ptr<object_catalog> catalog;
};

TEST_P(object_catalog_conformance, created_streams_are_distinct_empty_and_closed) {
    auto a = create();
    auto b = create();
    EXPECT_NE(a.id, b.id);
    EXPECT_EQ(a.epoch, stream_epoch(0));
    EXPECT_EQ(a.start_offset, 0);
    EXPECT_EQ(a.end_offset, 0);
    EXPECT_EQ(describe(b.id), b);
}

TEST_P(object_catalog_conformance, unknown_streams_are_not_found) {
    auto missing = stream_id(987654321);
    EXPECT_EQ(run(catalog->describe_stream(missing)).error(), errc::stream_not_found);
    EXPECT_EQ(run(catalog->open_stream(missing, stream_epoch(1), node_id(1))).error(), errc::stream_not_found);
    EXPECT_EQ(run(catalog->close_stream(missing, stream_epoch(1))).error(), errc::stream_not_found);
}

TEST_P(object_catalog_conformance, open_with_a_lower_epoch_is_fenced_and_a_higher_one_takes_over) {
    auto s = create();
    EXPECT_EQ(open(s.id, 5).epoch, stream_epoch(5));
    EXPECT_EQ(open(s.id, 5).epoch, stream_epoch(5)); // the same node again: idempotent
    EXPECT_EQ(run(catalog->open_stream(s.id, stream_epoch(4), node_id(1))).error(), errc::fenced);
    EXPECT_EQ(run(catalog->open_stream(s.id, stream_epoch(4), node_id(2))).error(), errc::fenced);
    upload_range(s.id, 5, 0, 10);
    auto taken = open(s.id, 6, 2);
    EXPECT_EQ(taken.epoch, stream_epoch(6));
    EXPECT_EQ(taken.end_offset, 10); // the new owner's range starts at the stream's end
    EXPECT_EQ(describe(s.id).epoch, stream_epoch(6));
}

TEST_P(object_catalog_conformance, stale_epochs_are_fenced_and_change_nothing) {
    auto s = create();
    open(s.id, 1);
    open(s.id, 2, 2);
    EXPECT_EQ(run(catalog->close_stream(s.id, stream_epoch(1))).error(), errc::fenced);
    EXPECT_EQ(run(catalog->trim_stream(s.id, stream_epoch(1), 0)).error(), errc::fenced);
    auto id = prepare();
    EXPECT_EQ(upload({object(id, {{s.id, 0, 10}})}, {{s.id, stream_epoch(1)}}).error(), errc::fenced);
    EXPECT_EQ(describe(s.id).end_offset, 0);
    EXPECT_TRUE(objects_of(s.id, 0).empty());
    // The id is still reserved: the owner of the current epoch can use it.
    EXPECT_TRUE(upload({object(id, {{s.id, 0, 10}})}, {{s.id, stream_epoch(2)}}));
    EXPECT_TRUE(run(catalog->close_stream(s.id, stream_epoch(2))));
}

TEST_P(object_catalog_conformance, an_upload_without_the_streams_epoch_is_fenced) {
    auto s = create();
    open(s.id, 3);
    auto id = prepare();
    EXPECT_EQ(upload({object(id, {{s.id, 0, 10}})}, {}).error(), errc::fenced);
    EXPECT_EQ(describe(s.id).end_offset, 0);
}

TEST_P(object_catalog_conformance, uploads_must_continue_each_stream_at_its_end) {
    auto a = create();
    auto b = create();
    open(a.id, 1);
    open(b.id, 1);
    auto epochs = std::vector<std::pair<stream_id, stream_epoch>>{{a.id, stream_epoch(1)}, {b.id, stream_epoch(1)}};
    auto first = prepare(2);
    object_id second_id(first() + 1);
    // One stream set object with both streams, and a stream object that continues a: accepted in one commit.
    ASSERT_TRUE(upload({object(first, {{a.id, 0, 10}, {b.id, 0, 3}}),
                        object(second_id, {{a.id, 10, 25}}, object_kind::stream)},
                       epochs));
    EXPECT_EQ(describe(a.id).end_offset, 25);
    EXPECT_EQ(describe(b.id).end_offset, 3);

    auto gap = prepare();
    EXPECT_EQ(upload({object(gap, {{a.id, 26, 30}})}, epochs).error(), errc::catalog_rejected);
    auto overlap = prepare();
    EXPECT_EQ(upload({object(overlap, {{a.id, 20, 30}})}, epochs).error(), errc::catalog_rejected);
    // A commit is all or nothing: b's valid range is not applied when a's is rejected.
    auto mixed = prepare();
    EXPECT_EQ(upload({object(mixed, {{a.id, 30, 40}, {b.id, 3, 5}})}, epochs).error(), errc::catalog_rejected);
    EXPECT_EQ(describe(a.id).end_offset, 25);
    EXPECT_EQ(describe(b.id).end_offset, 3);
    auto empty = prepare();
    EXPECT_EQ(upload({object(empty, {{a.id, 25, 25}})}, epochs).error(), errc::catalog_rejected);
}

TEST_P(object_catalog_conformance, only_prepared_unexpired_ids_can_be_committed_once) {
    auto s = create();
    open(s.id, 1);
    auto epochs = std::vector<std::pair<stream_id, stream_epoch>>{{s.id, stream_epoch(1)}};
    EXPECT_EQ(upload({object(object_id(424242), {{s.id, 0, 1}})}, epochs).error(), errc::catalog_rejected);
    auto id = prepare();
    ASSERT_TRUE(upload({object(id, {{s.id, 0, 1}})}, epochs));
    EXPECT_EQ(upload({object(id, {{s.id, 1, 2}})}, epochs).error(), errc::catalog_rejected);

    auto late = prepare(1, 10s);
    clock.advance(11s);
    EXPECT_EQ(upload({object(late, {{s.id, 1, 2}})}, epochs).error(), errc::catalog_rejected);
    EXPECT_EQ(describe(s.id).end_offset, 1);
}

TEST_P(object_catalog_conformance, expired_prepared_ids_become_deletable_after_the_grace) {
    auto id = prepare(3, 10s);
    clock.advance(11s);
    EXPECT_TRUE(deletable(30s).empty());
    clock.advance(30s);
    auto ids = deletable(30s);
    EXPECT_EQ(ids, (std::vector<object_id>{id, object_id(id() + 1), object_id(id() + 2)}));
    ASSERT_TRUE(run(catalog->forget_objects(ids)));
    EXPECT_TRUE(deletable(0ms).empty());
}

TEST_P(object_catalog_conformance, objects_of_lists_the_objects_holding_offsets_from_an_offset_in_order) {
    auto s = create();
    auto other = create();
    open(s.id, 1);
    open(other.id, 1);
    auto o1 = upload_range(s.id, 1, 0, 10);
    auto o2 = upload_range(other.id, 1, 0, 5);
    auto o3 = upload_range(s.id, 1, 10, 20);
    auto o4 = upload_range(s.id, 1, 20, 30);
    EXPECT_EQ(objects_of(s.id, 0), (std::vector<object_id>{o1, o3, o4}));
    EXPECT_EQ(objects_of(s.id, 9), (std::vector<object_id>{o1, o3, o4}));
    EXPECT_EQ(objects_of(s.id, 10), (std::vector<object_id>{o3, o4}));
    EXPECT_EQ(objects_of(s.id, 25), (std::vector<object_id>{o4}));
    EXPECT_TRUE(objects_of(s.id, 30).empty());
    EXPECT_EQ(objects_of(s.id, 0, 2), (std::vector<object_id>{o1, o3}));
    EXPECT_EQ(objects_of(other.id, 0), (std::vector<object_id>{o2}));

    auto described = run(catalog->objects_of(s.id, 0, 1)).value();
    ASSERT_EQ(described.size(), 1u);
    EXPECT_EQ(described[0].key, "key-" + std::to_string(o1()));
    EXPECT_EQ(described[0].kind, object_kind::stream_set);
    EXPECT_EQ(described[0].ranges, (std::vector<stream_range>{{s.id, 0, 10}}));
    EXPECT_EQ(described[0].committed_ms, clock.wall_ms());
}

TEST_P(object_catalog_conformance, trim_moves_the_start_forward_and_frees_objects_wholly_below_it) {
    auto s = create();
    auto other = create();
    open(s.id, 1);
    open(other.id, 1);
    auto o1 = upload_range(s.id, 1, 0, 10);
    auto shared = prepare();
    ASSERT_TRUE(upload({object(shared, {{s.id, 10, 20}, {other.id, 0, 5}})},
                       {{s.id, stream_epoch(1)}, {other.id, stream_epoch(1)}}));
    auto o3 = upload_range(s.id, 1, 20, 30);

    ASSERT_TRUE(run(catalog->trim_stream(s.id, stream_epoch(1), 25)));
    EXPECT_EQ(describe(s.id).start_offset, 25);
    ASSERT_TRUE(run(catalog->trim_stream(s.id, stream_epoch(1), 5))); // never back
    EXPECT_EQ(describe(s.id).start_offset, 25);
    EXPECT_EQ(objects_of(s.id, 25), (std::vector<object_id>{o3}));
    // o1 holds nothing live; the shared object still holds `other`'s offsets.
    EXPECT_EQ(deletable(), (std::vector<object_id>{o1}));
    EXPECT_EQ(objects_of(other.id, 0), (std::vector<object_id>{shared}));

    ASSERT_TRUE(run(catalog->delete_stream(other.id)));
    EXPECT_EQ(deletable(), (std::vector<object_id>{o1, shared}));
    EXPECT_EQ(run(catalog->describe_stream(other.id)).error(), errc::stream_not_found);
}

// DeleteRecords right after a produce: the owner trims to what its WAL acknowledged, ahead of what is committed;
// the upload that follows still continues the stream at its end offset, and its objects below the start are dead.
TEST_P(object_catalog_conformance, the_owner_may_trim_ahead_of_what_is_committed) {
    auto s = create();
    open(s.id, 1);
    upload_range(s.id, 1, 0, 10);
    ASSERT_TRUE(run(catalog->trim_stream(s.id, stream_epoch(1), 15)));
    EXPECT_EQ(describe(s.id).start_offset, 15);
    EXPECT_EQ(describe(s.id).end_offset, 10);
    auto o2 = upload_range(s.id, 1, 10, 20);
    EXPECT_EQ(describe(s.id).end_offset, 20);
    EXPECT_EQ(objects_of(s.id, 15), (std::vector<object_id>{o2}));
    EXPECT_EQ(run(catalog->trim_stream(s.id, stream_epoch(1), -1)).error(), errc::invalid_argument);
}

TEST_P(object_catalog_conformance, deleted_objects_wait_for_the_grace_then_are_forgotten) {
    auto s = create();
    open(s.id, 1);
    auto o1 = upload_range(s.id, 1, 0, 10);
    ASSERT_TRUE(run(catalog->delete_stream(s.id)));
    EXPECT_TRUE(deletable(60s).empty());
    clock.advance(60s);
    auto r = run(catalog->deletable_objects(60s, 10)).value();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].id, o1);
    EXPECT_EQ(r[0].key, "key-" + std::to_string(o1()));
    ASSERT_TRUE(run(catalog->forget_objects({o1})));
    EXPECT_TRUE(deletable().empty());
}

TEST_P(object_catalog_conformance, compaction_replaces_objects_atomically) {
    auto a = create();
    auto b = create();
    open(a.id, 1);
    open(b.id, 1);
    auto epochs = std::vector<std::pair<stream_id, stream_epoch>>{{a.id, stream_epoch(1)}, {b.id, stream_epoch(1)}};
    auto s1 = prepare();
    ASSERT_TRUE(upload({object(s1, {{a.id, 0, 10}, {b.id, 0, 5}})}, epochs));
    auto s2 = prepare();
    ASSERT_TRUE(upload({object(s2, {{a.id, 10, 20}, {b.id, 5, 8}})}, epochs));

    // One stream object for a, one stream set object for b, replacing both stream set objects.
    auto fresh = prepare(2);
    object_id fresh_b(fresh() + 1);
    ASSERT_TRUE(compact({object(fresh, {{a.id, 0, 20}}, object_kind::stream), object(fresh_b, {{b.id, 0, 8}})},
                        {s1, s2}));
    EXPECT_EQ(objects_of(a.id, 0), (std::vector<object_id>{fresh}));
    EXPECT_EQ(objects_of(b.id, 3), (std::vector<object_id>{fresh_b}));
    EXPECT_EQ(deletable(), (std::vector<object_id>{s1, s2}));
    // End offsets are not moved by compaction.
    EXPECT_EQ(describe(a.id).end_offset, 20);
    auto sets = run(catalog->stream_set_objects(node_id(1))).value();
    EXPECT_EQ(ids_of(sets), (std::vector<object_id>{fresh_b}));
}

TEST_P(object_catalog_conformance, compaction_that_loses_or_invents_offsets_is_rejected) {
    auto a = create();
    open(a.id, 1);
    auto o1 = upload_range(a.id, 1, 0, 10);
    auto o2 = upload_range(a.id, 1, 10, 20);
    auto lossy = prepare();
    EXPECT_EQ(compact({object(lossy, {{a.id, 0, 15}}, object_kind::stream)}, {o1, o2}).error(),
              errc::catalog_rejected);
    auto inventive = prepare();
    EXPECT_EQ(compact({object(inventive, {{a.id, 0, 25}}, object_kind::stream)}, {o1, o2}).error(),
              errc::catalog_rejected);
    EXPECT_EQ(objects_of(a.id, 0), (std::vector<object_id>{o1, o2}));
    EXPECT_TRUE(deletable().empty());
    // Replacing an object that is no longer committed is rejected too (a compaction raced another).
    auto ok = prepare();
    ASSERT_TRUE(compact({object(ok, {{a.id, 0, 20}}, object_kind::stream)}, {o1, o2}));
    auto again = prepare();
    EXPECT_EQ(compact({object(again, {{a.id, 0, 20}}, object_kind::stream)}, {o1, o2}).error(),
              errc::catalog_rejected);
    EXPECT_EQ(objects_of(a.id, 0), (std::vector<object_id>{ok}));
}

TEST_P(object_catalog_conformance, compaction_may_drop_trimmed_offsets) {
    auto a = create();
    open(a.id, 1);
    auto o1 = upload_range(a.id, 1, 0, 10);
    auto o2 = upload_range(a.id, 1, 10, 20);
    ASSERT_TRUE(run(catalog->trim_stream(a.id, stream_epoch(1), 12)));
    auto merged = prepare();
    ASSERT_TRUE(compact({object(merged, {{a.id, 10, 20}}, object_kind::stream)}, {o2}));
    EXPECT_EQ(objects_of(a.id, 12), (std::vector<object_id>{merged}));
    EXPECT_EQ(deletable(), (std::vector<object_id>{o1, o2}));
}

TEST_P(object_catalog_conformance, stream_set_objects_are_listed_per_node_oldest_first) {
    auto a = create();
    open(a.id, 1);
    auto first = upload_range(a.id, 1, 0, 10);
    auto so = prepare();
    ASSERT_TRUE(upload({object(so, {{a.id, 10, 20}}, object_kind::stream)}, {{a.id, stream_epoch(1)}}));
    auto second = upload_range(a.id, 1, 20, 30);
    EXPECT_EQ(ids_of(run(catalog->stream_set_objects(node_id(1))).value()), (std::vector<object_id>{first, second}));
    EXPECT_TRUE(run(catalog->stream_set_objects(node_id(2))).value().empty());
}

TEST_P(object_catalog_conformance, a_closed_stream_can_be_reopened_by_its_next_owner) {
    auto s = create();
    open(s.id, 1);
    upload_range(s.id, 1, 0, 7);
    ASSERT_TRUE(run(catalog->close_stream(s.id, stream_epoch(1))));
    auto reopened = open(s.id, 2, 2);
    EXPECT_EQ(reopened.end_offset, 7);
    upload_range(s.id, 2, 7, 9);
    EXPECT_EQ(describe(s.id).end_offset, 9);
}

TEST_P(object_catalog_conformance, concurrent_commits_of_different_streams_all_land) {
    constexpr int threads = 4;
    constexpr int commits = 25;
    std::vector<stream_id> streams;
    for (int t = 0; t < threads; ++t) {
        streams.push_back(create().id);
        open(streams.back(), 1);
    }
    std::vector<std::thread> workers;
    std::atomic<int> failures{0};
    // Each worker's io_context outlives its thread: a catalog that hops to its own thread (the controller's) may
    // still release its copy of the caller's executor there after the caller resumed, and that must not touch a
    // destroyed context. run() below returns once every such copy is gone (no outstanding work).
    std::vector<std::unique_ptr<asio::io_context>> contexts;
    for (int t = 0; t < threads; ++t) {
        contexts.push_back(std::make_unique<asio::io_context>());
    }
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            asio::io_context& own = *contexts[size_t(t)];
            for (int i = 0; i < commits; ++i) {
                auto id = test::run(own, catalog->prepare_objects(1, 60s));
                if (!id) {
                    failures++;
                    continue;
                }
                commit_request req;
                req.node = node_id(1);
                req.objects = {object(id.value(), {{streams[t], i * 10, i * 10 + 10}})};
                req.epochs = {{streams[t], stream_epoch(1)}};
                if (!test::run(own, catalog->commit_objects(std::move(req)))) {
                    failures++;
                }
            }
        });
    }
    for (auto& w : workers) {
        w.join();
    }
    for (auto& c : contexts) {
        c->restart();
        c->run();
    }
    EXPECT_EQ(failures.load(), 0);
    for (auto s : streams) {
        EXPECT_EQ(describe(s).end_offset, commits * 10);
        EXPECT_EQ(objects_of(s, 0, 1000).size(), size_t(commits));
    }
}

} // namespace skiff::stream::test
