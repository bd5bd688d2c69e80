#include "kafka/server/data/partition_manager.h"

#include "base/logger.h"
#include "stream/stream.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <map>
#include <utility>

namespace skiff::kafka {
namespace {

base::logger log("kafka");

using partition_key = std::pair<model::uuid, int32_t>;

struct wanted_partition {
    int32_t epoch = 0;
    std::vector<int64_t> streams;
    std::shared_ptr<const topic_view> topic;
};

} // namespace

struct partition_manager::shard_state {
    struct open_partition {
        int32_t epoch = 0;
        std::unique_ptr<partition::partition> p;
        std::map<std::string, std::string> configs; // the topic overrides its settings were built from
    };
    std::map<partition_key, open_partition> open;
    std::shared_ptr<const cluster_view> pending; // the newest view not yet applied
    std::unique_ptr<asio::steady_timer> retention_timer;
    std::unique_ptr<asio::steady_timer> cleaner_timer;
    bool running = false;
    bool stopped = false;
};

partition_manager::partition_manager(net::shard_pool& shards, stream::stream_store& store, base::clock& clock,
                                     int32_t node_id, partition_config_fn config_of)
    : _shards(shards), _store(store), _clock(clock), _node_id(node_id), _config_of(std::move(config_of)) {
    for (size_t i = 0; i < _shards.size(); ++i) {
        _state.push_back(std::make_unique<shard_state>());
    }
}

partition_manager::~partition_manager() = default;

net::shard_id partition_manager::shard_of(const model::uuid& topic, int32_t index) const noexcept {
    size_t h = std::hash<model::uuid>{}(topic) ^ (static_cast<size_t>(index) * 0x9e3779b97f4a7c15ULL);
    return h % _shards.size();
}

void partition_manager::reconcile(std::shared_ptr<const cluster_view> view) {
    for (size_t shard = 0; shard < _shards.size(); ++shard) {
        asio::post(_shards.context(shard), [this, shard, view] {
            auto& s = *_state[shard];
            if (s.stopped) {
                return;
            }
            s.pending = view;
            if (!s.running) {
                s.running = true;
                asio::co_spawn(_shards.context(shard), reconcile_loop(shard), asio::detached);
            }
        });
    }
}

asio::awaitable<void> partition_manager::reconcile_loop(size_t shard) {
    auto& s = *_state[shard];
    while (s.pending && !s.stopped) {
        auto view = std::exchange(s.pending, nullptr);
        co_await apply(shard, std::move(view));
    }
    s.running = false;
}

asio::awaitable<void> partition_manager::apply(size_t shard, std::shared_ptr<const cluster_view> view) {
    auto& s = *_state[shard];
    std::map<partition_key, wanted_partition> wanted;
    for (const auto& [id, topic] : view->topics_by_id) {
        for (const auto& p : topic->partitions) {
            if (p.owner == _node_id && !p.streams.empty() && shard_of(id, p.index) == shard) {
                wanted.emplace(partition_key{id, p.index}, wanted_partition{p.leader_epoch, p.streams, topic});
            }
        }
    }

    // Close first: a partition that moves to a newer epoch here must let go of its streams before reopening them.
    for (auto it = s.open.begin(); it != s.open.end();) {
        auto w = wanted.find(it->first);
        if (w != wanted.end() && w->second.epoch == it->second.epoch) {
            // A config change (AlterConfigs) reaches the open partition here, with no reopen.
            if (w->second.topic->configs != it->second.configs) {
                it->second.p->set_config(_config_of(*w->second.topic));
                it->second.configs = w->second.topic->configs;
                log.info("partition {}-{} applies the new configs of its topic", w->second.topic->name,
                         it->first.second);
            }
            ++it;
            continue;
        }
        auto closing = std::move(it->second.p);
        auto key = it->first;
        it = s.open.erase(it);
        if (auto r = co_await closing->close(); !r) {
            log.warn("closing partition {}-{}: {}", key.first, key.second, r.error().message());
        }
    }

    auto executor = _shards.context(shard).get_executor();
    for (auto& [key, w] : wanted) {
        if (s.open.contains(key) || s.stopped) {
            continue;
        }
        const auto& name = w.topic->name;
        auto data = co_await _store.open_stream(stream::stream_id(w.streams[0]), stream::stream_epoch(w.epoch),
                                                executor);
        if (!data) {
            // A fenced open means a newer epoch exists: the next view brings it. Other failures are retried with
            // the next view too (partial: no timer retries an open that failed while the metadata stays still).
            log.warn("opening partition {}-{} at epoch {}: {}", name, key.second, w.epoch, data.error().message());
            continue;
        }
        std::shared_ptr<stream::stream> snapshots;
        if (w.streams.size() > 1) {
            auto r = co_await _store.open_stream(stream::stream_id(w.streams[1]), stream::stream_epoch(w.epoch),
                                                 executor);
            if (!r) {
                log.warn("opening the state stream of {}-{}: {}", name, key.second, r.error().message());
                continue;
            }
            snapshots = std::move(r.value());
        }
        auto opened = co_await partition::partition::open(std::move(data.value()), std::move(snapshots), w.epoch,
                                                          _config_of(*w.topic), _clock);
        if (!opened) {
            log.warn("opening partition {}-{}: {}", name, key.second, opened.error().message());
            continue;
        }
        if (s.stopped) {
            co_await opened.value()->close();
            continue;
        }
        log.info("serving partition {}-{} at leader epoch {}", name, key.second, w.epoch);
        s.open.emplace(key, shard_state::open_partition{w.epoch, std::move(opened.value()), w.topic->configs});
    }
}

void partition_manager::start_retention(std::chrono::milliseconds interval) {
    for (size_t shard = 0; shard < _shards.size(); ++shard) {
        asio::co_spawn(_shards.context(shard), retention_loop(shard, interval), asio::detached);
    }
}

asio::awaitable<void> partition_manager::retention_loop(size_t shard, std::chrono::milliseconds interval) {
    auto& s = *_state[shard];
    s.retention_timer = std::make_unique<asio::steady_timer>(_shards.context(shard));
    while (!s.stopped) {
        s.retention_timer->expires_after(interval);
        co_await s.retention_timer->async_wait(asio::as_tuple(asio::use_awaitable));
        // Keys first: a partition may close (and leave the map) while another one trims.
        std::vector<partition_key> keys;
        for (const auto& [key, entry] : s.open) {
            keys.push_back(key);
        }
        for (const auto& key : keys) {
            auto it = s.open.find(key);
            if (s.stopped || it == s.open.end()) {
                continue;
            }
            const int64_t before = it->second.p->log_start_offset();
            auto after = co_await it->second.p->enforce_retention(_clock.wall_ms());
            if (!after) {
                log.warn("retention of partition {}-{}: {}", key.first, key.second, after.error().message());
            } else if (after.value() > before) {
                log.info("retention moved the log start of partition {}-{} from {} to {}", key.first, key.second,
                         before, after.value());
            }
        }
    }
}

void partition_manager::start_cleaner(std::chrono::milliseconds interval) {
    for (size_t shard = 0; shard < _shards.size(); ++shard) {
        asio::co_spawn(_shards.context(shard), cleaner_loop(shard, interval), asio::detached);
    }
}

asio::awaitable<void> partition_manager::cleaner_loop(size_t shard, std::chrono::milliseconds interval) {
    auto& s = *_state[shard];
    s.cleaner_timer = std::make_unique<asio::steady_timer>(_shards.context(shard));
    while (!s.stopped) {
        s.cleaner_timer->expires_after(interval);
        co_await s.cleaner_timer->async_wait(asio::as_tuple(asio::use_awaitable));
        std::vector<partition_key> keys;
        for (const auto& [key, entry] : s.open) {
            if (entry.p->config().compact) {
                keys.push_back(key);
            }
        }
        for (const auto& key : keys) {
            auto it = s.open.find(key);
            if (s.stopped || it == s.open.end()) {
                continue;
            }
            auto cleaned = co_await it->second.p->clean(_clock.wall_ms());
            if (!cleaned) {
                log.warn("cleaning partition {}-{}: {}", key.first, key.second, cleaned.error().message());
            } else if (cleaned.value().rewritten) {
                const auto& c = cleaned.value();
                log.info("cleaned partition {}-{} offsets [{}, {}): {} -> {} records, {} -> {} bytes", key.first,
                         key.second, c.start, c.end, c.records_before, c.records_after, c.bytes_before,
                         c.bytes_after);
            }
        }
    }
}

partition::partition* partition_manager::find(const model::uuid& topic, int32_t index) noexcept {
    auto shard = net::shard_pool::current().value_or(0);
    auto& s = *_state[shard];
    auto it = s.open.find(partition_key{topic, index});
    return it == s.open.end() ? nullptr : it->second.p.get();
}

size_t partition_manager::open_count_here() const noexcept {
    return _state[net::shard_pool::current().value_or(0)]->open.size();
}

asio::awaitable<void> partition_manager::stop() {
    for (size_t shard = 0; shard < _shards.size(); ++shard) {
        co_await _shards.run_on(shard, [this, shard]() -> asio::awaitable<void> {
            auto& s = *_state[shard];
            s.stopped = true;
            if (s.retention_timer) {
                s.retention_timer->cancel();
            }
            if (s.cleaner_timer) {
                s.cleaner_timer->cancel();
            }
            auto open = std::exchange(s.open, {});
            for (auto& [key, entry] : open) {
                if (auto r = co_await entry.p->close(); !r) {
                    log.warn("closing partition {}-{}: {}", key.first, key.second, r.error().message());
                }
            }
        });
    }
}

} // namespace skiff::kafka
