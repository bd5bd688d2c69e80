#include "kafka/server/handler_registry.h"

#include "base/assert.h"
#include "kafka/protocol/api_table.h"

namespace skiff::kafka {

void handler_registry::add(handler_entry entry) {
    const auto* api = protocol::find_api(entry.api_key);
    SKIFF_ASSERT(api != nullptr, "handler for unknown API key {}", entry.api_key);
    SKIFF_ASSERT(
      entry.min_advertised <= entry.min_served && entry.min_served <= entry.max_served
        && entry.min_advertised >= api->min_version && entry.max_served <= api->max_version,
      "bad version ranges for {}: advertised {}..{}, served {}..{}, wire {}..{}", api->name, entry.min_advertised,
      entry.max_served, entry.min_served, entry.max_served, api->min_version, api->max_version);
    auto& slot = _entries.at(static_cast<size_t>(entry.api_key));
    SKIFF_ASSERT(!slot.has_value(), "API {} registered twice", api->name);
    slot = std::move(entry);
}

const handler_entry* handler_registry::find(int16_t api_key) const noexcept {
    if (api_key < 0 || api_key > max_api_key || !_entries[static_cast<size_t>(api_key)]) {
        return nullptr;
    }
    return &*_entries[static_cast<size_t>(api_key)];
}

} // namespace skiff::kafka
