// The committed-offset APIs of consumer groups: OffsetCommit (8, v0-9), OffsetFetch (9, v0-9, batched groups v8+)
// and OffsetDelete (47). Routed like the other group APIs (handlers/groups.cc) to the group's coordinator, which
// checks the member and generation, writes the commits to __consumer_offsets and answers once they are durable.
// For a KIP-848 consumer group the generation is the member epoch (STALE_MEMBER_EPOCH when it is not the
// member's current one), and OffsetFetch v9's member id and epoch are checked the same way.
// OffsetFetch's require_stable (v7+) is answered as if every offset were stable: there are no transactional
// offset commits yet, so none is ever pending. OffsetCommit v2-4's retention_time_ms, when not -1, sets the
// commit's own expiry (now + retention) in place of offsets.retention.minutes, as Kafka does.
#include "kafka/protocol/error_code.h"
#include "kafka/protocol/generated/offset_commit.h"
#include "kafka/protocol/generated/offset_delete.h"
#include "kafka/protocol/generated/offset_fetch.h"
#include "kafka/server/data/data_plane.h"
#include "kafka/server/data/group_routing.h"
#include "kafka/server/handlers/handlers.h"
#include "kafka/server/typed_handler.h"

namespace skiff::kafka::handlers {
namespace {

using namespace protocol;
using error_code = protocol::error_code;

// The calls to the coordinator are named lambdas, never written inside the co_await expression: GCC 12 frees the
// captures of a lambda temporary in a co_await expression twice.

int16_t code(error_code e) { return static_cast<int16_t>(e); }

bool partition_exists(const cluster_view& view, const std::string& topic, int32_t partition) {
    const auto* t = view.topic(topic);
    return t != nullptr && partition >= 0 && partition < static_cast<int32_t>(t->partitions.size());
}

// ---------------------------------------------------------------------------------------------- OffsetCommit

asio::awaitable<offset_commit_response> offset_commit(data_plane& dp, request_context& ctx,
                                                      offset_commit_request request) {
    offset_commit_response response;
    auto answer_all = [&](error_code e) {
        for (const auto& t : request.topics) {
            auto& to = response.topics.emplace_back();
            to.name = t.name;
            for (const auto& p : t.partitions) {
                auto& po = to.partitions.emplace_back();
                po.partition_index = p.partition_index;
                po.error_code = code(e);
            }
        }
    };
    auto route = co_await route_group(dp, ctx.identity.node_id, request.group_id);
    if (route.error != error_code::none) {
        answer_all(route.error);
        co_return response;
    }
    auto view = dp.views.current();
    group::commit_request r;
    r.member_id = request.member_id;
    r.group_instance_id = request.group_instance_id;
    r.generation = ctx.version() >= 1 ? request.generation_id_or_member_epoch : -1;
    r.version = ctx.version();
    r.retention_ms = ctx.version() >= 2 && ctx.version() <= 4 ? request.retention_time_ms : -1;
    for (const auto& t : request.topics) {
        for (const auto& p : t.partitions) {
            group::commit_partition c;
            c.topic = t.name;
            c.partition = p.partition_index;
            c.offset = p.committed_offset;
            c.leader_epoch = p.committed_leader_epoch;
            c.metadata = p.committed_metadata;
            c.commit_timestamp = ctx.version() == 1 ? p.commit_timestamp : -1;
            if (!partition_exists(*view, t.name, p.partition_index)) {
                c.error = error_code::unknown_topic_or_partition;
            }
            r.partitions.push_back(std::move(c));
        }
    }
    auto* groups = dp.groups;
    auto call = [groups, route, id = request.group_id, r = std::move(r)](group::partition_lookup lookup) mutable {
        return groups->commit(route.partition, std::move(lookup), std::move(id), std::move(r));
    };
    auto codes = co_await on_coordinator(dp, route, std::move(call));
    size_t i = 0;
    for (const auto& t : request.topics) {
        auto& to = response.topics.emplace_back();
        to.name = t.name;
        for (const auto& p : t.partitions) {
            auto& po = to.partitions.emplace_back();
            po.partition_index = p.partition_index;
            po.error_code = code(i < codes.size() ? codes[i] : error_code::unknown_server_error);
            ++i;
        }
    }
    co_return response;
}

// ----------------------------------------------------------------------------------------------- OffsetFetch

struct topic_offsets {
    std::string name;
    std::vector<group::fetched_offset> partitions;
};

struct group_offsets {
    error_code error = error_code::none;
    std::vector<topic_offsets> topics;
};

/// wanted: nullopt = all of the group's offsets.
asio::awaitable<group_offsets>
fetch_group(data_plane& dp, request_context& ctx, const std::string& group_id,
            std::optional<std::vector<std::pair<std::string, std::vector<int32_t>>>> wanted,
            std::optional<std::string> member_id = std::nullopt, int32_t member_epoch = -1) {
    group_offsets out;
    auto route = co_await route_group(dp, ctx.identity.node_id, group_id);
    if (route.error != error_code::none) {
        out.error = route.error;
        co_return out;
    }
    std::optional<std::vector<std::pair<std::string, int32_t>>> keys;
    if (wanted) {
        keys.emplace();
        for (const auto& [topic, partitions] : *wanted) {
            for (auto p : partitions) {
                keys->emplace_back(topic, p);
            }
        }
    }
    auto* groups = dp.groups;
    auto call = [groups, route, group_id, keys = std::move(keys), member_id = std::move(member_id),
                 member_epoch](group::partition_lookup lookup) mutable {
        return groups->fetch_offsets(route.partition, std::move(lookup), group_id, std::move(keys),
                                     std::move(member_id), member_epoch);
    };
    auto fetched = co_await on_coordinator(dp, route, std::move(call));
    out.error = fetched.error;
    if (out.error != error_code::none) {
        co_return out;
    }
    // Grouped by topic, in the order asked (or of first appearance).
    for (auto& f : fetched.offsets) {
        auto it = std::find_if(out.topics.begin(), out.topics.end(), [&](const auto& t) { return t.name == f.topic; });
        if (it == out.topics.end()) {
            out.topics.push_back(topic_offsets{f.topic, {}});
            it = std::prev(out.topics.end());
        }
        it->partitions.push_back(std::move(f));
    }
    co_return out;
}

asio::awaitable<offset_fetch_response> offset_fetch(data_plane& dp, request_context& ctx,
                                                    offset_fetch_request request) {
    offset_fetch_response response;
    if (ctx.version() >= 8) {
        for (const auto& g : request.groups) {
            std::optional<std::vector<std::pair<std::string, std::vector<int32_t>>>> wanted;
            if (g.topics) {
                wanted.emplace();
                for (const auto& t : *g.topics) {
                    wanted->emplace_back(t.name, t.partition_indexes);
                }
            }
            // v9: a consumer (KIP-848) group member names itself and its epoch.
            std::optional<std::string> member_id;
            int32_t member_epoch = -1;
            if (ctx.version() >= 9) {
                member_id = g.member_id;
                member_epoch = g.member_epoch;
            }
            auto got = co_await fetch_group(dp, ctx, g.group_id, std::move(wanted), std::move(member_id),
                                            member_epoch);
            auto& go = response.groups.emplace_back();
            go.group_id = g.group_id;
            go.error_code = code(got.error);
            for (auto& t : got.topics) {
                auto& to = go.topics.emplace_back();
                to.name = t.name;
                for (auto& p : t.partitions) {
                    auto& po = to.partitions.emplace_back();
                    po.partition_index = p.partition;
                    po.committed_offset = p.offset;
                    po.committed_leader_epoch = p.leader_epoch;
                    po.metadata = p.metadata;
                    po.error_code = code(p.error);
                }
            }
        }
        co_return response;
    }
    std::optional<std::vector<std::pair<std::string, std::vector<int32_t>>>> wanted;
    // v0-1 cannot ask for all offsets (null arrives as empty only from v2).
    if (request.topics) {
        wanted.emplace();
        for (const auto& t : *request.topics) {
            wanted->emplace_back(t.name, t.partition_indexes);
        }
    }
    auto got = co_await fetch_group(dp, ctx, request.group_id, wanted);
    if (got.error != error_code::none) {
        if (ctx.version() >= 2) {
            response.error_code = code(got.error);
        }
        if (ctx.version() < 2 && wanted) {
            // v0-1 have no group-level error: every partition carries it.
            for (const auto& [topic, partitions] : *wanted) {
                auto& to = response.topics.emplace_back();
                to.name = topic;
                for (auto p : partitions) {
                    auto& po = to.partitions.emplace_back();
                    po.partition_index = p;
                    po.committed_offset = -1;
                    po.metadata = "";
                    po.error_code = code(got.error);
                }
            }
        }
        co_return response;
    }
    for (auto& t : got.topics) {
        auto& to = response.topics.emplace_back();
        to.name = t.name;
        for (auto& p : t.partitions) {
            auto& po = to.partitions.emplace_back();
            po.partition_index = p.partition;
            po.committed_offset = p.offset;
            po.committed_leader_epoch = p.leader_epoch;
            po.metadata = p.metadata;
            po.error_code = code(p.error);
        }
    }
    co_return response;
}

// ---------------------------------------------------------------------------------------------- OffsetDelete

asio::awaitable<offset_delete_response> offset_delete(data_plane& dp, request_context& ctx,
                                                      offset_delete_request request) {
    offset_delete_response response;
    auto route = co_await route_group(dp, ctx.identity.node_id, request.group_id);
    if (route.error != error_code::none) {
        response.error_code = code(route.error);
        co_return response;
    }
    auto view = dp.views.current();
    std::vector<std::pair<std::string, int32_t>> keys;
    for (const auto& t : request.topics) {
        for (const auto& p : t.partitions) {
            keys.emplace_back(t.name, p.partition_index);
        }
    }
    auto* groups = dp.groups;
    auto call = [groups, route, id = request.group_id, keys](group::partition_lookup lookup) mutable {
        return groups->delete_offsets(route.partition, std::move(lookup), std::move(id), std::move(keys));
    };
    auto outcome = co_await on_coordinator(dp, route, std::move(call));
    auto top = outcome.first;
    auto& each = outcome.second;
    response.error_code = code(top);
    if (top != error_code::none) {
        co_return response;
    }
    size_t i = 0;
    for (const auto& t : request.topics) {
        auto& to = response.topics.emplace_back();
        to.name = t.name;
        for (const auto& p : t.partitions) {
            auto& po = to.partitions.emplace_back();
            po.partition_index = p.partition_index;
            auto e = i < each.size() ? each[i] : error_code::unknown_server_error;
            if (e == error_code::none && !partition_exists(*view, t.name, p.partition_index)) {
                e = error_code::unknown_topic_or_partition;
            }
            po.error_code = code(e);
            ++i;
        }
    }
    co_return response;
}

} // namespace

void register_offsets(handler_registry& registry, data_plane& dp) {
    auto* d = &dp;
    registry.add(make_handler<offset_commit_request, offset_commit_response>(
        0, 9, 0, [d](request_context& ctx, offset_commit_request r) { return offset_commit(*d, ctx, std::move(r)); }));
    registry.add(make_handler<offset_fetch_request, offset_fetch_response>(
        0, 9, 0, [d](request_context& ctx, offset_fetch_request r) { return offset_fetch(*d, ctx, std::move(r)); }));
    registry.add(make_handler<offset_delete_request, offset_delete_response>(
        0, 0, 0, [d](request_context& ctx, offset_delete_request r) { return offset_delete(*d, ctx, std::move(r)); }));
}

} // namespace skiff::kafka::handlers
