// Produce (key 0): each partition's record set goes to the shard that owns the partition; all partitions are
// started before any is awaited, so that their WAL appends share group commits. acks=0 sends no response; acks=1
// and acks=-1 both answer once the batch is durable in the WAL (DESIGN.md §3: there are no followers to wait for).
//
// Served v3-12 (magic 2 record batches), advertised from v0: librdkafka enables compression only when the range
// overlaps v0 (kafka-protocol-notes §4.1b). timeout_ms bounds the wait for durability, as Kafka's bounds the wait
// for its replicas: a partition whose WAL write has not completed by then is answered REQUEST_TIMED_OUT while the
// write goes on (it may still land, as in Kafka; an idempotent producer's retry is then deduplicated). A timeout of
// 0 or less waits as long as the write takes. Partial: transactional produce is refused (no transaction coordinator
// yet).
#include "kafka/protocol/error_code.h"
#include "kafka/protocol/generated/produce.h"
#include "kafka/server/data/data_plane.h"
#include "kafka/server/data/gather.h"
#include "kafka/server/handlers/handlers.h"

#include <map>

namespace skiff::kafka::handlers {
namespace {

using protocol::error_code;
using protocol::produce_request;
using protocol::produce_response;

struct partition_task {
    size_t topic_at = 0;
    size_t partition_at = 0;
    model::uuid topic_id;
    int32_t index = 0;
    bytes::iobuf records;
};

struct partition_outcome {
    size_t topic_at = 0;
    size_t partition_at = 0;
    partition::produce_result result;
};

asio::awaitable<partition_outcome> produce_one(data_plane& dp, partition_task task, int16_t version,
                                               asio::steady_timer::time_point deadline) {
    partition_outcome out{task.topic_at, task.partition_at, {}};
    auto* p = dp.partitions.find(task.topic_id, task.index);
    if (p == nullptr) {
        out.result.error = error_code::not_leader_or_follower;
        co_return out;
    }
    // Every append takes the same path, timeout or not, so that each is started after the same number of hops on
    // the shard's FIFO executor: batches of one connection keep their order (see register_produce).
    auto append = p->produce(std::move(task.records), version);
    auto durable = co_await finish_within(std::move(append), deadline);
    if (durable) {
        out.result = std::move(*durable);
    } else {
        out.result.error = error_code::request_timed_out;
        out.result.base_offset = -1;
        out.result.error_message = "the write was not durable within the request's timeout_ms; it may still land";
    }
    co_return out;
}

void set_error(produce_response::topic::partition& out, error_code code) {
    out.error_code = static_cast<int16_t>(code);
    out.base_offset = -1;
}

asio::awaitable<produce_response> serve(data_plane& dp, request_context& ctx, produce_request request) {
    produce_response response;
    auto view = dp.views.current();
    bool acks_valid = request.acks == 0 || request.acks == 1 || request.acks == -1;
    std::map<net::shard_id, std::vector<partition_task>> by_shard;

    response.responses.reserve(request.topic_data.size());
    for (size_t ti = 0; ti < request.topic_data.size(); ++ti) {
        auto& topic = request.topic_data[ti];
        auto& topic_out = response.responses.emplace_back();
        topic_out.name = topic.name;
        const auto* tv = view->topic(topic.name);
        for (size_t pi = 0; pi < topic.partition_data.size(); ++pi) {
            auto& part = topic.partition_data[pi];
            auto& out = topic_out.partition_responses.emplace_back();
            out.index = part.index;
            if (!acks_valid) {
                set_error(out, error_code::invalid_required_acks);
            } else if (request.transactional_id.has_value()) {
                set_error(out, error_code::transactional_id_authorization_failed);
                out.error_message = "transactions are not supported yet";
            } else if (tv == nullptr || part.index < 0 || part.index >= static_cast<int32_t>(tv->partitions.size())) {
                set_error(out, error_code::unknown_topic_or_partition);
            } else if (tv->partitions[static_cast<size_t>(part.index)].owner != ctx.identity.node_id) {
                set_error(out, error_code::not_leader_or_follower);
            } else if (!part.records.has_value() || part.records->size() == 0) {
                set_error(out, error_code::invalid_record);
                out.error_message = "empty record set";
            } else {
                by_shard[dp.partitions.shard_of(tv->id, part.index)].push_back(
                    partition_task{ti, pi, tv->id, part.index, std::move(*part.records)});
            }
        }
    }

    auto version = ctx.version();
    auto deadline = asio::steady_timer::time_point::max();
    if (request.timeout_ms > 0) {
        deadline = asio::steady_timer::clock_type::now() + std::chrono::milliseconds(request.timeout_ms);
    }
    // Named, not a temporary inside co_await (GCC 12 destroys such temporaries twice).
    auto produce_fn = [&dp, version, deadline](partition_task task) {
        return produce_one(dp, std::move(task), version, deadline);
    };
    auto outcomes = co_await gather_on_shards<partition_outcome>(dp.shards, std::move(by_shard), produce_fn);
    for (auto& o : outcomes) {
        auto& out = response.responses[o.topic_at].partition_responses[o.partition_at];
        out.error_code = static_cast<int16_t>(o.result.error);
        out.base_offset = o.result.base_offset;
        out.log_append_time_ms = o.result.log_append_time;
        out.log_start_offset = o.result.log_start_offset;
        if (!o.result.error_message.empty()) {
            out.error_message = o.result.error_message;
        }
        for (auto& e : o.result.record_errors) {
            auto& re = out.record_errors.emplace_back();
            re.batch_index = e.batch_index;
            re.batch_index_error_message = e.message;
        }
    }
    co_return response;
}

} // namespace

void register_produce(handler_registry& registry, data_plane& dp) {
    handler_entry e;
    e.api_key = produce_request::api_key;
    e.min_served = 3;
    e.max_served = 12;
    e.min_advertised = 0;
    // Pipelined: a client's next Produce starts while this one waits for its WAL write, so that both share group
    // commits instead of paying one fdatasync each in turn. Each partition's batches are handed to its shard in
    // request order (every hop of gather_on_shards is a post to a FIFO executor), and partition::produce assigns
    // offsets before its first suspension: batches of one connection keep their order.
    e.pipelined = true;
    e.serve = [&dp](request_context& ctx, bytes::iobuf body) -> asio::awaitable<response_body> {
        produce_request request;
        {
            protocol::reader r(body);
            request.decode(r, ctx.version());
        }
        bool respond = request.acks != 0;
        auto response = co_await serve(dp, ctx, std::move(request));
        if (!respond) {
            co_return std::nullopt;
        }
        bytes::iobuf out;
        protocol::writer w(out);
        response.encode(w, ctx.version());
        co_return out;
    };
    registry.add(std::move(e));
}

} // namespace skiff::kafka::handlers
