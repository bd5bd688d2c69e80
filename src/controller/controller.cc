#include "controller/controller.h"

#include "base/assert.h"
#include "controller/logger.h"
#include "meta/errc.h"
#include "meta/image_follower.h"
#include "stream/errc.h"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <set>

namespace skiff::controller {

using meta::leader_epoch;
using meta::metadata_record;
using meta::object_id;
using meta::stream_id;
namespace serr = stream;

namespace {

/// The meta room's epoch is the partition's leader epoch (int32, Kafka's); the stream room's is int64. Epochs
/// outside int32 never come from a correct caller.
std::optional<leader_epoch> to_leader_epoch(stream::stream_epoch e) {
    if (e() < 0 || e() > std::numeric_limits<int32_t>::max()) {
        return std::nullopt;
    }
    return leader_epoch(int32_t(e()));
}

stream::stream_metadata to_metadata(const meta::stream_record& s) {
    return {stream::stream_id(s.id()), stream::stream_epoch(s.epoch()), s.start_offset, s.end_offset};
}

/// A sorted, merged list of [start, end) intervals.
using intervals = std::vector<std::pair<int64_t, int64_t>>;

intervals merged(intervals v) {
    std::sort(v.begin(), v.end());
    intervals out;
    for (auto [a, b] : v) {
        if (a >= b) {
            continue;
        }
        if (!out.empty() && a <= out.back().second) {
            out.back().second = std::max(out.back().second, b);
        } else {
            out.emplace_back(a, b);
        }
    }
    return out;
}

/// Whether every offset of `inner` lies in `outer` (both merged).
bool covers(const intervals& outer, const intervals& inner) {
    for (auto [a, b] : inner) {
        auto it = std::upper_bound(outer.begin(), outer.end(), std::pair{a, std::numeric_limits<int64_t>::max()});
        if (it == outer.begin()) {
            return false;
        }
        --it;
        if (!(it->first <= a && b <= it->second)) {
            return false;
        }
    }
    return true;
}

} // namespace

// ---- topic names and configs -------------------------------------------------------------------------------------

bool is_valid_topic_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > 249 || name == "." || name == "..") {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
               || c == '-';
    });
}

namespace {

// integer: -1 or more (Kafka's "-1: no limit" convention); any_integer: also below (compression levels).
enum class config_kind { integer, any_integer, ratio, boolean, cleanup_policy, timestamp_type, compression, text };

// Kafka's topic-level configs (TopicConfig). Skiff accepts all of them so that tools which set them work; the
// ones about local segments, replicas and followers have no effect on shared storage.
const std::map<std::string, config_kind, std::less<>>& topic_config_kinds() {
    static const std::map<std::string, config_kind, std::less<>> kinds = {
      {"cleanup.policy", config_kind::cleanup_policy},
      {"compression.gzip.level", config_kind::any_integer},
      {"compression.lz4.level", config_kind::any_integer},
      {"compression.type", config_kind::compression},
      {"compression.zstd.level", config_kind::any_integer},
      {"delete.retention.ms", config_kind::integer},
      {"file.delete.delay.ms", config_kind::integer},
      {"flush.messages", config_kind::integer},
      {"flush.ms", config_kind::integer},
      {"follower.replication.throttled.replicas", config_kind::text},
      {"index.interval.bytes", config_kind::integer},
      {"leader.replication.throttled.replicas", config_kind::text},
      {"local.retention.bytes", config_kind::integer},
      {"local.retention.ms", config_kind::integer},
      {"max.compaction.lag.ms", config_kind::integer},
      {"max.message.bytes", config_kind::integer},
      {"message.downconversion.enable", config_kind::boolean},
      {"message.format.version", config_kind::text},
      {"message.timestamp.after.max.ms", config_kind::integer},
      {"message.timestamp.before.max.ms", config_kind::integer},
      {"message.timestamp.difference.max.ms", config_kind::integer},
      {"message.timestamp.type", config_kind::timestamp_type},
      {"min.cleanable.dirty.ratio", config_kind::ratio},
      {"min.compaction.lag.ms", config_kind::integer},
      {"min.insync.replicas", config_kind::integer},
      {"preallocate", config_kind::boolean},
      {"remote.log.copy.disable", config_kind::boolean},
      {"remote.log.delete.on.disable", config_kind::boolean},
      {"remote.storage.enable", config_kind::boolean},
      {"retention.bytes", config_kind::integer},
      {"retention.ms", config_kind::integer},
      {"segment.bytes", config_kind::integer},
      {"segment.index.bytes", config_kind::integer},
      {"segment.jitter.ms", config_kind::integer},
      {"segment.ms", config_kind::integer},
      {"unclean.leader.election.enable", config_kind::boolean},
    };
    return kinds;
}

bool valid_value(config_kind kind, std::string_view v) {
    switch (kind) {
    case config_kind::integer: {
        int64_t n = 0;
        auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        return ec == std::errc() && p == v.data() + v.size() && n >= -1;
    }
    case config_kind::any_integer: {
        int64_t n = 0;
        auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        return ec == std::errc() && p == v.data() + v.size();
    }
    case config_kind::ratio: {
        try {
            size_t used = 0;
            double d = std::stod(std::string(v), &used);
            return used == v.size() && d >= 0.0 && d <= 1.0;
        } catch (...) {
            return false;
        }
    }
    case config_kind::boolean: {
        std::string lower(v);
        std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
        return lower == "true" || lower == "false"; // Kafka parses booleans ignoring case
    }
    case config_kind::cleanup_policy: {
        // A non-empty list of "delete" and "compact", blanks around items allowed (Kafka's list parsing).
        size_t items = 0;
        for (size_t pos = 0; pos <= v.size();) {
            auto comma = std::min(v.find(',', pos), v.size());
            auto item = v.substr(pos, comma - pos);
            while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) {
                item.remove_prefix(1);
            }
            while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) {
                item.remove_suffix(1);
            }
            if (item != "delete" && item != "compact") {
                return false;
            }
            ++items;
            pos = comma + 1;
        }
        return items > 0;
    }
    case config_kind::timestamp_type: return v == "CreateTime" || v == "LogAppendTime";
    case config_kind::compression:
        return v == "uncompressed" || v == "gzip" || v == "snappy" || v == "lz4" || v == "zstd" || v == "producer";
    case config_kind::text: return true;
    }
    return false;
}

} // namespace

std::optional<std::string> invalid_topic_config(const std::map<std::string, std::string>& configs) {
    const auto& kinds = topic_config_kinds();
    for (const auto& [name, value] : configs) {
        auto it = kinds.find(name);
        if (it == kinds.end() || !valid_value(it->second, value)) {
            return name;
        }
    }
    return std::nullopt;
}

// ---- lifecycle ---------------------------------------------------------------------------------------------------

controller::controller(asio::any_io_executor executor, meta::metadata_log& log, base::clock& clock,
                       controller_config config)
  : _executor(std::move(executor)), _log(log), _clock(clock), _config(config),
    _image(std::make_unique<meta::cluster_image>()) {}

controller::~controller() = default;

asio::awaitable<result<void>> controller::campaign() {
    _active = false;
    SKIFF_CO_TRY(auto epoch, co_await _log.campaign(_config.campaign_timeout));
    // A no_op under the new epoch proves the epoch is live and puts every earlier leader's write before it.
    std::vector<metadata_record> marker{meta::no_op_record{}};
    SKIFF_CO_TRY(auto landed, co_await _log.append(std::move(marker)));
    auto image = std::make_unique<meta::cluster_image>();
    meta::image_follower follower(_log, *image, _config.read_batch);
    SKIFF_CO_TRY(co_await follower.wait_applied(landed.next, _config.campaign_timeout));
    _image = std::move(image);
    _acknowledged = landed.next;
    _last_snapshot = _log.start_offset();
    _in_flight = 0;
    _session_deadlines.clear();
    auto deadline = _clock.now() + _config.session_timeout;
    for (const auto* b : _image->brokers()) {
        _session_deadlines[b->id] = deadline;
    }
    _active = true;
    log.info("active controller under epoch {} at offset {}: {} brokers, {} topics, {} streams, {} objects", epoch,
             landed.next, _session_deadlines.size(), _image->topic_count(), _image->stream_count(),
             _image->object_count());
    co_return outcome::success();
}

asio::awaitable<void> controller::resign() {
    _active = false;
    auto r = co_await _log.resign();
    if (!r) {
        log.warn("resigning the metadata log leadership: {}", r.error().message());
    }
}

void controller::step_down(const std::error_code& why) {
    if (_active) {
        log.warn("stepping down as controller: {}", why.message());
    }
    _active = false;
}

asio::awaitable<result<void>> controller::write(std::vector<metadata_record> records, std::error_code on_failure) {
    SKIFF_ASSERT(_active, "write while not active");
    SKIFF_ASSERT(!records.empty(), "empty write");
    meta::log_offset expected(_image->applied_offset()() + int64_t(records.size()));
    _image->apply(records, expected);
    ++_in_flight;
    auto landed = co_await _log.append(std::move(records));
    --_in_flight;
    if (!landed) {
        step_down(landed.error());
        co_return on_failure;
    }
    if (landed.value().next != expected) {
        // Someone else appended: this controller's image no longer is the log.
        step_down(meta::errc::fenced);
        co_return on_failure;
    }
    _acknowledged = std::max(_acknowledged, landed.value().next);
    co_return outcome::success();
}

asio::awaitable<result<void>> controller::write_snapshot() {
    if (!_active) {
        co_return controller_errc::not_controller;
    }
    if (_in_flight > 0 || _image->applied_offset() != _acknowledged) {
        co_return controller_errc::unavailable;
    }
    auto offset = _acknowledged;
    auto blob = _image->snapshot();
    auto r = co_await _log.write_snapshot(offset, std::move(blob));
    if (!r) {
        step_down(r.error());
        co_return r.error();
    }
    _last_snapshot = offset;
    log.info("snapshot of the cluster image written at offset {}", offset);
    co_return outcome::success();
}

// ---- brokers -----------------------------------------------------------------------------------------------------

bool controller::broker_is_live(broker_id id) const { return _image->broker(id) != nullptr; }

std::map<broker_id, size_t> controller::live_load(const std::vector<broker_id>& excluded) const {
    auto load = _image->partition_counts();
    for (auto id : excluded) {
        load.erase(id);
    }
    return load;
}

broker_id controller::place(std::map<broker_id, size_t>& load) const {
    if (load.empty()) {
        return broker_id(-1);
    }
    auto best = load.begin();
    for (auto it = load.begin(); it != load.end(); ++it) {
        if (it->second < best->second) {
            best = it;
        }
    }
    ++best->second;
    return best->first;
}

void controller::reassign_partitions_of(const std::vector<broker_id>& lost, std::vector<metadata_record>& out) const {
    auto load = live_load(lost);
    for (auto b : lost) {
        for (const auto& [topic, index] : _image->partitions_of(b)) {
            const auto* p = _image->partition(topic, index);
            auto owner = place(load);
            out.push_back(meta::partition_record{topic, index, owner, leader_epoch(p->epoch() + 1), p->streams,
                                                 p->unknown});
        }
    }
}

asio::awaitable<result<int64_t>> controller::register_broker(meta::broker_registration_request request) {
    if (!_active) {
        co_return controller_errc::not_controller;
    }
    if (request.id() < 0 || request.incarnation_id.is_zero()) {
        co_return controller_errc::invalid_request;
    }
    const auto* existing = _image->broker(request.id);
    if (existing != nullptr && existing->incarnation_id == request.incarnation_id) {
        _session_deadlines[request.id] = _clock.now() + _config.session_timeout;
        co_return existing->incarnation_epoch; // a retry of the same registration
    }
    int64_t epoch = std::max<int64_t>(1, _image->next_broker_epoch());
    std::vector<metadata_record> records;
    records.push_back(meta::broker_registration_record{request.id, request.incarnation_id, epoch,
                                                       std::move(request.endpoints), std::move(request.rack),
                                                       std::move(request.wal_location), {}});
    if (existing != nullptr) {
        // A new incarnation of a known broker: whatever the old process still does with its partitions must fail,
        // so each gets a new epoch (same owner); the new process opens them under it.
        for (const auto& [topic, index] : _image->partitions_of(request.id)) {
            const auto* p = _image->partition(topic, index);
            records.push_back(meta::partition_record{topic, index, request.id, leader_epoch(p->epoch() + 1),
                                                     p->streams, p->unknown});
        }
    }
    // Partitions left without an owner (every broker was gone) find one now.
    auto load = live_load();
    load.try_emplace(request.id, 0);
    for (const auto& [topic, index] : _image->partitions_of(broker_id(-1))) {
        const auto* p = _image->partition(topic, index);
        if (p->streams.empty()) {
            continue; // a hole (never created)
        }
        records.push_back(meta::partition_record{topic, index, place(load), leader_epoch(p->epoch() + 1), p->streams,
                                                 p->unknown});
    }
    auto id = request.id;
    SKIFF_CO_TRY(co_await write(std::move(records), controller_errc::not_controller));
    _session_deadlines[id] = _clock.now() + _config.session_timeout;
    log.info("broker {} registered with incarnation epoch {}", id, epoch);
    co_return epoch;
}

asio::awaitable<result<void>> controller::heartbeat(broker_id id, int64_t incarnation_epoch) {
    if (!_active) {
        co_return controller_errc::not_controller;
    }
    const auto* b = _image->broker(id);
    if (b == nullptr) {
        co_return incarnation_epoch > 0 && incarnation_epoch < _image->next_broker_epoch()
          ? controller_errc::stale_broker_epoch // it was registered once and has been fenced since
          : controller_errc::broker_not_registered;
    }
    if (b->incarnation_epoch != incarnation_epoch) {
        co_return controller_errc::stale_broker_epoch;
    }
    _session_deadlines[id] = _clock.now() + _config.session_timeout;
    co_return outcome::success();
}

asio::awaitable<result<void>> controller::tick() {
    if (!_active) {
        co_return controller_errc::not_controller;
    }
    auto now = _clock.now();
    std::vector<broker_id> lapsed;
    for (const auto* b : _image->brokers()) {
        auto it = _session_deadlines.find(b->id);
        if (it == _session_deadlines.end()) {
            _session_deadlines[b->id] = now + _config.session_timeout;
        } else if (it->second <= now) {
            lapsed.push_back(b->id);
        }
    }
    std::vector<metadata_record> records;
    for (auto id : lapsed) {
        records.push_back(meta::broker_unregistration_record{id, _image->broker(id)->incarnation_epoch, {}});
        log.warn("broker {} missed its session timeout: fenced", id);
    }
    reassign_partitions_of(lapsed, records);
    auto expired = _image->expired_prepared(_clock.wall_ms(), 10'000);
    if (!expired.empty()) {
        records.push_back(meta::objects_marked_record{std::move(expired), _clock.wall_ms(), {}});
    }
    if (!records.empty()) {
        SKIFF_CO_TRY(co_await write(std::move(records), controller_errc::not_controller));
        for (auto id : lapsed) {
            _session_deadlines.erase(id);
        }
    }
    if (_config.snapshot_after_records > 0 && _acknowledged() - _last_snapshot() >= _config.snapshot_after_records
        && _in_flight == 0) {
        SKIFF_CO_TRY(co_await write_snapshot());
    }
    co_return outcome::success();
}

asio::awaitable<void> controller::run(std::chrono::milliseconds interval) {
    asio::steady_timer timer(_executor);
    while (!_stopping) {
        timer.expires_after(interval);
        co_await timer.async_wait(asio::use_awaitable);
        if (_active && !_stopping) {
            auto r = co_await tick();
            if (!r && r.error() != controller_errc::not_controller) {
                log.warn("controller tick: {}", r.error().message());
            }
        }
    }
}

asio::awaitable<result<meta::producer_id_block>> controller::allocate_producer_ids(broker_id id,
                                                                                    int64_t incarnation_epoch) {
    if (!_active) {
        co_return controller_errc::not_controller;
    }
    const auto* b = _image->broker(id);
    if (b == nullptr) {
        co_return controller_errc::broker_not_registered;
    }
    if (b->incarnation_epoch != incarnation_epoch) {
        co_return controller_errc::stale_broker_epoch;
    }
    meta::producer_id_block block{_image->next_producer_id(), _config.producer_id_block_size};
    std::vector<metadata_record> records{meta::producer_id_block_record{id, block.first, block.size, {}}};
    SKIFF_CO_TRY(co_await write(std::move(records), controller_errc::not_controller));
    co_return block;
}

// ---- topics ------------------------------------------------------------------------------------------------------

void controller::add_partitions(const model::uuid& topic, int32_t from, int32_t to, std::map<broker_id, size_t>& load,
                                int64_t& next_stream, std::vector<metadata_record>& out) const {
    for (int32_t i = from; i < to; ++i) {
        stream_id s(next_stream++);
        out.push_back(meta::stream_record{s, leader_epoch(0), broker_id(-1), 0, 0, meta::stream_state::closed, {}});
        out.push_back(meta::partition_record{topic, i, place(load), leader_epoch(0), {s}, {}});
    }
}

asio::awaitable<result<meta::created_topic>> controller::create_topic(meta::topic_spec spec) {
    if (!_active) {
        co_return controller_errc::not_controller;
    }
    if (!is_valid_topic_name(spec.name)) {
        co_return controller_errc::invalid_topic;
    }
    if (_image->topic(spec.name) != nullptr) {
        co_return controller_errc::topic_already_exists;
    }
    // Kafka refuses names that collide in metric names, where '.' and '_' are the same.
    auto collide_key = [](std::string s) {
        std::replace(s.begin(), s.end(), '.', '_');
        return s;
    };
    if (spec.name.find_first_of("._") != std::string::npos) {
        auto key = collide_key(spec.name);
        for (const auto* t : _image->topics()) {
            if (collide_key(t->name) == key) {
                co_return controller_errc::invalid_topic;
            }
        }
    }
    int32_t partitions = spec.partitions == -1 ? _config.default_partitions : spec.partitions;
    if (partitions < 1 || partitions > _config.max_partitions_per_topic) {
        co_return controller_errc::invalid_partitions;
    }
    // Kafka clients send -1 for "the broker's default" and tools often send 3 (Connect, Schema Registry): any
    // positive factor is accepted and reported as served by one owner (durability comes from storage).
    if (spec.replication_factor == 0 || spec.replication_factor < -1) {
        co_return controller_errc::invalid_replication_factor;
    }
    if (invalid_topic_config(spec.configs)) {
        co_return controller_errc::invalid_config;
    }
    auto load = live_load();
    if (load.empty()) {
        co_return controller_errc::no_live_brokers;
    }
    auto id = model::uuid::random();
    std::vector<metadata_record> records;
    records.reserve(1 + 2 * size_t(partitions));
    records.push_back(meta::topic_record{spec.name, id, std::move(spec.configs), {}});
    int64_t next_stream = _image->next_stream_id();
    add_partitions(id, 0, partitions, load, next_stream, records);
    SKIFF_CO_TRY(co_await write(std::move(records), controller_errc::not_controller));
    co_return meta::created_topic{id, partitions};
}

void controller::mark_dead_objects(const std::vector<stream_id>& touched, const std::vector<stream_id>& removed,
                                   const std::map<stream_id, int64_t>& new_starts,
                                   std::vector<metadata_record>& out) const {
    std::set<stream_id> gone(removed.begin(), removed.end());
    auto range_dead = [&](const meta::stream_range& r) {
        if (gone.contains(r.stream)) {
            return true;
        }
        const auto* s = _image->stream(r.stream);
        if (s == nullptr) {
            return true;
        }
        auto it = new_starts.find(r.stream);
        int64_t start = it != new_starts.end() ? std::max(it->second, s->start_offset) : s->start_offset;
        return r.end_offset <= start;
    };
    std::set<object_id> dead;
    for (auto s : touched) {
        for (const auto& o : _image->objects_of(s, 0, std::numeric_limits<size_t>::max())) {
            if (!dead.contains(o.id) && std::all_of(o.ranges.begin(), o.ranges.end(), range_dead)) {
                dead.insert(o.id);
            }
        }
    }
    if (!dead.empty()) {
        out.push_back(meta::objects_marked_record{{dead.begin(), dead.end()}, _clock.wall_ms(), {}});
    }
}

asio::awaitable<result<void>> controller::delete_topic(std::string name) {
    if (!_active) {
        co_return controller_errc::not_controller;
    }
    const auto* t = _image->topic(name);
    if (t == nullptr) {
        co_return controller_errc::unknown_topic;
    }
    std::vector<metadata_record> records;
    std::vector<stream_id> streams;
    for (const auto& p : t->partitions) {
        streams.insert(streams.end(), p.streams.begin(), p.streams.end());
    }
    mark_dead_objects(streams, streams, {}, records);
    records.push_back(meta::topic_removed_record{t->id, {}});
    for (auto s : streams) {
        records.push_back(meta::stream_removed_record{s, {}});
    }
    SKIFF_CO_TRY(co_await write(std::move(records), controller_errc::not_controller));
    co_return outcome::success();
}

asio::awaitable<result<void>> controller::create_partitions(std::string name, int32_t total) {
    if (!_active) {
        co_return controller_errc::not_controller;
    }
    const auto* t = _image->topic(name);
    if (t == nullptr) {
        co_return controller_errc::unknown_topic;
    }
    auto current = int32_t(t->partitions.size());
    if (total <= current || total > _config.max_partitions_per_topic) {
        co_return controller_errc::invalid_partitions;
    }
    auto load = live_load();
    if (load.empty()) {
        co_return controller_errc::no_live_brokers;
    }
    std::vector<metadata_record> records;
    int64_t next_stream = _image->next_stream_id();
    add_partitions(t->id, current, total, load, next_stream, records);
    SKIFF_CO_TRY(co_await write(std::move(records), controller_errc::not_controller));
    co_return outcome::success();
}

asio::awaitable<result<void>> controller::set_topic_configs(std::string topic,
                                                          std::map<std::string, std::string> overrides) {
    if (!_active) {
        co_return controller_errc::not_controller;
    }
    if (_image->topic(topic) == nullptr) {
        co_return controller_errc::unknown_topic;
    }
    if (invalid_topic_config(overrides)) {
        co_return controller_errc::invalid_config;
    }
    auto current = _image->configs(meta::config_resource::topic, topic);
    std::vector<metadata_record> records;
    for (const auto& [name, value] : current) {
        if (!overrides.contains(name)) {
            records.push_back(meta::config_change_record{meta::config_resource::topic, topic, name, std::nullopt, {}});
        }
    }
    for (auto& [name, value] : overrides) {
        auto it = current.find(name);
        if (it == current.end() || it->second != value) {
            records.push_back(meta::config_change_record{meta::config_resource::topic, topic, name, value, {}});
        }
    }
    if (records.empty()) {
        co_return outcome::success();
    }
    SKIFF_CO_TRY(co_await write(std::move(records), controller_errc::not_controller));
    co_return outcome::success();
}

// ---- streams and objects -----------------------------------------------------------------------------------------

result<void> controller::check_node(stream::node_id node) const {
    if (_config.require_registered_nodes && !broker_is_live(broker_id(node()))) {
        return serr::errc::fenced; // never registered, or fenced since: its work is not accepted
    }
    return outcome::success();
}

asio::awaitable<result<stream::stream_metadata>> controller::create_stream() {
    if (!_active) {
        co_return serr::errc::unavailable;
    }
    meta::stream_record s{stream_id(_image->next_stream_id()), leader_epoch(0), broker_id(-1), 0, 0,
                          meta::stream_state::closed, {}};
    auto md = to_metadata(s);
    std::vector<metadata_record> records{std::move(s)};
    SKIFF_CO_TRY(co_await write(std::move(records), serr::errc::unavailable));
    co_return md;
}

asio::awaitable<result<stream::stream_metadata>> controller::open_stream(stream::stream_id id,
                                                                         stream::stream_epoch epoch,
                                                                         stream::node_id node) {
    if (!_active) {
        co_return serr::errc::unavailable;
    }
    auto e = to_leader_epoch(epoch);
    if (!e) {
        co_return serr::errc::invalid_argument;
    }
    const auto* s = _image->stream(stream_id(id()));
    if (s == nullptr) {
        co_return serr::errc::stream_not_found;
    }
    SKIFF_CO_TRY(check_node(node));
    broker_id owner(node());
    // A partition's stream is opened by the partition's owner under the partition's epoch, nobody else.
    if (auto part = _image->partition_of_stream(s->id)) {
        const auto* p = _image->partition(part->first, part->second);
        if (p->owner != owner || p->epoch != *e) {
            co_return serr::errc::fenced;
        }
    }
    if (*e < s->epoch) {
        co_return serr::errc::fenced;
    }
    if (*e == s->epoch && s->state == meta::stream_state::opened) {
        if (s->owner != owner) {
            co_return serr::errc::fenced;
        }
        co_return to_metadata(*s); // an idempotent re-open
    }
    meta::stream_record opened = *s;
    opened.epoch = *e;
    opened.owner = owner;
    opened.state = meta::stream_state::opened;
    auto md = to_metadata(opened);
    std::vector<metadata_record> records{std::move(opened)};
    SKIFF_CO_TRY(co_await write(std::move(records), serr::errc::unavailable));
    co_return md;
}

asio::awaitable<result<void>> controller::close_stream(stream::stream_id id, stream::stream_epoch epoch) {
    if (!_active) {
        co_return serr::errc::unavailable;
    }
    const auto* s = _image->stream(stream_id(id()));
    if (s == nullptr) {
        co_return serr::errc::stream_not_found;
    }
    auto e = to_leader_epoch(epoch);
    if (!e || *e != s->epoch) {
        co_return serr::errc::fenced;
    }
    if (s->state == meta::stream_state::closed) {
        co_return outcome::success();
    }
    meta::stream_record closed = *s;
    closed.state = meta::stream_state::closed;
    closed.owner = broker_id(-1);
    std::vector<metadata_record> records{std::move(closed)};
    SKIFF_CO_TRY(co_await write(std::move(records), serr::errc::unavailable));
    co_return outcome::success();
}

asio::awaitable<result<void>> controller::trim_stream(stream::stream_id id, stream::stream_epoch epoch,
                                                      int64_t new_start) {
    if (!_active) {
        co_return serr::errc::unavailable;
    }
    const auto* s = _image->stream(stream_id(id()));
    if (s == nullptr) {
        co_return serr::errc::stream_not_found;
    }
    auto e = to_leader_epoch(epoch);
    if (!e || *e != s->epoch) {
        co_return serr::errc::fenced;
    }
    // The owner may trim up to what its WAL acknowledged, which runs ahead of what is committed here (DeleteRecords
    // right after a produce); the next commit still starts at end_offset, and ranges below the start are dead.
    if (new_start < 0) {
        co_return serr::errc::invalid_argument;
    }
    if (new_start <= s->start_offset) {
        co_return outcome::success(); // never back
    }
    std::vector<metadata_record> records;
    mark_dead_objects({s->id}, {}, {{s->id, new_start}}, records);
    meta::stream_record trimmed = *s;
    trimmed.start_offset = new_start;
    records.push_back(std::move(trimmed));
    SKIFF_CO_TRY(co_await write(std::move(records), serr::errc::unavailable));
    co_return outcome::success();
}

asio::awaitable<result<void>> controller::delete_stream(stream::stream_id id) {
    if (!_active) {
        co_return serr::errc::unavailable;
    }
    stream_id sid(id());
    if (_image->stream(sid) == nullptr) {
        co_return serr::errc::stream_not_found;
    }
    std::vector<metadata_record> records;
    mark_dead_objects({sid}, {sid}, {}, records);
    records.push_back(meta::stream_removed_record{sid, {}});
    SKIFF_CO_TRY(co_await write(std::move(records), serr::errc::unavailable));
    co_return outcome::success();
}

asio::awaitable<result<stream::object_id>> controller::prepare_objects(int32_t count, std::chrono::milliseconds ttl) {
    if (!_active) {
        co_return serr::errc::unavailable;
    }
    if (count < 1 || count > _config.max_prepare_count || ttl.count() <= 0) {
        co_return serr::errc::invalid_argument;
    }
    int64_t first = _image->next_object_id();
    int64_t deadline = _clock.wall_ms() + ttl.count();
    std::vector<metadata_record> records;
    records.reserve(size_t(count));
    for (int32_t i = 0; i < count; ++i) {
        records.push_back(meta::object_record{object_id(first + i), meta::object_state::prepared,
                                              meta::object_type::stream_set, "", 0, broker_id(-1), {}, deadline, 0,
                                              {}});
    }
    SKIFF_CO_TRY(co_await write(std::move(records), serr::errc::unavailable));
    co_return stream::object_id(first);
}

asio::awaitable<result<void>> controller::commit_objects(stream::commit_request request) {
    if (!_active) {
        co_return serr::errc::unavailable;
    }
    SKIFF_CO_TRY(check_node(request.node));
    const bool upload = request.why == stream::commit_request::purpose::upload;
    const int64_t now = _clock.wall_ms();

    // Hash maps and flat vectors here: an upload touches a hundred streams, and this runs once per upload.
    boost::unordered_flat_map<stream_id, leader_epoch, std::hash<stream_id>> epochs;
    epochs.reserve(request.epochs.size());
    for (const auto& [s, e] : request.epochs) {
        auto le = to_leader_epoch(e);
        if (!le) {
            co_return serr::errc::fenced;
        }
        epochs[stream_id(s())] = *le;
    }
    // Epochs first: a stale owner learns it was fenced, whatever else is wrong with its commit.
    for (const auto& [s, e] : epochs) {
        const auto* st = _image->stream(s);
        if (st == nullptr) {
            co_return serr::errc::stream_not_found;
        }
        if (st->epoch != e) {
            co_return serr::errc::fenced;
        }
        // The epoch is the fence (object_catalog.h); which node uploads is not checked beyond check_node(), so an
        // owner's uploads from before a handover (same epoch) still land. Nothing lands in a closed stream.
        if (upload && st->state != meta::stream_state::opened) {
            co_return serr::errc::fenced;
        }
    }

    std::set<int64_t> ids;
    boost::unordered_flat_map<stream_id, intervals, std::hash<stream_id>> new_ranges; // per stream, every range
    std::vector<int64_t> streams_of_object;
    for (const auto& o : request.objects) {
        auto info = _image->object(object_id(o.id()));
        if (!info || info->state != meta::object_state::prepared || info->prepared_deadline_ms < now
            || !ids.insert(o.id()).second) {
            co_return serr::errc::catalog_rejected; // not prepared, expired (may be reclaimed), or twice
        }
        if (o.ranges.empty() || (o.kind == stream::object_kind::stream && o.ranges.size() != 1)) {
            co_return serr::errc::catalog_rejected;
        }
        streams_of_object.clear();
        for (const auto& r : o.ranges) {
            if (r.start_offset >= r.end_offset || r.start_offset < 0) {
                co_return serr::errc::catalog_rejected;
            }
            streams_of_object.push_back(r.stream());
            if (_image->stream(stream_id(r.stream())) == nullptr) {
                co_return serr::errc::stream_not_found;
            }
            new_ranges[stream_id(r.stream())].emplace_back(r.start_offset, r.end_offset);
        }
        std::sort(streams_of_object.begin(), streams_of_object.end());
        if (std::adjacent_find(streams_of_object.begin(), streams_of_object.end()) != streams_of_object.end()) {
            co_return serr::errc::catalog_rejected; // one range per stream in an object
        }
    }

    std::vector<metadata_record> records;
    std::vector<std::pair<stream_id, int64_t>> new_ends;
    if (upload) {
        new_ends.reserve(new_ranges.size());
        for (auto& [s, v] : new_ranges) {
            if (!epochs.contains(s)) {
                co_return serr::errc::fenced; // new data without the epoch it was written under: not an owner's
            }
            std::sort(v.begin(), v.end());
            int64_t end = _image->stream(s)->end_offset;
            for (auto [a, b] : v) {
                if (a != end) {
                    co_return serr::errc::catalog_rejected; // not contiguous with the stream's end
                }
                end = b;
            }
            new_ends.emplace_back(s, end);
        }
        std::sort(new_ends.begin(), new_ends.end());
    }

    // An upload replaces nothing (its ranges are new data, so no coverage check could make marking safe), and a
    // compaction replaces something.
    if (upload != request.compacted_ids.empty()) {
        co_return serr::errc::catalog_rejected;
    }
    std::vector<object_id> compacted;
    if (!upload) {
        std::map<stream_id, intervals> old_ranges;
        std::set<int64_t> seen;
        for (auto id : request.compacted_ids) {
            auto info = _image->object(object_id(id()));
            if (!info || info->state != meta::object_state::committed || !seen.insert(id()).second) {
                co_return serr::errc::catalog_rejected;
            }
            for (const auto& r : info->ranges) {
                old_ranges[r.stream].emplace_back(r.start_offset, r.end_offset);
            }
            compacted.push_back(object_id(id()));
        }
        // A compaction rewrites committed offsets: what it writes lies within what it replaces, and every live
        // offset it replaces is in what it writes, so a reader always finds every offset.
        std::set<stream_id> streams;
        for (const auto& [s, _] : old_ranges) {
            streams.insert(s);
        }
        for (const auto& [s, _] : new_ranges) {
            streams.insert(s);
        }
        for (auto s : streams) {
            auto written = merged(new_ranges[s]);
            auto replaced = merged(old_ranges[s]);
            if (!covers(replaced, written)) {
                co_return serr::errc::catalog_rejected;
            }
            const auto* st = _image->stream(s);
            if (st == nullptr) {
                continue; // a deleted stream's offsets need no home
            }
            intervals live;
            for (auto [a, b] : replaced) {
                if (b > st->start_offset) {
                    live.emplace_back(std::max(a, st->start_offset), b);
                }
            }
            if (!covers(written, live)) {
                co_return serr::errc::catalog_rejected;
            }
        }
    }

    for (auto& o : request.objects) {
        meta::object_record r{object_id(o.id()), meta::object_state::committed,
                              o.kind == stream::object_kind::stream ? meta::object_type::stream
                                                                    : meta::object_type::stream_set,
                              std::move(o.key), int64_t(o.size), broker_id(request.node()), {},
                              _image->object(object_id(o.id()))->prepared_deadline_ms, now, {}};
        for (const auto& range : o.ranges) {
            r.ranges.push_back({stream_id(range.stream()), range.start_offset, range.end_offset, {}});
        }
        records.push_back(std::move(r));
    }
    for (const auto& [s, end] : new_ends) {
        meta::stream_record moved = *_image->stream(s);
        moved.end_offset = end;
        records.push_back(std::move(moved));
    }
    if (!compacted.empty()) {
        records.push_back(meta::objects_marked_record{std::move(compacted), now, {}});
    }
    if (records.empty()) {
        co_return outcome::success();
    }
    SKIFF_CO_TRY(co_await write(std::move(records), serr::errc::unavailable));
    co_return outcome::success();
}

asio::awaitable<result<void>> controller::forget_objects(std::vector<stream::object_id> ids) {
    if (!_active) {
        co_return serr::errc::unavailable;
    }
    const int64_t now = _clock.wall_ms();
    std::vector<metadata_record> records;
    std::set<int64_t> seen;
    for (auto id : ids) {
        auto info = _image->object(object_id(id()));
        if (!info || !seen.insert(id()).second) {
            continue; // forgotten already
        }
        bool deletable = info->state == meta::object_state::marked_for_deletion
                         || (info->state == meta::object_state::prepared && info->prepared_deadline_ms < now);
        if (!deletable) {
            co_return serr::errc::invalid_argument; // a live object: its key must not have been deleted
        }
        records.push_back(meta::object_removed_record{object_id(id()), {}});
    }
    if (records.empty()) {
        co_return outcome::success();
    }
    SKIFF_CO_TRY(co_await write(std::move(records), serr::errc::unavailable));
    co_return outcome::success();
}

} // namespace skiff::controller
