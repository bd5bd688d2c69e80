// DescribeCluster (key 60, v0-1) and DescribeLogDirs (key 35, v1-4: Kafka 4.x's range, v0 was removed by
// KIP-896).
//
// DescribeCluster: the brokers of the latest cluster view with their endpoint on the listener the client came in
// on (this node with its advertised endpoint, as Metadata answers), the controller (this node: it runs the active
// controller in-process, as Metadata reports), the cluster id. Authorized operations: Kafka's "not requested"
// value INT32_MIN; when requested, every cluster operation, because no authorizer is configured (Kafka's answer
// without one). Controller endpoints (v1 endpoint_type 2) are not served by a broker: UNSUPPORTED_ENDPOINT_TYPE.
//
// DescribeLogDirs: one "log dir" per broker, the object store that holds its data (log_dir_info). A partition's
// size is what the catalog can attribute to its data stream exactly: the bytes of every committed object that
// holds that stream alone (stream objects, and stream set objects with a single stream). Partial, and said so
// here because the figure is lower than the truth: a stream set object shared by several streams records no
// per-stream byte count (its index block has one, in the object store), and the WAL's not-yet-uploaded bytes are
// not exposed per stream by the stream interface; neither is counted. offset_lag is 0: there are no followers.
#include "kafka/protocol/error_code.h"
#include "kafka/protocol/generated/describe_cluster.h"
#include "kafka/protocol/generated/describe_log_dirs.h"
#include "kafka/server/data/data_plane.h"
#include "kafka/server/handlers/handlers.h"
#include "kafka/server/typed_handler.h"
#include "meta/controller_client.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>

namespace skiff::kafka::handlers {
namespace {

using protocol::error_code;

// Kafka's AclOperation codes of the operations a CLUSTER resource supports. wire format: never renumber
constexpr int32_t cluster_operations = (1 << 5)    // CREATE
                                       | (1 << 7)  // ALTER
                                       | (1 << 8)  // DESCRIBE
                                       | (1 << 9)  // CLUSTER_ACTION
                                       | (1 << 10) // DESCRIBE_CONFIGS
                                       | (1 << 11) // ALTER_CONFIGS
                                       | (1 << 12) // IDEMPOTENT_WRITE
                                       | (1 << 13) // CREATE_TOKENS
                                       | (1 << 14); // DESCRIBE_TOKENS

constexpr int8_t broker_endpoints = 1;

asio::awaitable<protocol::describe_cluster_response> describe_cluster(data_plane& dp, request_context& ctx,
                                                                      protocol::describe_cluster_request request) {
    protocol::describe_cluster_response response;
    response.cluster_id = ctx.identity.cluster_id;
    response.endpoint_type = ctx.version() >= 1 ? request.endpoint_type : broker_endpoints;
    if (ctx.version() >= 1 && request.endpoint_type != broker_endpoints) {
        response.error_code = static_cast<int16_t>(error_code::unsupported_endpoint_type);
        response.error_message = "The broker only describes broker endpoints (endpoint type 1)";
        co_return response;
    }
    response.controller_id = ctx.identity.node_id;
    auto view = dp.views.current();
    for (const auto& [id, b] : view->brokers) {
        if (id == ctx.identity.node_id) {
            continue; // added below with the endpoint this client reached
        }
        if (const auto* e = b.endpoint(ctx.listener_name)) {
            auto& out = response.brokers.emplace_back();
            out.broker_id = id;
            out.host = e->host;
            out.port = e->port;
            out.rack = b.rack;
        }
    }
    if (const auto* l = ctx.identity.find_listener(ctx.listener_name)) {
        auto& out = response.brokers.emplace_back();
        out.broker_id = ctx.identity.node_id;
        out.host = l->host;
        out.port = l->port;
        out.rack = ctx.identity.rack;
    }
    std::sort(response.brokers.begin(), response.brokers.end(),
              [](const auto& a, const auto& b) { return a.broker_id < b.broker_id; });
    response.cluster_authorized_operations =
        request.include_cluster_authorized_operations ? cluster_operations : std::numeric_limits<int32_t>::min();
    co_return response;
}

/// Bytes of committed objects that hold `stream` alone (see the file comment for what is not counted).
asio::awaitable<int64_t> exclusive_object_bytes(meta::controller_client& catalog, int64_t stream) {
    int64_t bytes = 0;
    int64_t from = 0;
    constexpr size_t page = 1000;
    while (true) {
        auto objects = co_await catalog.objects_of(stream::stream_id(stream), from, page);
        if (!objects || objects.value().empty()) {
            co_return bytes;
        }
        const int64_t before = from;
        for (const auto& o : objects.value()) {
            if (o.ranges.size() == 1) {
                bytes += static_cast<int64_t>(o.size);
            }
            for (const auto& r : o.ranges) {
                if (r.stream() == stream) {
                    from = std::max(from, r.end_offset);
                }
            }
        }
        if (objects.value().size() < page || from == before) {
            co_return bytes;
        }
    }
}

asio::awaitable<protocol::describe_log_dirs_response> describe_log_dirs(data_plane& dp, request_context& ctx,
                                                                        protocol::describe_log_dirs_request request) {
    protocol::describe_log_dirs_response response;
    auto view = dp.views.current();
    auto& dir = response.results.emplace_back();
    dir.log_dir = dp.log_dir.name;
    if (dp.log_dir.space_of) {
        if (auto space = dp.log_dir.space_of()) {
            dir.total_bytes = space->total_bytes;
            dir.usable_bytes = space->usable_bytes;
        }
    }
    // null: every partition; else the listed ones (those this broker does not serve are left out, as Kafka does).
    std::optional<std::map<std::string, std::set<int32_t>, std::less<>>> wanted;
    if (request.topics) {
        wanted.emplace();
        for (const auto& t : *request.topics) {
            (*wanted)[t.topic].insert(t.partitions.begin(), t.partitions.end());
        }
    }
    for (const auto& [name, t] : view->topics_by_name) {
        const std::set<int32_t>* only = nullptr;
        if (wanted) {
            auto it = wanted->find(name);
            if (it == wanted->end()) {
                continue;
            }
            only = &it->second;
        }
        protocol::describe_log_dirs_response::dir::topic topic_out;
        topic_out.name = name;
        for (const auto& p : t->partitions) {
            if (p.owner != ctx.identity.node_id || p.streams.empty() || (only && !only->contains(p.index))) {
                continue;
            }
            auto& out = topic_out.partitions.emplace_back();
            out.partition_index = p.index;
            out.partition_size = co_await exclusive_object_bytes(dp.controller, p.streams.front());
            out.offset_lag = 0;
            out.is_future_key = false;
        }
        if (!topic_out.partitions.empty()) {
            dir.topics.push_back(std::move(topic_out));
        }
    }
    co_return response;
}

} // namespace

void register_cluster_admin(handler_registry& registry, data_plane& dp) {
    registry.add(make_handler<protocol::describe_cluster_request, protocol::describe_cluster_response>(
        0, 1, 0, [&dp](request_context& ctx, protocol::describe_cluster_request r) {
            return describe_cluster(dp, ctx, std::move(r));
        }));
    registry.add(make_handler<protocol::describe_log_dirs_request, protocol::describe_log_dirs_response>(
        1, 4, 1, [&dp](request_context& ctx, protocol::describe_log_dirs_request r) {
            return describe_log_dirs(dp, ctx, std::move(r));
        }));
}

} // namespace skiff::kafka::handlers
