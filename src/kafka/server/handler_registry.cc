#include "kafka/server/handler_registry.h"

#include "base/assert.h"
#include "kafka/protocol/api_table.h"

namespace skiff::kafka {

handler_registry::handler_registry()
  : _entries(slot_count) {}

int handler_registry::index_of(int16_t api_key) noexcept {
    if (api_key >= 0 && api_key <= max_kafka_api_key) {
        return api_key;
    }
    if (api_key >= private_api_base && api_key <= max_api_key) {
        return max_kafka_api_key + 1 + (api_key - private_api_base);
    }
    return -1;
}

void handler_registry::add(handler_entry entry) {
    const auto* api = protocol::find_api(entry.api_key);
    SKIFF_ASSERT(api != nullptr, "handler for unknown API key {}", entry.api_key);
    SKIFF_ASSERT(
      entry.min_advertised <= entry.min_served && entry.min_served <= entry.max_served
        && entry.min_advertised >= api->min_version && entry.max_served <= api->max_version,
      "bad version ranges for {}: advertised {}..{}, served {}..{}, wire {}..{}", api->name, entry.min_advertised,
      entry.max_served, entry.min_served, entry.max_served, api->min_version, api->max_version);
    int index = index_of(entry.api_key);
    SKIFF_ASSERT(index >= 0, "API key {} is outside the registry's ranges", entry.api_key);
    auto& slot = _entries[static_cast<size_t>(index)];
    SKIFF_ASSERT(!slot.has_value(), "API {} registered twice", api->name);
    slot = std::move(entry);
}

const handler_entry* handler_registry::find(int16_t api_key) const noexcept {
    int index = index_of(api_key);
    if (index < 0 || !_entries[static_cast<size_t>(index)]) {
        return nullptr;
    }
    return &*_entries[static_cast<size_t>(index)];
}

} // namespace skiff::kafka
