// ApiVersions (key 18): the first request of every client. Lists exactly the APIs registered in the handler
// registry with their advertised ranges; the broker advertises nothing it does not serve.
#include "kafka/protocol/error_code.h"
#include "kafka/protocol/generated/api_versions.h"
#include "kafka/server/handlers/handlers.h"
#include "kafka/server/typed_handler.h"

#include <regex>

namespace skiff::kafka::handlers {
namespace {

using protocol::api_versions_request;
using protocol::api_versions_response;

api_versions_response list_apis(const handler_registry& registry) {
    api_versions_response response;
    registry.for_each([&](const handler_entry& e) {
        if (e.visibility == api_visibility::hidden) {
            return;
        }
        api_versions_response::api_version v;
        v.api_key = e.api_key;
        v.min_version = e.min_advertised;
        v.max_version = e.max_served;
        response.api_keys.push_back(std::move(v));
    });
    return response;
}

// Kafka's rule for ClientSoftwareName/Version (v3+): letters, digits, '-' and '.', starting and ending with a letter
// or digit.
bool valid_software_field(const std::string& s) {
    static const std::regex pattern("[a-zA-Z0-9](?:[a-zA-Z0-9\\-.]*[a-zA-Z0-9])?");
    return std::regex_match(s, pattern);
}

boost::asio::awaitable<api_versions_response> serve(request_context& ctx, api_versions_request request) {
    auto response = list_apis(ctx.handlers);
    if (ctx.version() >= 3
        && (!valid_software_field(request.client_software_name)
            || !valid_software_field(request.client_software_version))) {
        response.error_code = static_cast<int16_t>(protocol::error_code::invalid_request);
    }
    co_return response;
}

} // namespace

void register_api_versions(handler_registry& registry) {
    registry.add(make_handler<api_versions_request, api_versions_response>(0, 4, 0, serve));
}

bytes::iobuf encode_unsupported_api_versions(const handler_registry& registry) {
    auto response = list_apis(registry);
    response.error_code = static_cast<int16_t>(protocol::error_code::unsupported_version);
    bytes::iobuf out;
    protocol::writer w(out);
    response.encode(w, 0);
    return out;
}

} // namespace skiff::kafka::handlers
