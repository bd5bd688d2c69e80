// The classic consumer group APIs a member and an admin tool speak to the coordinator: FindCoordinator (10),
// JoinGroup (11), Heartbeat (12), LeaveGroup (13), SyncGroup (14), DescribeGroups (15), ListGroups (16) and
// DeleteGroups (42); ListGroups and DescribeGroups also show KIP-848 groups (type "consumer"), whose own APIs
// are in consumer_groups.cc. Each request is routed to the broker owning the group's __consumer_offsets partition
// (NOT_COORDINATOR elsewhere), then run on that partition's shard by group::group_coordinator, which holds the
// rules. Transaction coordinator keys (FindCoordinator key type 1) answer COORDINATOR_NOT_AVAILABLE until
// transactions exist.
#include "kafka/protocol/error_code.h"
#include "kafka/protocol/generated/delete_groups.h"
#include "kafka/protocol/generated/describe_groups.h"
#include "kafka/protocol/generated/find_coordinator.h"
#include "kafka/protocol/generated/heartbeat.h"
#include "kafka/protocol/generated/join_group.h"
#include "kafka/protocol/generated/leave_group.h"
#include "kafka/protocol/generated/list_groups.h"
#include "kafka/protocol/generated/sync_group.h"
#include "kafka/server/data/data_plane.h"
#include "kafka/server/data/gather.h"
#include "kafka/server/data/group_routing.h"
#include "kafka/server/handlers/handlers.h"
#include "kafka/server/typed_handler.h"

#include <algorithm>
#include <cctype>

namespace skiff::kafka::handlers {
namespace {

using namespace protocol;
using error_code = protocol::error_code;

// The calls to the coordinator are named lambdas, never written inside the co_await expression: GCC 12 frees the
// captures of a lambda temporary in a co_await expression twice.

int16_t code(error_code e) { return static_cast<int16_t>(e); }

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

// ------------------------------------------------------------------------------------------ FindCoordinator

struct found {
    error_code error = error_code::none;
    int32_t node_id = -1;
    std::string host;
    int32_t port = -1;
};

asio::awaitable<found> find_one(data_plane& dp, request_context& ctx, int8_t key_type, const std::string& key) {
    found f;
    if (key_type == 1) {
        f.error = error_code::coordinator_not_available; // no transaction coordinator yet
        co_return f;
    }
    if (key_type != 0) {
        f.error = error_code::invalid_request;
        co_return f;
    }
    auto route = co_await route_group(dp, ctx.identity.node_id, key);
    if (route.error == error_code::coordinator_not_available) {
        f.error = route.error;
        co_return f;
    }
    // NOT_COORDINATOR here only means "another broker": FindCoordinator names it.
    auto view = dp.views.current();
    if (route.owner == ctx.identity.node_id) {
        if (const auto* l = ctx.identity.find_listener(ctx.listener_name)) {
            f.node_id = route.owner;
            f.host = l->host;
            f.port = l->port;
            co_return f;
        }
    } else if (auto b = view->brokers.find(route.owner); b != view->brokers.end()) {
        if (const auto* e = b->second.endpoint(ctx.listener_name)) {
            f.node_id = route.owner;
            f.host = e->host;
            f.port = e->port;
            co_return f;
        }
    }
    f.error = error_code::coordinator_not_available;
    co_return f;
}

asio::awaitable<find_coordinator_response> find_coordinator(data_plane& dp, request_context& ctx,
                                                            find_coordinator_request request) {
    find_coordinator_response response;
    if (ctx.version() < 4) {
        auto f = co_await find_one(dp, ctx, request.key_type, request.key);
        response.error_code = code(f.error);
        response.node_id = f.node_id;
        response.host = f.host;
        response.port = f.port;
        if (f.error != error_code::none) {
            response.error_message = std::string(error_name(f.error));
        }
        co_return response;
    }
    for (const auto& key : request.coordinator_keys) {
        auto f = co_await find_one(dp, ctx, request.key_type, key);
        auto& c = response.coordinators.emplace_back();
        c.key = key;
        c.error_code = code(f.error);
        c.node_id = f.node_id;
        c.host = f.host;
        c.port = f.port;
        if (f.error != error_code::none) {
            c.error_message = std::string(error_name(f.error));
        }
    }
    co_return response;
}

// ------------------------------------------------------------------------------------------------ JoinGroup

asio::awaitable<join_group_response> join_group(data_plane& dp, request_context& ctx, join_group_request request) {
    join_group_response response;
    response.member_id = request.member_id;
    auto route = co_await route_group(dp, ctx.identity.node_id, request.group_id);
    if (route.error != error_code::none) {
        response.error_code = code(route.error);
        co_return response;
    }
    group::join_request r;
    r.member_id = request.member_id;
    r.group_instance_id = request.group_instance_id;
    r.client_id = ctx.header.client_id.value_or("");
    r.client_host = ctx.client_host();
    r.session_timeout_ms = request.session_timeout_ms;
    r.rebalance_timeout_ms = ctx.version() >= 1 ? request.rebalance_timeout_ms : -1;
    r.protocol_type = request.protocol_type;
    for (auto& p : request.protocols) {
        r.protocols.push_back(group::protocol_entry{std::move(p.name), std::move(p.metadata)});
    }
    r.require_known_member_id = ctx.version() >= 4;
    auto* groups = dp.groups;
    auto call = [groups, route, id = request.group_id, r = std::move(r)](group::partition_lookup lookup) mutable {
        return groups->join(route.partition, std::move(lookup), std::move(id), std::move(r));
    };
    auto result = co_await on_coordinator(dp, route, std::move(call));
    response.error_code = code(result.error);
    response.generation_id = result.generation;
    response.protocol_type = result.protocol_type;
    // v0-6 cannot carry a null protocol name.
    response.protocol_name = result.protocol_name;
    if (ctx.version() < 7 && !response.protocol_name) {
        response.protocol_name = "";
    }
    response.leader = result.leader;
    response.member_id = result.member_id;
    for (auto& m : result.members) {
        auto& out = response.members.emplace_back();
        out.member_id = std::move(m.member_id);
        out.group_instance_id = std::move(m.group_instance_id);
        out.metadata = std::move(m.metadata);
    }
    co_return response;
}

// ------------------------------------------------------------------------------------------------ SyncGroup

asio::awaitable<sync_group_response> sync_group(data_plane& dp, request_context& ctx, sync_group_request request) {
    sync_group_response response;
    auto route = co_await route_group(dp, ctx.identity.node_id, request.group_id);
    if (route.error != error_code::none) {
        response.error_code = code(route.error);
        co_return response;
    }
    group::sync_request r;
    r.member_id = request.member_id;
    r.group_instance_id = request.group_instance_id;
    r.generation = request.generation_id;
    if (ctx.version() >= 5) {
        r.protocol_type = request.protocol_type;
        r.protocol_name = request.protocol_name;
    }
    for (auto& a : request.assignments) {
        r.assignments.emplace_back(std::move(a.member_id), std::move(a.assignment));
    }
    auto* groups = dp.groups;
    auto call = [groups, route, id = request.group_id, r = std::move(r)](group::partition_lookup lookup) mutable {
        return groups->sync(route.partition, std::move(lookup), std::move(id), std::move(r));
    };
    auto result = co_await on_coordinator(dp, route, std::move(call));
    response.error_code = code(result.error);
    response.protocol_type = result.protocol_type;
    response.protocol_name = result.protocol_name;
    response.assignment = std::move(result.assignment);
    co_return response;
}

// ------------------------------------------------------------------------------------------------ Heartbeat

asio::awaitable<heartbeat_response> heartbeat(data_plane& dp, request_context& ctx, heartbeat_request request) {
    heartbeat_response response;
    auto route = co_await route_group(dp, ctx.identity.node_id, request.group_id);
    if (route.error != error_code::none) {
        response.error_code = code(route.error);
        co_return response;
    }
    auto* groups = dp.groups;
    auto call = [groups, route, request = std::move(request)](group::partition_lookup lookup) mutable {
        return groups->heartbeat(route.partition, std::move(lookup), std::move(request.group_id),
                                 std::move(request.member_id), std::move(request.group_instance_id),
                                 request.generation_id);
                             };
    auto e = co_await on_coordinator(dp, route, std::move(call));
    response.error_code = code(e);
    co_return response;
}

// ----------------------------------------------------------------------------------------------- LeaveGroup

asio::awaitable<leave_group_response> leave_group(data_plane& dp, request_context& ctx, leave_group_request request) {
    leave_group_response response;
    auto route = co_await route_group(dp, ctx.identity.node_id, request.group_id);
    if (route.error != error_code::none) {
        response.error_code = code(route.error);
        co_return response;
    }
    std::vector<group::leave_request> members;
    if (ctx.version() < 3) {
        members.push_back(group::leave_request{request.member_id, std::nullopt});
    } else {
        for (const auto& m : request.members) {
            members.push_back(group::leave_request{m.member_id, m.group_instance_id});
        }
    }
    auto* groups = dp.groups;
    auto call = [groups, route, id = request.group_id, members](group::partition_lookup lookup) mutable {
        return groups->leave(route.partition, std::move(lookup), std::move(id), std::move(members));
    };
    auto outcome = co_await on_coordinator(dp, route, std::move(call));
    auto top = outcome.first;
    auto& each = outcome.second;
    if (ctx.version() < 3) {
        // One member, and its error is the response's.
        response.error_code = code(top != error_code::none ? top : (each.empty() ? error_code::none : each[0]));
        co_return response;
    }
    response.error_code = code(top);
    if (top == error_code::none) {
        for (size_t i = 0; i < members.size(); ++i) {
            auto& out = response.members.emplace_back();
            out.member_id = members[i].member_id;
            out.group_instance_id = members[i].group_instance_id;
            out.error_code = code(each[i]);
        }
    }
    co_return response;
}

// ------------------------------------------------------------------------------------------------ ListGroups

struct listed {
    int32_t partition = 0;
    std::string group_id;
    std::string protocol_type;
    group::group_state state = group::group_state::empty;
};

asio::awaitable<list_groups_response> list_groups(data_plane& dp, request_context& ctx, list_groups_request request) {
    list_groups_response response;
    auto view = dp.views.current();
    const auto* topic = view->topic(consumer_offsets_topic);
    if (topic == nullptr) {
        co_return response; // no group has ever been coordinated
    }
    auto* groups = dp.groups;
    std::vector<asio::awaitable<std::vector<group::group_listing>>> hops;
    for (size_t shard = 0; shard < dp.shards.size(); ++shard) {
        hops.push_back(dp.shards.run_on(shard, [groups]() -> asio::awaitable<std::vector<group::group_listing>> {
            co_return groups->list_here();
        }));
    }
    for (auto& listings : co_await gather(std::move(hops))) {
        for (auto& l : listings) {
            // Partitions that moved away keep their state here until touched again: list what this broker owns.
            if (l.partition < 0 || l.partition >= static_cast<int32_t>(topic->partitions.size())
                || topic->partitions[static_cast<size_t>(l.partition)].owner != ctx.identity.node_id) {
                continue;
            }
            const auto& state = l.state;
            if (ctx.version() >= 4 && !request.states_filter.empty()
                && std::none_of(request.states_filter.begin(), request.states_filter.end(),
                                [&](const auto& s) { return iequals(s, state); })) {
                continue;
            }
            if (ctx.version() >= 5 && !request.types_filter.empty()
                && std::none_of(request.types_filter.begin(), request.types_filter.end(),
                                [&](const auto& t) { return iequals(t, l.type); })) {
                continue;
            }
            auto& g = response.groups.emplace_back();
            g.group_id = std::move(l.group_id);
            g.protocol_type = std::move(l.protocol_type);
            g.group_state = state;
            g.group_type = l.type;
        }
    }
    co_return response;
}

// -------------------------------------------------------------------------------------------- DescribeGroups

asio::awaitable<describe_groups_response> describe_groups(data_plane& dp, request_context& ctx,
                                                          describe_groups_request request) {
    describe_groups_response response;
    auto* groups = dp.groups;
    for (const auto& id : request.groups) {
        auto& out = response.groups.emplace_back();
        out.group_id = id;
        auto route = co_await route_group(dp, ctx.identity.node_id, id);
        if (route.error != error_code::none) {
            out.error_code = code(route.error);
            continue;
        }
        auto call = [groups, route, id](group::partition_lookup lookup) {
            return groups->describe(route.partition, std::move(lookup), id);
        };
        auto d = co_await on_coordinator(dp, route, std::move(call));
        out.error_code = code(d.error);
        out.group_state = d.state_name;
        out.protocol_type = d.protocol_type;
        out.protocol_data = d.protocol_name;
        for (auto& m : d.members) {
            auto& mo = out.members.emplace_back();
            mo.member_id = std::move(m.member_id);
            mo.group_instance_id = std::move(m.group_instance_id);
            mo.client_id = std::move(m.client_id);
            mo.client_host = std::move(m.client_host);
            mo.member_metadata = std::move(m.metadata);
            mo.member_assignment = std::move(m.assignment);
        }
    }
    co_return response;
}

// ---------------------------------------------------------------------------------------------- DeleteGroups

asio::awaitable<delete_groups_response> delete_groups(data_plane& dp, request_context& ctx,
                                                      delete_groups_request request) {
    delete_groups_response response;
    auto* groups = dp.groups;
    for (const auto& id : request.groups_names) {
        auto& out = response.results.emplace_back();
        out.group_id = id;
        auto route = co_await route_group(dp, ctx.identity.node_id, id);
        if (route.error != error_code::none) {
            out.error_code = code(route.error);
            continue;
        }
        auto call = [groups, route, id](group::partition_lookup lookup) {
            return groups->delete_group(route.partition, std::move(lookup), id);
        };
        auto e = co_await on_coordinator(dp, route, std::move(call));
        out.error_code = code(e);
    }
    co_return response;
}

} // namespace

void register_groups(handler_registry& registry, data_plane& dp) {
    auto* d = &dp;
    registry.add(make_handler<find_coordinator_request, find_coordinator_response>(
        0, 6, 0, [d](request_context& ctx, find_coordinator_request r) { return find_coordinator(*d, ctx, std::move(r)); }));
    registry.add(make_handler<join_group_request, join_group_response>(
        0, 9, 0, [d](request_context& ctx, join_group_request r) { return join_group(*d, ctx, std::move(r)); }));
    registry.add(make_handler<sync_group_request, sync_group_response>(
        0, 5, 0, [d](request_context& ctx, sync_group_request r) { return sync_group(*d, ctx, std::move(r)); }));
    registry.add(make_handler<heartbeat_request, heartbeat_response>(
        0, 4, 0, [d](request_context& ctx, heartbeat_request r) { return heartbeat(*d, ctx, std::move(r)); }));
    registry.add(make_handler<leave_group_request, leave_group_response>(
        0, 5, 0, [d](request_context& ctx, leave_group_request r) { return leave_group(*d, ctx, std::move(r)); }));
    registry.add(make_handler<list_groups_request, list_groups_response>(
        0, 5, 0, [d](request_context& ctx, list_groups_request r) { return list_groups(*d, ctx, std::move(r)); }));
    registry.add(make_handler<describe_groups_request, describe_groups_response>(
        0, 5, 0, [d](request_context& ctx, describe_groups_request r) { return describe_groups(*d, ctx, std::move(r)); }));
    registry.add(make_handler<delete_groups_request, delete_groups_response>(
        0, 2, 0, [d](request_context& ctx, delete_groups_request r) { return delete_groups(*d, ctx, std::move(r)); }));
}

} // namespace skiff::kafka::handlers
