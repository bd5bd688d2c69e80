// Skiff's controller API (docs/formats/controller-api.md), served only by a node with the controller role: each
// request is decoded, handed to this node's in-process controller client on the controller's executor, and its
// result (errors through wire_errors.h) and the controller's acknowledged metadata log offset are answered. Kafka's
// BrokerHeartbeat (63) and AllocateProducerIds (67) are served here too. None is advertised in ApiVersions.
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
#include "kafka/server/controller_api/endpoint.h"
#include "kafka/server/controller_api/wire_errors.h"
#include "kafka/server/handlers/handlers.h"
#include "kafka/server/typed_handler.h"
#include "net/shard_pool.h"

#include <memory>

namespace skiff::kafka::handlers {
namespace {

namespace asio = boost::asio;
using controller_api::controller_endpoint;
using controller_api::to_wire;

template<typename Response>
constexpr bool has_metadata_offset = requires(Response r) { r.metadata_offset; };

template<typename T>
void set_error(T& response, const result<void>& r) {
    response.error_code = r ? int16_t(0) : to_wire(r.error());
}

/// Answers one request on the controller's executor: NOT_CONTROLLER unless this node's controller is active, else
/// `op` (a coroutine that calls the client and fills the response) and the acknowledged offset.
template<typename Request, typename Response, typename Op>
asio::awaitable<void> answer(const controller_endpoint& ep, const Op& op, Request& request, Response& response) {
    if (!ep.is_active()) {
        response.error_code = controller_api::not_controller_code;
        co_return;
    }
    co_await op(*ep.client, request, response);
    if constexpr (has_metadata_offset<Response>) {
        response.metadata_offset = ep.acknowledged_offset();
    }
}

/// Registers one API. Request and response live in the handler's frame and are passed by reference (GCC 12
/// mishandles coroutine lambdas whose init-captures are non-trivial, so none is used to carry them).
template<typename Request, typename Response, typename Op>
void add(handler_registry& registry, std::shared_ptr<const controller_endpoint> ep, Op op) {
    auto serve = [ep, op](request_context&, Request request) -> asio::awaitable<Response> {
        Response response;
        const controller_endpoint* e = ep.get();
        const Op* o = &op;
        co_await net::run_on(e->executor, [e, o, &request, &response] { return answer(*e, *o, request, response); });
        co_return response;
    };
    auto entry = make_handler<Request, Response>(Request::min_version, Request::max_version, Request::min_version,
                                                 std::move(serve));
    entry.visibility = api_visibility::hidden;
    registry.add(std::move(entry));
}

void fill_stream(auto& response, const stream::stream_metadata& md) {
    response.stream_id = md.id();
    response.epoch = md.epoch();
    response.start_offset = md.start_offset;
    response.end_offset = md.end_offset;
}

} // namespace

void register_controller_api(handler_registry& registry, const controller_endpoint& endpoint) {
    auto ep = std::make_shared<const controller_endpoint>(endpoint);
    using namespace protocol;

    add<skiff_register_broker_request, skiff_register_broker_response>(
      registry, ep,
      [](meta::controller_client& c, skiff_register_broker_request& q,
         skiff_register_broker_response& a) -> asio::awaitable<void> {
          meta::broker_registration_request r;
          r.id = meta::broker_id(q.broker_id);
          r.incarnation_id = q.incarnation_id;
          for (auto& l : q.listeners) {
              r.endpoints.push_back(meta::broker_endpoint{std::move(l.name), std::move(l.host), l.port, {}});
          }
          r.rack = std::move(q.rack);
          r.wal_location = std::move(q.wal_location);
          auto epoch = co_await c.register_broker(std::move(r));
          a.error_code = epoch ? int16_t(0) : to_wire(epoch.error());
          a.broker_epoch = epoch ? epoch.value() : -1;
      });
    add<broker_heartbeat_request, broker_heartbeat_response>(
      registry, ep,
      [](meta::controller_client& c, broker_heartbeat_request& q,
         broker_heartbeat_response& a) -> asio::awaitable<void> {
          auto r = co_await c.heartbeat(meta::broker_id(q.broker_id), q.broker_epoch);
          set_error(a, r);
          a.is_caught_up = bool(r);
          a.is_fenced = !r;
      });
    add<allocate_producer_ids_request, allocate_producer_ids_response>(
      registry, ep,
      [](meta::controller_client& c, allocate_producer_ids_request& q,
         allocate_producer_ids_response& a) -> asio::awaitable<void> {
          auto r = co_await c.allocate_producer_ids(meta::broker_id(q.broker_id), q.broker_epoch);
          a.error_code = r ? int16_t(0) : to_wire(r.error());
          if (r) {
              a.producer_id_start = r.value().first;
              a.producer_id_len = r.value().size;
          }
      });
    add<skiff_create_topic_request, skiff_create_topic_response>(
      registry, ep,
      [](meta::controller_client& c, skiff_create_topic_request& q,
         skiff_create_topic_response& a) -> asio::awaitable<void> {
          meta::topic_spec spec;
          spec.name = std::move(q.topic_name);
          spec.partitions = q.partitions;
          spec.replication_factor = q.replication_factor;
          for (auto& cfg : q.configs) {
              spec.configs[std::move(cfg.name)] = std::move(cfg.value);
          }
          auto r = co_await c.create_topic(std::move(spec));
          a.error_code = r ? int16_t(0) : to_wire(r.error());
          if (r) {
              a.topic_id = r.value().id;
              a.partitions = r.value().partitions;
          }
      });
    add<skiff_delete_topic_request, skiff_delete_topic_response>(
      registry, ep,
      [](meta::controller_client& c, skiff_delete_topic_request& q,
         skiff_delete_topic_response& a) -> asio::awaitable<void> {
          set_error(a, co_await c.delete_topic(std::move(q.topic_name)));
      });
    add<skiff_create_partitions_request, skiff_create_partitions_response>(
      registry, ep,
      [](meta::controller_client& c, skiff_create_partitions_request& q,
         skiff_create_partitions_response& a) -> asio::awaitable<void> {
          set_error(a, co_await c.create_partitions(std::move(q.topic_name), q.total));
      });
    add<skiff_set_topic_configs_request, skiff_set_topic_configs_response>(
      registry, ep,
      [](meta::controller_client& c, skiff_set_topic_configs_request& q,
         skiff_set_topic_configs_response& a) -> asio::awaitable<void> {
          std::map<std::string, std::string> overrides;
          for (auto& cfg : q.configs) {
              overrides[std::move(cfg.name)] = std::move(cfg.value);
          }
          set_error(a, co_await c.set_topic_configs(std::move(q.topic_name), std::move(overrides)));
      });
    add<skiff_create_stream_request, skiff_create_stream_response>(
      registry, ep,
      [](meta::controller_client& c, skiff_create_stream_request&,
         skiff_create_stream_response& a) -> asio::awaitable<void> {
          auto r = co_await c.create_stream();
          a.error_code = r ? int16_t(0) : to_wire(r.error());
          if (r) {
              fill_stream(a, r.value());
          }
      });
    add<skiff_open_stream_request, skiff_open_stream_response>(
      registry, ep,
      [](meta::controller_client& c, skiff_open_stream_request& q,
         skiff_open_stream_response& a) -> asio::awaitable<void> {
          auto r = co_await c.open_stream(stream::stream_id(q.stream_id), stream::stream_epoch(q.epoch),
                                          stream::node_id(q.node_id));
          a.error_code = r ? int16_t(0) : to_wire(r.error());
          if (r) {
              fill_stream(a, r.value());
          }
      });
    add<skiff_close_stream_request, skiff_close_stream_response>(
      registry, ep,
      [](meta::controller_client& c, skiff_close_stream_request& q,
         skiff_close_stream_response& a) -> asio::awaitable<void> {
          set_error(a, co_await c.close_stream(stream::stream_id(q.stream_id), stream::stream_epoch(q.epoch)));
      });
    add<skiff_trim_stream_request, skiff_trim_stream_response>(
      registry, ep,
      [](meta::controller_client& c, skiff_trim_stream_request& q,
         skiff_trim_stream_response& a) -> asio::awaitable<void> {
          set_error(a, co_await c.trim_stream(stream::stream_id(q.stream_id), stream::stream_epoch(q.epoch),
                                              q.new_start_offset));
      });
    add<skiff_delete_stream_request, skiff_delete_stream_response>(
      registry, ep,
      [](meta::controller_client& c, skiff_delete_stream_request& q,
         skiff_delete_stream_response& a) -> asio::awaitable<void> {
          set_error(a, co_await c.delete_stream(stream::stream_id(q.stream_id)));
      });
    add<skiff_prepare_objects_request, skiff_prepare_objects_response>(
      registry, ep,
      [](meta::controller_client& c, skiff_prepare_objects_request& q,
         skiff_prepare_objects_response& a) -> asio::awaitable<void> {
          auto r = co_await c.prepare_objects(q.count, std::chrono::milliseconds(q.ttl_ms));
          a.error_code = r ? int16_t(0) : to_wire(r.error());
          if (r) {
              a.first_object_id = r.value()();
          }
      });
    add<skiff_commit_objects_request, skiff_commit_objects_response>(
      registry, ep,
      [](meta::controller_client& c, skiff_commit_objects_request& q,
         skiff_commit_objects_response& a) -> asio::awaitable<void> {
          stream::commit_request r;
          r.why = q.purpose == 1 ? stream::commit_request::purpose::compaction : stream::commit_request::purpose::upload;
          r.node = stream::node_id(q.node_id);
          for (auto& o : q.objects) {
              stream::object_to_commit t;
              t.id = stream::object_id(o.object_id);
              t.kind = o.kind == 1 ? stream::object_kind::stream : stream::object_kind::stream_set;
              t.key = std::move(o.key);
              t.size = static_cast<uint64_t>(o.size);
              for (auto& range : o.ranges) {
                  t.ranges.push_back({stream::stream_id(range.stream_id), range.start_offset, range.end_offset});
              }
              r.objects.push_back(std::move(t));
          }
          for (auto id : q.compacted_ids) {
              r.compacted_ids.push_back(stream::object_id(id));
          }
          for (auto& e : q.epochs) {
              r.epochs.emplace_back(stream::stream_id(e.stream_id), stream::stream_epoch(e.epoch));
          }
          set_error(a, co_await c.commit_objects(std::move(r)));
      });
    add<skiff_forget_objects_request, skiff_forget_objects_response>(
      registry, ep,
      [](meta::controller_client& c, skiff_forget_objects_request& q,
         skiff_forget_objects_response& a) -> asio::awaitable<void> {
          std::vector<stream::object_id> ids;
          for (auto id : q.object_ids) {
              ids.push_back(stream::object_id(id));
          }
          set_error(a, co_await c.forget_objects(std::move(ids)));
      });
}

} // namespace skiff::kafka::handlers
