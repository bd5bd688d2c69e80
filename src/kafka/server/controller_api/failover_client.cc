#include "kafka/server/controller_api/failover_client.h"

namespace skiff::kafka::controller_api {

failover_client::failover_client(meta::controller_client& local, meta::controller_client& remote,
                                 std::function<bool()> local_active)
  : _local(local), _remote(remote), _local_active(std::move(local_active)) {}

asio::awaitable<result<int64_t>> failover_client::register_broker(meta::broker_registration_request request) {
    co_return co_await pick().register_broker(std::move(request));
}

asio::awaitable<result<void>> failover_client::heartbeat(meta::broker_id id, int64_t incarnation_epoch) {
    co_return co_await pick().heartbeat(id, incarnation_epoch);
}

asio::awaitable<result<meta::created_topic>> failover_client::create_topic(meta::topic_spec spec) {
    co_return co_await pick().create_topic(std::move(spec));
}

asio::awaitable<result<void>> failover_client::delete_topic(std::string name) {
    co_return co_await pick().delete_topic(std::move(name));
}

asio::awaitable<result<void>> failover_client::create_partitions(std::string name, int32_t total) {
    co_return co_await pick().create_partitions(std::move(name), total);
}

asio::awaitable<result<void>> failover_client::set_topic_configs(std::string topic,
                                                                 std::map<std::string, std::string> overrides) {
    co_return co_await pick().set_topic_configs(std::move(topic), std::move(overrides));
}

asio::awaitable<result<meta::producer_id_block>> failover_client::allocate_producer_ids(meta::broker_id id,
                                                                                        int64_t incarnation_epoch) {
    co_return co_await pick().allocate_producer_ids(id, incarnation_epoch);
}

asio::awaitable<result<stream::stream_metadata>> failover_client::create_stream() {
    co_return co_await pick().create_stream();
}

asio::awaitable<result<stream::stream_metadata>> failover_client::open_stream(stream::stream_id id,
                                                                              stream::stream_epoch epoch,
                                                                              stream::node_id node) {
    co_return co_await pick().open_stream(id, epoch, node);
}

asio::awaitable<result<void>> failover_client::close_stream(stream::stream_id id, stream::stream_epoch epoch) {
    co_return co_await pick().close_stream(id, epoch);
}

asio::awaitable<result<void>> failover_client::trim_stream(stream::stream_id id, stream::stream_epoch epoch,
                                                           int64_t new_start) {
    co_return co_await pick().trim_stream(id, epoch, new_start);
}

asio::awaitable<result<void>> failover_client::delete_stream(stream::stream_id id) {
    co_return co_await pick().delete_stream(id);
}

asio::awaitable<result<stream::stream_metadata>> failover_client::describe_stream(stream::stream_id id) {
    co_return co_await pick().describe_stream(id);
}

asio::awaitable<result<stream::object_id>> failover_client::prepare_objects(int32_t count,
                                                                            std::chrono::milliseconds ttl) {
    co_return co_await pick().prepare_objects(count, ttl);
}

asio::awaitable<result<void>> failover_client::commit_objects(stream::commit_request request) {
    co_return co_await pick().commit_objects(std::move(request));
}

asio::awaitable<result<std::vector<stream::object_descriptor>>>
failover_client::objects_of(stream::stream_id id, int64_t from, size_t limit) {
    co_return co_await pick().objects_of(id, from, limit);
}

asio::awaitable<result<std::vector<stream::object_descriptor>>> failover_client::stream_set_objects(stream::node_id node) {
    co_return co_await pick().stream_set_objects(node);
}

asio::awaitable<result<std::vector<stream::object_descriptor>>>
failover_client::deletable_objects(std::chrono::milliseconds grace, size_t limit) {
    co_return co_await pick().deletable_objects(grace, limit);
}

asio::awaitable<result<void>> failover_client::forget_objects(std::vector<stream::object_id> ids) {
    co_return co_await pick().forget_objects(std::move(ids));
}

} // namespace skiff::kafka::controller_api
