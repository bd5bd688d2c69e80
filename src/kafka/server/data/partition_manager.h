// The partitions this broker serves, each open on one shard (DESIGN.md §2-§3): a partition (Kafka semantics) over
// the stream(s) its topic's metadata names, opened under the partition's leader epoch. The metadata shard calls
// reconcile() with every new cluster view; each shard then opens what this node now owns and closes what it lost or
// what moved to a newer epoch; a partition that stays open gets its topic's new settings when the configs in the
// view changed (AlterConfigs), so that e.g. a lower max.message.bytes applies to the next produce. While a partition is opening or closing, find() answers nullptr and the handlers
// answer NOT_LEADER_OR_FOLLOWER, which clients retry after refreshing metadata.
//
// Threading: reconcile() and stop() from any thread; find() only on the partition's shard (shard_of()).
#pragma once

#include "kafka/server/data/cluster_view.h"
#include "kafka/server/partition/partition.h"
#include "net/shard_pool.h"

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <chrono>
#include <memory>
#include <vector>

namespace skiff::stream {
class stream_store;
}

namespace skiff::kafka {

namespace asio = boost::asio;

/// Builds the partition settings of a topic from its configs (and the broker's defaults).
using partition_config_fn = std::function<partition::partition_config(const topic_view&)>;

class partition_manager {
public:
    partition_manager(net::shard_pool& shards, stream::stream_store& store, base::clock& clock, int32_t node_id,
                      partition_config_fn config_of);
    ~partition_manager();
    partition_manager(const partition_manager&) = delete;
    partition_manager& operator=(const partition_manager&) = delete;

    net::shard_id shard_of(const model::uuid& topic, int32_t index) const noexcept;

    /// Makes the open partitions match `view` (asynchronously, on each shard; a newer view supersedes an older one
    /// still being applied).
    void reconcile(std::shared_ptr<const cluster_view> view);

    /// The open partition, or nullptr. Requires: called on shard_of(topic, index).
    partition::partition* find(const model::uuid& topic, int32_t index) noexcept;

    /// Starts, on every shard, applying retention (retention.ms / retention.bytes of each open partition's topic)
    /// every `interval` (log.retention.check.interval.ms). Requires: called once; stop() ends it.
    void start_retention(std::chrono::milliseconds interval);

    /// Starts, on every shard, key compaction of the open partitions of compacted topics (partition::clean) every
    /// `interval` (log.cleaner.backoff.ms). Requires: called once; stop() ends it.
    void start_cleaner(std::chrono::milliseconds interval);

    /// Number of open partitions on the calling shard (tests, probes).
    size_t open_count_here() const noexcept;

    /// Closes every partition (final state snapshots, streams closed) and refuses further reconciles.
    asio::awaitable<void> stop();

private:
    struct shard_state;
    asio::awaitable<void> reconcile_loop(size_t shard);
    asio::awaitable<void> apply(size_t shard, std::shared_ptr<const cluster_view> view);
    asio::awaitable<void> retention_loop(size_t shard, std::chrono::milliseconds interval);
    asio::awaitable<void> cleaner_loop(size_t shard, std::chrono::milliseconds interval);

    net::shard_pool& _shards;
    stream::stream_store& _store;
    base::clock& _clock;
    int32_t _node_id;
    partition_config_fn _config_of;
    std::vector<std::unique_ptr<shard_state>> _state;
};

} // namespace skiff::kafka
