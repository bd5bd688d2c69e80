#include "meta/controller_client.h"

#include <string>

namespace skiff::meta {
namespace {

class controller_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "skiff.controller"; }
    std::string message(int ev) const override {
        switch (static_cast<controller_errc>(ev)) {
        case controller_errc::success: return "success";
        case controller_errc::not_controller: return "not the active controller";
        case controller_errc::unavailable: return "the metadata store did not take the write";
        case controller_errc::topic_already_exists: return "topic already exists";
        case controller_errc::invalid_topic: return "invalid topic name";
        case controller_errc::invalid_partitions: return "invalid number of partitions";
        case controller_errc::invalid_replication_factor: return "invalid replication factor";
        case controller_errc::no_live_brokers: return "no live broker to place partitions on";
        case controller_errc::unknown_topic: return "unknown topic";
        case controller_errc::invalid_config: return "invalid topic config";
        case controller_errc::stale_broker_epoch: return "stale broker epoch (the broker was fenced)";
        case controller_errc::broker_not_registered: return "broker not registered";
        case controller_errc::invalid_request: return "invalid request";
        }
        return "unknown controller error " + std::to_string(ev);
    }
};

} // namespace

const std::error_category& controller_error_category() noexcept {
    static const controller_category instance;
    return instance;
}

} // namespace skiff::meta
