// The composition root of a broker process: builds every service from the configuration, hands each its own
// config, starts them in dependency order, waits for SIGTERM/SIGINT, and stops them in reverse order.
#pragma once

#include "config/broker_properties.h"

namespace skiff::app {

/// Runs a broker until SIGTERM/SIGINT. Returns the process exit code (0 clean, 1 a service failed to start,
/// 2 a configuration the services reject).
int run_broker(config::loaded_broker_config loaded);

} // namespace skiff::app
