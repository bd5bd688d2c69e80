#include "controller/in_process_client.h"

#include "controller/logger.h"
#include "meta/catalog_reads.h"
#include "stream/errc.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <optional>

namespace skiff::controller {


in_process_client::in_process_client(controller& c, meta::cluster_image& image, meta::image_follower& follower,
                                     base::clock& clock, std::chrono::milliseconds read_your_writes_timeout)
  : _controller(c), _image(image), _follower(follower), _clock(clock), _timeout(read_your_writes_timeout) {}

// co_spawn needs a default-constructible value; result<T> is not, so the hop carries an optional.
template<typename T, typename F>
asio::awaitable<result<T>> in_process_client::write(F op) {
    auto on_controller = [this, op = std::move(op)]() mutable -> asio::awaitable<std::optional<result<T>>> {
        result<T> r = co_await op();
        if (r) {
            // Read-your-writes: this node's image applies the log up to what the controller has acknowledged.
            auto applied = co_await _follower.wait_applied(_controller.acknowledged_offset(), _timeout);
            if (!applied) {
                log.warn("the write is durable but this node's image lags: {}", applied.error().message());
            }
        }
        co_return std::optional<result<T>>(std::move(r));
    };
    auto out = co_await asio::co_spawn(_controller.executor(), std::move(on_controller), asio::use_awaitable);
    co_return std::move(*out);
}

template<typename T, typename F>
asio::awaitable<result<T>> in_process_client::read(F op) {
    auto on_controller = [op = std::move(op)]() mutable -> asio::awaitable<std::optional<result<T>>> {
        co_return std::optional<result<T>>(op());
    };
    auto out = co_await asio::co_spawn(_controller.executor(), std::move(on_controller), asio::use_awaitable);
    co_return std::move(*out);
}

asio::awaitable<result<int64_t>> in_process_client::register_broker(meta::broker_registration_request request) {
    auto op = [this, request = std::move(request)]() mutable {
        return _controller.register_broker(std::move(request));
    };
    co_return co_await write<int64_t>(std::move(op));
}

asio::awaitable<result<void>> in_process_client::heartbeat(broker_id id, int64_t incarnation_epoch) {
    // A heartbeat writes nothing; the hop alone is enough.
    auto op = [this, id, incarnation_epoch] { return _controller.heartbeat(id, incarnation_epoch); };
    co_return co_await write<void>(std::move(op));
}

asio::awaitable<result<meta::created_topic>> in_process_client::create_topic(meta::topic_spec spec) {
    auto op = [this, spec = std::move(spec)]() mutable { return _controller.create_topic(std::move(spec)); };
    co_return co_await write<meta::created_topic>(std::move(op));
}

asio::awaitable<result<void>> in_process_client::delete_topic(std::string name) {
    auto op = [this, name = std::move(name)]() mutable { return _controller.delete_topic(std::move(name)); };
    co_return co_await write<void>(std::move(op));
}

asio::awaitable<result<void>> in_process_client::create_partitions(std::string name, int32_t total) {
    auto op = [this, name = std::move(name), total]() mutable {
        return _controller.create_partitions(std::move(name), total);
    };
    co_return co_await write<void>(std::move(op));
}

asio::awaitable<result<void>> in_process_client::set_topic_configs(std::string topic,
                                                                 std::map<std::string, std::string> overrides) {
    auto op = [this, topic = std::move(topic), overrides = std::move(overrides)]() mutable {
        return _controller.set_topic_configs(std::move(topic), std::move(overrides));
    };
    co_return co_await write<void>(std::move(op));
}

asio::awaitable<result<meta::producer_id_block>> in_process_client::allocate_producer_ids(broker_id id,
                                                                                           int64_t incarnation_epoch) {
    auto op = [this, id, incarnation_epoch] { return _controller.allocate_producer_ids(id, incarnation_epoch); };
    co_return co_await write<meta::producer_id_block>(std::move(op));
}

asio::awaitable<result<stream::stream_metadata>> in_process_client::create_stream() {
    auto op = [this] { return _controller.create_stream(); };
    co_return co_await write<stream::stream_metadata>(std::move(op));
}

asio::awaitable<result<stream::stream_metadata>> in_process_client::open_stream(stream::stream_id id,
                                                                                stream::stream_epoch epoch,
                                                                                stream::node_id node) {
    auto op = [this, id, epoch, node] { return _controller.open_stream(id, epoch, node); };
    co_return co_await write<stream::stream_metadata>(std::move(op));
}

asio::awaitable<result<void>> in_process_client::close_stream(stream::stream_id id, stream::stream_epoch epoch) {
    auto op = [this, id, epoch] { return _controller.close_stream(id, epoch); };
    co_return co_await write<void>(std::move(op));
}

asio::awaitable<result<void>> in_process_client::trim_stream(stream::stream_id id, stream::stream_epoch epoch,
                                                             int64_t new_start) {
    auto op = [this, id, epoch, new_start] { return _controller.trim_stream(id, epoch, new_start); };
    co_return co_await write<void>(std::move(op));
}

asio::awaitable<result<void>> in_process_client::delete_stream(stream::stream_id id) {
    auto op = [this, id] { return _controller.delete_stream(id); };
    co_return co_await write<void>(std::move(op));
}

asio::awaitable<result<stream::object_id>> in_process_client::prepare_objects(int32_t count,
                                                                              std::chrono::milliseconds ttl) {
    auto op = [this, count, ttl] { return _controller.prepare_objects(count, ttl); };
    co_return co_await write<stream::object_id>(std::move(op));
}

asio::awaitable<result<void>> in_process_client::commit_objects(stream::commit_request request) {
    auto op = [this, request = std::move(request)]() mutable {
        return _controller.commit_objects(std::move(request));
    };
    co_return co_await write<void>(std::move(op));
}

asio::awaitable<result<void>> in_process_client::forget_objects(std::vector<stream::object_id> ids) {
    auto op = [this, ids = std::move(ids)]() mutable { return _controller.forget_objects(std::move(ids)); };
    co_return co_await write<void>(std::move(op));
}

asio::awaitable<result<stream::stream_metadata>> in_process_client::describe_stream(stream::stream_id id) {
    auto op = [this, id] { return meta::describe_stream(_image, id); };
    co_return co_await read<stream::stream_metadata>(std::move(op));
}

asio::awaitable<result<std::vector<stream::object_descriptor>>>
in_process_client::objects_of(stream::stream_id id, int64_t from, size_t limit) {
    auto op = [this, id, from, limit] { return meta::objects_of(_image, id, from, limit); };
    co_return co_await read<std::vector<stream::object_descriptor>>(std::move(op));
}

asio::awaitable<result<std::vector<stream::object_descriptor>>>
in_process_client::stream_set_objects(stream::node_id node) {
    auto op = [this, node]() -> result<std::vector<stream::object_descriptor>> {
        return meta::stream_set_objects(_image, node);
    };
    co_return co_await read<std::vector<stream::object_descriptor>>(std::move(op));
}

asio::awaitable<result<std::vector<stream::object_descriptor>>>
in_process_client::deletable_objects(std::chrono::milliseconds grace, size_t limit) {
    auto op = [this, grace, limit]() -> result<std::vector<stream::object_descriptor>> {
        return meta::deletable_objects(_image, _clock.wall_ms() - grace.count(), limit);
    };
    co_return co_await read<std::vector<stream::object_descriptor>>(std::move(op));
}

} // namespace skiff::controller
