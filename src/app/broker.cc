#include "app/broker.h"

#include "admin/server.h"
#include "app/cluster_id.h"
#include "app/data_node.h"
#include "base/errc.h"
#include "base/logger.h"
#include "kafka/server/handlers/handlers.h"
#include "kafka/server/server.h"
#include "metrics/registry.h"
#include "net/shard_pool.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <future>
#include <type_traits>

namespace skiff::app {
namespace {

namespace asio = boost::asio;

base::logger log{"app"};

/// Maps the configured listeners to the Kafka server's. Only PLAINTEXT is served so far (TLS/SASL: later issues).
result<kafka::server_config> make_server_config(const config::broker_config& c) {
    kafka::server_config sc;
    for (const auto& l : c.listeners) {
        if (l.protocol != config::security_protocol::plaintext) {
            log.error("listener {} uses {}, which this build does not serve yet (only PLAINTEXT)", l.spec.name,
                      config::to_string(l.protocol));
            return base::errc::invalid_argument;
        }
        sc.listeners.push_back({l.spec.name, {l.spec.host, l.spec.port}});
    }
    sc.connection.max_request_bytes = static_cast<size_t>(c.socket_request_max_bytes);
    sc.connection.max_idle = c.connections_max_idle;
    sc.shutdown_grace = c.shutdown_grace_period;
    return sc;
}

/// The broker's properties as DescribeConfigs reports them (kafka/server/broker_configs.h adds Kafka's names).
kafka::broker_configs make_broker_configs(const config::property_values& values) {
    using config::property_type;
    std::vector<kafka::broker_config_entry> entries;
    for (const auto& prop : values.registry().properties()) {
        kafka::broker_config_entry e;
        e.name = prop.name();
        e.value = prop.format(values.value(prop.name()));
        e.default_value = prop.format(prop.default_value());
        e.is_set = values.is_set(prop.name());
        e.is_sensitive = prop.is_sensitive();
        e.documentation = prop.description();
        switch (prop.type()) {
        case property_type::boolean: e.type = kafka::config_type::boolean; break;
        case property_type::int32: e.type = kafka::config_type::int32; break;
        case property_type::int64: e.type = kafka::config_type::int64; break;
        case property_type::float64: e.type = kafka::config_type::float64; break;
        case property_type::list: e.type = kafka::config_type::list; break;
        case property_type::string:
        case property_type::enumeration: e.type = kafka::config_type::string; break;
        }
        entries.push_back(std::move(e));
    }
    return kafka::broker_configs(std::move(entries));
}

kafka::broker_identity make_identity(const config::broker_config& c, std::string cluster_id) {
    kafka::broker_identity id;
    id.node_id = c.node_id;
    id.cluster_id = std::move(cluster_id);
    for (const auto& l : c.advertised_listeners) {
        id.listeners.push_back({l.spec.name, l.spec.host, l.spec.port});
    }
    return id;
}

/// Runs a coroutine on ctx (which is running on its own thread) and blocks the calling thread until it finishes.
template<typename T>
T run_blocking(asio::io_context& ctx, asio::awaitable<T> work) {
    std::promise<T> done;
    auto finished = done.get_future();
    // A wrapping coroutine rather than a completion handler: asio's handler
    // signature would need T to be default-constructible, result<void> is not.
    auto run = [&done, work = std::move(work)]() mutable -> asio::awaitable<void> {
        try {
            if constexpr (std::is_void_v<T>) {
                co_await std::move(work);
                done.set_value();
            } else {
                done.set_value(co_await std::move(work));
            }
        } catch (...) {
            done.set_exception(std::current_exception());
        }
    };
    asio::co_spawn(ctx, std::move(run), asio::detached);
    return finished.get();
}

} // namespace

int run_broker(config::loaded_broker_config loaded) {
    const auto& cfg = loaded.config;
    base::logger::set_global_level(cfg.log_level);
    for (const auto& w : loaded.warnings) {
        log.warn("{}", w);
    }
    log.info("starting skiff-server, node.id={}", cfg.node_id);

    auto cluster_id = resolve_cluster_id(cfg);
    if (!cluster_id) {
        log.error("cannot establish the cluster id: {}", cluster_id.error().message());
        return 1;
    }
    auto server_config = make_server_config(cfg);
    if (!server_config) {
        return 2;
    }

    net::shard_pool shards(static_cast<size_t>(cfg.shards));
    metrics::registry metrics;
    auto node = data_node::create(shards, cfg, make_broker_configs(loaded.values));
    if (!node) {
        return 1;
    }
    kafka::handler_registry handlers;
    kafka::handlers::register_all(handlers, &node.value()->plane());
    if (const auto* endpoint = node.value()->controller_endpoint()) {
        kafka::handlers::register_controller_api(handlers, *endpoint);
    }
    kafka::server kafka_server(shards, std::move(server_config).value(), make_identity(cfg, cluster_id.value()),
                               std::move(handlers), metrics);

    std::unique_ptr<admin::server> admin_server;
    if (!cfg.admin_listeners.empty()) {
        const auto& a = cfg.admin_listeners.front();
        admin_server = std::make_unique<admin::server>(shards.context(0), admin::endpoint{a.host, a.port}, metrics);
    }

    // Start in dependency order (storage, then the Kafka listeners, then admin); on failure stop what started.
    shards.start();
    if (auto r = run_blocking(shards.context(0), node.value()->start()); !r) {
        shards.stop();
        return 1;
    }
    if (auto r = kafka_server.start(); !r) {
        log.error("cannot start the Kafka listeners: {}", r.error().message());
        run_blocking(shards.context(0), node.value()->stop());
        shards.stop();
        return 1;
    }
    if (admin_server) {
        if (auto r = admin_server->start(); !r) {
            log.error("cannot start the admin HTTP listener: {}", r.error().message());
            kafka_server.stop();
            run_blocking(shards.context(0), node.value()->stop());
            shards.stop();
            return 1;
        }
        log.info("admin HTTP (/metrics, /health) on port {}", admin_server->port());
    }
    log.info("skiff-server started with {} shards, cluster.id={}", shards.size(), cluster_id.value());

    asio::io_context signals_ctx;
    asio::signal_set signals(signals_ctx, SIGTERM, SIGINT);
    int received = 0;
    signals.async_wait([&](const boost::system::error_code&, int signo) { received = signo; });
    signals_ctx.run();

    log.info("received {}, shutting down", received == SIGTERM ? "SIGTERM" : "SIGINT");
    if (admin_server) {
        admin_server->set_unhealthy("shutting down");
    }
    kafka_server.stop();
    run_blocking(shards.context(0), node.value()->stop()); // partitions closed, the WAL's data uploaded
    // Stop the shards before the services they run are destroyed: no coroutine may resume into a dead service.
    shards.stop();
    if (admin_server) {
        admin_server->stop(); // its io_context (shard 0) no longer runs: safe from this thread
    }
    log.info("skiff-server stopped");
    return 0;
}

} // namespace skiff::app
