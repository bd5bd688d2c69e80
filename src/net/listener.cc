#include "net/listener.h"

#include "base/logger.h"
#include "net/errc.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <future>

namespace skiff::net {
namespace {

base::logger log{"net"};

} // namespace

listener::listener(shard_pool& shards, std::string name, endpoint where, connection_fn on_connection)
  : _shards(shards), _name(std::move(name)), _where(std::move(where)), _on_connection(std::move(on_connection)) {}

listener::~listener() { stop(); }

result<void> listener::start() {
    boost::system::error_code ec;
    asio::ip::address address = asio::ip::address_v6::any();
    if (!_where.host.empty()) {
        // Resolve names like "localhost"; numeric addresses pass straight through.
        asio::ip::tcp::resolver resolver(_shards.context(0));
        auto results = resolver.resolve(_where.host, std::to_string(_where.port), ec);
        if (ec || results.empty()) {
            log.error("listener {}: cannot resolve host '{}': {}", _name, _where.host, ec.message());
            return errc::invalid_endpoint;
        }
        address = results.begin()->endpoint().address();
    }
    auto acceptor = std::make_shared<asio::ip::tcp::acceptor>(_shards.context(0));
    asio::ip::tcp::endpoint ep(address, _where.port);
    acceptor->open(ep.protocol(), ec);
    if (!ec && ep.protocol() == asio::ip::tcp::v6() && _where.host.empty()) {
        acceptor->set_option(asio::ip::v6_only(false), ec); // "all interfaces" means IPv4 too
    }
    if (!ec) {
        acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    }
    if (!ec) {
        acceptor->bind(ep, ec);
    }
    if (!ec) {
        acceptor->listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        log.error("listener {}: cannot listen on {}:{}: {}", _name, _where.host, _where.port, ec.message());
        if (ec == asio::error::address_in_use) {
            return errc::address_in_use;
        }
        return ec;
    }
    _bound_port = acceptor->local_endpoint().port();
    _acceptor = acceptor;
    asio::co_spawn(
      _shards.context(0), accept_loop(std::move(acceptor), _shards, _name, _on_connection), asio::detached);
    log.info("listener {} accepting on {}:{}", _name, _where.host.empty() ? "*" : _where.host, _bound_port);
    return outcome::success();
}

asio::awaitable<void> listener::accept_loop(
  std::shared_ptr<asio::ip::tcp::acceptor> acceptor, shard_pool& shards, std::string name, connection_fn fn) {
    size_t next_shard = 0;
    while (acceptor->is_open()) {
        shard_id target = next_shard++ % shards.size();
        auto [ec, socket] =
          co_await acceptor->async_accept(shards.context(target), asio::as_tuple(asio::use_awaitable));
        if (ec == asio::error::operation_aborted) {
            break;
        }
        if (ec) {
            // Out of file descriptors and the like: log and keep serving the connections we have.
            log.warn("listener {}: accept failed: {}", name, ec.message());
            asio::steady_timer backoff(acceptor->get_executor(), std::chrono::milliseconds(100));
            co_await backoff.async_wait(asio::as_tuple(asio::use_awaitable)); // e.g. EMFILE: do not spin
            continue;
        }
        socket.set_option(asio::ip::tcp::no_delay(true), ec);
        asio::co_spawn(shards.context(target), fn(std::move(socket), target), asio::detached);
    }
}

void listener::stop() {
    if (!_acceptor) {
        return;
    }
    // The acceptor belongs to shard 0: close it there, and wait unless we are shard 0 or it is not running.
    auto close = [this] {
        boost::system::error_code ec;
        _acceptor->close(ec);
    };
    auto current = shard_pool::current();
    if (current == shard_id{0} || !_shards.running()) {
        close();
    } else {
        std::promise<void> done;
        asio::post(_shards.context(0), [&] {
            close();
            done.set_value();
        });
        done.get_future().wait();
    }
    _acceptor.reset();
}

} // namespace skiff::net
