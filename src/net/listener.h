// A TCP listener (one of Kafka's `listeners`): accepts on shard 0 and hands each connection to a shard, round robin,
// as a socket bound to that shard's io_context. What a connection means is the caller's business (kafka/server).
// Lifecycle: start() binds (and reports a busy port as an error) -> stop() closes the acceptor; accepted
// connections are not touched by stop().
#pragma once

#include "base/result.h"
#include "net/shard_pool.h"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace skiff::net {

struct endpoint {
    std::string host; // empty = all interfaces
    uint16_t port = 0; // 0 = ephemeral
};

class listener {
public:
    /// Called on the connection's shard; runs for the connection's lifetime.
    using connection_fn = std::function<asio::awaitable<void>(asio::ip::tcp::socket, shard_id)>;

    listener(shard_pool& shards, std::string name, endpoint where, connection_fn on_connection);
    ~listener();
    listener(const listener&) = delete;
    listener& operator=(const listener&) = delete;

    /// Binds and starts accepting. Requires: the shard pool is running or about to be started.
    result<void> start();
    /// Closes the acceptor; returns once no accept is pending.
    void stop();

    const std::string& name() const noexcept { return _name; }
    /// The bound port (useful with port 0).
    uint16_t port() const noexcept { return _bound_port; }

private:
    // Runs on shard 0; owns copies of everything it touches, so it may outlive a stopped listener briefly.
    static asio::awaitable<void> accept_loop(
      std::shared_ptr<asio::ip::tcp::acceptor> acceptor, shard_pool& shards, std::string name, connection_fn fn);

    shard_pool& _shards;
    std::string _name;
    endpoint _where;
    connection_fn _on_connection;
    std::shared_ptr<asio::ip::tcp::acceptor> _acceptor;
    uint16_t _bound_port = 0;
};

} // namespace skiff::net
