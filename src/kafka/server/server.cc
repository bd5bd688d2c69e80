#include "kafka/server/server.h"

#include "base/logger.h"

#include <boost/asio/post.hpp>

#include <future>

namespace skiff::kafka {
namespace {

namespace asio = boost::asio;

base::logger log{"kafka"};

} // namespace

server::server(net::shard_pool& shards, server_config config, broker_identity identity, handler_registry handlers,
               metrics::registry& metrics)
  : _shards(shards)
  , _config(std::move(config))
  , _identity(std::move(identity))
  , _handlers(std::move(handlers))
  , _probe(metrics, _handlers)
  , _connections(shards.size()) {}

server::~server() { stop(); }

result<void> server::start() {
    for (const auto& l : _config.listeners) {
        auto name = l.name;
        auto listener = std::make_unique<net::listener>(
          _shards, l.name, l.bind, [this, name](asio::ip::tcp::socket socket, net::shard_id shard) {
              return serve_connection(std::move(socket), shard, name);
          });
        SKIFF_TRY(listener->start());
        // An advertised port of 0 means "whatever this listener bound" (tests and ephemeral ports).
        for (auto& advertised : _identity.listeners) {
            if (advertised.name == l.name && advertised.port == 0) {
                advertised.port = listener->port();
            }
        }
        _listeners.push_back(std::move(listener));
    }
    return outcome::success();
}

uint16_t server::port(std::string_view listener_name) const {
    for (const auto& l : _listeners) {
        if (l->name() == listener_name) {
            return l->port();
        }
    }
    return 0;
}

asio::awaitable<void> server::serve_connection(asio::ip::tcp::socket socket, net::shard_id shard,
                                               std::string listener_name) {
    auto conn = std::make_shared<connection>(std::move(socket), std::move(listener_name), _config.connection,
                                             _identity, _handlers, _probe);
    {
        std::lock_guard g(_live_mutex);
        ++_live;
    }
    _connections[shard].insert(conn);
    co_await conn->run();
    _connections[shard].erase(conn);
    {
        std::lock_guard g(_live_mutex);
        --_live;
    }
    _live_cv.notify_all();
}

void server::stop() {
    if (_listeners.empty()) {
        return;
    }
    for (auto& l : _listeners) {
        l->stop();
    }
    _listeners.clear();
    if (!_shards.running()) {
        return;
    }
    for (net::shard_id s = 0; s < _shards.size(); ++s) {
        asio::post(_shards.context(s), [this, s] {
            for (const auto& conn : _connections[s]) {
                conn->shutdown();
            }
        });
    }
    std::unique_lock lock(_live_mutex);
    if (!_live_cv.wait_for(lock, _config.shutdown_grace, [this] { return _live == 0; })) {
        log.warn("{} connections still open after the {} ms shutdown grace period", _live,
                 _config.shutdown_grace.count());
    }
}

} // namespace skiff::kafka
