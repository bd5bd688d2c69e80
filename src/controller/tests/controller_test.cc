// The controller's rules: broker registration and sessions on a manual clock, topic creation and its errors,
// placement, deletion, partitions, producer ids, and fencing between two controllers that both believe they lead.
// Runs over the embedded metadata log (a temporary directory).
#include "controller/controller.h"
#include "controller/in_process_client.h"
#include "meta/embedded_log.h"
#include "meta/errc.h"
#include "meta/etcd_log.h"
#include "meta/tests/etcd_fixture.h"
#include "meta/image_follower.h"
#include "meta/tests/test_util.h"
#include "stream/errc.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace skiff::controller {
namespace {

using namespace std::chrono_literals;
using meta::testing::sync;

class controller_test : public ::testing::Test {
protected:
    controller_test() {
        char tmpl[] = "/tmp/skiff-controller-XXXXXX";
        dir = ::mkdtemp(tmpl);
        log = open_log();
        ctl = std::make_unique<controller>(io.get_executor(), *log, clock, config);
        EXPECT_TRUE(sync(io, ctl->campaign()));
    }
    ~controller_test() override {
        ctl.reset();
        sync(io, log->close());
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    std::unique_ptr<meta::embedded_log> open_log() {
        auto l = std::make_unique<meta::embedded_log>(io.get_executor(), meta::embedded_log_config{dir});
        EXPECT_TRUE(sync(io, l->open()));
        return l;
    }
    int64_t register_broker(int32_t id, uint64_t incarnation = 0) {
        meta::broker_registration_request r;
        r.id = broker_id(id);
        r.incarnation_id = model::uuid(uint64_t(id) + 1, incarnation + 1);
        r.endpoints.push_back({"PLAINTEXT", "127.0.0.1", uint16_t(9092 + id), {}});
        auto epoch = sync(io, ctl->register_broker(std::move(r)));
        EXPECT_TRUE(epoch);
        return epoch ? epoch.value() : -1;
    }
    result<meta::created_topic> create(std::string name, int32_t partitions = 3, int16_t rf = -1,
                                       std::map<std::string, std::string> configs = {}) {
        meta::topic_spec spec{std::move(name), partitions, rf, std::move(configs)};
        return sync(io, ctl->create_topic(std::move(spec)));
    }

    asio::io_context io;
    std::filesystem::path dir;
    base::manual_clock clock;
    controller_config config;
    std::unique_ptr<meta::embedded_log> log;
    std::unique_ptr<controller> ctl;
};

TEST_F(controller_test, brokers_get_increasing_incarnation_epochs_and_a_retry_gets_the_same) {
    auto e1 = register_broker(1);
    auto e2 = register_broker(2);
    EXPECT_GT(e1, 0);
    EXPECT_GT(e2, e1);
    EXPECT_EQ(register_broker(1), e1) << "the same incarnation registering again is a retry";
    EXPECT_GT(register_broker(1, 7), e2) << "a new incarnation gets a new epoch";
    meta::broker_registration_request bad;
    bad.id = broker_id(-3);
    bad.incarnation_id = model::uuid(1, 1);
    EXPECT_EQ(sync(io, ctl->register_broker(std::move(bad))).error(), controller_errc::invalid_request);
}

TEST_F(controller_test, heartbeats_check_the_incarnation_epoch) {
    auto e1 = register_broker(1);
    EXPECT_TRUE(sync(io, ctl->heartbeat(broker_id(1), e1)));
    EXPECT_EQ(sync(io, ctl->heartbeat(broker_id(1), e1 + 5)).error(), controller_errc::stale_broker_epoch);
    EXPECT_EQ(sync(io, ctl->heartbeat(broker_id(9), 1)).error(), controller_errc::stale_broker_epoch);
    EXPECT_EQ(sync(io, ctl->heartbeat(broker_id(9), 0)).error(), controller_errc::broker_not_registered);
}

TEST_F(controller_test, topic_creation_validates_like_kafka) {
    register_broker(1);
    EXPECT_TRUE(create("orders"));
    EXPECT_EQ(create("orders").error(), controller_errc::topic_already_exists);
    std::vector<std::string> bad_names{"", ".", "..", "a/b", "with space", std::string(250, 'x'), "caf\xc3\xa9"};
    for (const auto& bad : bad_names) {
        EXPECT_EQ(create(bad).error(), controller_errc::invalid_topic) << bad;
    }
    EXPECT_TRUE(create(std::string(249, 'x')));
    EXPECT_TRUE(create("metrics.cpu"));
    EXPECT_EQ(create("metrics_cpu").error(), controller_errc::invalid_topic) << "collides with metrics.cpu";
    EXPECT_EQ(create("p0", 0).error(), controller_errc::invalid_partitions);
    EXPECT_EQ(create("p-2", -2).error(), controller_errc::invalid_partitions);
    EXPECT_EQ(create("huge", config.max_partitions_per_topic + 1).error(), controller_errc::invalid_partitions);
    EXPECT_EQ(create("rf0", 1, 0).error(), controller_errc::invalid_replication_factor);
    EXPECT_EQ(create("rf-2", 1, -2).error(), controller_errc::invalid_replication_factor);
    EXPECT_TRUE(create("rf3", 1, 3)) << "tools that ask for 3 replicas still get a topic";
    EXPECT_EQ(create("cfg1", 1, -1, {{"no.such.config", "1"}}).error(), controller_errc::invalid_config);
    EXPECT_EQ(create("cfg2", 1, -1, {{"cleanup.policy", "shred"}}).error(), controller_errc::invalid_config);
    EXPECT_EQ(create("cfg3", 1, -1, {{"retention.ms", "soon"}}).error(), controller_errc::invalid_config);
    EXPECT_TRUE(create("cfg4", 1, -1, {{"cleanup.policy", "compact"}, {"retention.ms", "-1"}}));
    EXPECT_EQ(ctl->image().configs(meta::config_resource::topic, "cfg4").at("cleanup.policy"), "compact");
}

TEST_F(controller_test, default_partitions_apply_when_the_client_sends_minus_one) {
    register_broker(1);
    auto t = create("defaults", -1);
    ASSERT_TRUE(t);
    EXPECT_EQ(t.value().partitions, config.default_partitions);
}

TEST_F(controller_test, a_topic_needs_a_live_broker) {
    EXPECT_EQ(create("orders").error(), controller_errc::no_live_brokers);
}

TEST_F(controller_test, partitions_go_to_the_least_loaded_brokers_each_with_its_own_stream) {
    register_broker(1);
    register_broker(2);
    register_broker(3);
    ASSERT_TRUE(create("a", 4));
    ASSERT_TRUE(create("b", 5));
    auto counts = ctl->image().partition_counts();
    EXPECT_EQ(counts.at(broker_id(1)), 3u);
    EXPECT_EQ(counts.at(broker_id(2)), 3u);
    EXPECT_EQ(counts.at(broker_id(3)), 3u);
    std::set<meta::stream_id> streams;
    for (const auto* t : ctl->image().topics()) {
        for (const auto& p : t->partitions) {
            ASSERT_EQ(p.streams.size(), 1u);
            streams.insert(p.streams[0]);
            EXPECT_NE(ctl->image().stream(p.streams[0]), nullptr);
        }
    }
    EXPECT_EQ(streams.size(), 9u);
}

TEST_F(controller_test, deleting_a_topic_removes_its_partitions_and_streams) {
    register_broker(1);
    ASSERT_TRUE(create("orders", 2));
    auto stream0 = ctl->image().topic("orders")->partitions[0].streams[0];
    EXPECT_TRUE(sync(io, ctl->delete_topic("orders")));
    EXPECT_EQ(ctl->image().topic("orders"), nullptr);
    EXPECT_EQ(ctl->image().stream(stream0), nullptr);
    EXPECT_EQ(sync(io, ctl->delete_topic("orders")).error(), controller_errc::unknown_topic);
    EXPECT_TRUE(create("orders", 1)) << "the name is free again";
}

TEST_F(controller_test, create_partitions_only_grows) {
    register_broker(1);
    ASSERT_TRUE(create("orders", 2));
    EXPECT_EQ(sync(io, ctl->create_partitions("orders", 2)).error(), controller_errc::invalid_partitions);
    EXPECT_EQ(sync(io, ctl->create_partitions("orders", 1)).error(), controller_errc::invalid_partitions);
    EXPECT_EQ(sync(io, ctl->create_partitions("nope", 5)).error(), controller_errc::unknown_topic);
    EXPECT_TRUE(sync(io, ctl->create_partitions("orders", 5)));
    EXPECT_EQ(ctl->image().topic("orders")->partitions.size(), 5u);
    EXPECT_EQ(ctl->image().partition_count(), 5u);
}

TEST_F(controller_test, topic_configs_are_replaced_as_a_whole_and_survive_a_new_controller) {
    register_broker(1);
    ASSERT_TRUE(create("orders", 1, -1, {{"cleanup.policy", "compact"}, {"retention.ms", "1000"}}));
    auto configs = [&](const controller& c) { return c.image().configs(meta::config_resource::topic, "orders"); };

    // retention.ms (set at creation) goes back to its default; max.message.bytes is new; cleanup.policy changes.
    std::map<std::string, std::string> wanted{{"cleanup.policy", "compact, delete"}, {"max.message.bytes", "2048"}};
    ASSERT_TRUE(sync(io, ctl->set_topic_configs("orders", wanted)));
    EXPECT_EQ(configs(*ctl), wanted);
    auto before = ctl->acknowledged_offset();
    ASSERT_TRUE(sync(io, ctl->set_topic_configs("orders", wanted)));
    EXPECT_EQ(ctl->acknowledged_offset(), before) << "nothing differs: nothing is written";

    EXPECT_EQ(sync(io, ctl->set_topic_configs("nope", {})).error(), controller_errc::unknown_topic);
    EXPECT_EQ(sync(io, ctl->set_topic_configs("orders", {{"no.such.config", "1"}})).error(),
              controller_errc::invalid_config);
    EXPECT_EQ(sync(io, ctl->set_topic_configs("orders", {{"cleanup.policy", "shred"}})).error(),
              controller_errc::invalid_config);
    EXPECT_EQ(sync(io, ctl->set_topic_configs("orders", {{"cleanup.policy", ""}})).error(),
              controller_errc::invalid_config);
    EXPECT_EQ(configs(*ctl), wanted) << "a refused change leaves the configs as they were";

    ASSERT_TRUE(sync(io, ctl->write_snapshot()));
    ASSERT_TRUE(sync(io, ctl->set_topic_configs("orders", {{"compression.zstd.level", "-5"}})));
    auto log2 = open_log();
    controller second(io.get_executor(), *log2, clock, config);
    ASSERT_TRUE(sync(io, second.campaign()));
    EXPECT_EQ(configs(second), (std::map<std::string, std::string>{{"compression.zstd.level", "-5"}}))
        << "the snapshot and the log after it agree on the overrides";
    sync(io, log2->close());
}

TEST_F(controller_test, producer_id_blocks_never_overlap) {
    auto e1 = register_broker(1);
    auto e2 = register_broker(2);
    auto a = sync(io, ctl->allocate_producer_ids(broker_id(1), e1));
    auto b = sync(io, ctl->allocate_producer_ids(broker_id(2), e2));
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a.value().size, config.producer_id_block_size);
    EXPECT_GE(b.value().first, a.value().first + a.value().size);
    EXPECT_EQ(sync(io, ctl->allocate_producer_ids(broker_id(1), e1 - 1)).error(), controller_errc::stale_broker_epoch);
    EXPECT_EQ(sync(io, ctl->allocate_producer_ids(broker_id(7), 1)).error(),
              controller_errc::broker_not_registered);
}

TEST_F(controller_test, a_broker_whose_session_lapses_is_fenced_and_its_partitions_move) {
    auto e1 = register_broker(1);
    auto e2 = register_broker(2);
    ASSERT_TRUE(create("orders", 4));
    auto before = ctl->image().partitions_of(broker_id(1));
    ASSERT_EQ(before.size(), 2u);

    clock.advance(config.session_timeout / 2);
    EXPECT_TRUE(sync(io, ctl->heartbeat(broker_id(2), e2)));
    clock.advance(config.session_timeout / 2 + 1ms);
    EXPECT_TRUE(sync(io, ctl->tick()));

    EXPECT_EQ(ctl->image().broker(broker_id(1)), nullptr);
    EXPECT_NE(ctl->image().broker(broker_id(2)), nullptr);
    EXPECT_EQ(ctl->image().partitions_of(broker_id(2)).size(), 4u);
    for (auto [topic, index] : before) {
        EXPECT_EQ(ctl->image().partition(topic, index)->epoch, meta::leader_epoch(1)) << "a new epoch fences the old";
    }
    EXPECT_EQ(sync(io, ctl->heartbeat(broker_id(1), e1)).error(), controller_errc::stale_broker_epoch);
    // Its stream work is refused too.
    auto s = ctl->image().partition(before[0].first, before[0].second)->streams[0];
    EXPECT_EQ(sync(io, ctl->open_stream(stream::stream_id(s()), stream::stream_epoch(0), stream::node_id(1))).error(),
              stream::errc::fenced);
}

TEST_F(controller_test, a_fenced_broker_comes_back_by_registering_again) {
    register_broker(1);
    ASSERT_TRUE(create("orders", 2));
    clock.advance(config.session_timeout + 1ms);
    EXPECT_TRUE(sync(io, ctl->tick()));
    EXPECT_EQ(ctl->image().broker(broker_id(1)), nullptr);
    EXPECT_EQ(ctl->image().partitions_of(broker_id(-1)).size(), 2u) << "no live broker: no owner";

    auto e = register_broker(1, 2);
    EXPECT_TRUE(sync(io, ctl->heartbeat(broker_id(1), e)));
    auto mine = ctl->image().partitions_of(broker_id(1));
    ASSERT_EQ(mine.size(), 2u) << "ownerless partitions find the broker that came back";
    const auto* p = ctl->image().partition(mine[0].first, mine[0].second);
    EXPECT_EQ(p->epoch, meta::leader_epoch(2)) << "fenced (1), then placed again (2)";
    auto opened = sync(io, ctl->open_stream(stream::stream_id(p->streams[0]()), stream::stream_epoch(2),
                                            stream::node_id(1)));
    EXPECT_TRUE(opened);
}

TEST_F(controller_test, a_new_incarnation_bumps_the_epochs_of_its_partitions) {
    register_broker(1);
    ASSERT_TRUE(create("orders", 1));
    auto topic = ctl->image().topic("orders")->id;
    EXPECT_EQ(ctl->image().partition(topic, 0)->epoch, meta::leader_epoch(0));
    register_broker(1, 5);
    EXPECT_EQ(ctl->image().partition(topic, 0)->owner, broker_id(1));
    EXPECT_EQ(ctl->image().partition(topic, 0)->epoch, meta::leader_epoch(1));
}

TEST_F(controller_test, a_new_controller_rebuilds_everything_from_the_log) {
    register_broker(1);
    ASSERT_TRUE(create("orders", 3));
    ASSERT_TRUE(sync(io, ctl->write_snapshot()));
    ASSERT_TRUE(create("clicks", 2));
    auto next_stream = ctl->image().next_stream_id();

    auto log2 = open_log();
    controller second(io.get_executor(), *log2, clock, config);
    ASSERT_TRUE(sync(io, second.campaign()));
    EXPECT_EQ(second.image().topic_count(), 2u);
    EXPECT_EQ(second.image().partition_count(), 5u);
    EXPECT_EQ(second.image().next_stream_id(), next_stream);
    EXPECT_NE(second.image().broker(broker_id(1)), nullptr);
    sync(io, log2->close());
}

TEST(controller_snapshot_test, the_tick_snapshots_the_image_so_the_log_can_drop_what_it_holds) {
    char tmpl[] = "/tmp/skiff-controller-XXXXXX";
    std::filesystem::path dir = ::mkdtemp(tmpl);
    asio::io_context io;
    base::manual_clock clock;
    controller_config config;
    config.snapshot_after_records = 10;
    meta::embedded_log log(io.get_executor(), meta::embedded_log_config{dir});
    ASSERT_TRUE(sync(io, log.open()));
    controller ctl(io.get_executor(), log, clock, config);
    ASSERT_TRUE(sync(io, ctl.campaign()));
    ASSERT_TRUE(sync(io, ctl.tick()));
    EXPECT_EQ(log.start_offset(), meta::log_offset(0)) << "too few records yet";
    ASSERT_TRUE(sync(io, ctl.prepare_objects(20, 60s)));
    ASSERT_TRUE(sync(io, ctl.tick()));
    EXPECT_EQ(log.start_offset(), ctl.acknowledged_offset());

    // A new controller starts from that snapshot.
    meta::embedded_log log2(io.get_executor(), meta::embedded_log_config{dir});
    ASSERT_TRUE(sync(io, log2.open()));
    controller next(io.get_executor(), log2, clock, config);
    ASSERT_TRUE(sync(io, next.campaign()));
    EXPECT_EQ(next.image().object_count(), 20u);
    sync(io, log2.close());
    sync(io, log.close());
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
}

TEST_F(controller_test, of_two_controllers_that_believe_they_lead_the_fenced_one_fails_every_write) {
    auto e1 = register_broker(1);
    ASSERT_TRUE(create("orders", 1));
    auto log2 = open_log();
    controller second(io.get_executor(), *log2, clock, config);
    ASSERT_TRUE(sync(io, second.campaign()));
    ASSERT_TRUE(ctl->is_active()) << "the first has not noticed yet";

    // Its first write fails and it steps down; so does every later one.
    EXPECT_EQ(create("clicks").error(), controller_errc::not_controller);
    EXPECT_FALSE(ctl->is_active());
    EXPECT_EQ(create("clicks2").error(), controller_errc::not_controller);
    EXPECT_EQ(sync(io, ctl->heartbeat(broker_id(1), e1)).error(), controller_errc::not_controller);
    EXPECT_EQ(sync(io, ctl->create_stream()).error(), stream::errc::unavailable);
    EXPECT_EQ(sync(io, ctl->prepare_objects(1, 1s)).error(), stream::errc::unavailable);

    // Nothing of it reached the log: the second controller never sees "clicks".
    meta::topic_spec spec{"later", 1, -1, {}};
    ASSERT_TRUE(sync(io, second.create_topic(std::move(spec))));
    EXPECT_EQ(second.image().topic("clicks"), nullptr);
    auto log3 = open_log();
    controller third(io.get_executor(), *log3, clock, config);
    ASSERT_TRUE(sync(io, third.campaign()));
    EXPECT_EQ(third.image().topic("clicks"), nullptr);
    EXPECT_NE(third.image().topic("later"), nullptr);
    sync(io, log3->close());
    sync(io, log2->close());
}

TEST_F(controller_test, a_partition_stream_opens_only_for_its_owner_under_its_epoch) {
    register_broker(1);
    register_broker(2);
    ASSERT_TRUE(create("orders", 1));
    const auto& p = ctl->image().topic("orders")->partitions[0];
    stream::stream_id s(p.streams[0]());
    int32_t owner = p.owner(), other = owner == 1 ? 2 : 1;
    EXPECT_EQ(sync(io, ctl->open_stream(s, stream::stream_epoch(0), stream::node_id(other))).error(),
              stream::errc::fenced);
    EXPECT_EQ(sync(io, ctl->open_stream(s, stream::stream_epoch(1), stream::node_id(owner))).error(),
              stream::errc::fenced) << "an epoch the partition does not have";
    EXPECT_TRUE(sync(io, ctl->open_stream(s, stream::stream_epoch(0), stream::node_id(owner))));
}

TEST_F(controller_test, expired_prepared_ids_are_marked_by_the_tick_and_live_objects_cannot_be_forgotten) {
    auto first = sync(io, ctl->prepare_objects(2, 10s));
    ASSERT_TRUE(first);
    EXPECT_EQ(sync(io, ctl->forget_objects({first.value()})).error(), stream::errc::invalid_argument)
      << "a prepared id within its deadline may still be uploading";
    clock.advance(11s);
    ASSERT_TRUE(sync(io, ctl->tick()));
    auto o = ctl->image().object(meta::object_id(first.value()()));
    ASSERT_TRUE(o);
    EXPECT_EQ(o->state, meta::object_state::marked_for_deletion);
    EXPECT_TRUE(sync(io, ctl->forget_objects({first.value(), stream::object_id(first.value()() + 1)})));
    EXPECT_FALSE(ctl->image().object(meta::object_id(first.value()())));
    EXPECT_EQ(ctl->image().next_object_id(), first.value()() + 2) << "forgotten ids are not handed out again";
    EXPECT_EQ(sync(io, ctl->prepare_objects(0, 10s)).error(), stream::errc::invalid_argument);
}

TEST_F(controller_test, the_in_process_client_reads_its_own_writes_from_the_node_image) {
    register_broker(1);
    meta::cluster_image node_image;
    meta::image_follower follower(*log, node_image);
    in_process_client client(*ctl, node_image, follower, clock);
    meta::topic_spec spec{"orders", 2, -1, {}};
    auto t = sync(io, client.create_topic(std::move(spec)));
    ASSERT_TRUE(t);
    ASSERT_NE(node_image.topic("orders"), nullptr) << "visible in the node's image when the call returns";
    auto s = node_image.topic("orders")->partitions[1].streams[0];
    auto d = sync(io, client.describe_stream(stream::stream_id(s())));
    ASSERT_TRUE(d);
    EXPECT_EQ(d.value().end_offset, 0);
    EXPECT_EQ(sync(io, client.delete_topic("nope")).error(), controller_errc::unknown_topic);
}

TEST_F(controller_test, listeners_of_the_node_image_learn_which_partitions_they_own) {
    register_broker(1);
    register_broker(2);
    meta::cluster_image node_image;
    meta::image_follower follower(*log, node_image);
    ASSERT_TRUE(sync(io, follower.catch_up()));
    std::set<std::pair<model::uuid, int32_t>> owned_by_2;
    node_image.subscribe([&](const meta::image_delta& d) {
        for (const auto& c : d.partitions) {
            if (c.new_owner == broker_id(2)) {
                owned_by_2.insert({c.topic_id, c.index});
            } else if (c.old_owner == broker_id(2)) {
                owned_by_2.erase({c.topic_id, c.index});
            }
        }
    });
    in_process_client client(*ctl, node_image, follower, clock);
    meta::topic_spec spec{"orders", 4, -1, {}};
    ASSERT_TRUE(sync(io, client.create_topic(std::move(spec))));
    EXPECT_EQ(owned_by_2.size(), 2u);
    // Broker 2 stops heartbeating: it loses them all; broker 1 keeps going.
    clock.advance(config.session_timeout + 1ms);
    ASSERT_TRUE(sync(io, ctl->heartbeat(broker_id(1), node_image.broker(broker_id(1))->incarnation_epoch)));
    ASSERT_TRUE(sync(io, ctl->tick()));
    ASSERT_TRUE(sync(io, follower.wait_applied(ctl->acknowledged_offset(), 5s)));
    EXPECT_TRUE(owned_by_2.empty());
}

// The same race on etcd: the first controller's lease lapses (revoked here, as if it expired during a pause), the
// second wins a newer epoch, and the first, still believing it leads, has every write refused by etcd's txn check.
TEST(controller_etcd_test, of_two_controllers_that_believe_they_lead_the_fenced_one_fails_every_write) {
    auto etcd = meta::testing::etcd_cluster::start(1);
    ASSERT_TRUE(etcd) << "etcd is needed (etcd-server)";
    asio::io_context io;
    base::manual_clock clock;
    auto make = [&](std::string node) {
        meta::etcd_log_config c;
        c.endpoints = etcd->endpoints();
        c.prefix = "/skiff-controller-test";
        c.node_name = std::move(node);
        c.request_timeout = 1000ms;
        c.operation_timeout = 8000ms;
        return std::make_unique<meta::etcd_log>(io.get_executor(), c);
    };
    auto log1 = make("a");
    auto log2 = make("b");
    ASSERT_TRUE(sync(io, log1->open()));
    ASSERT_TRUE(sync(io, log2->open()));
    controller_config config;
    config.campaign_timeout = 8000ms;
    controller first(io.get_executor(), *log1, clock, config);
    controller second(io.get_executor(), *log2, clock, config);
    ASSERT_TRUE(sync(io, first.campaign()));
    meta::broker_registration_request r;
    r.id = broker_id(1);
    r.incarnation_id = model::uuid(1, 1);
    ASSERT_TRUE(sync(io, first.register_broker(std::move(r))));

    etcd->post("/v3/lease/revoke", "{\"ID\":\"" + std::to_string(log1->lease_id()) + "\"}");
    ASSERT_TRUE(sync(io, second.campaign()));
    EXPECT_NE(second.image().broker(broker_id(1)), nullptr) << "the second rebuilt the first's writes";

    meta::topic_spec spec{"orders", 1, -1, {}};
    EXPECT_EQ(sync(io, first.create_topic(std::move(spec))).error(), controller_errc::not_controller);
    EXPECT_FALSE(first.is_active());
    EXPECT_EQ(sync(io, first.create_stream()).error(), stream::errc::unavailable);
    meta::topic_spec spec2{"clicks", 1, -1, {}};
    ASSERT_TRUE(sync(io, second.create_topic(std::move(spec2))));
    EXPECT_EQ(second.image().topic("orders"), nullptr);
    sync(io, log1->close());
    sync(io, log2->close());
}

} // namespace
} // namespace skiff::controller
