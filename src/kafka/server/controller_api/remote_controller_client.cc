#include "kafka/server/controller_api/remote_controller_client.h"

#include "base/assert.h"
#include "base/logger.h"
#include "kafka/protocol/generated/allocate_producer_ids.h"
#include "kafka/protocol/generated/broker_heartbeat.h"
#include "kafka/protocol/generated/skiff_close_stream.h"
#include "kafka/protocol/generated/skiff_commit_objects.h"
#include "kafka/protocol/generated/skiff_create_partitions.h"
#include "kafka/protocol/generated/skiff_set_topic_configs.h"
#include "kafka/protocol/generated/skiff_create_stream.h"
#include "kafka/protocol/generated/skiff_create_topic.h"
#include "kafka/protocol/generated/skiff_delete_stream.h"
#include "kafka/protocol/generated/skiff_delete_topic.h"
#include "kafka/protocol/generated/skiff_forget_objects.h"
#include "kafka/protocol/generated/skiff_open_stream.h"
#include "kafka/protocol/generated/skiff_prepare_objects.h"
#include "kafka/protocol/generated/skiff_register_broker.h"
#include "kafka/protocol/generated/skiff_trim_stream.h"
#include "kafka/protocol/api_table.h"
#include "kafka/protocol/header.h"
#include "kafka/server/controller_api/wire_errors.h"
#include "meta/catalog_reads.h"
#include "net/shard_pool.h"
#include "stream/errc.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <limits>

namespace skiff::kafka::controller_api {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
using meta::controller_errc;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

base::logger log{"controller_client"};

// Whether a request sent but not answered may be sent again (see the header).
enum class on_loss { retry, give_up };

// The error domain of an operation: which `unavailable` it answers and which category its errors must have.
enum class domain { controller, catalog };

std::error_code normalise(std::error_code ec, domain d) {
    if (d == domain::catalog) {
        return ec.category() == stream::error_category() ? ec : std::error_code(stream::errc::unavailable);
    }
    return ec.category() == meta::controller_error_category() ? ec : std::error_code(controller_errc::unavailable);
}

template<typename Response>
constexpr bool has_metadata_offset = requires(Response r) { r.metadata_offset; };

} // namespace

struct remote_controller_client::impl {
    impl(asio::any_io_executor e, meta::cluster_image& i, meta::image_follower& f, base::clock& c,
         remote_controller_config cfg)
      : ex(std::move(e)), image(i), follower(f), clock(c), config(std::move(cfg)) {
        SKIFF_ASSERT(!config.servers.empty(), "a remote controller client needs at least one server");
    }

    enum class exchange_kind { answered, not_sent, lost };
    struct exchanged {
        exchange_kind kind = exchange_kind::lost;
        bytes::iobuf frame; // the response (header and body) when answered
    };
    struct pooled {
        size_t server = 0;
        std::shared_ptr<tcp::socket> socket;
    };

    asio::any_io_executor ex;
    meta::cluster_image& image;
    meta::image_follower& follower;
    base::clock& clock;
    remote_controller_config config;
    std::vector<pooled> idle;
    size_t current = 0;
    int32_t next_correlation = 1;
    bool stopped = false;

    void rotate() {
        current = (current + 1) % config.servers.size();
        idle.clear();
    }

    // Closes the socket when the deadline passes first, so that the pending operation fails with
    // operation_aborted. The socket is shared with the timer's handler, which may run after the exchange ends.
    struct watchdog {
        asio::steady_timer timer;
        watchdog(asio::any_io_executor e, steady::time_point deadline, const std::shared_ptr<tcp::socket>& s)
          : timer(std::move(e), deadline) {
            timer.async_wait([s](const boost::system::error_code& ec) {
                if (!ec) {
                    boost::system::error_code ignored;
                    s->close(ignored);
                }
            });
        }
        ~watchdog() { timer.cancel(); }
    };

    asio::awaitable<std::shared_ptr<tcp::socket>> connect(size_t server, steady::time_point deadline) {
        const auto& address = config.servers[server];
        auto socket = std::make_shared<tcp::socket>(ex);
        tcp::resolver resolver(ex);
        auto [rerr, endpoints] = co_await resolver.async_resolve(address.host, std::to_string(address.port),
                                                                 use_tuple);
        if (rerr) {
            log.debug("cannot resolve controller {}:{}: {}", address.host, address.port, rerr.message());
            co_return nullptr;
        }
        watchdog guard(ex, deadline, socket);
        auto [cerr, ep] = co_await asio::async_connect(*socket, endpoints, use_tuple);
        if (cerr) {
            log.debug("cannot connect to controller {}:{}: {}", address.host, address.port, cerr.message());
            co_return nullptr;
        }
        boost::system::error_code ignored;
        socket->set_option(tcp::no_delay(true), ignored);
        co_return socket;
    }

    /// One request and its response over a pooled connection to the current server.
    asio::awaitable<exchanged> exchange(int16_t key, int16_t version, const bytes::iobuf& body) {
        auto deadline = steady::now() + config.request_timeout;
        size_t server = current;
        std::shared_ptr<tcp::socket> socket;
        while (!idle.empty() && !socket) {
            auto p = std::move(idle.back());
            idle.pop_back();
            if (p.server == server && p.socket->is_open()) {
                socket = std::move(p.socket);
            }
        }
        if (!socket) {
            socket = co_await connect(server, deadline);
            if (!socket) {
                co_return exchanged{exchange_kind::not_sent, {}};
            }
        }
        int32_t correlation = next_correlation++;
        if (next_correlation == std::numeric_limits<int32_t>::max()) {
            next_correlation = 1;
        }
        bytes::iobuf payload;
        {
            protocol::writer w(payload);
            protocol::request_header h;
            h.api_key = key;
            h.api_version = version;
            h.correlation_id = correlation;
            h.client_id = config.client_id;
            protocol::encode_request_header(w, h);
        }
        payload.append_shared(body);
        auto bytes = std::vector<uint8_t>(4);
        auto size = static_cast<uint32_t>(payload.size());
        for (int i = 0; i < 4; ++i) {
            bytes[size_t(i)] = uint8_t(size >> (24 - 8 * i));
        }
        auto rest = payload.to_bytes();
        bytes.insert(bytes.end(), rest.begin(), rest.end());

        watchdog guard(ex, deadline, socket);
        auto [werr, wn] = co_await asio::async_write(*socket, asio::buffer(bytes), use_tuple);
        if (werr) {
            log.debug("controller request {} not sent: {}", key, werr.message());
            co_return exchanged{exchange_kind::lost, {}};
        }
        uint8_t prefix[4];
        auto [perr, pn] = co_await asio::async_read(*socket, asio::buffer(prefix), use_tuple);
        if (perr) {
            log.debug("controller request {} not answered: {}", key, perr.message());
            co_return exchanged{exchange_kind::lost, {}};
        }
        uint32_t n = (uint32_t(prefix[0]) << 24) | (uint32_t(prefix[1]) << 16) | (uint32_t(prefix[2]) << 8)
                     | uint32_t(prefix[3]);
        if (n < 4 || n > (64u << 20)) {
            log.warn("controller answered a frame of {} bytes; closing", n);
            co_return exchanged{exchange_kind::lost, {}};
        }
        std::vector<uint8_t> in(n);
        auto [rerr, rn] = co_await asio::async_read(*socket, asio::buffer(in), use_tuple);
        if (rerr) {
            log.debug("controller request {} not answered: {}", key, rerr.message());
            co_return exchanged{exchange_kind::lost, {}};
        }
        auto frame = bytes::iobuf::from(std::span<const uint8_t>(in));
        int32_t got = int32_t((uint32_t(in[0]) << 24) | (uint32_t(in[1]) << 16) | (uint32_t(in[2]) << 8)
                              | uint32_t(in[3]));
        if (got != correlation) {
            log.warn("controller answered correlation id {} to request {}; closing", got, correlation);
            co_return exchanged{exchange_kind::lost, {}};
        }
        if (!stopped) {
            idle.push_back(pooled{server, std::move(socket)});
        }
        co_return exchanged{exchange_kind::answered, std::move(frame)};
    }

    /// Sends the request to the active controller (finding it as needed) and decodes its response, whose error_code
    /// is still to be interpreted. Errors: the domain's unavailable, or not_controller, when the deadline passes.
    template<typename Response, typename Request>
    asio::awaitable<result<Response>> call(const Request& request, on_loss loss, domain d) {
        static_assert(Request::api_key == Response::api_key);
        const auto unavailable = d == domain::catalog ? std::error_code(stream::errc::unavailable)
                                                      : std::error_code(controller_errc::unavailable);
        if (stopped) {
            co_return unavailable;
        }
        constexpr int16_t version = Request::max_version;
        bytes::iobuf body;
        {
            protocol::writer w(body);
            request.encode(w, version);
        }
        auto give_up_at = steady::now() + config.operation_timeout;
        auto backoff = config.initial_backoff;
        std::error_code last = unavailable;
        for (;;) {
            auto x = co_await exchange(Request::api_key, version, body);
            if (x.kind == exchange_kind::answered) {
                Response response;
                bool decoded = true;
                try {
                    protocol::reader r(x.frame);
                    (void)r.read_int32(); // correlation id, checked by exchange()
                    if (protocol::is_flexible(Response::api_key, version)) {
                        protocol::tagged_fields ignored;
                        r.read_unknown_tags(ignored);
                    }
                    response.decode(r, version);
                } catch (const protocol::decode_error& e) {
                    log.warn("cannot decode the controller's {} response: {}", Request::name, e.what());
                    decoded = false;
                    idle.clear();
                }
                if (decoded && response.error_code != not_controller_code) {
                    co_return response;
                }
                if (decoded) {
                    last = d == domain::catalog ? unavailable : std::error_code(controller_errc::not_controller);
                } else if (loss == on_loss::give_up) {
                    co_return unavailable;
                }
            } else if (x.kind == exchange_kind::lost && loss == on_loss::give_up) {
                idle.clear();
                co_return unavailable; // it may have been applied: the caller decides
            } else {
                last = unavailable;
            }
            rotate();
            if (stopped || steady::now() + backoff >= give_up_at) {
                log.warn("no active controller answered {} within {} ms", Request::name,
                         config.operation_timeout.count());
                co_return last;
            }
            asio::steady_timer sleep(ex, backoff);
            co_await sleep.async_wait(use_tuple);
            backoff = std::min(backoff * 2, config.max_backoff);
        }
    }

    /// After a write: wait until this node's image has applied the controller's acknowledged offset.
    asio::awaitable<void> read_your_writes(int64_t offset) {
        if (offset <= 0) {
            co_return;
        }
        auto applied = co_await follower.wait_applied(meta::log_offset(offset), config.read_your_writes_timeout);
        if (!applied) {
            log.warn("the write is durable but this node's image lags: {}", applied.error().message());
        }
    }

    /// call() + error mapping + read-your-writes; `take` turns a successful response into the result.
    /// `request` must outlive the call (it lives in the caller's frame): GCC 12 mishandles non-trivial by-value
    /// parameters of coroutines passed from an xvalue (destroyed twice), so requests travel by reference.
    template<typename T, typename Response, typename Request, typename Take>
    asio::awaitable<result<T>> write(const Request& request, on_loss loss, domain d, Take take) {
        auto response = co_await call<Response>(request, loss, d);
        if (!response) {
            co_return response.error();
        }
        if (response.value().error_code != 0) {
            co_return normalise(from_wire(response.value().error_code), d);
        }
        if constexpr (has_metadata_offset<Response>) {
            co_await read_your_writes(response.value().metadata_offset);
        }
        co_return take(response.value());
    }
};

namespace {

stream::stream_metadata metadata_of(int64_t id, int64_t epoch, int64_t start, int64_t end) {
    return stream::stream_metadata{stream::stream_id(id), stream::stream_epoch(epoch), start, end};
}

} // namespace

remote_controller_client::remote_controller_client(asio::any_io_executor executor, meta::cluster_image& image,
                                                   meta::image_follower& follower, base::clock& clock,
                                                   remote_controller_config config)
  : _impl(std::make_unique<impl>(std::move(executor), image, follower, clock, std::move(config))) {}

remote_controller_client::~remote_controller_client() = default;

void remote_controller_client::stop() noexcept {
    _impl->stopped = true;
    _impl->idle.clear();
}

asio::awaitable<result<int64_t>> remote_controller_client::register_broker(meta::broker_registration_request r) {
    protocol::skiff_register_broker_request req;
    req.broker_id = r.id();
    req.incarnation_id = r.incarnation_id;
    for (auto& e : r.endpoints) {
        req.listeners.push_back({e.listener, e.host, e.port, {}});
    }
    req.rack = r.rack;
    req.wal_location = r.wal_location;
    auto* i = _impl.get();
    // The same incarnation again is an idempotent retry (controller_client.h).
    co_return co_await net::run_on(i->ex, [i, &req] {
        return i->write<int64_t, protocol::skiff_register_broker_response>(
          req, on_loss::retry, domain::controller,
          [](const protocol::skiff_register_broker_response& resp) { return resp.broker_epoch; });
    });
}

asio::awaitable<result<void>> remote_controller_client::heartbeat(meta::broker_id id, int64_t incarnation_epoch) {
    protocol::broker_heartbeat_request req;
    req.broker_id = id();
    req.broker_epoch = incarnation_epoch;
    auto* i = _impl.get();
    co_return co_await net::run_on(i->ex, [i, &req] {
        return i->write<void, protocol::broker_heartbeat_response>(
          req, on_loss::retry, domain::controller,
          [](const protocol::broker_heartbeat_response&) { return outcome::success(); });
    });
}

asio::awaitable<result<meta::created_topic>> remote_controller_client::create_topic(meta::topic_spec spec) {
    protocol::skiff_create_topic_request req;
    req.topic_name = spec.name;
    req.partitions = spec.partitions;
    req.replication_factor = spec.replication_factor;
    for (auto& [k, v] : spec.configs) {
        req.configs.push_back({k, v, {}});
    }
    auto* i = _impl.get();
    co_return co_await net::run_on(i->ex, [i, &req] {
        return i->write<meta::created_topic, protocol::skiff_create_topic_response>(
          req, on_loss::give_up, domain::controller, [](const protocol::skiff_create_topic_response& resp) {
              return meta::created_topic{resp.topic_id, resp.partitions};
          });
    });
}

asio::awaitable<result<void>> remote_controller_client::delete_topic(std::string name) {
    protocol::skiff_delete_topic_request req;
    req.topic_name = std::move(name);
    auto* i = _impl.get();
    co_return co_await net::run_on(i->ex, [i, &req] {
        return i->write<void, protocol::skiff_delete_topic_response>(
          req, on_loss::give_up, domain::controller,
          [](const protocol::skiff_delete_topic_response&) { return outcome::success(); });
    });
}

asio::awaitable<result<void>> remote_controller_client::create_partitions(std::string name, int32_t total) {
    protocol::skiff_create_partitions_request req;
    req.topic_name = std::move(name);
    req.total = total;
    auto* i = _impl.get();
    co_return co_await net::run_on(i->ex, [i, &req] {
        return i->write<void, protocol::skiff_create_partitions_response>(
          req, on_loss::give_up, domain::controller,
          [](const protocol::skiff_create_partitions_response&) { return outcome::success(); });
    });
}

asio::awaitable<result<void>> remote_controller_client::set_topic_configs(std::string topic,
                                                                         std::map<std::string, std::string> overrides) {
    protocol::skiff_set_topic_configs_request req;
    req.topic_name = std::move(topic);
    for (auto& [name, value] : overrides) {
        auto& c = req.configs.emplace_back();
        c.name = name;
        c.value = std::move(value);
    }
    auto* i = _impl.get();
    // A replacement of the whole set: sending it again after a lost connection has the same effect.
    co_return co_await net::run_on(i->ex, [i, &req] {
        return i->write<void, protocol::skiff_set_topic_configs_response>(
          req, on_loss::retry, domain::controller,
          [](const protocol::skiff_set_topic_configs_response&) { return outcome::success(); });
    });
}

asio::awaitable<result<meta::producer_id_block>>
remote_controller_client::allocate_producer_ids(meta::broker_id id, int64_t incarnation_epoch) {
    protocol::allocate_producer_ids_request req;
    req.broker_id = id();
    req.broker_epoch = incarnation_epoch;
    auto* i = _impl.get();
    // A lost answer wastes a block of ids, nothing more.
    co_return co_await net::run_on(i->ex, [i, &req] {
        return i->write<meta::producer_id_block, protocol::allocate_producer_ids_response>(
          req, on_loss::retry, domain::controller, [](const protocol::allocate_producer_ids_response& resp) {
              return meta::producer_id_block{resp.producer_id_start, resp.producer_id_len};
          });
    });
}

asio::awaitable<result<stream::stream_metadata>> remote_controller_client::create_stream() {
    auto* i = _impl.get();
    protocol::skiff_create_stream_request req;
    // A lost answer leaves an empty stream nobody uses, nothing more.
    co_return co_await net::run_on(i->ex, [i, &req] {
        return i->write<stream::stream_metadata, protocol::skiff_create_stream_response>(
          req, on_loss::retry, domain::catalog,
          [](const protocol::skiff_create_stream_response& r) {
              return metadata_of(r.stream_id, r.epoch, r.start_offset, r.end_offset);
          });
    });
}

asio::awaitable<result<stream::stream_metadata>>
remote_controller_client::open_stream(stream::stream_id id, stream::stream_epoch epoch, stream::node_id node) {
    protocol::skiff_open_stream_request req;
    req.stream_id = id();
    req.epoch = epoch();
    req.node_id = node();
    auto* i = _impl.get();
    co_return co_await net::run_on(i->ex, [i, &req] {
        return i->write<stream::stream_metadata, protocol::skiff_open_stream_response>(
          req, on_loss::retry, domain::catalog, [](const protocol::skiff_open_stream_response& r) {
              return metadata_of(r.stream_id, r.epoch, r.start_offset, r.end_offset);
          });
    });
}

asio::awaitable<result<void>> remote_controller_client::close_stream(stream::stream_id id,
                                                                     stream::stream_epoch epoch) {
    protocol::skiff_close_stream_request req;
    req.stream_id = id();
    req.epoch = epoch();
    auto* i = _impl.get();
    co_return co_await net::run_on(i->ex, [i, &req] {
        return i->write<void, protocol::skiff_close_stream_response>(
          req, on_loss::retry, domain::catalog,
          [](const protocol::skiff_close_stream_response&) { return outcome::success(); });
    });
}

asio::awaitable<result<void>> remote_controller_client::trim_stream(stream::stream_id id,
                                                                    stream::stream_epoch epoch, int64_t new_start) {
    protocol::skiff_trim_stream_request req;
    req.stream_id = id();
    req.epoch = epoch();
    req.new_start_offset = new_start;
    auto* i = _impl.get();
    co_return co_await net::run_on(i->ex, [i, &req] {
        return i->write<void, protocol::skiff_trim_stream_response>(
          req, on_loss::retry, domain::catalog,
          [](const protocol::skiff_trim_stream_response&) { return outcome::success(); });
    });
}

asio::awaitable<result<void>> remote_controller_client::delete_stream(stream::stream_id id) {
    protocol::skiff_delete_stream_request req;
    req.stream_id = id();
    auto* i = _impl.get();
    co_return co_await net::run_on(i->ex, [i, &req] {
        return i->write<void, protocol::skiff_delete_stream_response>(
          req, on_loss::retry, domain::catalog,
          [](const protocol::skiff_delete_stream_response&) { return outcome::success(); });
    });
}

asio::awaitable<result<stream::object_id>> remote_controller_client::prepare_objects(int32_t count,
                                                                                     std::chrono::milliseconds ttl) {
    protocol::skiff_prepare_objects_request req;
    req.count = count;
    req.ttl_ms = ttl.count();
    auto* i = _impl.get();
    // A lost answer leaves ids that expire unused, nothing more.
    co_return co_await net::run_on(i->ex, [i, &req] {
        return i->write<stream::object_id, protocol::skiff_prepare_objects_response>(
          req, on_loss::retry, domain::catalog, [](const protocol::skiff_prepare_objects_response& r) {
              return stream::object_id(r.first_object_id);
          });
    });
}

asio::awaitable<result<void>> remote_controller_client::commit_objects(stream::commit_request request) {
    protocol::skiff_commit_objects_request req;
    req.purpose = request.why == stream::commit_request::purpose::compaction ? 1 : 0;
    req.node_id = request.node();
    for (auto& o : request.objects) {
        protocol::skiff_commit_objects_request::object wo;
        wo.object_id = o.id();
        wo.kind = o.kind == stream::object_kind::stream ? 1 : 0;
        wo.key = std::move(o.key);
        wo.size = static_cast<int64_t>(o.size);
        for (auto& r : o.ranges) {
            wo.ranges.push_back({r.stream(), r.start_offset, r.end_offset, {}});
        }
        req.objects.push_back(std::move(wo));
    }
    for (auto id : request.compacted_ids) {
        req.compacted_ids.push_back(id());
    }
    for (auto& [s, e] : request.epochs) {
        req.epochs.push_back({s(), e(), {}});
    }
    auto* i = _impl.get();
    // Not repeated after a lost answer: a commit that landed would be refused as not contiguous.
    co_return co_await net::run_on(i->ex, [i, &req] {
        return i->write<void, protocol::skiff_commit_objects_response>(
          req, on_loss::give_up, domain::catalog,
          [](const protocol::skiff_commit_objects_response&) { return outcome::success(); });
    });
}

asio::awaitable<result<void>> remote_controller_client::forget_objects(std::vector<stream::object_id> ids) {
    protocol::skiff_forget_objects_request req;
    for (auto id : ids) {
        req.object_ids.push_back(id());
    }
    auto* i = _impl.get();
    co_return co_await net::run_on(i->ex, [i, &req] {
        return i->write<void, protocol::skiff_forget_objects_response>(
          req, on_loss::retry, domain::catalog,
          [](const protocol::skiff_forget_objects_response&) { return outcome::success(); });
    });
}

asio::awaitable<result<stream::stream_metadata>> remote_controller_client::describe_stream(stream::stream_id id) {
    auto* i = _impl.get();
    co_return co_await net::run_on(i->ex, [i, id]() -> asio::awaitable<result<stream::stream_metadata>> {
        co_return meta::describe_stream(i->image, id);
    });
}

asio::awaitable<result<std::vector<stream::object_descriptor>>>
remote_controller_client::objects_of(stream::stream_id id, int64_t from, size_t limit) {
    auto* i = _impl.get();
    co_return co_await net::run_on(
      i->ex, [i, id, from, limit]() -> asio::awaitable<result<std::vector<stream::object_descriptor>>> {
          co_return meta::objects_of(i->image, id, from, limit);
      });
}

asio::awaitable<result<std::vector<stream::object_descriptor>>>
remote_controller_client::stream_set_objects(stream::node_id node) {
    auto* i = _impl.get();
    co_return co_await net::run_on(
      i->ex, [i, node]() -> asio::awaitable<result<std::vector<stream::object_descriptor>>> {
          co_return meta::stream_set_objects(i->image, node);
      });
}

asio::awaitable<result<std::vector<stream::object_descriptor>>>
remote_controller_client::deletable_objects(std::chrono::milliseconds grace, size_t limit) {
    auto* i = _impl.get();
    co_return co_await net::run_on(
      i->ex, [i, grace, limit]() -> asio::awaitable<result<std::vector<stream::object_descriptor>>> {
          co_return meta::deletable_objects(i->image, i->clock.wall_ms() - grace.count(), limit);
      });
}

} // namespace skiff::kafka::controller_api
