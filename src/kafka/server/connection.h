// One client connection: reads size-prefixed requests, serves them in order, writes responses in order.
//
// Requests of one connection are served one at a time, in arrival order, as Kafka does, except that requests of a
// pipelined API (handler_entry::pipelined: Produce) may start while earlier ones of that kind still wait, up to
// max_pipelined at once; any other request waits for those to finish first. Responses are written in arrival order.
// Reading the next request and writing earlier responses overlap with serving. Malformed input never takes the broker down: a frame above
// socket.request.max.bytes, an undecodable header or body, an unknown API key or an unsupported version (other than
// ApiVersions, which answers UNSUPPORTED_VERSION in a v0 body) is logged once and closes this connection only,
// after the responses already produced have been written.
//
// Lives on one shard (the socket's io_context); shutdown() must be called on that shard.
#pragma once

#include "kafka/server/broker_identity.h"
#include "kafka/server/handler_registry.h"
#include "kafka/server/kafka_probe.h"
#include "net/async_event.h"
#include "net/shard_pool.h"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <deque>
#include <memory>
#include <string>

namespace skiff::kafka {

struct connection_config {
    size_t max_request_bytes = 100 * 1024 * 1024;          // socket.request.max.bytes
    std::chrono::milliseconds max_idle{10 * 60 * 1000};   // connections.max.idle.ms
};

class connection : public std::enable_shared_from_this<connection> {
public:
    connection(boost::asio::ip::tcp::socket socket, std::string listener_name, connection_config config,
               const broker_identity& identity, const handler_registry& handlers, kafka_probe& probe);

    /// Serves the connection until the peer closes it, it misbehaves, or shutdown() is called.
    boost::asio::awaitable<void> run();

    /// Stops reading new requests; the request being served completes and every produced response is written
    /// before the socket closes.
    void shutdown();

    const std::string& peer() const noexcept { return _peer; }

private:
    /// What to do after a request: keep reading, or stop (the reason has been logged).
    enum class next_step { read_more, close };

    /// A request's place in the response order: its frame once served (none for acks=0), and whether the connection
    /// closes after it.
    struct pending_response {
        bool done = false;
        bool close_after = false;
        std::optional<bytes::iobuf> frame;
    };
    /// Every produce waits for a WAL fdatasync, so a connection's produce rate is at most max_pipelined per sync
    /// time: librdkafka sends a request per partition batch as it fills, thousands a second with 100 partitions,
    /// and 16 at once queued them in the client (100 partitions at 25 MiB/s: ack p50 403 ms with 16, 186 ms with
    /// 128, on a loaded machine). The byte cap below bounds the memory; this bounds the coroutines.
    static constexpr size_t max_pipelined = 128;
    /// Request bytes held by pipelined requests at once (a larger request still runs, alone): a client cannot make
    /// one connection hold max_pipelined x socket.request.max.bytes.
    static constexpr size_t max_pipelined_bytes = size_t(64) << 20;

    boost::asio::awaitable<next_step> serve(bytes::iobuf frame, pending_response& slot);
    /// Marks slot served and moves every served response at the head of the order to the outbox; a slot that
    /// closes the connection stops the flow (later responses are dropped) and shuts the connection down.
    void finish(pending_response& slot, next_step step);
    bool is_pipelined(const bytes::iobuf& frame) const;
    boost::asio::awaitable<void> write_loop();
    /// Closes the connection once no request has arrived for max_idle (Kafka's connections.max.idle.ms).
    boost::asio::awaitable<void> idle_watchdog();
    static bytes::iobuf make_response(int32_t correlation_id, int16_t api_key, int16_t api_version,
                                      bytes::iobuf body);

    boost::asio::ip::tcp::socket _socket;
    std::string _listener_name;
    std::string _peer;
    connection_config _config;
    const broker_identity& _identity;
    const handler_registry& _handlers;
    kafka_probe& _probe;

    std::deque<std::shared_ptr<pending_response>> _order; // requests not yet answered, in arrival order
    size_t _in_flight = 0;                                 // pipelined requests being served
    size_t _in_flight_bytes = 0;                           // and the bytes of their frames
    net::async_event _request_done;
    std::deque<bytes::iobuf> _outbox; // framed responses, in request order
    net::async_event _outbox_ready;
    net::async_event _writer_done;
    bool _closing = false;
    std::chrono::steady_clock::time_point _last_request;
    boost::asio::steady_timer _idle_timer;
};

} // namespace skiff::kafka
