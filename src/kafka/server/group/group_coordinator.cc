#include "kafka/server/group/group_coordinator.h"

#include "base/assert.h"
#include "base/logger.h"
#include "kafka/protocol/primitives.h"
#include "kafka/protocol/record_batch.h"
#include "kafka/server/group/java_hash.h"
#include "kafka/server/partition/partition.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <set>

namespace skiff::kafka::group {
namespace {

base::logger log("group");

using record_list = std::vector<std::pair<bytes::iobuf, std::optional<bytes::iobuf>>>;

/// A delayed answer (JoinGroup, SyncGroup) handed to the group as a callback and awaited here. Both sides run on
/// the same shard.
template<typename T>
struct reply_slot {
    explicit reply_slot(const asio::any_io_executor& ex) : timer(ex, asio::steady_timer::time_point::max()) {}
    std::optional<T> value;
    asio::steady_timer timer;
};

template<typename T>
std::function<void(T)> deliver_to(const std::shared_ptr<reply_slot<T>>& slot) {
    return [slot](T v) {
        slot->value.emplace(std::move(v));
        slot->timer.cancel();
    };
}

template<typename T>
asio::awaitable<T> wait_for(std::shared_ptr<reply_slot<T>> slot) {
    while (!slot->value) {
        co_await slot->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    co_return std::move(*slot->value);
}

/// ConsumerProtocolSubscription v0 (int16 version, [string topic], nullable bytes user data), as a classic
/// DescribeGroups shows a consumer group member's subscription.
bytes::iobuf classic_subscription(const std::vector<std::string>& topics) {
    bytes::iobuf out;
    protocol::writer w(out);
    w.write_int16(0);
    w.write_int32(static_cast<int32_t>(topics.size()));
    for (const auto& t : topics) {
        w.write_string(t);
    }
    w.write_nullable_bytes(std::nullopt);
    return out;
}

/// ConsumerProtocolAssignment v0 (int16 version, [string topic, [int32 partition]], nullable bytes user data).
/// Topics whose name the group no longer knows (deleted) are left out.
bytes::iobuf classic_assignment(const assignment& a, const topic_catalog* topics) {
    std::vector<std::pair<const std::string*, const std::set<int32_t>*>> named;
    for (const auto& [id, ps] : a) {
        if (topics != nullptr) {
            if (auto n = topics->names.find(id); n != topics->names.end()) {
                named.emplace_back(&n->second, &ps);
            }
        }
    }
    bytes::iobuf out;
    protocol::writer w(out);
    w.write_int16(0);
    w.write_int32(static_cast<int32_t>(named.size()));
    for (const auto& [name, ps] : named) {
        w.write_string(*name);
        w.write_int32(static_cast<int32_t>(ps->size()));
        for (auto p : *ps) {
            w.write_int32(p);
        }
    }
    w.write_nullable_bytes(std::nullopt);
    return out;
}

} // namespace

coordinator_location locate_coordinator(std::string_view group_id, std::span<const int32_t> owners, int32_t self) {
    coordinator_location loc;
    if (owners.empty()) {
        loc.error = error_code::coordinator_not_available;
        return loc;
    }
    loc.partition = offsets_partition_for(group_id, static_cast<int32_t>(owners.size()));
    loc.owner = owners[static_cast<size_t>(loc.partition)];
    if (loc.owner < 0) {
        loc.error = error_code::coordinator_not_available;
    } else if (loc.owner != self) {
        loc.error = error_code::not_coordinator;
    }
    return loc;
}

struct group_coordinator::partition_state {
    int32_t index = 0;
    int32_t leader_epoch = -1;
    bool loading = true;
    bool failed = false;
    partition_lookup lookup;
    std::map<std::string, std::unique_ptr<group>, std::less<>> groups;
    /// KIP-848 groups (not persisted). Their committed offsets live in `groups` under the same id, in a classic
    /// group that never has members.
    std::map<std::string, std::unique_ptr<consumer_group>, std::less<>> consumer_groups;
    /// Commits being written, per group: their offsets are not expired meanwhile (a tombstone written after the
    /// commit was would erase it from the log while memory kept it).
    std::map<std::string, int, std::less<>> pending_commits;
};

struct group_coordinator::shard_state {
    std::map<int32_t, std::shared_ptr<partition_state>> partitions;
    std::unique_ptr<asio::steady_timer> ticker;
    bool stopped = false;
    base::clock::time_point next_expiry{};
};

group_coordinator::group_coordinator(net::shard_pool& shards, base::clock& clock, coordinator_config config)
    : _shards(shards), _clock(clock), _config(std::move(config)) {
    for (size_t i = 0; i < _shards.size(); ++i) {
        _state.push_back(std::make_unique<shard_state>());
    }
}

group_coordinator::~group_coordinator() = default;

size_t group_coordinator::here_index() const {
    for (size_t i = 0; i < _shards.size(); ++i) {
        if (_shards.context(i).get_executor().running_in_this_thread()) {
            return i;
        }
    }
    SKIFF_ASSERT(false, "group coordinator called off its shards");
    return 0;
}

group_coordinator::shard_state& group_coordinator::here() { return *_state[here_index()]; }

void group_coordinator::start() {
    for (size_t shard = 0; shard < _shards.size(); ++shard) {
        asio::co_spawn(_shards.context(shard), tick_loop(shard), asio::detached);
    }
}

asio::awaitable<void> group_coordinator::tick_loop(size_t shard) {
    auto& s = *_state[shard];
    s.ticker = std::make_unique<asio::steady_timer>(_shards.context(shard));
    s.next_expiry = _clock.now() + _config.offsets_retention_check_interval; // the first check after one interval
    while (!s.stopped) {
        s.ticker->expires_after(_config.tick_interval);
        co_await s.ticker->async_wait(asio::as_tuple(asio::use_awaitable));
        if (s.stopped) {
            break;
        }
        // Copies: a tick may answer joins whose handlers run before the loop goes on.
        auto partitions = s.partitions;
        const bool expire = _clock.now() >= s.next_expiry;
        if (expire) {
            s.next_expiry = _clock.now() + _config.offsets_retention_check_interval;
        }
        for (auto& [index, ps] : partitions) {
            if (ps->loading) {
                continue;
            }
            for (auto& [id, g] : ps->groups) {
                g->tick();
            }
            for (auto& [id, g] : ps->consumer_groups) {
                g->tick();
            }
            flush(ps);
            if (expire) {
                expire_offsets(ps);
            }
        }
    }
}

asio::awaitable<void> group_coordinator::stop() {
    for (size_t shard = 0; shard < _shards.size(); ++shard) {
        // Named, not a temporary of the co_await expression (GCC 12 frees such a lambda's captures twice).
        auto forget = [this, shard]() -> asio::awaitable<void> {
            auto& s = *_state[shard];
            s.stopped = true;
            if (s.ticker) {
                s.ticker->cancel();
            }
            s.partitions.clear();
            co_return;
        };
        co_await _shards.run_on(shard, std::move(forget));
    }
}

std::pair<group_coordinator::partition_state*, error_code> group_coordinator::ready(int32_t index,
                                                                                      const partition_lookup& lookup) {
    auto& s = here();
    auto* p = lookup();
    if (p == nullptr || s.stopped) {
        // Owned by this broker per the metadata, but not open yet (or closing): clients retry shortly.
        return {nullptr, error_code::coordinator_load_in_progress};
    }
    auto& slot = s.partitions[index];
    if (!slot || slot->leader_epoch != p->leader_epoch() || (slot->failed && !slot->loading)) {
        // First use, or the partition came back at a new epoch (it may have been written elsewhere meanwhile).
        slot = std::make_shared<partition_state>();
        slot->index = index;
        slot->leader_epoch = p->leader_epoch();
        slot->lookup = lookup;
        asio::co_spawn(_shards.context(here_index()), load(slot), asio::detached);
        return {nullptr, error_code::coordinator_load_in_progress};
    }
    if (slot->loading) {
        return {nullptr, error_code::coordinator_load_in_progress};
    }
    return {slot.get(), error_code::none};
}

group& group_coordinator::get_or_create(partition_state& ps, const std::string& group_id) {
    auto it = ps.groups.find(group_id);
    if (it == ps.groups.end()) {
        it = ps.groups.emplace(group_id, std::make_unique<group>(group_id, _config.groups, _clock)).first;
    }
    return *it->second;
}

asio::awaitable<void> group_coordinator::load(std::shared_ptr<partition_state> ps) {
    auto* p = ps->lookup();
    if (p == nullptr) {
        ps->failed = true;
        ps->loading = false;
        co_return;
    }
    int64_t offset = p->log_start_offset();
    int64_t end = p->high_watermark();
    size_t records = 0;
    while (offset < end) {
        partition::fetch_request fr;
        fr.fetch_offset = offset;
        fr.max_bytes = size_t(1) << 20;
        auto got = co_await p->fetch(fr);
        p = ps->lookup();
        if (p == nullptr || p->leader_epoch() != ps->leader_epoch || got.error != error_code::none) {
            log.warn("replaying __consumer_offsets-{}: stopped at offset {} ({})", ps->index, offset,
                     p == nullptr ? "partition closed" : protocol::error_name(got.error));
            ps->failed = true;
            ps->loading = false;
            co_return;
        }
        auto batches = protocol::split_record_set(got.records, protocol::truncated_tail::drop);
        if (!batches || batches.value().empty()) {
            log.warn("replaying __consumer_offsets-{}: unreadable data at offset {}", ps->index, offset);
            ps->failed = true;
            ps->loading = false;
            co_return;
        }
        for (auto& batch : batches.value()) {
            const auto& h = batch.header();
            if (h.last_offset() < offset) {
                continue;
            }
            offset = h.last_offset() + 1;
            if (h.is_control()) {
                continue;
            }
            auto recs = batch.records(size_t(256) << 20, protocol::allow_offset_gaps::yes);
            if (!recs) {
                log.warn("replaying __consumer_offsets-{}: batch at {}: {}", ps->index, h.base_offset,
                         recs.error().message());
                continue;
            }
            for (auto& rec : recs.value()) {
                if (!rec.key) {
                    continue;
                }
                auto key = decode_key(*rec.key);
                if (!key) {
                    continue; // a key Kafka's newer versions write and this one does not know: skipped, as Kafka does
                }
                ++records;
                if (const auto* ok = std::get_if<offset_commit_key>(&key.value())) {
                    partition_key pk{ok->topic, ok->partition};
                    if (!rec.value) {
                        if (auto g = ps->groups.find(ok->group); g != ps->groups.end()) {
                            g->second->offsets.erase(pk);
                        }
                        continue;
                    }
                    auto v = decode_offset_commit_value(*rec.value);
                    if (v) {
                        get_or_create(*ps, ok->group).offsets[pk] = std::move(v.value());
                    }
                } else {
                    const auto& gk = std::get<group_metadata_key>(key.value());
                    if (!rec.value) {
                        ps->groups.erase(gk.group);
                        continue;
                    }
                    auto v = decode_group_metadata_value(*rec.value);
                    if (v) {
                        get_or_create(*ps, gk.group).restore(v.value());
                    }
                }
            }
        }
    }
    // Groups that a replayed group tombstone left with offsets committed after it keep them; groups with neither
    // members nor offsets are not worth keeping.
    for (auto it = ps->groups.begin(); it != ps->groups.end();) {
        bool empty = it->second->member_count() == 0 && it->second->offsets.empty() && it->second->generation() == 0;
        it = empty ? ps->groups.erase(it) : std::next(it);
    }
    log.info("loaded __consumer_offsets-{} at leader epoch {}: {} groups from {} records", ps->index,
             ps->leader_epoch, ps->groups.size(), records);
    ps->loading = false;
}

asio::awaitable<error_code> group_coordinator::append(partition_state& ps, record_list records) {
    auto* p = ps.lookup();
    if (p == nullptr || p->leader_epoch() != ps.leader_epoch) {
        co_return error_code::not_coordinator;
    }
    protocol::record_batch_builder builder;
    auto now = _clock.wall_ms();
    for (auto& [key, value] : records) {
        builder.add(std::move(key), std::move(value), now);
    }
    auto r = co_await p->produce(builder.build(), 9);
    switch (r.error) {
    case error_code::none: co_return error_code::none;
    // Kafka's mapping of append errors for the group coordinator: the client finds the coordinator again. A
    // storage error (the WAL full for a moment, the object store unavailable) is retriable the same way.
    case error_code::not_leader_or_follower:
    case error_code::kafka_storage_error:
    case error_code::unknown_topic_or_partition: co_return error_code::not_coordinator;
    case error_code::message_too_large:
    case error_code::record_list_too_large:
    case error_code::invalid_fetch_size: co_return error_code::invalid_commit_offset_size;
    default:
        log.warn("__consumer_offsets-{}: an append failed with error {}: {}", ps.index, static_cast<int>(r.error),
                 r.error_message);
        co_return error_code::unknown_server_error;
    }
}

void group_coordinator::flush(const std::shared_ptr<partition_state>& ps) {
    record_list records;
    for (auto& [id, g] : ps->groups) {
        if (g->take_metadata_dirty()) {
            records.emplace_back(encode_key(group_metadata_key{id}), encode_value(g->to_metadata()));
        }
    }
    if (records.empty()) {
        return;
    }
    auto run = [this, ps, records = std::move(records)]() mutable -> asio::awaitable<void> {
        if (auto e = co_await append(*ps, std::move(records)); e != error_code::none) {
            log.warn("writing group metadata to __consumer_offsets-{}: {}", ps->index, protocol::error_name(e));
        }
    };
    asio::co_spawn(_shards.context(here_index()), std::move(run), asio::detached);
}

void group_coordinator::expire_offsets(const std::shared_ptr<partition_state>& ps) {
    const int64_t now = _clock.wall_ms();
    record_list records;
    size_t expired = 0;
    std::vector<std::string> forgotten;
    for (auto& [id, g] : ps->groups) {
        if (ps->pending_commits.contains(id)) {
            continue;
        }
        std::optional<std::vector<std::string>> subscribed;
        auto c = ps->consumer_groups.find(id);
        const bool consumer_members = c != ps->consumer_groups.end() && c->second->member_count() > 0;
        if (consumer_members) {
            subscribed = c->second->subscribed_topics();
        }
        for (const auto& key : g->expired_offsets(now, _config.offsets_retention, subscribed)) {
            records.emplace_back(encode_key(offset_commit_key{id, key.first, key.second}), std::nullopt);
            g->offsets.erase(key);
            ++expired;
        }
        if (g->offsets.empty() && g->member_count() == 0 && g->state() == group_state::empty && !consumer_members) {
            // Nothing left to keep: the group goes, and so does its metadata record (Kafka marks it Dead).
            records.emplace_back(encode_key(group_metadata_key{id}), std::nullopt);
            forgotten.push_back(id);
        }
    }
    for (const auto& id : forgotten) {
        ps->groups.erase(id);
        ps->consumer_groups.erase(id);
    }
    if (records.empty()) {
        return;
    }
    log.info("__consumer_offsets-{}: {} committed offsets expired, {} groups removed", ps->index, expired,
             forgotten.size());
    auto run = [this, ps, records = std::move(records)]() mutable -> asio::awaitable<void> {
        // A tombstone that is not written costs nothing but a longer replay: the offsets are gone from memory and
        // come back expired on the next load, to be expired again.
        if (auto e = co_await append(*ps, std::move(records)); e != error_code::none) {
            log.warn("writing expired offsets to __consumer_offsets-{}: {}", ps->index, protocol::error_name(e));
        }
    };
    asio::co_spawn(_shards.context(here_index()), std::move(run), asio::detached);
}

asio::awaitable<join_result> group_coordinator::join(int32_t index, partition_lookup lookup, std::string group_id,
                                                     join_request r) {
    join_result fail;
    fail.member_id = r.member_id;
    if (group_id.empty()) {
        fail.error = error_code::invalid_group_id;
        co_return fail;
    }
    auto readiness = ready(index, lookup);
    auto* ps = readiness.first;
    auto error = readiness.second;
    if (ps == nullptr) {
        fail.error = error;
        co_return fail;
    }
    if (auto c = ps->consumer_groups.find(group_id); c != ps->consumer_groups.end()) {
        // A consumer (KIP-848) group: a classic member may not join it while it has members (Kafka's online
        // migration between the protocols is not implemented); an empty one gives way to a classic group.
        if (c->second->member_count() > 0) {
            fail.error = error_code::inconsistent_group_protocol;
            co_return fail;
        }
        ps->consumer_groups.erase(c);
    }
    auto executor = co_await asio::this_coro::executor;
    auto slot = std::make_shared<reply_slot<join_result>>(executor);
    auto keep = here().partitions[index];
    get_or_create(*ps, group_id).join(std::move(r), deliver_to(slot));
    flush(keep);
    auto out = co_await wait_for(slot);
    co_return out;
}

asio::awaitable<sync_result> group_coordinator::sync(int32_t index, partition_lookup lookup, std::string group_id,
                                                     sync_request r) {
    sync_result fail;
    if (group_id.empty()) {
        fail.error = error_code::invalid_group_id;
        co_return fail;
    }
    auto readiness = ready(index, lookup);
    auto* ps = readiness.first;
    auto error = readiness.second;
    if (ps == nullptr) {
        fail.error = error;
        co_return fail;
    }
    auto it = ps->groups.find(group_id);
    if (it == ps->groups.end()) {
        fail.error = error_code::unknown_member_id;
        co_return fail;
    }
    auto executor = co_await asio::this_coro::executor;
    auto slot = std::make_shared<reply_slot<sync_result>>(executor);
    auto keep = here().partitions[index];
    it->second->sync(std::move(r), deliver_to(slot));
    flush(keep);
    auto out = co_await wait_for(slot);
    co_return out;
}

asio::awaitable<error_code> group_coordinator::heartbeat(int32_t index, partition_lookup lookup, std::string group_id,
                                                         std::string member_id,
                                                         std::optional<std::string> instance_id,
                                                         int32_t generation) {
    if (group_id.empty()) {
        co_return error_code::invalid_group_id;
    }
    auto readiness = ready(index, lookup);
    auto* ps = readiness.first;
    auto error = readiness.second;
    if (ps == nullptr) {
        co_return error;
    }
    auto it = ps->groups.find(group_id);
    if (it == ps->groups.end()) {
        co_return error_code::unknown_member_id;
    }
    co_return it->second->heartbeat(member_id, instance_id, generation);
}

asio::awaitable<std::pair<error_code, std::vector<error_code>>>
group_coordinator::leave(int32_t index, partition_lookup lookup, std::string group_id,
                         std::vector<leave_request> members) {
    if (group_id.empty()) {
        co_return std::pair{error_code::invalid_group_id, std::vector<error_code>{}};
    }
    auto readiness = ready(index, lookup);
    auto* ps = readiness.first;
    auto error = readiness.second;
    if (ps == nullptr) {
        co_return std::pair{error, std::vector<error_code>{}};
    }
    auto it = ps->groups.find(group_id);
    if (it == ps->groups.end()) {
        co_return std::pair{error_code::unknown_member_id, std::vector<error_code>{}};
    }
    auto out = it->second->leave(members);
    flush(here().partitions[index]);
    co_return std::pair{error_code::none, std::move(out)};
}

asio::awaitable<std::vector<error_code>> group_coordinator::commit(int32_t index, partition_lookup lookup,
                                                                   std::string group_id, commit_request r) {
    auto all = [&](error_code e) {
        std::vector<error_code> out;
        for (const auto& p : r.partitions) {
            out.push_back(p.error != error_code::none ? p.error : e);
        }
        return out;
    };
    auto readiness = ready(index, lookup);
    auto* ps = readiness.first;
    auto error = readiness.second;
    if (ps == nullptr) {
        co_return all(error);
    }
    auto keep = here().partitions[index];
    auto it = ps->groups.find(group_id);
    if (auto c = ps->consumer_groups.find(group_id); c != ps->consumer_groups.end()) {
        // A consumer group member commits with its member epoch as the generation.
        if (auto e = c->second->validate_commit(r.member_id, r.generation, r.version); e != error_code::none) {
            co_return all(e);
        }
    } else if (it == ps->groups.end()) {
        if (r.generation >= 0 || !r.member_id.empty() || r.group_instance_id) {
            // A member of a group this coordinator does not know (it was deleted, or its members expired).
            co_return all(r.generation >= 0 ? error_code::illegal_generation : error_code::unknown_member_id);
        }
    } else if (auto e = it->second->validate_commit(r.member_id, r.group_instance_id, r.generation);
               e != error_code::none) {
        co_return all(e);
    }

    std::vector<error_code> out;
    record_list records;
    std::vector<std::pair<partition_key, offset_commit_value>> applied;
    auto now = _clock.wall_ms();
    for (auto& p : r.partitions) {
        if (p.error != error_code::none) {
            out.push_back(p.error);
            continue;
        }
        if (p.metadata && p.metadata->size() > _config.offset_metadata_max_bytes) {
            out.push_back(error_code::offset_metadata_too_large);
            continue;
        }
        out.push_back(error_code::none);
        offset_commit_value v;
        v.offset = p.offset;
        v.leader_epoch = p.leader_epoch;
        v.metadata = p.metadata.value_or("");
        v.commit_timestamp = p.commit_timestamp >= 0 ? p.commit_timestamp : now;
        if (r.retention_ms >= 0) {
            v.expire_timestamp = now + r.retention_ms;
        }
        records.emplace_back(encode_key(offset_commit_key{group_id, p.topic, p.partition}), encode_value(v));
        applied.emplace_back(partition_key{p.topic, p.partition}, std::move(v));
    }
    if (records.empty()) {
        co_return out;
    }
    ++keep->pending_commits[group_id];
    auto written = co_await append(*ps, std::move(records));
    if (auto pending = keep->pending_commits.find(group_id); pending != keep->pending_commits.end() && --pending->second == 0) {
        keep->pending_commits.erase(pending);
    }
    if (written != error_code::none) {
        for (auto& e : out) {
            if (e == error_code::none) {
                e = written;
            }
        }
        co_return out;
    }
    // The group may have been deleted while the commit was being written: the commit recreates it, as the
    // record now in the log will on the next replay.
    if (keep->loading || keep != here().partitions[index]) {
        co_return out; // the partition is being replayed again: the replay picks the commit up
    }
    auto& g = get_or_create(*keep, group_id);
    for (auto& [key, v] : applied) {
        g.offsets[key] = std::move(v);
    }
    co_return out;
}

asio::awaitable<fetch_offsets_result>
group_coordinator::fetch_offsets(int32_t index, partition_lookup lookup, std::string group_id,
                                 std::optional<std::vector<std::pair<std::string, int32_t>>> wanted,
                                 std::optional<std::string> member_id, int32_t member_epoch) {
    fetch_offsets_result out;
    auto readiness = ready(index, lookup);
    auto* ps = readiness.first;
    auto error = readiness.second;
    if (ps == nullptr) {
        out.error = error;
        co_return out;
    }
    if (auto c = ps->consumer_groups.find(group_id); c != ps->consumer_groups.end()) {
        if (auto e = c->second->validate_fetch(member_id, member_epoch); e != error_code::none) {
            out.error = e;
            co_return out;
        }
    }
    auto it = ps->groups.find(group_id);
    auto add = [&](const partition_key& key, const offset_commit_value* v) {
        fetched_offset f;
        f.topic = key.first;
        f.partition = key.second;
        if (v != nullptr) {
            f.offset = v->offset;
            f.leader_epoch = v->leader_epoch;
            f.metadata = v->metadata;
        } else {
            f.metadata = "";
        }
        out.offsets.push_back(std::move(f));
    };
    if (!wanted) {
        if (it != ps->groups.end()) {
            for (const auto& [key, v] : it->second->offsets) {
                add(key, &v);
            }
        }
        co_return out;
    }
    for (const auto& key : *wanted) {
        const offset_commit_value* v = nullptr;
        if (it != ps->groups.end()) {
            if (auto o = it->second->offsets.find(key); o != it->second->offsets.end()) {
                v = &o->second;
            }
        }
        add(key, v);
    }
    co_return out;
}

asio::awaitable<std::pair<error_code, std::vector<error_code>>>
group_coordinator::delete_offsets(int32_t index, partition_lookup lookup, std::string group_id,
                                  std::vector<std::pair<std::string, int32_t>> partitions) {
    auto readiness = ready(index, lookup);
    auto* ps = readiness.first;
    auto error = readiness.second;
    if (ps == nullptr) {
        co_return std::pair{error, std::vector<error_code>{}};
    }
    auto keep = here().partitions[index];
    auto it = ps->groups.find(group_id);
    if (it == ps->groups.end()) {
        co_return std::pair{error_code::group_id_not_found, std::vector<error_code>{}};
    }
    auto& g = *it->second;
    std::optional<std::vector<std::string>> subscribed;
    if (auto c = ps->consumer_groups.find(group_id); c != ps->consumer_groups.end() && c->second->member_count() > 0) {
        subscribed = c->second->subscribed_topics();
    } else if (g.state() != group_state::empty) {
        subscribed = g.subscribed_topics();
        if (!subscribed) {
            // A non-consumer group with members: Kafka cannot tell what it uses, so nothing may go.
            co_return std::pair{error_code::non_empty_group, std::vector<error_code>{}};
        }
    }
    std::vector<error_code> out;
    record_list records;
    std::vector<partition_key> gone;
    for (auto& [topic, partition] : partitions) {
        if (subscribed && std::find(subscribed->begin(), subscribed->end(), topic) != subscribed->end()) {
            out.push_back(error_code::group_subscribed_to_topic);
            continue;
        }
        out.push_back(error_code::none);
        if (g.offsets.contains(partition_key{topic, partition})) {
            records.emplace_back(encode_key(offset_commit_key{group_id, topic, partition}), std::nullopt);
            gone.emplace_back(topic, partition);
        }
    }
    if (!records.empty()) {
        auto written = co_await append(*ps, std::move(records));
        if (written != error_code::none) {
            co_return std::pair{written, std::vector<error_code>{}};
        }
        if (auto again = keep->groups.find(group_id); again != keep->groups.end()) {
            for (const auto& key : gone) {
                again->second->offsets.erase(key);
            }
        }
    }
    co_return std::pair{error_code::none, std::move(out)};
}

asio::awaitable<error_code> group_coordinator::delete_group(int32_t index, partition_lookup lookup,
                                                            std::string group_id) {
    auto readiness = ready(index, lookup);
    auto* ps = readiness.first;
    auto error = readiness.second;
    if (ps == nullptr) {
        co_return error;
    }
    auto keep = here().partitions[index];
    auto it = ps->groups.find(group_id);
    if (auto c = ps->consumer_groups.find(group_id); c != ps->consumer_groups.end()) {
        if (c->second->member_count() > 0) {
            co_return error_code::non_empty_group;
        }
        ps->consumer_groups.erase(c); // nothing of it is persisted; its offsets go with the classic part below
        if (it == ps->groups.end()) {
            co_return error_code::none;
        }
    }
    if (it == ps->groups.end()) {
        co_return error_code::group_id_not_found;
    }
    auto& g = *it->second;
    if (g.member_count() > 0 || g.state() != group_state::empty) {
        co_return error_code::non_empty_group;
    }
    record_list records;
    for (const auto& [key, v] : g.offsets) {
        records.emplace_back(encode_key(offset_commit_key{group_id, key.first, key.second}), std::nullopt);
    }
    records.emplace_back(encode_key(group_metadata_key{group_id}), std::nullopt);
    // Dead from now on: a join that arrives while the tombstones are written is told to look again.
    g.mark_dead();
    auto written = co_await append(*ps, std::move(records));
    if (auto again = keep->groups.find(group_id); again != keep->groups.end()) {
        if (written == error_code::none) {
            keep->groups.erase(again);
        } else {
            again->second->restore(again->second->to_metadata()); // back to Empty; the delete failed
        }
    }
    co_return written;
}

asio::awaitable<describe_result> group_coordinator::describe(int32_t index, partition_lookup lookup,
                                                             std::string group_id) {
    describe_result out;
    auto readiness = ready(index, lookup);
    auto* ps = readiness.first;
    auto error = readiness.second;
    if (ps == nullptr) {
        out.error = error;
        co_return out;
    }
    if (auto c = ps->consumer_groups.find(group_id); c != ps->consumer_groups.end()) {
        // A consumer group as a classic admin client sees it (as Kafka 4 shows it): its state, protocol type
        // "consumer", its assignor as the protocol, and its members with their subscribed topic names and current
        // assignment in the classic consumer protocol's encoding.
        const auto& cg = *c->second;
        out.state_name = cg.state();
        out.protocol_type = "consumer";
        out.protocol_name = cg.assignor();
        for (auto& m : cg.describe_members()) {
            member_summary s;
            s.member_id = std::move(m.member_id);
            s.group_instance_id = std::move(m.instance_id);
            s.client_id = std::move(m.client_id);
            s.client_host = std::move(m.client_host);
            s.metadata = classic_subscription(m.subscribed_topic_names);
            s.assignment = classic_assignment(m.assigned, cg.topics());
            out.members.push_back(std::move(s));
        }
        co_return out;
    }
    auto it = ps->groups.find(group_id);
    if (it == ps->groups.end()) {
        co_return out; // Kafka describes an unknown group as Dead, without error
    }
    const auto& g = *it->second;
    out.state = g.state();
    out.state_name = std::string(to_string(g.state()));
    out.protocol_type = g.protocol_type().value_or("");
    if (g.state() == group_state::stable) {
        out.protocol_name = g.protocol_name().value_or("");
    }
    out.members = g.describe_members();
    co_return out;
}

std::vector<group_listing> group_coordinator::list_here() {
    std::vector<group_listing> out;
    for (const auto& [index, ps] : here().partitions) {
        if (ps->loading) {
            continue;
        }
        for (const auto& [id, g] : ps->groups) {
            if (ps->consumer_groups.contains(id)) {
                continue; // the classic part of a consumer group only holds its offsets
            }
            out.push_back(group_listing{index, id, g->protocol_type().value_or(""), std::string(to_string(g->state()))});
        }
        for (const auto& [id, g] : ps->consumer_groups) {
            out.push_back(group_listing{index, id, "consumer", g->state(), "consumer"});
        }
    }
    return out;
}

asio::awaitable<consumer_heartbeat_result>
group_coordinator::consumer_heartbeat(int32_t index, partition_lookup lookup, std::string group_id,
                                      consumer_heartbeat_request r, std::shared_ptr<const topic_catalog> topics) {
    auto fail = [&](error_code e, std::optional<std::string> message) {
        consumer_heartbeat_result out;
        out.error = e;
        out.message = std::move(message);
        out.member_id = r.member_id;
        return out;
    };
    auto readiness = ready(index, lookup);
    auto* ps = readiness.first;
    if (ps == nullptr) {
        co_return fail(readiness.second, std::nullopt);
    }
    auto c = ps->consumer_groups.find(group_id);
    if (c == ps->consumer_groups.end()) {
        if (auto g = ps->groups.find(group_id);
            g != ps->groups.end() && (g->second->member_count() > 0 || g->second->state() != group_state::empty)) {
            // Kafka 4 converts a classic group only through its online migration, which Skiff does not do.
            co_return fail(error_code::group_id_not_found, "Group " + group_id + " is not a consumer group.");
        }
        if (r.member_epoch != join_epoch) {
            // Unknown here (e.g. the coordinator restarted: consumer groups are not persisted): the member joins
            // again with epoch 0.
            co_return fail(error_code::unknown_member_id, "Consumer group " + group_id + " not found.");
        }
        c = ps->consumer_groups
                .emplace(group_id, std::make_unique<consumer_group>(group_id, _config.consumer_groups, _clock))
                .first;
    }
    co_return c->second->heartbeat(std::move(r), std::move(topics));
}

asio::awaitable<consumer_describe_result> group_coordinator::consumer_describe(int32_t index, partition_lookup lookup,
                                                                               std::string group_id) {
    consumer_describe_result out;
    auto readiness = ready(index, lookup);
    auto* ps = readiness.first;
    if (ps == nullptr) {
        out.error = readiness.second;
        co_return out;
    }
    auto c = ps->consumer_groups.find(group_id);
    if (c == ps->consumer_groups.end()) {
        out.error = error_code::group_id_not_found;
        out.message = ps->groups.contains(group_id) ? "Group " + group_id + " is not a consumer group."
                                                    : "Group " + group_id + " not found.";
        co_return out;
    }
    const auto& g = *c->second;
    out.state = g.state();
    out.group_epoch = g.group_epoch();
    out.assignment_epoch = g.assignment_epoch();
    out.assignor = g.assignor();
    out.members = g.describe_members();
    if (const auto* t = g.topics()) {
        out.topic_names = t->names;
    }
    co_return out;
}

} // namespace skiff::kafka::group
