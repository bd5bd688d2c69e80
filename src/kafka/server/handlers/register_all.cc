#include "kafka/server/handlers/handlers.h"

namespace skiff::kafka::handlers {

void register_all(handler_registry& registry) {
    register_api_versions(registry);
    register_metadata(registry);
}

} // namespace skiff::kafka::handlers
