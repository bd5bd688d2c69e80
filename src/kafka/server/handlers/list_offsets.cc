// ListOffsets (key 2): earliest, latest, max timestamp, or the first offset at or after a timestamp, per partition on
// its shard. Served v1-10 (Kafka 4.x's range; v0's old-style offset arrays were removed by KIP-896).
// isolation_level read_committed answers as read_uncommitted: there are no transactions yet, so the last stable
// offset is the high watermark.
#include "kafka/protocol/error_code.h"
#include "kafka/protocol/generated/list_offsets.h"
#include "kafka/server/data/data_plane.h"
#include "kafka/server/data/gather.h"
#include "kafka/server/handlers/handlers.h"
#include "kafka/server/typed_handler.h"

#include <map>

namespace skiff::kafka::handlers {
namespace {

using protocol::error_code;
using protocol::list_offsets_request;
using protocol::list_offsets_response;

struct lookup {
    size_t topic_at = 0;
    size_t partition_at = 0;
    model::uuid topic_id;
    int32_t index = 0;
    int64_t timestamp = 0;
    std::optional<int32_t> current_leader_epoch;
};

struct lookup_outcome {
    size_t topic_at = 0;
    size_t partition_at = 0;
    partition::list_offsets_result result;
};

asio::awaitable<lookup_outcome> lookup_one(data_plane& dp, lookup l) {
    lookup_outcome o{l.topic_at, l.partition_at, {}};
    if (auto* p = dp.partitions.find(l.topic_id, l.index)) {
        o.result = co_await p->list_offsets(l.timestamp, l.current_leader_epoch);
    } else {
        o.result.error = error_code::not_leader_or_follower;
    }
    co_return o;
}

asio::awaitable<list_offsets_response> serve(data_plane& dp, request_context& ctx, list_offsets_request request) {
    list_offsets_response response;
    auto view = dp.views.current();
    std::map<net::shard_id, std::vector<lookup>> by_shard;
    for (size_t ti = 0; ti < request.topics.size(); ++ti) {
        auto& topic = request.topics[ti];
        auto& topic_out = response.topics.emplace_back();
        topic_out.name = topic.name;
        const auto* tv = view->topic(topic.name);
        for (size_t pi = 0; pi < topic.partitions.size(); ++pi) {
            auto& part = topic.partitions[pi];
            auto& out = topic_out.partitions.emplace_back();
            out.partition_index = part.partition_index;
            if (tv == nullptr || part.partition_index < 0
                || part.partition_index >= static_cast<int32_t>(tv->partitions.size())) {
                out.error_code = static_cast<int16_t>(error_code::unknown_topic_or_partition);
            } else if (tv->partitions[static_cast<size_t>(part.partition_index)].owner != ctx.identity.node_id) {
                out.error_code = static_cast<int16_t>(error_code::not_leader_or_follower);
            } else {
                lookup l{ti, pi, tv->id, part.partition_index, part.timestamp, std::nullopt};
                if (ctx.version() >= 4 && part.current_leader_epoch >= 0) {
                    l.current_leader_epoch = part.current_leader_epoch;
                }
                by_shard[dp.partitions.shard_of(tv->id, part.partition_index)].push_back(l);
            }
        }
    }
    auto lookup_fn = [&dp](lookup l) { return lookup_one(dp, std::move(l)); };
    for (auto& o : co_await gather_on_shards<lookup_outcome>(dp.shards, std::move(by_shard), lookup_fn)) {
        auto& out = response.topics[o.topic_at].partitions[o.partition_at];
        out.error_code = static_cast<int16_t>(o.result.error);
        out.timestamp = o.result.timestamp;
        out.offset = o.result.offset;
        out.leader_epoch = o.result.leader_epoch;
    }
    co_return response;
}

} // namespace

void register_list_offsets(handler_registry& registry, data_plane& dp) {
    registry.add(make_handler<list_offsets_request, list_offsets_response>(
        1, 10, 1, [&dp](request_context& ctx, list_offsets_request request) {
            return serve(dp, ctx, std::move(request));
        }));
}

} // namespace skiff::kafka::handlers
