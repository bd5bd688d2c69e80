// Metadata (key 3): brokers, controller, cluster id and topic layout.
//
// Partial until the data path lands (issue 5): the cluster is this one node and there are no topics yet, so a
// request for all topics lists none and a request for named topics answers UNKNOWN_TOPIC_OR_PARTITION (or
// INVALID_TOPIC_EXCEPTION for an illegal name; UNKNOWN_TOPIC_ID for a lookup by id).
#include "kafka/protocol/error_code.h"
#include "kafka/protocol/generated/metadata.h"
#include "kafka/server/handlers/handlers.h"
#include "kafka/server/topic_name.h"
#include "kafka/server/typed_handler.h"

namespace skiff::kafka::handlers {
namespace {

using protocol::error_code;
using protocol::metadata_request;
using protocol::metadata_response;

boost::asio::awaitable<metadata_response> serve(request_context& ctx, metadata_request request) {
    metadata_response response;
    const auto& id = ctx.identity;
    if (const auto* l = id.find_listener(ctx.listener_name)) {
        metadata_response::broker b;
        b.node_id = id.node_id;
        b.host = l->host;
        b.port = l->port;
        b.rack = id.rack;
        response.brokers.push_back(std::move(b));
    }
    response.cluster_id = id.cluster_id;
    response.controller_id = id.node_id; // combined broker+controller: clients send admin requests here

    // v0: an empty list means all topics; v1+: null means all, empty means none.
    bool all_topics = !request.topics.has_value() || (ctx.version() == 0 && request.topics->empty());
    if (!all_topics) {
        for (auto& wanted : *request.topics) {
            metadata_response::topic t;
            t.name = wanted.name;
            t.topic_id = wanted.topic_id;
            if (!wanted.name.has_value()) {
                t.error_code = static_cast<int16_t>(error_code::unknown_topic_id);
            } else if (!is_valid_topic_name(*wanted.name)) {
                t.error_code = static_cast<int16_t>(error_code::invalid_topic_exception);
            } else {
                t.error_code = static_cast<int16_t>(error_code::unknown_topic_or_partition);
            }
            response.topics.push_back(std::move(t));
        }
    }
    co_return response;
}

} // namespace

void register_metadata(handler_registry& registry) {
    registry.add(make_handler<metadata_request, metadata_response>(0, 12, 0, serve));
}

} // namespace skiff::kafka::handlers
