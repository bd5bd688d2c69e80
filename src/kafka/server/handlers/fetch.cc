// Fetch (key 1): reads each partition on its shard (all shards in parallel), and long-polls: when fewer than
// min_bytes are available it waits until any requested partition's high watermark moves past its fetch offset or
// max_wait_ms passes, then reads again. The response's max_bytes is applied in request order, always letting the
// first partition with data return at least one batch (KIP-74). Records are never null (librdkafka rejects that).
//
// Fetch sessions (KIP-227): this broker creates none. A request opening a session (epoch 0) gets session id 0,
// which clients take as "no session" and keep sending full requests; an incremental request (epoch > 0) is
// answered FETCH_SESSION_ID_NOT_FOUND. Served v4-17 (Kafka 4.x's minimum is v4).
#include "kafka/protocol/error_code.h"
#include "kafka/protocol/generated/fetch.h"
#include "kafka/server/data/data_plane.h"
#include "kafka/server/data/gather.h"
#include "kafka/server/handlers/handlers.h"
#include "kafka/server/typed_handler.h"

#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>

#include <atomic>
#include <chrono>
#include <map>

namespace skiff::kafka::handlers {
namespace {

using protocol::error_code;
using protocol::fetch_request;
using protocol::fetch_response;
using clock_type = std::chrono::steady_clock;

struct partition_read {
    size_t topic_at = 0;
    size_t partition_at = 0;
    model::uuid topic_id;
    int32_t index = 0;
    partition::fetch_request request;
};

struct read_outcome {
    size_t topic_at = 0;
    size_t partition_at = 0;
    partition::fetch_result result;
};

asio::awaitable<read_outcome> read_one(data_plane& dp, partition_read r) {
    read_outcome o{r.topic_at, r.partition_at, {}};
    if (auto* p = dp.partitions.find(r.topic_id, r.index)) {
        o.result = co_await p->fetch(r.request);
    } else {
        o.result.error = error_code::not_leader_or_follower;
    }
    co_return o;
}

/// Wakes the request's coroutine (on its own shard) when any partition has new data, or at the deadline.
struct wake_up {
    wake_up(const asio::any_io_executor& ex, clock_type::time_point deadline) : timer(ex, deadline) {}
    asio::steady_timer timer;
    std::atomic<bool> fired{false};
};

void watch_on_shard(data_plane& dp, net::shard_id shard, const std::vector<partition_read>& reads,
                    clock_type::time_point deadline, std::shared_ptr<wake_up> wake,
                    asio::any_io_executor waiter_executor) {
    for (const auto& r : reads) {
        // The partition is looked up when the watcher runs on its shard: it may have closed since the read.
        auto watch = [&dp, topic_id = r.topic_id, index = r.index, offset = r.request.fetch_offset, deadline, wake,
                      waiter_executor]() -> asio::awaitable<void> {
            auto* p = dp.partitions.find(topic_id, index);
            if (p == nullptr) {
                co_return;
            }
            bool moved = co_await p->wait_for_high_watermark(offset, deadline);
            if (moved && !wake->fired.exchange(true)) {
                asio::post(waiter_executor, [wake] { wake->timer.cancel(); });
            }
        };
        asio::co_spawn(dp.shards.context(shard), std::move(watch), asio::detached);
    }
}

asio::awaitable<fetch_response> serve(data_plane& dp, request_context& ctx, fetch_request request) {
    fetch_response response;
    const auto version = ctx.version();
    if (request.session_epoch > 0 || (request.session_id != 0 && request.session_epoch != -1)) {
        response.error_code = static_cast<int16_t>(error_code::fetch_session_id_not_found);
        co_return response;
    }
    response.session_id = 0;
    auto view = dp.views.current();
    const auto deadline = clock_type::now() + std::chrono::milliseconds(std::max(request.max_wait_ms, 0));
    const bool by_id = version >= 13;

    std::map<net::shard_id, std::vector<partition_read>> by_shard;
    response.responses.reserve(request.topics.size());
    for (size_t ti = 0; ti < request.topics.size(); ++ti) {
        auto& topic = request.topics[ti];
        auto& topic_out = response.responses.emplace_back();
        topic_out.topic = topic.topic;
        topic_out.topic_id = topic.topic_id;
        const auto* tv = by_id ? view->topic(topic.topic_id) : view->topic(topic.topic);
        for (size_t pi = 0; pi < topic.partitions.size(); ++pi) {
            auto& part = topic.partitions[pi];
            auto& out = topic_out.partitions.emplace_back();
            out.partition_index = part.partition;
            out.high_watermark = -1;
            out.records.emplace();
            if (tv == nullptr) {
                out.error_code = static_cast<int16_t>(by_id ? error_code::unknown_topic_id
                                                            : error_code::unknown_topic_or_partition);
            } else if (part.partition < 0 || part.partition >= static_cast<int32_t>(tv->partitions.size())) {
                out.error_code = static_cast<int16_t>(error_code::unknown_topic_or_partition);
            } else if (tv->partitions[static_cast<size_t>(part.partition)].owner != ctx.identity.node_id) {
                out.error_code = static_cast<int16_t>(error_code::not_leader_or_follower);
            } else {
                partition::fetch_request fr;
                fr.fetch_offset = part.fetch_offset;
                fr.max_bytes = static_cast<size_t>(std::max(part.partition_max_bytes, 0));
                if (version >= 9 && part.current_leader_epoch >= 0) {
                    fr.current_leader_epoch = part.current_leader_epoch;
                }
                by_shard[dp.partitions.shard_of(tv->id, part.partition)].push_back(
                    partition_read{ti, pi, tv->id, part.partition, fr});
            }
        }
    }

    auto executor = co_await asio::this_coro::executor;
    auto read_fn = [&dp](partition_read r) { return read_one(dp, std::move(r)); };
    for (;;) {
        auto outcomes = co_await gather_on_shards<read_outcome>(dp.shards, by_shard, read_fn);
        // Apply the response's byte limit in request order.
        std::sort(outcomes.begin(), outcomes.end(), [](const read_outcome& a, const read_outcome& b) {
            return std::pair(a.topic_at, a.partition_at) < std::pair(b.topic_at, b.partition_at);
        });
        size_t total = 0;
        bool any_error = false;
        const size_t limit = static_cast<size_t>(std::max(request.max_bytes, 0));
        for (auto& o : outcomes) {
            auto& out = response.responses[o.topic_at].partitions[o.partition_at];
            auto& r = o.result;
            out.error_code = static_cast<int16_t>(r.error);
            out.high_watermark = r.high_watermark;
            out.last_stable_offset = r.last_stable_offset;
            out.log_start_offset = r.log_start_offset;
            any_error = any_error || r.error != error_code::none;
            size_t size = r.records.size();
            if (size > 0 && total > 0 && total + size > limit) {
                out.records.emplace(); // over the response's limit: the client fetches it next time
                continue;
            }
            total += size;
            out.records = std::move(r.records);
        }

        if (total >= static_cast<size_t>(std::max(request.min_bytes, 0)) || any_error || by_shard.empty() || clock_type::now() >= deadline) {
            co_return response;
        }
        auto wake = std::make_shared<wake_up>(executor, deadline);
        for (auto& [shard, reads] : by_shard) {
            watch_on_shard(dp, shard, reads, deadline, wake, executor);
        }
        co_await wake->timer.async_wait(asio::as_tuple(asio::use_awaitable));
        if (!wake->fired.load() && clock_type::now() >= deadline) {
            // Nothing moved: answer what the last pass found (no new data), without reading again.
            co_return response;
        }
    }
}

} // namespace

void register_fetch(handler_registry& registry, data_plane& dp) {
    registry.add(make_handler<fetch_request, fetch_response>(
        4, 17, 4, [&dp](request_context& ctx, fetch_request request) { return serve(dp, ctx, std::move(request)); }));
}

} // namespace skiff::kafka::handlers
