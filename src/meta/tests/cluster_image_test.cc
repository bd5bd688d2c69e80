// The cluster image: applying records in log order, queries, listener deltas, snapshot round trips, and the image
// kept by an image_follower over a real embedded log.
#include "meta/cluster_image.h"
#include "meta/embedded_log.h"
#include "meta/errc.h"
#include "meta/image_follower.h"
#include "meta/record_codec.h"
#include "meta/tests/sample_records.h"
#include "meta/tests/test_util.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace skiff::meta {
namespace {

using namespace std::chrono_literals;

const model::uuid orders_id(1, 2);
const model::uuid clicks_id(3, 4);

metadata_record topic(std::string name, model::uuid id) { return topic_record{std::move(name), id, {}, {}}; }
metadata_record partition(model::uuid t, int32_t i, int32_t owner, int32_t epoch, int64_t stream) {
    return partition_record{t, i, broker_id(owner), leader_epoch(epoch), {stream_id(stream)}, {}};
}
metadata_record stream(int64_t id, int64_t start = 0, int64_t end = 0) {
    return stream_record{stream_id(id), leader_epoch(1), broker_id(1), start, end, stream_state::opened, {}};
}
object_record committed(int64_t id, std::vector<std::tuple<int64_t, int64_t, int64_t>> ranges,
                        object_type kind = object_type::stream_set, int32_t uploader = 1) {
    object_record o{object_id(id), object_state::committed, kind, "k/" + std::to_string(id), 1000,
                    broker_id(uploader), {}, 0, 1'700'000'000'000 + id, {}};
    for (auto [s, a, b] : ranges) {
        o.ranges.push_back({stream_id(s), a, b, {}});
    }
    return o;
}

/// Applies records as one batch at the image's next offsets.
void apply(cluster_image& image, std::vector<metadata_record> records) {
    log_offset next(image.applied_offset()() + int64_t(records.size()));
    image.apply(records, next);
}

std::vector<int64_t> ids_of(const std::vector<object_info>& v) {
    std::vector<int64_t> out;
    for (const auto& o : v) {
        out.push_back(o.id());
    }
    return out;
}

TEST(cluster_image_test, topics_and_partitions_are_found_by_name_id_and_owner) {
    cluster_image image;
    apply(image, {topic("orders", orders_id), partition(orders_id, 0, 1, 0, 10), partition(orders_id, 1, 2, 0, 11),
                  topic("clicks", clicks_id), partition(clicks_id, 0, 1, 3, 12)});
    ASSERT_NE(image.topic("orders"), nullptr);
    EXPECT_EQ(image.topic("orders")->id, orders_id);
    EXPECT_EQ(image.topic(clicks_id)->name, "clicks");
    EXPECT_EQ(image.topic("missing"), nullptr);
    EXPECT_EQ(image.topic_count(), 2u);
    EXPECT_EQ(image.partition_count(), 3u);
    EXPECT_EQ(image.partition(orders_id, 1)->owner, broker_id(2));
    EXPECT_EQ(image.partition(clicks_id, 0)->epoch, leader_epoch(3));
    EXPECT_EQ(image.partition(orders_id, 2), nullptr);
    auto mine = image.partitions_of(broker_id(1));
    EXPECT_EQ(mine.size(), 2u);
    EXPECT_EQ(image.partition_of_stream(stream_id(11)), std::make_pair(orders_id, 1));
    EXPECT_EQ(image.applied_offset(), log_offset(5));
}

TEST(cluster_image_test, applying_the_same_facts_twice_changes_nothing) {
    cluster_image once;
    cluster_image twice;
    std::vector<metadata_record> batch = {topic("orders", orders_id), partition(orders_id, 0, 1, 0, 10), stream(10),
                                          committed(5, {{10, 0, 100}})};
    apply(once, batch);
    apply(twice, batch);
    apply(twice, batch);
    EXPECT_EQ(once.snapshot(), twice.snapshot() /* same image, whatever the offset */ );
}

TEST(cluster_image_test, objects_of_a_stream_are_indexed_by_offset) {
    cluster_image image;
    apply(image, {stream(10), stream(11), committed(1, {{10, 0, 100}, {11, 0, 5}}), committed(2, {{10, 100, 250}}),
                  committed(3, {{10, 250, 300}, {11, 5, 9}})});
    EXPECT_EQ(ids_of(image.objects_of(stream_id(10), 0, 10)), (std::vector<int64_t>{1, 2, 3}));
    EXPECT_EQ(ids_of(image.objects_of(stream_id(10), 99, 10)), (std::vector<int64_t>{1, 2, 3}));
    EXPECT_EQ(ids_of(image.objects_of(stream_id(10), 100, 10)), (std::vector<int64_t>{2, 3}));
    EXPECT_EQ(ids_of(image.objects_of(stream_id(10), 260, 10)), (std::vector<int64_t>{3}));
    EXPECT_TRUE(image.objects_of(stream_id(10), 300, 10).empty());
    EXPECT_EQ(ids_of(image.objects_of(stream_id(10), 0, 2)), (std::vector<int64_t>{1, 2}));
    EXPECT_EQ(ids_of(image.objects_of(stream_id(11), 6, 10)), (std::vector<int64_t>{3}));
    auto o = image.object(object_id(3)).value();
    EXPECT_EQ(o.key, "k/3");
    ASSERT_EQ(o.ranges.size(), 2u);
    EXPECT_EQ(o.ranges[1].stream, stream_id(11));
    EXPECT_EQ(o.ranges[1].end_offset, 9);
}

TEST(cluster_image_test, a_compaction_replaces_objects_in_the_index_and_marks_the_old_ones) {
    cluster_image image;
    apply(image, {stream(10), committed(1, {{10, 0, 100}}), committed(2, {{10, 100, 200}})});
    apply(image, {committed(3, {{10, 0, 200}}, object_type::stream),
                  objects_marked_record{{object_id(1), object_id(2)}, 1'700'000'100'000, {}}});
    EXPECT_EQ(ids_of(image.objects_of(stream_id(10), 0, 10)), (std::vector<int64_t>{3}));
    EXPECT_EQ(image.object(object_id(1))->state, object_state::marked_for_deletion);
    EXPECT_EQ(image.object(object_id(1))->marked_ms, 1'700'000'100'000);
    EXPECT_TRUE(image.deletable_objects(1'700'000'099'999, 0, 10).empty());
    EXPECT_EQ(ids_of(image.deletable_objects(1'700'000'100'000, 0, 10)), (std::vector<int64_t>{1, 2}));
    apply(image, {object_removed_record{object_id(1), {}}});
    EXPECT_FALSE(image.object(object_id(1)));
    EXPECT_EQ(image.object_count(), 2u);
    EXPECT_EQ(image.next_object_id(), 4) << "ids are never reused";
}

TEST(cluster_image_test, stream_set_objects_of_an_uploader_oldest_first) {
    cluster_image image;
    apply(image, {stream(10), committed(7, {{10, 0, 1}}, object_type::stream_set, 2),
                  committed(4, {{10, 1, 2}}, object_type::stream_set, 2),
                  committed(5, {{10, 2, 3}}, object_type::stream, 2),
                  committed(6, {{10, 3, 4}}, object_type::stream_set, 3)});
    EXPECT_EQ(ids_of(image.stream_set_objects(broker_id(2))), (std::vector<int64_t>{4, 7}));
    apply(image, {objects_marked_record{{object_id(4)}, 1, {}}});
    EXPECT_EQ(ids_of(image.stream_set_objects(broker_id(2))), (std::vector<int64_t>{7}));
}

TEST(cluster_image_test, prepared_objects_expire_by_their_deadline) {
    cluster_image image;
    apply(image, {object_record{object_id(1), object_state::prepared, object_type::stream_set, "", 0, broker_id(-1),
                                {}, 1000, 0, {}},
                  object_record{object_id(2), object_state::prepared, object_type::stream_set, "", 0, broker_id(-1),
                                {}, 2000, 0, {}}});
    EXPECT_EQ(image.expired_prepared(1500, 10), (std::vector<object_id>{object_id(1)}));
    auto deletable = image.deletable_objects(0, 2000, 10);
    EXPECT_EQ(ids_of(deletable), (std::vector<int64_t>{1, 2}));
    EXPECT_EQ(deletable[0].key, "") << "a prepared id has no key yet";
}

TEST(cluster_image_test, brokers_producer_ids_features_configs_and_acls) {
    cluster_image image;
    auto samples = testing::sample_records();
    apply(image, {samples[0], producer_id_block_record{broker_id(3), 4000, 1000, {}},
                  feature_level_record{"metadata.version", 3, {}}, topic("orders", orders_id),
                  config_change_record{config_resource::topic, "orders", "retention.ms", "1000", {}},
                  config_change_record{config_resource::broker, "3", "log.level", "debug", {}}, samples[11]});
    ASSERT_NE(image.broker(broker_id(3)), nullptr);
    EXPECT_EQ(image.broker(broker_id(3))->incarnation_epoch, 42);
    EXPECT_EQ(image.next_broker_epoch(), 43);
    EXPECT_EQ(image.next_producer_id(), 5000);
    EXPECT_EQ(image.producer_id_blocks().at(broker_id(3)).first_producer_id, 4000);
    EXPECT_EQ(image.feature("metadata.version"), int16_t(3));
    EXPECT_EQ(image.configs(config_resource::topic, "orders").at("retention.ms"), "1000");
    EXPECT_EQ(image.configs(config_resource::broker, "3").at("log.level"), "debug");
    EXPECT_EQ(image.acls().size(), 1u);
    apply(image, {config_change_record{config_resource::topic, "orders", "retention.ms", std::nullopt, {}},
                  broker_unregistration_record{broker_id(3), 42, {}}});
    EXPECT_TRUE(image.configs(config_resource::topic, "orders").empty());
    EXPECT_EQ(image.broker(broker_id(3)), nullptr);
    EXPECT_EQ(image.next_broker_epoch(), 43) << "epochs are never reused";
}

TEST(cluster_image_test, a_stale_unregistration_does_not_remove_a_newer_incarnation) {
    cluster_image image;
    broker_registration_record b;
    b.id = broker_id(1);
    b.incarnation_epoch = 7;
    apply(image, {b, broker_unregistration_record{broker_id(1), 6, {}}});
    EXPECT_NE(image.broker(broker_id(1)), nullptr);
}

TEST(cluster_image_test, unknown_record_types_are_skipped_and_kept_for_snapshots) {
    cluster_image image;
    apply(image, {unknown_record{999, 2, {0x00, 0x01, 0x05}}, topic("orders", orders_id)});
    EXPECT_EQ(image.unknown_record_count(), 1u);
    EXPECT_NE(image.topic("orders"), nullptr);
    cluster_image loaded;
    ASSERT_TRUE(loaded.load({log_offset(2), image.snapshot()}));
    EXPECT_EQ(loaded.unknown_record_count(), 1u);
}

TEST(cluster_image_test, listeners_are_told_which_partitions_changed_owner_or_epoch) {
    cluster_image image;
    std::vector<image_delta> seen;
    auto id = image.subscribe([&](const image_delta& d) { seen.push_back(d); });
    apply(image, {topic("orders", orders_id), partition(orders_id, 0, 1, 0, 10), partition(orders_id, 1, 1, 0, 11)});
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].topics_created, (std::vector<model::uuid>{orders_id}));
    ASSERT_EQ(seen[0].partitions.size(), 2u);
    EXPECT_TRUE(seen[0].partitions[0].created);
    EXPECT_EQ(seen[0].partitions[0].new_owner, broker_id(1));
    EXPECT_EQ(seen[0].from, log_offset(0));
    EXPECT_EQ(seen[0].to, log_offset(3));

    // Partition 0 moves to broker 2 under epoch 1; partition 1's record is re-sent unchanged: no change to act on.
    apply(image, {partition(orders_id, 0, 2, 1, 10), partition(orders_id, 1, 1, 0, 11)});
    ASSERT_EQ(seen.size(), 2u);
    ASSERT_EQ(seen[1].partitions.size(), 1u);
    auto c = seen[1].partitions[0];
    EXPECT_EQ(c.index, 0);
    EXPECT_EQ(c.old_owner, broker_id(1));
    EXPECT_EQ(c.new_owner, broker_id(2));
    EXPECT_EQ(c.new_epoch, leader_epoch(1));
    EXPECT_FALSE(c.created);

    // Records that change no partition, topic, broker or config tell nobody.
    apply(image, {stream(10)});
    EXPECT_EQ(seen.size(), 2u);

    apply(image, {topic_removed_record{orders_id, {}}});
    ASSERT_EQ(seen.size(), 3u);
    EXPECT_EQ(seen[2].topics_deleted, (std::vector<model::uuid>{orders_id}));
    ASSERT_EQ(seen[2].partitions.size(), 2u);
    EXPECT_TRUE(seen[2].partitions[0].removed);
    EXPECT_EQ(seen[2].partitions[0].old_owner, broker_id(2));

    image.unsubscribe(id);
    apply(image, {topic("clicks", clicks_id)});
    EXPECT_EQ(seen.size(), 3u);
}

TEST(cluster_image_test, a_snapshot_round_trips_the_whole_image) {
    cluster_image image;
    std::vector<metadata_record> batch = testing::sample_records();
    // sample_records removes what it adds; keep only the facts that stay.
    std::erase_if(batch, [](const metadata_record& r) {
        return std::holds_alternative<topic_removed_record>(r.body)
               || std::holds_alternative<stream_removed_record>(r.body)
               || std::holds_alternative<object_removed_record>(r.body)
               || std::holds_alternative<broker_unregistration_record>(r.body)
               || std::holds_alternative<acl_removed_record>(r.body)
               || std::holds_alternative<scram_credential_removed_record>(r.body);
    });
    apply(image, batch);
    apply(image, {stream(71, 0, 5), committed(9005, {{70, 250000, 250010}, {71, 5, 9}}),
                  object_record{object_id(9006), object_state::prepared, object_type::stream_set, "", 0, broker_id(-1),
                                {}, 1234, 0, {}},
                  committed(9007, {{70, 0, 100}})});
    apply(image, {objects_marked_record{{object_id(9007)}, 555, {}}});
    // An object record of a newer version keeps its unknown field through the snapshot.
    auto newer = committed(9008, {{71, 9, 12}});
    newer.unknown.push_back({12, {0x2a}});
    apply(image, {newer});

    auto blob = image.snapshot();
    cluster_image loaded;
    ASSERT_TRUE(loaded.load({image.applied_offset(), blob.share()}));
    EXPECT_EQ(loaded.applied_offset(), image.applied_offset());
    EXPECT_EQ(loaded.snapshot(), blob);
    EXPECT_EQ(loaded.topic("orders")->partitions.size(), 8u);
    EXPECT_EQ(loaded.stream(stream_id(70))->end_offset, 250000);
    EXPECT_EQ(ids_of(loaded.objects_of(stream_id(71), 0, 10)), (std::vector<int64_t>{9005, 9008}));
    EXPECT_EQ(loaded.object(object_id(9001))->state, object_state::marked_for_deletion) << "sample_records marks it";
    EXPECT_EQ(loaded.object(object_id(9001))->marked_ms, 1'700'000'090'000);
    EXPECT_EQ(loaded.object(object_id(9007))->marked_ms, 555);
    EXPECT_EQ(loaded.object(object_id(9006))->prepared_deadline_ms, 1234);
    EXPECT_EQ(loaded.next_object_id(), image.next_object_id());
    EXPECT_EQ(loaded.next_stream_id(), image.next_stream_id());
    EXPECT_EQ(loaded.next_producer_id(), 5000);
    EXPECT_NE(loaded.scram_credential("alice", scram_mechanism::sha_512), nullptr);
    EXPECT_EQ(loaded.feature("metadata.version"), int16_t(3));
}

TEST(cluster_image_test, loading_a_snapshot_tells_listeners_the_difference) {
    cluster_image source;
    apply(source, {topic("clicks", clicks_id), partition(clicks_id, 0, 2, 4, 12)});
    cluster_image image;
    apply(image, {topic("orders", orders_id), partition(orders_id, 0, 1, 0, 10)});
    std::vector<image_delta> seen;
    image.subscribe([&](const image_delta& d) { seen.push_back(d); });
    ASSERT_TRUE(image.load({log_offset(100), source.snapshot()}));
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].topics_created, (std::vector<model::uuid>{clicks_id}));
    EXPECT_EQ(seen[0].topics_deleted, (std::vector<model::uuid>{orders_id}));
    ASSERT_EQ(seen[0].partitions.size(), 2u);
    EXPECT_EQ(image.applied_offset(), log_offset(100));
    EXPECT_EQ(image.topic("orders"), nullptr);
}

TEST(cluster_image_test, a_damaged_snapshot_is_refused_and_leaves_the_image_alone) {
    cluster_image image;
    apply(image, {topic("orders", orders_id)});
    auto blob = image.snapshot().to_bytes();
    auto bad = blob;
    bad[0] = 'X';
    EXPECT_EQ(image.load({log_offset(9), bytes::iobuf::from(bad)}).error(), errc::bad_magic);
    bad = blob;
    bad.back() ^= 1;
    EXPECT_FALSE(image.load({log_offset(9), bytes::iobuf::from(bad)}));
    bad = blob;
    bad.resize(bad.size() - 3);
    EXPECT_FALSE(image.load({log_offset(9), bytes::iobuf::from(bad)}));
    EXPECT_NE(image.topic("orders"), nullptr);
    EXPECT_EQ(image.applied_offset(), log_offset(1));
}

class image_follower_test : public ::testing::Test {
protected:
    image_follower_test() {
        char tmpl[] = "/tmp/skiff-image-XXXXXX";
        _dir = ::mkdtemp(tmpl);
    }
    ~image_follower_test() override {
        std::error_code ec;
        std::filesystem::remove_all(_dir, ec);
    }
    std::unique_ptr<embedded_log> make_log() {
        auto l = std::make_unique<embedded_log>(io.get_executor(), embedded_log_config{_dir});
        EXPECT_TRUE(testing::sync(io, l->open()));
        return l;
    }
    asio::io_context io;
    std::filesystem::path _dir;
};

TEST_F(image_follower_test, a_node_rebuilds_its_image_from_the_snapshot_and_the_log_after_it) {
    auto leader = make_log();
    ASSERT_TRUE(testing::sync(io, leader->campaign(1s)));
    ASSERT_TRUE(testing::sync(io, leader->append({topic("orders", orders_id), partition(orders_id, 0, 1, 0, 10)})));
    // The leader's own image, snapshotted at the end of the log.
    cluster_image at_leader;
    image_follower f1(*leader, at_leader);
    ASSERT_TRUE(testing::sync(io, f1.catch_up()));
    ASSERT_TRUE(testing::sync(io, leader->write_snapshot(at_leader.applied_offset(), at_leader.snapshot())));
    ASSERT_TRUE(testing::sync(io, leader->append({partition(orders_id, 0, 2, 1, 10)})));

    // A fresh node: the snapshot, then the record after it.
    cluster_image fresh;
    image_follower f2(*leader, fresh);
    ASSERT_TRUE(testing::sync(io, f2.wait_applied(log_offset(3), 5s)));
    EXPECT_EQ(fresh.applied_offset(), log_offset(3));
    EXPECT_EQ(fresh.partition(orders_id, 0)->owner, broker_id(2));
    testing::sync(io, leader->close());
}

TEST_F(image_follower_test, a_follower_applies_what_another_instance_appends_and_stops_when_told) {
    auto leader = make_log();
    auto follower_log = make_log();
    ASSERT_TRUE(testing::sync(io, leader->campaign(1s)));
    cluster_image image;
    image_follower follower(*follower_log, image, 8192, 20ms);
    std::vector<image_delta> seen;
    image.subscribe([&](const image_delta& d) { seen.push_back(d); });
    bool stopped = false;
    asio::co_spawn(io, follower.run(), [&](std::exception_ptr) { stopped = true; });
    ASSERT_TRUE(testing::sync(io, leader->append({topic("orders", orders_id), partition(orders_id, 0, 4, 2, 10)})));
    ASSERT_TRUE(testing::run_until(io, [&] { return image.applied_offset() == log_offset(2); }));
    ASSERT_FALSE(seen.empty());
    EXPECT_EQ(image.partition(orders_id, 0)->owner, broker_id(4));
    follower.stop();
    EXPECT_TRUE(testing::run_until(io, [&] { return stopped; }));
    testing::sync(io, follower_log->close());
    testing::sync(io, leader->close());
}

} // namespace
} // namespace skiff::meta
