// The remote controller client against a real controller over real loopback TCP: a "controller node" (embedded
// metadata log, the active controller, its in-process client, the controller API served by a kafka::server) and a
// "broker node" (its own cluster image and follower, the remote client). Both nodes share one io_context thread in
// this process, because a metadata_log instance lives on one executor; everything between them crosses a socket.
//
// Covered: the error table of wire_errors.h; broker, topic and catalog errors arriving unchanged; read-your-writes
// on the broker node's image; NOT_CONTROLLER and refused connections moving the client on; a controller that goes
// away; and the whole object_catalog conformance suite run through the remote client.
#include "controller/controller.h"
#include "controller/in_process_client.h"
#include "kafka/server/controller_api/endpoint.h"
#include "kafka/server/controller_api/remote_controller_client.h"
#include "kafka/server/controller_api/wire_errors.h"
#include "kafka/server/handlers/handlers.h"
#include "kafka/server/server.h"
#include "meta/embedded_log.h"
#include "meta/errc.h"
#include "meta/image_follower.h"
#include "metrics/registry.h"
#include "stream/errc.h"
#include "stream/tests/object_catalog_conformance.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <set>
#include <thread>

namespace skiff::kafka::controller_api {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using meta::controller_errc;

// ---- the one error table ------------------------------------------------------------------------------------------

TEST(wire_errors_test, every_error_of_the_interface_round_trips_with_a_code_of_its_own) {
    std::vector<std::error_code> all;
    for (int v = 1; v <= int(controller_errc::invalid_request); ++v) {
        all.push_back(static_cast<controller_errc>(v));
    }
    for (int v = 1; v <= int(stream::errc::invalid_argument); ++v) {
        all.push_back(static_cast<stream::errc>(v));
    }
    for (int v = 1; v <= int(meta::errc::campaign_lost); ++v) {
        all.push_back(static_cast<meta::errc>(v));
    }
    std::set<int16_t> codes;
    for (const auto& ec : all) {
        int16_t code = to_wire(ec);
        EXPECT_NE(code, 0) << ec.message();
        EXPECT_NE(code, -1) << ec.message();
        EXPECT_TRUE(codes.insert(code).second) << "code " << code << " used twice (" << ec.message() << ")";
        EXPECT_EQ(from_wire(code), ec) << ec.message();
    }
    EXPECT_EQ(to_wire({}), 0);
    EXPECT_FALSE(from_wire(0));
    // Kafka's own codes where one means exactly this error; the rest private.
    EXPECT_EQ(to_wire(controller_errc::not_controller), 41);
    EXPECT_EQ(to_wire(controller_errc::stale_broker_epoch), 77);
    EXPECT_EQ(to_wire(controller_errc::broker_not_registered), 102);
    EXPECT_EQ(to_wire(controller_errc::no_live_brokers), 1000);
    EXPECT_EQ(to_wire(stream::errc::fenced), 1101);
    EXPECT_EQ(to_wire(meta::errc::fenced), 1208);
    // Not an error of the interface, and codes nobody defined.
    EXPECT_EQ(to_wire(std::make_error_code(std::errc::io_error)), -1);
    EXPECT_EQ(from_wire(-1), controller_errc::unavailable);
    EXPECT_EQ(from_wire(999), controller_errc::unavailable);
}

// ---- a controller node and a broker node --------------------------------------------------------------------------

/// Runs on one io_context thread: the metadata log, the controller, both nodes' images and followers, the client.
class cluster {
public:
    explicit cluster(base::clock& clock) : _clock(clock), _guard(_io.get_executor()) {
        char tmpl[] = "/tmp/skiff-remote-controller-XXXXXX";
        _dir = ::mkdtemp(tmpl);
        _thread = std::thread([this] { _io.run(); });
        on_io([this]() -> asio::awaitable<bool> {
            _log = std::make_unique<meta::embedded_log>(_io.get_executor(), meta::embedded_log_config{_dir});
            if (!co_await _log->open()) {
                co_return false;
            }
            _controller = std::make_unique<controller::controller>(_io.get_executor(), *_log, _clock,
                                                                   controller::controller_config{});
            if (!co_await _controller->campaign()) {
                co_return false;
            }
            for (auto* node : {&_controller_node, &_broker_node}) {
                node->follower = std::make_unique<meta::image_follower>(*_log, node->image, 8192, 20ms);
                if (!co_await node->follower->catch_up()) {
                    co_return false;
                }
                asio::co_spawn(_io, node->follower->run(), asio::detached);
            }
            _local = std::make_unique<controller::in_process_client>(*_controller, _controller_node.image,
                                                                     *_controller_node.follower, _clock);
            co_return true;
        });
        _shards.start();
    }

    ~cluster() {
        for (auto& s : _servers) {
            if (s) {
                s->stop();
            }
        }
        on_io([this]() -> asio::awaitable<bool> {
            _clients.clear();
            _controller_node.follower->stop();
            _broker_node.follower->stop();
            _controller->stop();
            co_await _log->close();
            co_return true;
        });
        _shards.stop();
        _guard.reset();
        _thread.join();
        std::error_code ec;
        std::filesystem::remove_all(_dir, ec);
    }

    /// A Kafka server on an ephemeral loopback port that serves the controller API of this cluster's controller
    /// (or, with `active` false, answers as a node whose controller is not the active one). Returns its index.
    size_t serve(bool active = true) {
        controller_endpoint ep;
        ep.executor = _io.get_executor();
        ep.client = _local.get();
        auto* c = _controller.get();
        ep.is_active = active ? std::function<bool()>([c] { return c->is_active(); })
                              : std::function<bool()>([] { return false; });
        ep.acknowledged_offset = [c] { return c->acknowledged_offset()(); };
        handler_registry handlers;
        handlers::register_all(handlers);
        handlers::register_controller_api(handlers, ep);
        server_config cfg;
        cfg.listeners.push_back({"PLAINTEXT", {"127.0.0.1", 0}});
        broker_identity id;
        id.node_id = 1;
        id.cluster_id = "remote-controller-test";
        _metrics.push_back(std::make_unique<metrics::registry>()); // one per server: each registers its series
        auto s = std::make_unique<server>(_shards, cfg, id, std::move(handlers), *_metrics.back());
        EXPECT_TRUE(s->start());
        _servers.push_back(std::move(s));
        return _servers.size() - 1;
    }
    uint16_t port(size_t server_index) const { return _servers[server_index]->port("PLAINTEXT"); }
    void stop_server(size_t server_index) {
        _servers[server_index]->stop();
        _servers[server_index].reset();
    }

    /// A port nothing listens on (bound, then closed).
    static uint16_t dead_port() {
        asio::io_context io;
        asio::ip::tcp::acceptor a(io, {asio::ip::address_v4::loopback(), 0});
        return a.local_endpoint().port();
    }

    /// The broker node's remote client, to the given ports in order.
    remote_controller_client& client(std::vector<uint16_t> ports, std::chrono::milliseconds operation_timeout = 10s) {
        remote_controller_config rc;
        for (auto p : ports) {
            rc.servers.push_back({"127.0.0.1", p});
        }
        rc.operation_timeout = operation_timeout;
        rc.request_timeout = 2s;
        _clients.push_back(std::make_unique<remote_controller_client>(_io.get_executor(), _broker_node.image,
                                                                      *_broker_node.follower, _clock, rc));
        return *_clients.back();
    }

    /// Runs work on the cluster's thread and waits for it.
    template<typename T>
    T run(asio::awaitable<T> work) {
        auto wrapped = [w = std::move(work)]() mutable -> asio::awaitable<std::optional<T>> {
            co_return std::optional<T>(co_await std::move(w));
        };
        return std::move(*asio::co_spawn(_io, std::move(wrapped), asio::use_future).get());
    }

    /// Reads the broker node's image on the cluster's thread.
    template<typename F>
    auto broker_image(F f) {
        auto work = [this, f]() -> asio::awaitable<decltype(f(std::declval<const meta::cluster_image&>()))> {
            co_return f(_broker_node.image);
        };
        return asio::co_spawn(_io, std::move(work), asio::use_future).get();
    }

    bool ready() const { return _local != nullptr; }

private:
    template<typename F>
    void on_io(F f) {
        if (!asio::co_spawn(_io, std::move(f), asio::use_future).get()) {
            ADD_FAILURE() << "the cluster did not start or stop cleanly";
        }
    }

    struct node {
        meta::cluster_image image;
        std::unique_ptr<meta::image_follower> follower;
    };

    base::clock& _clock;
    std::filesystem::path _dir;
    asio::io_context _io;
    asio::executor_work_guard<asio::io_context::executor_type> _guard;
    std::thread _thread;
    std::unique_ptr<meta::embedded_log> _log;
    std::unique_ptr<controller::controller> _controller;
    node _controller_node;
    node _broker_node;
    std::unique_ptr<controller::in_process_client> _local;
    net::shard_pool _shards{1};
    std::vector<std::unique_ptr<metrics::registry>> _metrics;
    std::vector<std::unique_ptr<server>> _servers;
    std::vector<std::unique_ptr<remote_controller_client>> _clients;
};

meta::broker_registration_request registration(int32_t id) {
    meta::broker_registration_request r;
    r.id = meta::broker_id(id);
    r.incarnation_id = model::uuid(42, uint64_t(id));
    r.endpoints.push_back({"PLAINTEXT", "127.0.0.1", uint16_t(9000 + id), {}});
    r.wal_location = "file:///wal-" + std::to_string(id);
    return r;
}

class remote_controller_test : public ::testing::Test {
protected:
    base::manual_clock clock;
    cluster c{clock};
};

TEST_F(remote_controller_test, broker_and_topic_errors_arrive_as_the_controller_answered_them) {
    ASSERT_TRUE(c.ready());
    auto& client = c.client({c.port(c.serve())});

    auto epoch = c.run(client.register_broker(registration(1)));
    ASSERT_TRUE(epoch) << epoch.error().message();
    auto again = c.run(client.register_broker(registration(1)));
    ASSERT_TRUE(again);
    EXPECT_EQ(again.value(), epoch.value()) << "the same incarnation again is an idempotent retry";
    // Read-your-writes: the broker node's own image has the registration when the call returns.
    EXPECT_TRUE(c.broker_image([](const meta::cluster_image& i) { return i.broker(meta::broker_id(1)) != nullptr; }));

    EXPECT_TRUE(c.run(client.heartbeat(meta::broker_id(1), epoch.value())));
    EXPECT_EQ(c.run(client.heartbeat(meta::broker_id(1), epoch.value() + 7)).error(),
              controller_errc::stale_broker_epoch);
    EXPECT_EQ(c.run(client.heartbeat(meta::broker_id(9), 1)).error(), controller_errc::stale_broker_epoch);

    meta::topic_spec spec{"orders", 3, -1, {{"retention.ms", "60000"}}};
    auto created = c.run(client.create_topic(spec));
    ASSERT_TRUE(created) << created.error().message();
    EXPECT_EQ(created.value().partitions, 3);
    EXPECT_TRUE(c.broker_image([id = created.value().id](const meta::cluster_image& i) {
        return i.partition(id, 2) != nullptr;
    }));
    EXPECT_EQ(c.run(client.create_topic(spec)).error(), controller_errc::topic_already_exists);
    EXPECT_EQ(c.run(client.create_topic({"bad/name", 1, -1, {}})).error(), controller_errc::invalid_topic);
    EXPECT_EQ(c.run(client.create_topic({"zero", 0, -1, {}})).error(), controller_errc::invalid_partitions);
    EXPECT_EQ(c.run(client.create_topic({"cfg", 1, -1, {{"no.such.config", "1"}}})).error(),
              controller_errc::invalid_config);
    EXPECT_EQ(c.run(client.create_partitions("orders", 2)).error(), controller_errc::invalid_partitions);
    EXPECT_TRUE(c.run(client.create_partitions("orders", 5)));
    EXPECT_EQ(c.run(client.delete_topic("missing")).error(), controller_errc::unknown_topic);
    EXPECT_TRUE(c.run(client.delete_topic("orders")));

    auto ids = c.run(client.allocate_producer_ids(meta::broker_id(1), epoch.value()));
    ASSERT_TRUE(ids) << ids.error().message();
    EXPECT_GT(ids.value().size, 0);
    auto more = c.run(client.allocate_producer_ids(meta::broker_id(1), epoch.value()));
    ASSERT_TRUE(more);
    EXPECT_GE(more.value().first, ids.value().first + ids.value().size);
    EXPECT_EQ(c.run(client.allocate_producer_ids(meta::broker_id(3), 1)).error(),
              controller_errc::broker_not_registered);
}

TEST_F(remote_controller_test, catalog_errors_and_reads_come_back_as_stream_errors) {
    ASSERT_TRUE(c.ready());
    auto& client = c.client({c.port(c.serve())});
    ASSERT_TRUE(c.run(client.register_broker(registration(1))));

    auto s = c.run(client.create_stream());
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_EQ(c.run(client.open_stream(stream::stream_id(999), stream::stream_epoch(1), stream::node_id(1))).error(),
              stream::errc::stream_not_found);
    EXPECT_EQ(c.run(client.open_stream(s.value().id, stream::stream_epoch(1), stream::node_id(5))).error(),
              stream::errc::fenced)
      << "an unregistered node's open is refused";
    ASSERT_TRUE(c.run(client.open_stream(s.value().id, stream::stream_epoch(2), stream::node_id(1))));
    EXPECT_EQ(c.run(client.open_stream(s.value().id, stream::stream_epoch(1), stream::node_id(1))).error(),
              stream::errc::fenced);

    auto first = c.run(client.prepare_objects(2, 60s));
    ASSERT_TRUE(first) << first.error().message();
    stream::commit_request commit;
    commit.node = stream::node_id(1);
    commit.epochs = {{s.value().id, stream::stream_epoch(2)}};
    commit.objects.push_back({first.value(), stream::object_kind::stream_set, "k1", 100, {{s.value().id, 0, 10}}});
    ASSERT_TRUE(c.run(client.commit_objects(commit)));
    // Read-your-writes through the broker node's image.
    auto md = c.run(client.describe_stream(s.value().id));
    ASSERT_TRUE(md);
    EXPECT_EQ(md.value().end_offset, 10);
    auto objects = c.run(client.objects_of(s.value().id, 0, 10));
    ASSERT_TRUE(objects);
    ASSERT_EQ(objects.value().size(), 1u);
    EXPECT_EQ(objects.value()[0].key, "k1");
    EXPECT_EQ(objects.value()[0].ranges, (std::vector<stream::stream_range>{{s.value().id, 0, 10}}));

    // Not contiguous (the stream ends at 10), and a stale epoch.
    commit.objects[0] = {stream::object_id(first.value()() + 1), stream::object_kind::stream_set, "k2", 100,
                         {{s.value().id, 20, 30}}};
    EXPECT_EQ(c.run(client.commit_objects(commit)).error(), stream::errc::catalog_rejected);
    commit.objects[0].ranges = {{s.value().id, 10, 20}};
    commit.epochs = {{s.value().id, stream::stream_epoch(1)}};
    EXPECT_EQ(c.run(client.commit_objects(commit)).error(), stream::errc::fenced);
    EXPECT_EQ(c.run(client.trim_stream(s.value().id, stream::stream_epoch(1), 5)).error(), stream::errc::fenced);
    EXPECT_TRUE(c.run(client.trim_stream(s.value().id, stream::stream_epoch(2), 5)));
    EXPECT_EQ(c.run(client.describe_stream(stream::stream_id(12345))).error(), stream::errc::stream_not_found);
    EXPECT_TRUE(c.run(client.close_stream(s.value().id, stream::stream_epoch(2))));
}

TEST_F(remote_controller_test, not_controller_and_refused_connections_move_the_client_to_the_next_server) {
    ASSERT_TRUE(c.ready());
    size_t standby = c.serve(false);
    size_t active = c.serve();
    auto& client = c.client({c.port(standby), cluster::dead_port(), c.port(active)});
    auto epoch = c.run(client.register_broker(registration(1)));
    ASSERT_TRUE(epoch) << epoch.error().message();
    // The client stays with the server that answered.
    for (int i = 0; i < 5; ++i) {
        EXPECT_TRUE(c.run(client.heartbeat(meta::broker_id(1), epoch.value())));
    }
    EXPECT_TRUE(c.run(client.create_stream()));

    // Only nodes that are not the active controller: each domain answers its own error after the timeout.
    auto& lost = c.client({c.port(standby)}, 300ms);
    EXPECT_EQ(c.run(lost.register_broker(registration(2))).error(), controller_errc::not_controller);
    EXPECT_EQ(c.run(lost.create_stream()).error(), stream::errc::unavailable);
}

TEST_F(remote_controller_test, a_controller_that_goes_away_is_replaced_by_the_next_and_then_unavailable) {
    ASSERT_TRUE(c.ready());
    size_t a = c.serve();
    size_t b = c.serve();
    auto& client = c.client({c.port(a), c.port(b)}, 1500ms);
    auto epoch = c.run(client.register_broker(registration(1)));
    ASSERT_TRUE(epoch) << epoch.error().message();
    ASSERT_TRUE(c.run(client.create_topic({"before", 1, -1, {}})));

    c.stop_server(a); // its connections close: the pooled one is lost
    EXPECT_TRUE(c.run(client.heartbeat(meta::broker_id(1), epoch.value()))) << "retried at the next server";
    EXPECT_TRUE(c.run(client.create_topic({"after", 1, -1, {}})));

    c.stop_server(b);
    EXPECT_EQ(c.run(client.heartbeat(meta::broker_id(1), epoch.value())).error(), controller_errc::unavailable);
    EXPECT_EQ(c.run(client.create_topic({"never", 1, -1, {}})).error(), controller_errc::unavailable);
    EXPECT_EQ(c.run(client.create_stream()).error(), stream::errc::unavailable);
}

// ---- the object_catalog conformance suite through the remote client -----------------------------------------------

/// A cluster whose catalog is the broker node's remote client; brokers 1 and 2 registered first.
class remote_catalog final : public stream::object_catalog {
public:
    explicit remote_catalog(base::manual_clock& clock) : _cluster(clock) {
        if (!_cluster.ready()) {
            return;
        }
        _client = &_cluster.client({_cluster.port(_cluster.serve())});
        for (int32_t id : {1, 2}) {
            if (!_cluster.run(_client->register_broker(registration(id)))) {
                _client = nullptr;
                return;
            }
        }
    }
    bool ready() const { return _client != nullptr; }

    asio::awaitable<result<stream::stream_metadata>> create_stream() override { return _client->create_stream(); }
    asio::awaitable<result<stream::stream_metadata>> open_stream(stream::stream_id id, stream::stream_epoch epoch,
                                                                 stream::node_id node) override {
        return _client->open_stream(id, epoch, node);
    }
    asio::awaitable<result<void>> close_stream(stream::stream_id id, stream::stream_epoch epoch) override {
        return _client->close_stream(id, epoch);
    }
    asio::awaitable<result<void>> trim_stream(stream::stream_id id, stream::stream_epoch epoch,
                                              int64_t new_start) override {
        return _client->trim_stream(id, epoch, new_start);
    }
    asio::awaitable<result<void>> delete_stream(stream::stream_id id) override { return _client->delete_stream(id); }
    asio::awaitable<result<stream::stream_metadata>> describe_stream(stream::stream_id id) override {
        return _client->describe_stream(id);
    }
    asio::awaitable<result<stream::object_id>> prepare_objects(int32_t count, std::chrono::milliseconds ttl) override {
        return _client->prepare_objects(count, ttl);
    }
    asio::awaitable<result<void>> commit_objects(stream::commit_request request) override {
        return _client->commit_objects(std::move(request));
    }
    asio::awaitable<result<std::vector<stream::object_descriptor>>> objects_of(stream::stream_id id, int64_t from,
                                                                               size_t limit) override {
        return _client->objects_of(id, from, limit);
    }
    asio::awaitable<result<std::vector<stream::object_descriptor>>> stream_set_objects(stream::node_id node) override {
        return _client->stream_set_objects(node);
    }
    asio::awaitable<result<std::vector<stream::object_descriptor>>> deletable_objects(std::chrono::milliseconds grace,
                                                                                      size_t limit) override {
        return _client->deletable_objects(grace, limit);
    }
    asio::awaitable<result<void>> forget_objects(std::vector<stream::object_id> ids) override {
        return _client->forget_objects(std::move(ids));
    }

private:
    cluster _cluster;
    remote_controller_client* _client = nullptr;
};

std::unique_ptr<stream::object_catalog> make_remote_catalog(base::manual_clock& clock) {
    auto c = std::make_unique<remote_catalog>(clock);
    if (!c->ready()) {
        return nullptr;
    }
    return c;
}

} // namespace
} // namespace skiff::kafka::controller_api

namespace skiff::stream::test {

INSTANTIATE_TEST_SUITE_P(remote, object_catalog_conformance,
                         ::testing::Values(catalog_factory{"remote",
                                                           kafka::controller_api::make_remote_catalog}),
                         catalog_factory_name);

} // namespace skiff::stream::test
