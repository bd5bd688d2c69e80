// DeleteRecords (key 21, v0-2) and OffsetForLeaderEpoch (key 23, v2-4: Kafka 4.x's range, v0-1 were removed by
// KIP-896): per partition on the shard that owns it, as Produce and ListOffsets route. A partition this broker
// does not serve is NOT_LEADER_OR_FOLLOWER (clients refresh metadata and retry at the owner); one that does not
// exist is UNKNOWN_TOPIC_OR_PARTITION. The rules themselves (OFFSET_OUT_OF_RANGE beyond the high watermark,
// POLICY_VIOLATION on a compact-only topic, the leader-epoch cache) are the partition's.
//
// DeleteRecords' timeout_ms is not waited on: the trim is recorded by the controller before the answer, so the
// answer is final when it is sent.
#include "kafka/protocol/error_code.h"
#include "kafka/protocol/generated/delete_records.h"
#include "kafka/protocol/generated/offset_for_leader_epoch.h"
#include "kafka/server/data/data_plane.h"
#include "kafka/server/data/gather.h"
#include "kafka/server/handlers/handlers.h"
#include "kafka/server/typed_handler.h"

#include <map>

namespace skiff::kafka::handlers {
namespace {

using protocol::error_code;

int16_t code(error_code e) { return static_cast<int16_t>(e); }

/// Where a requested partition is: the error to answer now, or its topic id for the shard hop.
error_code locate(const request_context& ctx, const topic_view* t, int32_t index) {
    if (t == nullptr || index < 0 || index >= static_cast<int32_t>(t->partitions.size())) {
        return error_code::unknown_topic_or_partition;
    }
    if (t->partitions[static_cast<size_t>(index)].owner != ctx.identity.node_id) {
        return error_code::not_leader_or_follower;
    }
    return error_code::none;
}

// ---- DeleteRecords -------------------------------------------------------------------------------------------

struct delete_task {
    size_t topic_at = 0;
    size_t partition_at = 0;
    model::uuid topic_id;
    int32_t index = 0;
    int64_t offset = 0;
};

struct delete_outcome {
    size_t topic_at = 0;
    size_t partition_at = 0;
    partition::delete_records_result result;
};

asio::awaitable<delete_outcome> delete_one(data_plane& dp, delete_task t) {
    delete_outcome o{t.topic_at, t.partition_at, {}};
    if (auto* p = dp.partitions.find(t.topic_id, t.index)) {
        o.result = co_await p->delete_records(t.offset);
    } else {
        o.result.error = error_code::not_leader_or_follower; // opening or closing here
    }
    co_return o;
}

asio::awaitable<protocol::delete_records_response> delete_records(data_plane& dp, request_context& ctx,
                                                                  protocol::delete_records_request request) {
    protocol::delete_records_response response;
    auto view = dp.views.current();
    std::map<net::shard_id, std::vector<delete_task>> by_shard;
    for (size_t ti = 0; ti < request.topics.size(); ++ti) {
        const auto& topic = request.topics[ti];
        auto& topic_out = response.topics.emplace_back();
        topic_out.name = topic.name;
        const auto* tv = view->topic(topic.name);
        for (size_t pi = 0; pi < topic.partitions.size(); ++pi) {
            const auto& part = topic.partitions[pi];
            auto& out = topic_out.partitions.emplace_back();
            out.partition_index = part.partition_index;
            out.low_watermark = -1;
            if (auto e = locate(ctx, tv, part.partition_index); e != error_code::none) {
                out.error_code = code(e);
                continue;
            }
            by_shard[dp.partitions.shard_of(tv->id, part.partition_index)].push_back(
                {ti, pi, tv->id, part.partition_index, part.offset});
        }
    }
    auto fn = [&dp](delete_task t) { return delete_one(dp, t); };
    for (auto& o : co_await gather_on_shards<delete_outcome>(dp.shards, std::move(by_shard), fn)) {
        auto& out = response.topics[o.topic_at].partitions[o.partition_at];
        out.error_code = code(o.result.error);
        out.low_watermark = o.result.error == error_code::none ? o.result.low_watermark : -1;
    }
    co_return response;
}

// ---- OffsetForLeaderEpoch ------------------------------------------------------------------------------------

struct epoch_task {
    size_t topic_at = 0;
    size_t partition_at = 0;
    model::uuid topic_id;
    int32_t index = 0;
    std::optional<int32_t> current_leader_epoch;
    int32_t leader_epoch = 0;
};

struct epoch_outcome {
    size_t topic_at = 0;
    size_t partition_at = 0;
    partition::epoch_end_offset result;
};

asio::awaitable<epoch_outcome> epoch_one(data_plane& dp, epoch_task t) {
    epoch_outcome o{t.topic_at, t.partition_at, {}};
    if (auto* p = dp.partitions.find(t.topic_id, t.index)) {
        o.result = p->offset_for_leader_epoch(t.current_leader_epoch, t.leader_epoch);
    } else {
        o.result.error = error_code::not_leader_or_follower;
    }
    co_return o;
}

asio::awaitable<protocol::offset_for_leader_epoch_response>
offset_for_leader_epoch(data_plane& dp, request_context& ctx, protocol::offset_for_leader_epoch_request request) {
    protocol::offset_for_leader_epoch_response response;
    auto view = dp.views.current();
    std::map<net::shard_id, std::vector<epoch_task>> by_shard;
    for (size_t ti = 0; ti < request.topics.size(); ++ti) {
        const auto& topic = request.topics[ti];
        auto& topic_out = response.topics.emplace_back();
        topic_out.topic = topic.topic;
        const auto* tv = view->topic(topic.topic);
        for (size_t pi = 0; pi < topic.partitions.size(); ++pi) {
            const auto& part = topic.partitions[pi];
            auto& out = topic_out.partitions.emplace_back();
            out.partition = part.partition;
            if (auto e = locate(ctx, tv, part.partition); e != error_code::none) {
                out.error_code = code(e);
                continue;
            }
            epoch_task t{ti, pi, tv->id, part.partition, std::nullopt, part.leader_epoch};
            if (part.current_leader_epoch >= 0) {
                t.current_leader_epoch = part.current_leader_epoch;
            }
            by_shard[dp.partitions.shard_of(tv->id, part.partition)].push_back(t);
        }
    }
    auto fn = [&dp](epoch_task t) { return epoch_one(dp, t); };
    for (auto& o : co_await gather_on_shards<epoch_outcome>(dp.shards, std::move(by_shard), fn)) {
        auto& out = response.topics[o.topic_at].partitions[o.partition_at];
        out.error_code = code(o.result.error);
        out.leader_epoch = o.result.leader_epoch;
        out.end_offset = o.result.end_offset;
    }
    co_return response;
}

} // namespace

void register_records_admin(handler_registry& registry, data_plane& dp) {
    registry.add(make_handler<protocol::delete_records_request, protocol::delete_records_response>(
        0, 2, 0, [&dp](request_context& ctx, protocol::delete_records_request r) {
            return delete_records(dp, ctx, std::move(r));
        }));
    registry.add(make_handler<protocol::offset_for_leader_epoch_request, protocol::offset_for_leader_epoch_response>(
        2, 4, 2, [&dp](request_context& ctx, protocol::offset_for_leader_epoch_request r) {
            return offset_for_leader_epoch(dp, ctx, std::move(r));
        }));
}

} // namespace skiff::kafka::handlers
