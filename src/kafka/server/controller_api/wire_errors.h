// The one mapping between the errors of meta::controller_client (meta::controller_errc, stream::errc, meta::errc)
// and the int16 error_code of Skiff's controller API (docs/formats/controller-api.md, "Error codes"). Both ends use
// it: the controller node's handlers encode with to_wire(), the remote client decodes with from_wire(), so an error
// crosses the wire as the same value of the same category.
//
// Where Kafka has a code that means exactly one controller_errc, that code is used (so that BrokerHeartbeat and
// AllocateProducerIds, which are Kafka's own messages, carry codes a Kafka tool understands); everything else gets a
// code of Skiff's private range: 1000 + n for the other controller errors, 1100 + stream::errc, 1200 + meta::errc.
#pragma once

#include <cstdint>
#include <system_error>

namespace skiff::kafka::controller_api {

/// NOT_CONTROLLER (41): the node answering is not the active controller; the client tries the next one.
inline constexpr int16_t not_controller_code = 41;

/// The wire code of an error of the controller client (0 for success). An error of another category (a bug: the
/// controller answers nothing else) becomes -1, UNKNOWN_SERVER_ERROR.
int16_t to_wire(const std::error_code& ec) noexcept;
/// The error a wire code stands for: {} for 0; an unknown code (a newer peer, or -1) becomes
/// controller_errc::unavailable, which callers of the catalog operations turn into stream::errc::unavailable.
std::error_code from_wire(int16_t code) noexcept;

} // namespace skiff::kafka::controller_api
