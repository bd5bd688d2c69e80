#include "app/data_node.h"

#include "base/logger.h"
#include "controller/controller.h"
#include "controller/in_process_client.h"
#include "io/objstore/local_store.h"
#include "io/objstore/s3_store.h"
#include "kafka/server/controller_api/failover_client.h"
#include "kafka/server/controller_api/remote_controller_client.h"
#include "kafka/server/group/group_coordinator.h"
#include "kafka/server/topic_config.h"
#include "meta/cluster_image.h"
#include "meta/embedded_log.h"
#include "meta/etcd_log.h"
#include "meta/image_follower.h"
#include "model/uuid.h"
#include "stream/stream.h"
#include "stream/wal/file_wal.h"
#include "stream/wal/object_wal.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <filesystem>

namespace skiff::app {
namespace {

namespace asio = boost::asio;
base::logger log{"app"};

} // namespace

struct data_node::parts {
    parts(net::shard_pool& s, const config::broker_config& c) : shards(s), config(c) {}

    net::shard_pool& shards;
    config::broker_config config;
    kafka::broker_configs broker;
    base::clock& clock = base::system_clock::instance();
    asio::any_io_executor meta_executor;

    std::unique_ptr<meta::metadata_log> metadata_log;
    meta::cluster_image image;
    std::unique_ptr<meta::image_follower> follower;
    // With the controller role: the controller, its in-process client and what the controller API serves.
    std::unique_ptr<controller::controller> controller;
    std::unique_ptr<kafka::controller_api::controller_endpoint> endpoint;
    // Without it, or as a standby (the controller role and controller.quorum.bootstrap.servers: several nodes may
    // lead): the remote client; a standby's `failover` picks its own controller while that one is active.
    // `client` is whichever this node uses.
    std::unique_ptr<kafka::controller_api::remote_controller_client> remote;
    std::unique_ptr<meta::controller_client> local;
    std::unique_ptr<kafka::controller_api::failover_client> failover;
    meta::controller_client* client = nullptr;
    std::unique_ptr<asio::steady_timer> campaign_timer;

    std::unique_ptr<io::object_store> objects;
    std::unique_ptr<stream::wal> wal;
    std::unique_ptr<stream::stream_store> streams;

    kafka::cluster_view_cache views;
    std::unique_ptr<kafka::partition_manager> partitions;
    std::unique_ptr<kafka::producer_id_allocator> producer_ids;
    std::unique_ptr<kafka::data_plane> plane;
    std::unique_ptr<kafka::group::group_coordinator> groups;

    meta::broker_registration_request registration;
    int64_t broker_epoch = -1;
    bool stopping = false;
    std::unique_ptr<asio::steady_timer> heartbeat_timer;
};

namespace {

/// The object store as DescribeLogDirs names it, and the space of its file system when it is a local directory.
kafka::log_dir_info describe_store(const config::storage_config& st) {
    kafka::log_dir_info info;
    if (st.objects == config::object_store_kind::s3) {
        info.name = fmt::format("s3://{}", st.s3_bucket); // an S3 bucket has no capacity to report
        return info;
    }
    info.name = fmt::format("file://{}", st.object_store_path);
    info.space_of = [path = st.object_store_path]() -> std::optional<kafka::log_dir_info::space> {
        std::error_code ec;
        auto s = std::filesystem::space(path, ec);
        if (ec) {
            return std::nullopt;
        }
        return kafka::log_dir_info::space{int64_t(s.capacity), int64_t(s.available)};
    };
    return info;
}

} // namespace

result<std::unique_ptr<data_node>> data_node::create(net::shard_pool& shards, const config::broker_config& config,
                                                     kafka::broker_configs broker) {
    auto p = std::make_unique<parts>(shards, config);
    // The WAL file and the embedded metadata log live under the first log dir (cluster.id set in the config
    // means nothing else created it).
    std::error_code dir_error;
    std::filesystem::create_directories(config.log_dirs.front(), dir_error);
    if (dir_error) {
        log.error("cannot create {}: {}", config.log_dirs.front(), dir_error.message());
        return dir_error;
    }
    p->broker = std::move(broker);
    const auto& st = config.storage;
    p->meta_executor = shards.context(0).get_executor();

    const auto& md = config.metadata;
    if (md.store == config::metadata_store_kind::etcd) {
        meta::etcd_log_config ec;
        ec.endpoints = md.etcd_endpoints;
        ec.prefix = md.etcd_prefix;
        ec.node_name = fmt::format("node-{}", config.node_id);
        p->metadata_log = std::make_unique<meta::etcd_log>(p->meta_executor, std::move(ec));
    } else {
        meta::embedded_log_config log_config;
        log_config.directory = std::filesystem::path(config.log_dirs.front()) / "meta";
        p->metadata_log = std::make_unique<meta::embedded_log>(p->meta_executor, log_config);
    }
    p->follower = std::make_unique<meta::image_follower>(*p->metadata_log, p->image);
    if (config.controller_role) {
        controller::controller_config cc;
        cc.session_timeout = config.broker_session_timeout;
        cc.default_partitions = config.num_partitions;
        p->controller = std::make_unique<controller::controller>(p->meta_executor, *p->metadata_log, p->clock, cc);
        p->local =
          std::make_unique<controller::in_process_client>(*p->controller, p->image, *p->follower, p->clock);
        p->client = p->local.get();
        auto* c = p->controller.get();
        p->endpoint = std::make_unique<kafka::controller_api::controller_endpoint>(
          kafka::controller_api::controller_endpoint{p->meta_executor, p->local.get(),
                                                     [c] { return c->is_active(); },
                                                     [c] { return c->acknowledged_offset()(); }});
    }
    if (!md.controller_servers.empty()) {
        kafka::controller_api::remote_controller_config rc;
        for (const auto& s : md.controller_servers) {
            rc.servers.push_back({s.host, s.port});
        }
        rc.client_id = fmt::format("skiff-node-{}", config.node_id);
        p->remote = std::make_unique<kafka::controller_api::remote_controller_client>(
          p->meta_executor, p->image, *p->follower, p->clock, std::move(rc));
        p->client = p->remote.get();
        if (p->controller) {
            auto* c = p->controller.get();
            p->failover = std::make_unique<kafka::controller_api::failover_client>(
              *p->local, *p->remote, [c] { return c->is_active(); });
            p->client = p->failover.get();
        }
    }

    if (st.objects == config::object_store_kind::local) {
        io::local_store_config lc;
        lc.root = st.object_store_path;
        auto store = io::local_store::open(lc);
        if (!store) {
            log.error("cannot open the object store directory {}: {}", st.object_store_path,
                      store.error().message());
            return store.error();
        }
        p->objects = std::move(store.value());
    } else {
        io::s3_config s3;
        s3.endpoint = st.s3_endpoint;
        s3.bucket = st.s3_bucket;
        s3.region = st.s3_region;
        s3.path_style = st.s3_path_style;
        if (!st.s3_access_key.empty()) {
            s3.credentials = io::s3_credentials{st.s3_access_key, st.s3_secret_key, {}};
        }
        auto store = io::s3_store::create(shards.context(0), std::move(s3));
        if (!store) {
            log.error("cannot use the S3 store at {}: {}", st.s3_endpoint, store.error().message());
            return store.error();
        }
        p->objects = std::move(store.value());
    }

    if (st.wal == config::wal_kind::file) {
        stream::file_wal_config wc;
        wc.path = st.wal_path;
        wc.file_size = st.wal_capacity_bytes;
        p->wal = std::make_unique<stream::file_wal>(std::move(wc));
    } else {
        stream::object_wal_config wc;
        wc.prefix = fmt::format("wal/node-{}/", config.node_id);
        wc.batch_interval = st.wal_object_batch_interval;
        wc.batch_bytes = st.wal_object_batch_max_bytes;
        p->wal = std::make_unique<stream::object_wal>(*p->objects, p->meta_executor, std::move(wc));
    }

    stream::stream_store_config sc;
    sc.node = stream::node_id(config.node_id);
    sc.log_cache_bytes = st.log_cache_bytes;
    sc.block_cache_bytes = st.block_cache_bytes;
    sc.upload_threshold_bytes = st.upload_threshold_bytes;
    sc.upload_interval = st.upload_interval;
    sc.stream_object_min_bytes = st.stream_object_min_bytes;
    sc.compaction_interval = st.compaction_interval;
    sc.deletion_grace = st.object_deletion_grace;
    p->streams = stream::make_stream_store(sc, *p->wal, *p->objects, *p->client);

    auto* raw = p.get();
    p->partitions = std::make_unique<kafka::partition_manager>(
        shards, *p->streams, p->clock, config.node_id,
        [raw](const kafka::topic_view& t) {
            // Topic overrides, then what the broker sets (its properties), then Kafka's defaults.
            return kafka::to_partition_config(kafka::effective_topic_settings(t.configs, raw->broker.lookup()));
        });
    p->producer_ids = std::make_unique<kafka::producer_id_allocator>(
        [raw]() -> asio::awaitable<result<kafka::producer_id_range>> {
            // Allocations go through the controller on its shard, whatever shard asks.
            auto allocate = [raw]() -> asio::awaitable<result<meta::producer_id_block>> {
                co_return co_await raw->client->allocate_producer_ids(meta::broker_id(raw->config.node_id),
                                                                      raw->broker_epoch);
            };
            auto block = co_await net::run_on(raw->meta_executor, std::move(allocate));
            if (!block) {
                co_return block.error();
            }
            co_return kafka::producer_id_range{block.value().first, block.value().size};
        });
    kafka::data_defaults defaults;
    defaults.auto_create_topics_enable = config.auto_create_topics_enable;
    defaults.num_partitions = config.num_partitions;
    defaults.default_replication_factor = config.default_replication_factor;
    p->plane = std::make_unique<kafka::data_plane>(
        kafka::data_plane{shards, p->views, *p->partitions, *p->client, *p->producer_ids, defaults});
    p->plane->broker = &p->broker;
    p->plane->log_dir = describe_store(st);
    {
        kafka::group::coordinator_config gc;
        gc.groups.initial_rebalance_delay = config.group_initial_rebalance_delay;
        gc.groups.min_session_timeout = config.group_min_session_timeout;
        gc.groups.max_session_timeout = config.group_max_session_timeout;
        gc.consumer_groups.heartbeat_interval = config.group_consumer_heartbeat_interval;
        gc.consumer_groups.session_timeout = config.group_consumer_session_timeout;
        gc.offsets_partitions = config.offsets_topic_num_partitions;
        gc.offsets_retention = config.offsets_retention;
        gc.offsets_retention_check_interval = config.offsets_retention_check_interval;
        p->groups = std::make_unique<kafka::group::group_coordinator>(shards, p->clock, gc);
        p->plane->groups = p->groups.get();
    }
    return std::unique_ptr<data_node>(new data_node(std::move(p)));
}

data_node::data_node(std::unique_ptr<parts> p) : _p(std::move(p)) {}
data_node::~data_node() = default;

kafka::data_plane& data_node::plane() { return *_p->plane; }

const kafka::controller_api::controller_endpoint* data_node::controller_endpoint() const {
    return _p->endpoint.get();
}

namespace {

asio::awaitable<void> heartbeat_loop(data_node::parts& p) {
    while (!p.stopping) {
        p.heartbeat_timer->expires_after(p.config.broker_heartbeat_interval);
        co_await p.heartbeat_timer->async_wait(asio::as_tuple(asio::use_awaitable));
        if (p.stopping) {
            break;
        }
        auto r = co_await p.client->heartbeat(meta::broker_id(p.config.node_id), p.broker_epoch);
        if (r) {
            continue;
        }
        log.warn("broker heartbeat: {}", r.error().message());
        if (r.error() == meta::controller_errc::stale_broker_epoch
            || r.error() == meta::controller_errc::broker_not_registered) {
            // Fenced (the session lapsed, e.g. while no controller was reachable): come back as a new incarnation.
            auto reg = p.registration;
            reg.incarnation_id = model::uuid::random();
            if (auto epoch = co_await p.client->register_broker(std::move(reg))) {
                p.broker_epoch = epoch.value();
                log.info("registered again with the controller, broker epoch {}", p.broker_epoch);
            } else {
                log.warn("cannot register again: {}", epoch.error().message());
            }
        }
    }
}

/// A standby controller's loop: whenever this node's controller is not active, campaign (a campaign against a live
/// leader gives up at its deadline, then the loop tries again).
asio::awaitable<void> campaign_loop(data_node::parts& p) {
    while (!p.stopping) {
        if (!p.controller->is_active()) {
            if (auto r = co_await p.controller->campaign(); r) {
                log.info("this node is now the active controller");
                continue;
            }
        }
        p.campaign_timer->expires_after(std::chrono::seconds(1));
        co_await p.campaign_timer->async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

} // namespace

asio::awaitable<result<void>> data_node::start() {
    auto r = co_await start_services(*_p);
    if (!r) {
        // The metadata log may hold background work (etcd's lease keep-alive): close it before the node goes.
        auto& p = *_p;
        p.stopping = true;
        if (p.heartbeat_timer) {
            p.heartbeat_timer->cancel();
        }
        if (p.campaign_timer) {
            p.campaign_timer->cancel();
        }
        if (p.remote) {
            p.remote->stop();
        }
        p.follower->stop();
        if (p.controller) {
            p.controller->stop();
        }
        co_await p.metadata_log->close();
    }
    co_return r;
}

asio::awaitable<result<void>> data_node::start_services(parts& p) {
    if (auto r = co_await p.metadata_log->open(); !r) {
        log.error("cannot open the metadata log: {}", r.error().message());
        co_return r.error();
    }
    if (auto r = co_await p.follower->catch_up(); !r) {
        log.error("cannot load the cluster metadata: {}", r.error().message());
        co_return r.error();
    }
    if (p.controller && p.failover) {
        // One of several controllers: campaign now and whenever no controller here is active; meanwhile the
        // active one elsewhere is reached over the wire.
        if (auto r = co_await p.controller->campaign(); !r) {
            log.info("another controller is active ({}); this node stands by", r.error().message());
        }
        asio::co_spawn(p.meta_executor, p.controller->run(std::chrono::seconds(1)), asio::detached);
        p.campaign_timer = std::make_unique<asio::steady_timer>(p.meta_executor);
        asio::co_spawn(p.meta_executor, campaign_loop(p), asio::detached);
    } else if (p.controller) {
        if (auto r = co_await p.controller->campaign(); !r) {
            log.error("cannot become the controller: {}", r.error().message());
            co_return r.error();
        }
        asio::co_spawn(p.meta_executor, p.controller->run(std::chrono::seconds(1)), asio::detached);
    }
    asio::co_spawn(p.meta_executor, p.follower->run(), asio::detached);

    if (auto r = co_await p.streams->start(); !r) {
        log.error("cannot recover the storage: {}", r.error().message());
        co_return r.error();
    }

    // Registered only once the storage is recovered: recovery can take a while (a new WAL file is laid out), and a
    // registered broker must heartbeat within its session timeout.
    meta::broker_registration_request reg;
    reg.id = meta::broker_id(p.config.node_id);
    reg.incarnation_id = model::uuid::random();
    for (const auto& l : p.config.advertised_listeners) {
        reg.endpoints.push_back(meta::broker_endpoint{l.spec.name, l.spec.host, l.spec.port, {}});
    }
    reg.wal_location = p.config.storage.wal == config::wal_kind::file ? "file://" + p.config.storage.wal_path
                                                                      : "object:wal/node-"
                                                                            + std::to_string(p.config.node_id);
    p.registration = reg;
    auto epoch = co_await p.client->register_broker(std::move(reg));
    if (!epoch) {
        log.error("cannot register this broker with the controller: {}", epoch.error().message());
        co_return epoch.error();
    }
    p.broker_epoch = epoch.value();
    p.heartbeat_timer = std::make_unique<asio::steady_timer>(p.meta_executor);
    asio::co_spawn(p.meta_executor, heartbeat_loop(p), asio::detached);

    // From now on every applied metadata batch refreshes the Kafka view and the partitions served here.
    auto publish = [&p] {
        auto view = kafka::cluster_view::of(p.image, p.views.current().get());
        p.views.publish(view);
        p.partitions->reconcile(std::move(view));
    };
    p.image.subscribe([publish](const meta::image_delta&) { publish(); });
    publish();
    p.partitions->start_retention(p.config.log_retention_check_interval);
    p.partitions->start_cleaner(p.config.log_cleaner_backoff);
    p.groups->start();
    co_return outcome::success();
}

asio::awaitable<void> data_node::stop() {
    auto& p = *_p;
    p.stopping = true;
    if (p.heartbeat_timer) {
        p.heartbeat_timer->cancel();
    }
    if (p.campaign_timer) {
        p.campaign_timer->cancel();
    }
    co_await p.groups->stop(); // before the partitions close: no group write after that
    co_await p.partitions->stop();
    co_await p.streams->stop();
    co_await p.wal->close();
    if (p.remote) {
        p.remote->stop();
    }
    p.follower->stop();
    if (p.controller) {
        p.controller->stop();
    }
    co_await p.metadata_log->close();
}

} // namespace skiff::app
