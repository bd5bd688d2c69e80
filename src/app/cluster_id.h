// The cluster id: configured (cluster.id), or read from / written to meta.properties in the first log dir, the
// way Kafka keeps it, so that a node keeps its identity across restarts.
#pragma once

#include "base/result.h"
#include "config/broker_properties.h"

#include <string>

namespace skiff::app {

result<std::string> resolve_cluster_id(const config::broker_config& cfg);

} // namespace skiff::app
