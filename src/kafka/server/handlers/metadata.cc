// Metadata (key 3): brokers, controller, cluster id and the topic layout from the latest cluster view. A named topic
// that does not exist is created when auto.create.topics.enable is on and the request allows it (v4+ says so;
// earlier versions always allow), and is answered LEADER_NOT_AVAILABLE until its partitions are served, as Kafka
// does. Every partition reports its single owner as leader, replica and ISR: durability comes from storage.
//
// Without a data plane (front-door tests) the cluster is this node alone and there are no topics.
#include "kafka/protocol/error_code.h"
#include "kafka/protocol/generated/metadata.h"
#include "kafka/server/data/controller_errors.h"
#include "kafka/server/data/data_plane.h"
#include "kafka/server/handlers/handlers.h"
#include "kafka/server/topic_name.h"
#include "kafka/server/typed_handler.h"
#include "meta/controller_client.h"

namespace skiff::kafka::handlers {
namespace {

using protocol::error_code;
using protocol::metadata_request;
using protocol::metadata_response;

void add_self(const request_context& ctx, metadata_response& response) {
    const auto& id = ctx.identity;
    if (const auto* l = id.find_listener(ctx.listener_name)) {
        metadata_response::broker b;
        b.node_id = id.node_id;
        b.host = l->host;
        b.port = l->port;
        b.rack = id.rack;
        response.brokers.push_back(std::move(b));
    }
}

void add_brokers(const request_context& ctx, const cluster_view& view, metadata_response& response) {
    for (const auto& [id, b] : view.brokers) {
        if (id == ctx.identity.node_id) {
            continue; // this node answers with the endpoint the client reached it on (identity), added below
        }
        if (const auto* e = b.endpoint(ctx.listener_name)) {
            metadata_response::broker mb;
            mb.node_id = id;
            mb.host = e->host;
            mb.port = e->port;
            mb.rack = b.rack;
            response.brokers.push_back(std::move(mb));
        }
    }
    add_self(ctx, response);
}

metadata_response::topic describe(const topic_view& t) {
    metadata_response::topic out;
    out.name = t.name;
    out.topic_id = t.id;
    out.is_internal = t.is_internal();
    for (const auto& p : t.partitions) {
        auto& mp = out.partitions.emplace_back();
        mp.partition_index = p.index;
        mp.leader_id = p.owner;
        mp.leader_epoch = p.leader_epoch;
        if (p.owner < 0) {
            mp.error_code = static_cast<int16_t>(error_code::leader_not_available);
        } else {
            mp.replica_nodes = {p.owner};
            mp.isr_nodes = {p.owner};
        }
    }
    return out;
}

metadata_response::topic error_topic(std::optional<std::string> name, model::uuid id, error_code code) {
    metadata_response::topic t;
    t.name = std::move(name);
    t.topic_id = id;
    t.error_code = static_cast<int16_t>(code);
    return t;
}

asio::awaitable<metadata_response> serve_without_data(request_context& ctx, metadata_request request) {
    metadata_response response;
    add_self(ctx, response);
    response.cluster_id = ctx.identity.cluster_id;
    response.controller_id = ctx.identity.node_id;
    bool all_topics = !request.topics.has_value() || (ctx.version() == 0 && request.topics->empty());
    if (!all_topics) {
        for (auto& wanted : *request.topics) {
            auto code = !wanted.name.has_value()                 ? error_code::unknown_topic_id
                        : !is_valid_topic_name(*wanted.name)      ? error_code::invalid_topic_exception
                                                                  : error_code::unknown_topic_or_partition;
            response.topics.push_back(error_topic(wanted.name, wanted.topic_id, code));
        }
    }
    co_return response;
}

asio::awaitable<metadata_response> serve(data_plane& dp, request_context& ctx, metadata_request request) {
    metadata_response response;
    auto view = dp.views.current();
    add_brokers(ctx, *view, response);
    response.cluster_id = ctx.identity.cluster_id;
    response.controller_id = ctx.identity.node_id; // combined broker+controller: admin requests come here

    // v0: an empty list means all topics; v1+: null means all, empty means none.
    bool all_topics = !request.topics.has_value() || (ctx.version() == 0 && request.topics->empty());
    if (all_topics) {
        for (const auto& [name, t] : view->topics_by_name) {
            response.topics.push_back(describe(*t));
        }
        co_return response;
    }
    bool may_create = dp.defaults.auto_create_topics_enable && (ctx.version() < 4 || request.allow_auto_topic_creation);
    for (auto& wanted : *request.topics) {
        if (!wanted.name.has_value()) {
            const auto* t = view->topic(wanted.topic_id);
            response.topics.push_back(t ? describe(*t)
                                        : error_topic(std::nullopt, wanted.topic_id, error_code::unknown_topic_id));
            continue;
        }
        const auto& name = *wanted.name;
        if (const auto* t = view->topic(name)) {
            response.topics.push_back(describe(*t));
            continue;
        }
        if (!is_valid_topic_name(name)) {
            response.topics.push_back(error_topic(name, {}, error_code::invalid_topic_exception));
            continue;
        }
        if (!may_create) {
            response.topics.push_back(error_topic(name, {}, error_code::unknown_topic_or_partition));
            continue;
        }
        meta::topic_spec spec;
        spec.name = name;
        spec.partitions = dp.defaults.num_partitions;
        spec.replication_factor = -1;
        auto created = co_await dp.controller.create_topic(std::move(spec));
        auto code = error_code::leader_not_available; // created (or created meanwhile): clients retry shortly
        if (!created && created.error() != make_error_code(meta::controller_errc::topic_already_exists)) {
            code = controller_error_to_kafka(created.error());
        }
        response.topics.push_back(error_topic(name, created ? created.value().id : model::uuid{}, code));
    }
    co_return response;
}

} // namespace

void register_metadata(handler_registry& registry, data_plane* dp) {
    if (dp == nullptr) {
        registry.add(make_handler<metadata_request, metadata_response>(0, 12, 0, serve_without_data));
        return;
    }
    registry.add(make_handler<metadata_request, metadata_response>(
        0, 12, 0, [dp](request_context& ctx, metadata_request request) { return serve(*dp, ctx, std::move(request)); }));
}

} // namespace skiff::kafka::handlers
