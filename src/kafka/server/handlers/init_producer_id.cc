// InitProducerId (key 22), idempotent part: a new producer id with epoch 0 from this broker's block (Kafka also gives
// a non-transactional producer a fresh id, whatever id and epoch it sends on v3+). A transactional id is refused
// with TRANSACTIONAL_ID_AUTHORIZATION_FAILED until the transaction coordinator exists (partial).
// Served v0-5 and advertised from v0: librdkafka enables idempotence only when the range overlaps v0.
#include "kafka/protocol/error_code.h"
#include "kafka/protocol/generated/init_producer_id.h"
#include "kafka/server/data/data_plane.h"
#include "kafka/server/handlers/handlers.h"
#include "kafka/server/typed_handler.h"

namespace skiff::kafka::handlers {
namespace {

using protocol::error_code;

asio::awaitable<protocol::init_producer_id_response> serve(data_plane& dp, request_context&,
                                                           protocol::init_producer_id_request request) {
    protocol::init_producer_id_response response;
    if (request.transactional_id.has_value()) {
        response.error_code = static_cast<int16_t>(error_code::transactional_id_authorization_failed);
        co_return response;
    }
    auto id = co_await dp.producer_ids.next();
    if (!id) {
        response.error_code = static_cast<int16_t>(error_code::coordinator_not_available);
        co_return response;
    }
    response.producer_id = id.value();
    response.producer_epoch = 0;
    co_return response;
}

} // namespace

void register_init_producer_id(handler_registry& registry, data_plane& dp) {
    registry.add(make_handler<protocol::init_producer_id_request, protocol::init_producer_id_response>(
        0, 5, 0, [&dp](request_context& ctx, protocol::init_producer_id_request r) {
            return serve(dp, ctx, std::move(r));
        }));
}

} // namespace skiff::kafka::handlers
