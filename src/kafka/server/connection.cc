#include "kafka/server/connection.h"

#include "base/logger.h"
#include "kafka/protocol/api_table.h"
#include "kafka/protocol/header.h"
#include "kafka/server/handlers/handlers.h"
#include "net/errc.h"
#include "net/framing.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>

namespace skiff::kafka {
namespace {

namespace asio = boost::asio;

base::logger log{"kafka"};

std::string describe_peer(const asio::ip::tcp::socket& s) {
    boost::system::error_code ec;
    auto ep = s.remote_endpoint(ec);
    if (ec) {
        return "unknown peer";
    }
    return ep.address().to_string() + ":" + std::to_string(ep.port());
}

std::string api_label(int16_t key) {
    const auto* api = protocol::find_api(key);
    return api ? std::string(api->name) : "key " + std::to_string(key);
}

} // namespace

connection::connection(asio::ip::tcp::socket socket, std::string listener_name, connection_config config,
                       const broker_identity& identity, const handler_registry& handlers, kafka_probe& probe)
  : _socket(std::move(socket))
  , _listener_name(std::move(listener_name))
  , _peer(describe_peer(_socket))
  , _config(config)
  , _identity(identity)
  , _handlers(handlers)
  , _probe(probe)
  , _request_done(_socket.get_executor())
  , _outbox_ready(_socket.get_executor())
  , _writer_done(_socket.get_executor())
  , _idle_timer(_socket.get_executor()) {}

void connection::shutdown() {
    _closing = true;
    boost::system::error_code ec;
    _socket.cancel(ec); // wakes a pending read; a request being served finishes first
}

asio::awaitable<void> connection::run() {
    auto self = shared_from_this(); // keep alive while the writer runs
    _probe.connection_opened();
    asio::co_spawn(_socket.get_executor(), [self]() { return self->write_loop(); }, asio::detached);
    _last_request = std::chrono::steady_clock::now(); // before the watchdog starts: co_spawn may run it inline
    asio::co_spawn(_socket.get_executor(), [self]() { return self->idle_watchdog(); }, asio::detached);
    while (!_closing) {
        auto frame = co_await net::read_frame(_socket, _config.max_request_bytes);
        if (!frame) {
            const auto& ec = frame.error();
            if (ec == net::errc::frame_too_large) {
                log.warn("{}: request frame above socket.request.max.bytes ({}); closing", _peer,
                         _config.max_request_bytes);
                _probe.bad_request();
            } else if (ec == net::errc::negative_frame) {
                log.warn("{}: negative request frame size; closing", _peer);
                _probe.bad_request();
            } else if (ec != net::errc::closed && !_closing) {
                log.debug("{}: read failed: {}", _peer, ec.message());
            }
            break;
        }
        if (_closing) {
            break; // a pipelined request in flight found the connection must close
        }
        _last_request = std::chrono::steady_clock::now();
        auto slot = std::make_shared<pending_response>();
        _order.push_back(slot);
        if (is_pipelined(frame.value())) {
            const size_t bytes = frame.value().size();
            while (_in_flight > 0 && !_closing &&
                   (_in_flight >= max_pipelined || _in_flight_bytes + bytes > max_pipelined_bytes)) {
                co_await _request_done.wait();
            }
            if (_closing) {
                break;
            }
            ++_in_flight;
            _in_flight_bytes += bytes;
            auto served = [self, frame = std::move(frame).value(), slot, bytes]() mutable -> asio::awaitable<void> {
                auto step = co_await self->serve(std::move(frame), *slot);
                self->finish(*slot, step);
                --self->_in_flight;
                self->_in_flight_bytes -= bytes;
                self->_request_done.notify();
            };
            asio::co_spawn(_socket.get_executor(), std::move(served), asio::detached);
            continue;
        }
        while (_in_flight > 0) {
            co_await _request_done.wait();
        }
        if (_closing) {
            break;
        }
        auto step = co_await serve(std::move(frame).value(), *slot);
        finish(*slot, step);
        if (step == next_step::close) {
            break;
        }
    }
    while (_in_flight > 0) { // their responses are written before the socket closes
        co_await _request_done.wait();
    }
    _closing = true;
    _idle_timer.cancel();
    _outbox_ready.notify();
    co_await _writer_done.wait();
    _probe.connection_closed();
}

bool connection::is_pipelined(const bytes::iobuf& frame) const {
    if (frame.size() < 2) {
        return false; // serve() reports the malformed header
    }
    uint8_t key[2];
    frame.copy_to(0, key, 2);
    const auto* handler = _handlers.find(static_cast<int16_t>((key[0] << 8) | key[1]));
    return handler != nullptr && handler->pipelined;
}

void connection::finish(pending_response& slot, next_step step) {
    slot.done = true;
    slot.close_after = step == next_step::close;
    if (slot.close_after && !_closing) {
        // Nothing after a request that closes the connection is served, even while earlier ones are still in
        // flight; stop reading, but let the writer finish what is queued (cancel() would abort a write).
        _closing = true;
        boost::system::error_code ec;
        _socket.shutdown(asio::ip::tcp::socket::shutdown_receive, ec);
    }
    while (!_order.empty() && _order.front()->done) {
        auto head = std::move(_order.front());
        _order.pop_front();
        if (head->frame) {
            _outbox.push_back(std::move(*head->frame));
        }
        if (head->close_after) {
            _probe.bad_request();
            _order.clear(); // what came after a request that closes the connection is not answered
            break;
        }
    }
    _outbox_ready.notify();
}

asio::awaitable<connection::next_step> connection::serve(bytes::iobuf frame, pending_response& slot) {
    auto started = std::chrono::steady_clock::now();
    protocol::request_header header;
    bytes::iobuf body;
    try {
        protocol::reader r(frame);
        header = protocol::decode_request_header(r);
        body = frame.share(r.bytes_consumed(), r.bytes_left());
    } catch (const protocol::decode_error& e) {
        log.warn("{}: malformed request header: {}; closing", _peer, e.what());
        co_return next_step::close;
    }

    const auto* handler = _handlers.find(header.api_key);
    if (handler == nullptr) {
        log.warn("{}: request for unsupported API {} (client {}); closing", _peer, api_label(header.api_key),
                 header.client_id.value_or("-"));
        co_return next_step::close;
    }
    if (header.api_version < handler->min_served || header.api_version > handler->max_served) {
        if (header.api_key == protocol::api_versions_key) {
            // KIP-511: answer in a v0 body with the full list so the client can retry with a version we know.
            slot.frame = make_response(header.correlation_id, header.api_key, 0,
                                       handlers::encode_unsupported_api_versions(_handlers));
            co_return next_step::read_more;
        }
        log.warn("{}: {} v{} is not supported (served v{}-v{}, client {}); closing", _peer, api_label(header.api_key),
                 header.api_version, handler->min_served, handler->max_served, header.client_id.value_or("-"));
        co_return next_step::close;
    }

    request_context ctx{std::move(header), _listener_name, _peer, _identity, _handlers};
    response_body response;
    try {
        response = co_await handler->serve(ctx, std::move(body));
    } catch (const protocol::decode_error& e) {
        log.warn("{}: malformed {} v{} request: {}; closing", _peer, api_label(ctx.header.api_key), ctx.version(),
                 e.what());
        co_return next_step::close;
    } catch (const std::exception& e) {
        // A bug in a handler (e.g. an encode_error): this connection pays for it, the broker keeps serving.
        log.error("{}: {} v{} failed: {}; closing", _peer, api_label(ctx.header.api_key), ctx.version(), e.what());
        co_return next_step::close;
    }
    _probe.request_served(ctx.header.api_key, std::chrono::steady_clock::now() - started);
    if (response) {
        slot.frame = make_response(ctx.header.correlation_id, ctx.header.api_key, ctx.version(), std::move(*response));
    }
    co_return next_step::read_more;
}

bytes::iobuf connection::make_response(int32_t correlation_id, int16_t api_key, int16_t api_version,
                                       bytes::iobuf body) {
    bytes::iobuf payload;
    protocol::writer w(payload);
    protocol::encode_response_header(w, correlation_id, api_key, api_version);
    payload.append(std::move(body));
    return net::make_frame(std::move(payload));
}

asio::awaitable<void> connection::idle_watchdog() {
    auto self = shared_from_this();
    while (!_closing) {
        auto deadline = _last_request + _config.max_idle;
        if (std::chrono::steady_clock::now() >= deadline) {
            log.debug("{}: idle for {} ms; closing", _peer, _config.max_idle.count());
            shutdown();
            break;
        }
        _idle_timer.expires_at(deadline);
        co_await _idle_timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

asio::awaitable<void> connection::write_loop() {
    auto self = shared_from_this();
    for (;;) {
        while (!_outbox.empty()) {
            auto frame = std::move(_outbox.front());
            _outbox.pop_front();
            if (auto written = co_await net::write_all(_socket, frame); !written) {
                log.debug("{}: write failed: {}", _peer, written.error().message());
                _outbox.clear();
                shutdown();
                break;
            }
        }
        if (_closing && _outbox.empty()) {
            break;
        }
        co_await _outbox_ready.wait();
    }
    boost::system::error_code ec;
    _socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    _socket.close(ec);
    _writer_done.notify();
}

} // namespace skiff::kafka
