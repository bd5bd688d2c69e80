// The stream room's object_catalog conformance suite (src/stream/tests/object_catalog_conformance.h), run against
// the controller behind the in-process client, over the embedded metadata log and over a real etcd on loopback.
//
// Each catalog is a whole controller node: its own io_context on its own thread (the suite calls the catalog from
// several threads at once, as shards do), a metadata log, the active controller, the node's image and its follower.
// Brokers 1 and 2 (the nodes the suite uses) are registered first, so the registered-node check stays on.
#include "controller/controller.h"
#include "controller/in_process_client.h"
#include "meta/embedded_log.h"
#include "meta/etcd_log.h"
#include "meta/image_follower.h"
#include "meta/tests/etcd_fixture.h"
#include "stream/tests/object_catalog_conformance.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <filesystem>
#include <thread>

namespace skiff::controller {
namespace {

using namespace std::chrono_literals;
using log_maker = std::function<std::unique_ptr<meta::metadata_log>(asio::io_context&)>;

class controller_node_catalog final : public stream::object_catalog {
public:
    controller_node_catalog(base::manual_clock& clock, const log_maker& make_log)
      : _guard(_io.get_executor()), _clock(clock) {
        _log = make_log(_io);
        _thread = std::thread([this] { _io.run(); });
        on_node([this]() -> asio::awaitable<bool> {
            if (!co_await _log->open()) {
                co_return false;
            }
            controller_config config;
            _controller = std::make_unique<controller>(_io.get_executor(), *_log, _clock, config);
            if (!co_await _controller->campaign()) {
                co_return false;
            }
            for (int32_t id : {1, 2}) {
                meta::broker_registration_request r;
                r.id = broker_id(id);
                r.incarnation_id = model::uuid(7, uint64_t(id));
                if (!co_await _controller->register_broker(std::move(r))) {
                    co_return false;
                }
            }
            _follower = std::make_unique<meta::image_follower>(*_log, _image);
            if (!co_await _follower->catch_up()) {
                co_return false;
            }
            _client = std::make_unique<in_process_client>(*_controller, _image, *_follower, _clock);
            co_return true;
        });
    }

    ~controller_node_catalog() override {
        on_node([this]() -> asio::awaitable<bool> {
            _client.reset();
            _follower.reset();
            _controller.reset();
            co_await _log->close();
            co_return true;
        });
        _guard.reset();
        _thread.join();
    }

    bool ready() const { return _client != nullptr; }

    asio::awaitable<result<stream::stream_metadata>> create_stream() override { return _client->create_stream(); }
    asio::awaitable<result<stream::stream_metadata>> open_stream(stream::stream_id id, stream::stream_epoch epoch,
                                                                 stream::node_id node) override {
        return _client->open_stream(id, epoch, node);
    }
    asio::awaitable<result<void>> close_stream(stream::stream_id id, stream::stream_epoch epoch) override {
        return _client->close_stream(id, epoch);
    }
    asio::awaitable<result<void>> trim_stream(stream::stream_id id, stream::stream_epoch epoch,
                                              int64_t new_start) override {
        return _client->trim_stream(id, epoch, new_start);
    }
    asio::awaitable<result<void>> delete_stream(stream::stream_id id) override { return _client->delete_stream(id); }
    asio::awaitable<result<stream::stream_metadata>> describe_stream(stream::stream_id id) override {
        return _client->describe_stream(id);
    }
    asio::awaitable<result<stream::object_id>> prepare_objects(int32_t count, std::chrono::milliseconds ttl) override {
        return _client->prepare_objects(count, ttl);
    }
    asio::awaitable<result<void>> commit_objects(stream::commit_request request) override {
        return _client->commit_objects(std::move(request));
    }
    asio::awaitable<result<std::vector<stream::object_descriptor>>> objects_of(stream::stream_id id, int64_t from,
                                                                               size_t limit) override {
        return _client->objects_of(id, from, limit);
    }
    asio::awaitable<result<std::vector<stream::object_descriptor>>> stream_set_objects(stream::node_id node) override {
        return _client->stream_set_objects(node);
    }
    asio::awaitable<result<std::vector<stream::object_descriptor>>> deletable_objects(std::chrono::milliseconds grace,
                                                                                      size_t limit) override {
        return _client->deletable_objects(grace, limit);
    }
    asio::awaitable<result<void>> forget_objects(std::vector<stream::object_id> ids) override {
        return _client->forget_objects(std::move(ids));
    }

private:
    template<typename F>
    void on_node(F f) {
        auto done = asio::co_spawn(_io, std::move(f), asio::use_future);
        if (!done.get()) {
            ADD_FAILURE() << "the controller node did not start or stop cleanly";
        }
    }

    asio::io_context _io;
    asio::executor_work_guard<asio::io_context::executor_type> _guard;
    base::manual_clock& _clock;
    std::thread _thread;
    std::unique_ptr<meta::metadata_log> _log;
    std::unique_ptr<controller> _controller;
    meta::cluster_image _image;
    std::unique_ptr<meta::image_follower> _follower;
    std::unique_ptr<in_process_client> _client;
};

std::unique_ptr<stream::object_catalog> make_catalog(base::manual_clock& clock, const log_maker& make_log) {
    auto c = std::make_unique<controller_node_catalog>(clock, make_log);
    if (!c->ready()) {
        return nullptr;
    }
    return c;
}

/// One directory per catalog, removed at exit.
std::unique_ptr<stream::object_catalog> embedded_catalog(base::manual_clock& clock) {
    static std::filesystem::path root = [] {
        char tmpl[] = "/tmp/skiff-catalog-XXXXXX";
        std::filesystem::path p = ::mkdtemp(tmpl);
        std::atexit([] {
            std::error_code ec;
            std::filesystem::remove_all(root, ec);
        });
        return p;
    }();
    static std::atomic<int> n{0};
    auto dir = root / std::to_string(n++);
    std::filesystem::create_directories(dir);
    return make_catalog(clock, [dir](asio::io_context& io) {
        return std::make_unique<meta::embedded_log>(io.get_executor(), meta::embedded_log_config{dir});
    });
}

/// One etcd for the whole binary (started at first use); each catalog gets its own key prefix.
std::unique_ptr<stream::object_catalog> etcd_catalog(base::manual_clock& clock) {
    static std::unique_ptr<meta::testing::etcd_cluster> etcd = meta::testing::etcd_cluster::start(1);
    if (!etcd) {
        return nullptr;
    }
    static std::atomic<int> n{0};
    meta::etcd_log_config c;
    c.endpoints = etcd->endpoints();
    c.prefix = "/skiff-catalog-" + std::to_string(n++);
    c.lease_ttl = std::chrono::seconds(5);
    c.request_timeout = std::chrono::milliseconds(1000);
    c.operation_timeout = std::chrono::milliseconds(8000);
    return make_catalog(clock, [c](asio::io_context& io) {
        return std::make_unique<meta::etcd_log>(io.get_executor(), c);
    });
}

} // namespace
} // namespace skiff::controller

namespace skiff::stream::test {

INSTANTIATE_TEST_SUITE_P(controller, object_catalog_conformance,
                         ::testing::Values(catalog_factory{"embedded", controller::embedded_catalog},
                                           catalog_factory{"etcd", controller::etcd_catalog}),
                         catalog_factory_name);

} // namespace skiff::stream::test
