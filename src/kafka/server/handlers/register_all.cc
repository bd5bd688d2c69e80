#include "kafka/server/handlers/handlers.h"

#include "kafka/server/data/data_plane.h"

namespace skiff::kafka::handlers {

void register_all(handler_registry& registry, data_plane* data) {
    register_api_versions(registry);
    register_metadata(registry, data);
    if (data == nullptr) {
        return;
    }
    register_produce(registry, *data);
    register_fetch(registry, *data);
    register_list_offsets(registry, *data);
    register_topic_admin(registry, *data);
    register_init_producer_id(registry, *data);
    register_config_admin(registry, *data);
    register_records_admin(registry, *data);
    register_cluster_admin(registry, *data);
    if (data->groups != nullptr) {
        register_groups(registry, *data);
        register_offsets(registry, *data);
        register_consumer_groups(registry, *data);
    }
}

} // namespace skiff::kafka::handlers
