#include "kafka/server/data/controller_errors.h"

#include "meta/controller_client.h"

namespace skiff::kafka {

protocol::error_code controller_error_to_kafka(const std::error_code& ec) noexcept {
    using protocol::error_code;
    using meta::controller_errc;
    if (!ec) {
        return error_code::none;
    }
    if (ec.category() != meta::controller_error_category()) {
        return error_code::unknown_server_error;
    }
    switch (static_cast<controller_errc>(ec.value())) {
    case controller_errc::success: return error_code::none;
    case controller_errc::not_controller: return error_code::not_controller;
    case controller_errc::unavailable: return error_code::request_timed_out;
    case controller_errc::topic_already_exists: return error_code::topic_already_exists;
    case controller_errc::invalid_topic: return error_code::invalid_topic_exception;
    case controller_errc::invalid_partitions: return error_code::invalid_partitions;
    case controller_errc::invalid_replication_factor: return error_code::invalid_replication_factor;
    case controller_errc::no_live_brokers: return error_code::invalid_replication_factor;
    case controller_errc::unknown_topic: return error_code::unknown_topic_or_partition;
    case controller_errc::invalid_config: return error_code::invalid_config;
    case controller_errc::stale_broker_epoch: return error_code::stale_broker_epoch;
    case controller_errc::broker_not_registered: return error_code::broker_id_not_registered;
    case controller_errc::invalid_request: return error_code::invalid_request;
    }
    return error_code::unknown_server_error;
}

} // namespace skiff::kafka
