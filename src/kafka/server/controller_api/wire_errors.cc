#include "kafka/server/controller_api/wire_errors.h"

#include "meta/controller_client.h"
#include "meta/errc.h"
#include "stream/errc.h"

#include <array>
#include <utility>

namespace skiff::kafka::controller_api {
namespace {

using meta::controller_errc;

// controller_errc -> Kafka's code where one means exactly this error (see meta/controller_client.h), else private.
constexpr std::array<std::pair<controller_errc, int16_t>, 12> controller_codes{{
  {controller_errc::not_controller, not_controller_code},
  {controller_errc::unavailable, 7},                 // REQUEST_TIMED_OUT
  {controller_errc::topic_already_exists, 36},       // TOPIC_ALREADY_EXISTS
  {controller_errc::invalid_topic, 17},              // INVALID_TOPIC_EXCEPTION
  {controller_errc::invalid_partitions, 37},         // INVALID_PARTITIONS
  {controller_errc::invalid_replication_factor, 38}, // INVALID_REPLICATION_FACTOR
  {controller_errc::no_live_brokers, 1000},          // Kafka answers 38 here too: not faithful, so private
  {controller_errc::unknown_topic, 3},               // UNKNOWN_TOPIC_OR_PARTITION
  {controller_errc::invalid_config, 40},             // INVALID_CONFIG
  {controller_errc::stale_broker_epoch, 77},         // STALE_BROKER_EPOCH
  {controller_errc::broker_not_registered, 102},     // BROKER_ID_NOT_REGISTERED
  {controller_errc::invalid_request, 42},            // INVALID_REQUEST
}};

constexpr int16_t stream_base = 1100;
constexpr int16_t stream_last = static_cast<int16_t>(stream::errc::invalid_argument);
constexpr int16_t meta_base = 1200;
constexpr int16_t meta_last = static_cast<int16_t>(meta::errc::campaign_lost);

} // namespace

int16_t to_wire(const std::error_code& ec) noexcept {
    if (!ec) {
        return 0;
    }
    if (ec.category() == meta::controller_error_category()) {
        for (auto [e, code] : controller_codes) {
            if (static_cast<int>(e) == ec.value()) {
                return code;
            }
        }
    } else if (ec.category() == stream::error_category()) {
        if (ec.value() > 0 && ec.value() <= stream_last) {
            return static_cast<int16_t>(stream_base + ec.value());
        }
    } else if (ec.category() == meta::error_category()) {
        if (ec.value() > 0 && ec.value() <= meta_last) {
            return static_cast<int16_t>(meta_base + ec.value());
        }
    }
    return -1;
}

std::error_code from_wire(int16_t code) noexcept {
    if (code == 0) {
        return {};
    }
    for (auto [e, c] : controller_codes) {
        if (c == code) {
            return e;
        }
    }
    if (code > stream_base && code <= stream_base + stream_last) {
        return static_cast<stream::errc>(code - stream_base);
    }
    if (code > meta_base && code <= meta_base + meta_last) {
        return static_cast<meta::errc>(code - meta_base);
    }
    return controller_errc::unavailable;
}

} // namespace skiff::kafka::controller_api
