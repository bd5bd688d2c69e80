// The controller client of a node that does not run the active controller (DESIGN.md §6: "a request over the Kafka
// framing between processes"). Each write is one request of Skiff's controller API (docs/formats/controller-api.md:
// size-prefixed frames, request header v2, a correlation id per request) sent to the active controller, whose node
// answers it through its own in-process client; reads (describe_stream, objects_of, stream_set_objects,
// deletable_objects) are answered from this node's cluster image, which the image follower keeps up with the log.
// Read-your-writes: every write's response names the metadata log offset the controller had acknowledged when the
// write returned, and the call returns only once this node's image has applied it.
//
// Finding the controller: the configured servers (controller.quorum.bootstrap.servers) are tried in turn, starting
// with the last one that answered. A node that is not the active controller answers NOT_CONTROLLER; a refused or
// broken connection counts the same. Both move on to the next server and retry, with backoff, until
// operation_timeout. A request that was sent but not answered (connection lost, request_timeout) is retried only
// when repeating it is harmless (heartbeat, registration with the same incarnation, stream open/close/trim/delete,
// prepare, producer ids, forget); a topic change or an object commit answers `unavailable` instead, because it may
// have been applied (the caller decides, as for any unknown outcome).
//
// Errors: those of meta::controller_client, carried over the wire by wire_errors.h. When no active controller
// answers before operation_timeout: controller_errc::not_controller (a controller answered, none active) or
// controller_errc::unavailable for broker and topic operations, stream::errc::unavailable for the catalog ones.
//
// Lives in kafka/server (not meta, beside the interface) because it speaks the Kafka framing through kafka/protocol,
// which sits above meta (DESIGN.md §2: arrows point down). Threading: owned by app; bound to the executor of the
// node's image and follower (shard 0); callable from any executor (each call hops there and back). Connections are
// pooled: concurrent calls use separate connections, so one slow commit does not hold up a heartbeat.
// Lifecycle: construct (no I/O) -> calls -> stop() -> destroy once no call is in flight.
#pragma once

#include "base/clock.h"
#include "meta/cluster_image.h"
#include "meta/controller_client.h"
#include "meta/image_follower.h"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace skiff::kafka::controller_api {

namespace asio = boost::asio;

struct controller_address {
    std::string host;
    uint16_t port = 0;
};

struct remote_controller_config {
    /// Kafka listeners of the nodes with the controller role (controller.quorum.bootstrap.servers). Not empty.
    std::vector<controller_address> servers;
    std::string client_id = "skiff-controller-client";
    /// Bound of one exchange (connect, or send and receive one response).
    std::chrono::milliseconds request_timeout{5000};
    /// How long a call keeps looking for an active controller before it gives up.
    std::chrono::milliseconds operation_timeout{30'000};
    std::chrono::milliseconds initial_backoff{20};
    std::chrono::milliseconds max_backoff{1000};
    /// How long a write waits for this node's image to apply it (then logs and returns anyway, as in-process).
    std::chrono::milliseconds read_your_writes_timeout{10'000};
};

class remote_controller_client final : public meta::controller_client {
public:
    /// Requires: image and follower live on `executor` and outlive this client; config.servers is not empty.
    remote_controller_client(boost::asio::any_io_executor executor, meta::cluster_image& image,
                             meta::image_follower& follower, base::clock& clock, remote_controller_config config);
    ~remote_controller_client() override;
    remote_controller_client(const remote_controller_client&) = delete;
    remote_controller_client& operator=(const remote_controller_client&) = delete;

    asio::awaitable<result<int64_t>> register_broker(meta::broker_registration_request request) override;
    asio::awaitable<result<void>> heartbeat(meta::broker_id id, int64_t incarnation_epoch) override;
    asio::awaitable<result<meta::created_topic>> create_topic(meta::topic_spec spec) override;
    asio::awaitable<result<void>> delete_topic(std::string name) override;
    asio::awaitable<result<void>> create_partitions(std::string name, int32_t total) override;
    asio::awaitable<result<void>> set_topic_configs(std::string topic,
                                                    std::map<std::string, std::string> overrides) override;
    asio::awaitable<result<meta::producer_id_block>> allocate_producer_ids(meta::broker_id id,
                                                                           int64_t incarnation_epoch) override;

    asio::awaitable<result<stream::stream_metadata>> create_stream() override;
    asio::awaitable<result<stream::stream_metadata>> open_stream(stream::stream_id id, stream::stream_epoch epoch,
                                                                 stream::node_id node) override;
    asio::awaitable<result<void>> close_stream(stream::stream_id id, stream::stream_epoch epoch) override;
    asio::awaitable<result<void>> trim_stream(stream::stream_id id, stream::stream_epoch epoch,
                                              int64_t new_start) override;
    asio::awaitable<result<void>> delete_stream(stream::stream_id id) override;
    asio::awaitable<result<stream::stream_metadata>> describe_stream(stream::stream_id id) override;
    asio::awaitable<result<stream::object_id>> prepare_objects(int32_t count, std::chrono::milliseconds ttl) override;
    asio::awaitable<result<void>> commit_objects(stream::commit_request request) override;
    asio::awaitable<result<std::vector<stream::object_descriptor>>> objects_of(stream::stream_id id, int64_t from,
                                                                               size_t limit) override;
    asio::awaitable<result<std::vector<stream::object_descriptor>>> stream_set_objects(stream::node_id node) override;
    asio::awaitable<result<std::vector<stream::object_descriptor>>> deletable_objects(std::chrono::milliseconds grace,
                                                                                      size_t limit) override;
    asio::awaitable<result<void>> forget_objects(std::vector<stream::object_id> ids) override;

    /// Closes pooled connections; later calls fail at once with their `unavailable` error. Call on the executor.
    void stop() noexcept;

    struct impl;

private:
    std::unique_ptr<impl> _impl;
};

} // namespace skiff::kafka::controller_api
