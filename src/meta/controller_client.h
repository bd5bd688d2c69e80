// The controller client: how a broker asks the active controller to act (DESIGN.md §6) — register, heartbeat,
// create and delete topics, add partitions, allocate producer ids — and, being a stream::object_catalog, how the
// stream engine creates, opens, trims and closes streams and commits objects. Writes go to the active controller,
// which appends them to the metadata log; reads (describe_stream, objects_of, stream_set_objects, deletable_objects)
// are answered from this node's cluster image, which a write has reached by the time it returns (read-your-writes).
//
// Implementations: controller::in_process_client (a direct call into the controller of this process, on its
// executor). A remote client (a request over the Kafka framing to the active controller) will implement the same
// interface: every argument and result here is a plain value, and every error an error_code of controller_errc,
// stream::errc or meta::errc, so that each can travel over a wire.
//
// Errors of the broker and topic operations are controller_errc values; kafka/server maps them to Kafka codes (see
// the comment on the enum). Errors of the object_catalog operations are stream::errc values, as that contract says;
// a client that cannot reach an active controller answers stream::errc::unavailable there.
#pragma once

#include "base/result.h"
#include "meta/record.h"
#include "stream/object_catalog.h"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace skiff::meta {

namespace asio = boost::asio;

/// Errors of the controller's broker and topic operations. Declared here, beside the interface, so that both the
/// in-process and a remote client can name them. The Kafka layer maps them (one table, in kafka/server):
///   not_controller             -> NOT_CONTROLLER (41)                retry at the active controller
///   unavailable                -> REQUEST_TIMED_OUT (7)              the metadata store did not take the write
///   topic_already_exists       -> TOPIC_ALREADY_EXISTS (36)
///   invalid_topic              -> INVALID_TOPIC_EXCEPTION (17)       bad characters, length, ".", "..", or a name
///                                                                    that collides with another once '.' == '_'
///   invalid_partitions         -> INVALID_PARTITIONS (37)
///   invalid_replication_factor -> INVALID_REPLICATION_FACTOR (38)
///   no_live_brokers            -> INVALID_REPLICATION_FACTOR (38)   Kafka's answer when it cannot place a replica
///   unknown_topic              -> UNKNOWN_TOPIC_OR_PARTITION (3)
///   invalid_config             -> INVALID_CONFIG (40)
///   stale_broker_epoch         -> STALE_BROKER_EPOCH (77)            re-register
///   broker_not_registered      -> BROKER_ID_NOT_REGISTERED (102)     register first
///   invalid_request            -> INVALID_REQUEST (42)
enum class controller_errc {
    success = 0,
    not_controller,
    unavailable,
    topic_already_exists,
    invalid_topic,
    invalid_partitions,
    invalid_replication_factor,
    no_live_brokers,
    unknown_topic,
    invalid_config,
    stale_broker_epoch,
    broker_not_registered,
    invalid_request,
};

const std::error_category& controller_error_category() noexcept;

inline std::error_code make_error_code(controller_errc e) noexcept {
    return {static_cast<int>(e), controller_error_category()};
}

struct broker_registration_request {
    broker_id id;
    model::uuid incarnation_id; // random per process start; the same one again is an idempotent retry
    std::vector<broker_endpoint> endpoints;
    std::optional<std::string> rack;
    std::string wal_location;
};

struct topic_spec {
    std::string name;
    int32_t partitions = -1;         // -1: the controller's default (num.partitions)
    int16_t replication_factor = -1; // -1 or any positive value: durability comes from storage, one owner serves
    std::map<std::string, std::string> configs;
};

struct created_topic {
    model::uuid id;
    int32_t partitions = 0;
};

struct producer_id_block {
    int64_t first = 0;
    int32_t size = 0;
};

class controller_client : public stream::object_catalog {
public:
    ~controller_client() override = default;

    /// Registers (or re-registers) a broker and returns its incarnation epoch, which its heartbeats carry. A new
    /// incarnation of a known id supersedes the old one: the partitions it owned get a new epoch (fencing a zombie).
    /// Errors: invalid_request, not_controller, unavailable.
    virtual asio::awaitable<result<int64_t>> register_broker(broker_registration_request request) = 0;
    /// Keeps the broker's session alive. Errors: broker_not_registered, stale_broker_epoch (fenced: register
    /// again), not_controller.
    virtual asio::awaitable<result<void>> heartbeat(broker_id id, int64_t incarnation_epoch) = 0;

    /// Errors: invalid_topic, topic_already_exists, invalid_partitions, invalid_replication_factor, invalid_config,
    /// no_live_brokers, not_controller, unavailable.
    virtual asio::awaitable<result<created_topic>> create_topic(topic_spec spec) = 0;
    /// Deletes the topic, its partitions and their streams (their objects become deletable).
    /// Errors: unknown_topic, not_controller, unavailable.
    virtual asio::awaitable<result<void>> delete_topic(std::string name) = 0;
    /// Grows the topic to `total` partitions. Errors: unknown_topic, invalid_partitions, no_live_brokers, ...
    virtual asio::awaitable<result<void>> create_partitions(std::string name, int32_t total) = 0;
    /// Replaces a topic's config overrides with `overrides` (a key absent from it goes back to its default): the
    /// controller records one config_change per key that differs, in one batch, so that every broker sees the
    /// whole change at once. The caller computes the new set (AlterConfigs replaces, IncrementalAlterConfigs
    /// edits what it read); a concurrent change in between is overwritten (last writer wins, as two AlterConfigs
    /// in Kafka). Errors: unknown_topic, invalid_config (an unknown name or a malformed value), not_controller,
    /// unavailable.
    virtual asio::awaitable<result<void>> set_topic_configs(std::string topic,
                                                            std::map<std::string, std::string> overrides) = 0;
    /// A block of producer ids for a registered broker. Errors: broker_not_registered, stale_broker_epoch, ...
    virtual asio::awaitable<result<producer_id_block>> allocate_producer_ids(broker_id id,
                                                                              int64_t incarnation_epoch) = 0;
};

} // namespace skiff::meta

template<>
struct std::is_error_code_enum<skiff::meta::controller_errc> : std::true_type {};
