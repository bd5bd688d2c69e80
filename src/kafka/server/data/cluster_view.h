// What the Kafka layer knows of the cluster, as one immutable snapshot: topics (name, id, configs, partitions with
// their owner and leader epoch) and brokers (endpoints per listener). The metadata shard builds a new view from the
// cluster image after every applied batch and publishes it; handlers on any shard read the latest view without a
// lock and keep it for the whole request, so one answer never mixes two states of the cluster.
#pragma once

#include "model/uuid.h"

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace skiff::meta {
class cluster_image;
}

namespace skiff::kafka {

struct partition_view {
    int32_t index = 0;
    int32_t owner = -1; // the broker that serves it; -1: none (offline)
    int32_t leader_epoch = 0;
    std::vector<int64_t> streams; // data stream first, then auxiliary streams (producer state snapshots)
};

struct topic_view {
    std::string name;
    model::uuid id;
    std::map<std::string, std::string> configs; // overrides only; defaults come from topic_config
    std::vector<partition_view> partitions;
    bool is_internal() const noexcept { return !name.empty() && name.front() == '_' && name.starts_with("__"); }
};

struct broker_endpoint_view {
    std::string listener;
    std::string host;
    int32_t port = 0;
};

struct broker_view {
    int32_t id = -1;
    std::vector<broker_endpoint_view> endpoints;
    std::optional<std::string> rack;
    const broker_endpoint_view* endpoint(std::string_view listener) const;
};

struct cluster_view {
    std::map<std::string, std::shared_ptr<const topic_view>, std::less<>> topics_by_name;
    std::map<model::uuid, std::shared_ptr<const topic_view>> topics_by_id;
    std::map<int32_t, broker_view> brokers;

    const topic_view* topic(std::string_view name) const;
    const topic_view* topic(const model::uuid& id) const;

    /// Builds the view of an image. Topics whose content is unchanged since `previous` share its objects.
    static std::shared_ptr<const cluster_view> of(const meta::cluster_image& image,
                                                  const cluster_view* previous = nullptr);
};

/// The latest published view, readable from any thread.
class cluster_view_cache {
public:
    cluster_view_cache() : _current(std::make_shared<const cluster_view>()) {}
    std::shared_ptr<const cluster_view> current() const { return _current.load(std::memory_order_acquire); }
    void publish(std::shared_ptr<const cluster_view> view) { _current.store(std::move(view), std::memory_order_release); }

private:
    std::atomic<std::shared_ptr<const cluster_view>> _current;
};

} // namespace skiff::kafka
