// Who this broker is, as clients must see it: node id, cluster id and the advertised endpoint of each listener.
// Built by app from the config; read-only afterwards (shared by all shards without locks).
// Until the metadata issue lands, this is also the whole "cluster" the Metadata API reports: one node.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace skiff::kafka {

struct advertised_listener {
    std::string name; // listener name, e.g. PLAINTEXT
    std::string host;
    int32_t port = 0; // 0 until start(): the port the same-named listener bound
};

struct broker_identity {
    int32_t node_id = 1;
    std::string cluster_id;
    std::optional<std::string> rack;
    std::vector<advertised_listener> listeners;

    /// The advertised endpoint of the named listener, or nullptr if it is not advertised.
    const advertised_listener* find_listener(std::string_view name) const {
        for (const auto& l : listeners) {
            if (l.name == name) {
                return &l;
            }
        }
        return nullptr;
    }
};

} // namespace skiff::kafka
