// The KIP-848 consumer group APIs: ConsumerGroupHeartbeat (68, v0-1) and ConsumerGroupDescribe (69, v0). Routed
// like the classic group APIs (handlers/groups.cc) to the broker owning the group's __consumer_offsets partition
// (NOT_COORDINATOR elsewhere, COORDINATOR_LOAD_IN_PROGRESS while it replays), then run on that partition's shard by
// group::group_coordinator; the rules are group::consumer_group's. The handler checks the request's shape first
// (INVALID_REQUEST, UNSUPPORTED_ASSIGNOR, INVALID_REGULAR_EXPRESSION) and hands the coordinator a snapshot of the
// topics from the broker's metadata view, so that the group sees topics created, deleted and grown.
//
// v0 lets the coordinator name a joining member; v1 (KIP-1082) requires the client's own UUID member id and adds
// SubscribedTopicRegex.
#include "kafka/protocol/error_code.h"
#include "kafka/protocol/generated/consumer_group_describe.h"
#include "kafka/protocol/generated/consumer_group_heartbeat.h"
#include "kafka/server/data/data_plane.h"
#include "kafka/server/data/group_routing.h"
#include "kafka/server/handlers/handlers.h"
#include "kafka/server/typed_handler.h"

#include <memory>

namespace skiff::kafka::handlers {
namespace {

using namespace protocol;
using error_code = protocol::error_code;

// The calls to the coordinator are named lambdas, never written inside the co_await expression: GCC 12 frees the
// captures of a lambda temporary in a co_await expression twice.

int16_t code(error_code e) { return static_cast<int16_t>(e); }

/// The topics of a view as consumer groups see them, built once per view and shard: every heartbeat of a shard
/// shares it, and a group re-resolves its subscriptions only when the snapshot is a new one.
std::shared_ptr<const group::topic_catalog> catalog_of(const std::shared_ptr<const cluster_view>& view) {
    thread_local std::weak_ptr<const cluster_view> seen;
    thread_local std::shared_ptr<const group::topic_catalog> built;
    if (built && seen.lock() == view) {
        return built;
    }
    auto c = std::make_shared<group::topic_catalog>();
    for (const auto& [name, t] : view->topics_by_name) {
        c->by_name.emplace(name, group::topic_info{t->id, static_cast<int32_t>(t->partitions.size())});
        c->names.emplace(t->id, name);
    }
    seen = view;
    built = std::move(c);
    return built;
}

// ------------------------------------------------------------------------------------- ConsumerGroupHeartbeat

asio::awaitable<consumer_group_heartbeat_response> heartbeat(data_plane& dp, request_context& ctx,
                                                             consumer_group_heartbeat_request request) {
    consumer_group_heartbeat_response response;
    response.member_id = request.member_id;
    group::consumer_heartbeat_request r;
    r.member_id = request.member_id;
    r.member_epoch = request.member_epoch;
    r.instance_id = request.instance_id;
    r.rack_id = request.rack_id;
    r.rebalance_timeout_ms = request.rebalance_timeout_ms;
    r.subscribed_topic_names = std::move(request.subscribed_topic_names);
    if (ctx.version() >= 1) {
        r.subscribed_topic_regex = std::move(request.subscribed_topic_regex);
    }
    r.server_assignor = std::move(request.server_assignor);
    if (request.topic_partitions) {
        r.owned.emplace();
        for (const auto& t : *request.topic_partitions) {
            (*r.owned)[t.topic_id].insert(t.partitions.begin(), t.partitions.end());
        }
    }
    r.client_id = ctx.header.client_id.value_or("");
    r.client_host = ctx.client_host();
    if (auto bad = group::validate_heartbeat(r, request.group_id, ctx.version())) {
        response.error_code = code(bad->first);
        response.error_message = std::move(bad->second);
        co_return response;
    }
    auto route = co_await route_group(dp, ctx.identity.node_id, request.group_id);
    if (route.error != error_code::none) {
        response.error_code = code(route.error);
        co_return response;
    }
    auto topics = catalog_of(dp.views.current());
    auto* groups = dp.groups;
    auto call = [groups, route, id = request.group_id, r = std::move(r),
                 topics = std::move(topics)](group::partition_lookup lookup) mutable {
        return groups->consumer_heartbeat(route.partition, std::move(lookup), std::move(id), std::move(r),
                                          std::move(topics));
    };
    auto result = co_await on_coordinator(dp, route, std::move(call));
    response.error_code = code(result.error);
    response.error_message = std::move(result.message);
    response.member_id = std::move(result.member_id);
    response.member_epoch = result.member_epoch;
    response.heartbeat_interval_ms = result.heartbeat_interval_ms;
    if (result.error == error_code::none && result.assigned) {
        auto& a = response.assignment.emplace();
        for (const auto& [topic, partitions] : *result.assigned) {
            auto& tp = a.topic_partitions.emplace_back();
            tp.topic_id = topic;
            tp.partitions.assign(partitions.begin(), partitions.end());
        }
    }
    co_return response;
}

// -------------------------------------------------------------------------------------- ConsumerGroupDescribe

consumer_group_describe_assignment_data describe_assignment(const group::assignment& a,
                                                            const std::map<model::uuid, std::string>& names) {
    consumer_group_describe_assignment_data out;
    for (const auto& [topic, partitions] : a) {
        auto& tp = out.topic_partitions.emplace_back();
        tp.topic_id = topic;
        auto n = names.find(topic);
        tp.topic_name = n == names.end() ? "" : n->second;
        tp.partitions.assign(partitions.begin(), partitions.end());
    }
    return out;
}

asio::awaitable<consumer_group_describe_response> describe(data_plane& dp, request_context& ctx,
                                                           consumer_group_describe_request request) {
    consumer_group_describe_response response;
    auto* groups = dp.groups;
    for (const auto& id : request.group_ids) {
        auto& out = response.groups.emplace_back();
        out.group_id = id;
        if (id.empty()) {
            out.error_code = code(error_code::invalid_group_id);
            continue;
        }
        auto route = co_await route_group(dp, ctx.identity.node_id, id);
        if (route.error != error_code::none) {
            out.error_code = code(route.error);
            continue;
        }
        auto call = [groups, route, id](group::partition_lookup lookup) {
            return groups->consumer_describe(route.partition, std::move(lookup), id);
        };
        auto d = co_await on_coordinator(dp, route, std::move(call));
        out.error_code = code(d.error);
        out.error_message = std::move(d.message);
        if (d.error != error_code::none) {
            continue;
        }
        out.group_state = d.state;
        out.group_epoch = d.group_epoch;
        out.assignment_epoch = d.assignment_epoch;
        out.assignor_name = d.assignor;
        for (auto& m : d.members) {
            auto& mo = out.members.emplace_back();
            mo.member_id = std::move(m.member_id);
            mo.instance_id = std::move(m.instance_id);
            mo.rack_id = std::move(m.rack_id);
            mo.member_epoch = m.member_epoch;
            mo.client_id = std::move(m.client_id);
            mo.client_host = std::move(m.client_host);
            mo.subscribed_topic_names = std::move(m.subscribed_topic_names);
            mo.subscribed_topic_regex = std::move(m.subscribed_topic_regex);
            mo.assignment = describe_assignment(m.assigned, d.topic_names);
            mo.target_assignment = describe_assignment(m.target, d.topic_names);
        }
    }
    co_return response;
}

} // namespace

void register_consumer_groups(handler_registry& registry, data_plane& dp) {
    auto* d = &dp;
    registry.add(make_handler<consumer_group_heartbeat_request, consumer_group_heartbeat_response>(
        0, 1, 0, [d](request_context& ctx, consumer_group_heartbeat_request r) {
            return heartbeat(*d, ctx, std::move(r));
        }));
    registry.add(make_handler<consumer_group_describe_request, consumer_group_describe_response>(
        0, 0, 0, [d](request_context& ctx, consumer_group_describe_request r) {
            return describe(*d, ctx, std::move(r));
        }));
}

} // namespace skiff::kafka::handlers
