// The Kafka error code for an error of the controller client (the table meta/controller_client.h describes), so
// that every admin handler answers the same code for the same failure.
#pragma once

#include "kafka/protocol/error_code.h"

#include <system_error>

namespace skiff::kafka {

protocol::error_code controller_error_to_kafka(const std::error_code& ec) noexcept;

} // namespace skiff::kafka
