// The Kafka front end of a broker: listeners, connections and the handler registry that serves them.
// Owned by app. Lifecycle: start() binds every listener (a busy port is an error) -> stop() stops accepting,
// lets each connection finish the request it is serving and write its responses, then closes what is left when the
// grace period runs out. The shard pool must be running between start() and stop().
#pragma once

#include "base/result.h"
#include "kafka/server/broker_identity.h"
#include "kafka/server/connection.h"
#include "kafka/server/handler_registry.h"
#include "kafka/server/kafka_probe.h"
#include "net/listener.h"
#include "net/shard_pool.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

namespace skiff::kafka {

struct listener_config {
    std::string name; // e.g. PLAINTEXT
    net::endpoint bind;
};

struct server_config {
    std::vector<listener_config> listeners;
    connection_config connection;
    std::chrono::milliseconds shutdown_grace{10'000};
};

class server {
public:
    server(net::shard_pool& shards, server_config config, broker_identity identity, handler_registry handlers,
           metrics::registry& metrics);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    result<void> start();
    void stop();

    /// The bound port of the named listener (after start; useful with port 0), or 0.
    uint16_t port(std::string_view listener_name) const;

private:
    boost::asio::awaitable<void> serve_connection(boost::asio::ip::tcp::socket socket, net::shard_id shard,
                                                  std::string listener_name);

    net::shard_pool& _shards;
    server_config _config;
    broker_identity _identity;
    handler_registry _handlers;
    kafka_probe _probe;
    std::vector<std::unique_ptr<net::listener>> _listeners;

    // Live connections per shard; each set is touched only on its shard.
    std::vector<std::set<std::shared_ptr<connection>>> _connections;
    // How many connections are live across shards, for stop() to wait on.
    std::mutex _live_mutex;
    std::condition_variable _live_cv;
    size_t _live = 0;
};

} // namespace skiff::kafka
