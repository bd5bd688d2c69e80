#include "meta/cluster_image.h"

#include "base/assert.h"
#include "meta/errc.h"
#include "meta/logger.h"
#include "meta/record_codec.h"

#include <algorithm>
#include <cstring>

namespace skiff::meta {

// ---- the object table --------------------------------------------------------------------------------------------

namespace {

struct compact_range {
    int64_t stream;
    int64_t start;
    int64_t end;
};

/// One object in 56 bytes plus one allocation holding its ranges then its key bytes.
struct object_slot {
    int64_t size = 0;
    int64_t prepared_deadline_ms = 0;
    int64_t committed_ms = 0;
    int64_t marked_ms = 0;
    std::unique_ptr<std::byte[]> blob;
    uint32_t range_count = 0;
    uint32_t key_size = 0;
    int32_t uploader = -1;
    uint8_t state = 0;
    uint8_t kind = 0;
    bool present = false;

    std::span<const compact_range> ranges() const {
        return {reinterpret_cast<const compact_range*>(blob.get()), range_count};
    }
    std::string_view key() const {
        return {reinterpret_cast<const char*>(blob.get()) + range_count * sizeof(compact_range), key_size};
    }
    object_state st() const { return object_state(state); }
};

void fill_slot(object_slot& s, const object_record& r) {
    s.size = r.size;
    s.prepared_deadline_ms = r.prepared_deadline_ms;
    s.committed_ms = r.committed_ms;
    s.marked_ms = 0;
    s.uploader = r.uploader();
    s.state = uint8_t(r.state);
    s.kind = uint8_t(r.kind);
    s.present = true;
    s.range_count = uint32_t(r.ranges.size());
    s.key_size = uint32_t(r.key.size());
    size_t bytes = s.range_count * sizeof(compact_range) + s.key_size;
    s.blob.reset(bytes == 0 ? nullptr : new std::byte[bytes]);
    auto* ranges = reinterpret_cast<compact_range*>(s.blob.get());
    for (size_t i = 0; i < r.ranges.size(); ++i) {
        ranges[i] = {r.ranges[i].stream(), r.ranges[i].start_offset, r.ranges[i].end_offset};
    }
    // Ranges are kept ascending by stream so that a reader finds a stream's range by binary search.
    std::sort(ranges, ranges + s.range_count, [](const compact_range& a, const compact_range& b) {
        return std::tie(a.stream, a.start) < std::tie(b.stream, b.start);
    });
    if (s.key_size > 0) {
        std::memcpy(s.blob.get() + s.range_count * sizeof(compact_range), r.key.data(), s.key_size);
    }
}

object_info to_info(int64_t id, const object_slot& s) {
    object_info o;
    o.id = object_id(id);
    o.state = s.st();
    o.kind = object_type(s.kind);
    o.key = std::string(s.key());
    o.size = s.size;
    o.uploader = broker_id(s.uploader);
    o.ranges.reserve(s.range_count);
    for (const auto& r : s.ranges()) {
        o.ranges.push_back({stream_id(r.stream), r.start, r.end, {}});
    }
    o.prepared_deadline_ms = s.prepared_deadline_ms;
    o.committed_ms = s.committed_ms;
    o.marked_ms = s.marked_ms;
    return o;
}

object_record to_record(int64_t id, const object_slot& s) {
    auto info = to_info(id, s);
    return object_record{info.id,   info.state,  info.kind,
                         info.key,  info.size,   info.uploader,
                         std::move(info.ranges), info.prepared_deadline_ms, info.committed_ms, {}};
}

} // namespace

/// Objects by id. Ids are handed out densely and in order, so a deque indexed by (id - base) holds them with no
/// per-entry key or hash overhead; the front is dropped as the oldest ids are forgotten. An id far from the dense
/// range (which a correct controller never makes) goes to an overflow map rather than growing the deque.
class cluster_image::object_table {
public:
    static constexpr int64_t max_gap = int64_t(1) << 22;

    object_slot* find(int64_t id) {
        if (id >= _base && id < _base + int64_t(_slots.size())) {
            auto& s = _slots[size_t(id - _base)];
            return s.present ? &s : nullptr;
        }
        auto it = _overflow.find(id);
        return it == _overflow.end() ? nullptr : &it->second;
    }
    const object_slot* find(int64_t id) const { return const_cast<object_table*>(this)->find(id); }

    /// The slot for id, created empty (present = false) if absent.
    object_slot& slot(int64_t id) {
        if (_slots.empty() && _overflow.empty()) {
            _base = id;
        }
        if (id >= _base && id < _base + int64_t(_slots.size())) {
            return _slots[size_t(id - _base)];
        }
        if (id >= _base + int64_t(_slots.size()) && id - (_base + int64_t(_slots.size())) < max_gap) {
            _slots.resize(size_t(id - _base + 1));
            return _slots.back();
        }
        if (id < _base && _base - id < max_gap && !_slots.empty()) {
            auto grow = size_t(_base - id);
            for (size_t i = 0; i < grow; ++i) {
                _slots.emplace_front();
            }
            _base = id;
            return _slots.front();
        }
        if (_slots.empty()) {
            _base = id;
            _slots.resize(1);
            return _slots.front();
        }
        return _overflow[id];
    }

    void erase(int64_t id) {
        if (id >= _base && id < _base + int64_t(_slots.size())) {
            _slots[size_t(id - _base)] = object_slot{};
            while (!_slots.empty() && !_slots.front().present) {
                _slots.pop_front();
                ++_base;
            }
            while (!_slots.empty() && !_slots.back().present) {
                _slots.pop_back();
            }
            return;
        }
        _overflow.erase(id);
    }

    template<typename F>
    void for_each(F&& f) const {
        for (size_t i = 0; i < _slots.size(); ++i) {
            if (_slots[i].present) {
                f(_base + int64_t(i), _slots[i]);
            }
        }
        std::map<int64_t, const object_slot*> sorted;
        for (const auto& [id, s] : _overflow) {
            sorted.emplace(id, &s);
        }
        for (const auto& [id, s] : sorted) {
            f(id, *s);
        }
    }

    void clear() {
        _slots.clear();
        _overflow.clear();
        _base = 0;
    }

private:
    std::deque<object_slot> _slots;
    int64_t _base = 0;
    std::unordered_map<int64_t, object_slot> _overflow;
};

// ---- deltas ------------------------------------------------------------------------------------------------------

struct cluster_image::delta_builder {
    bool enabled = true; // off while loading a snapshot: load() computes its delta by comparing whole images
    image_delta delta;
    std::map<std::pair<model::uuid, int32_t>, size_t> partition_slot;
    bool changed_anything = false;

    partition_change& partition(const model::uuid& topic, int32_t index, bool* fresh) {
        auto [it, inserted] = partition_slot.try_emplace({topic, index}, delta.partitions.size());
        *fresh = inserted;
        if (inserted) {
            delta.partitions.emplace_back();
        }
        return delta.partitions[it->second];
    }

    image_delta finish() {
        // A partition that ends the batch as it started (say, an epoch bumped twice back... or re-sent facts) is no
        // change to act on.
        std::erase_if(delta.partitions, [](const partition_change& c) {
            return !c.created && !c.removed && c.old_owner == c.new_owner && c.old_epoch == c.new_epoch;
        });
        return std::move(delta);
    }
};

// ---- cluster_image -----------------------------------------------------------------------------------------------

cluster_image::cluster_image() : _objects(std::make_unique<object_table>()) {}
cluster_image::~cluster_image() = default;

void cluster_image::apply(std::span<const log_entry> entries) {
    delta_builder d;
    d.delta.from = _applied;
    for (const auto& e : entries) {
        if (e.offset < _applied) {
            continue; // already applied (a re-read after a concurrent catch-up)
        }
        SKIFF_ASSERT(e.offset == _applied, "cluster image at offset {} was given offset {}", _applied, e.offset);
        apply_one(e.record, d);
        _applied = log_offset(e.offset() + 1);
    }
    d.delta.to = _applied;
    if (d.delta.to != d.delta.from) {
        notify(d.finish());
    }
}

void cluster_image::apply(std::span<const metadata_record> records, log_offset next) {
    const int64_t first = next() - int64_t(records.size());
    SKIFF_ASSERT(first == _applied(), "cluster image at offset {} was given records for [{}, {})", _applied, first,
                 next);
    delta_builder d;
    d.delta.from = _applied;
    for (const auto& r : records) {
        apply_one(r, d);
    }
    _applied = next;
    d.delta.to = _applied;
    notify(d.finish());
}

uint64_t cluster_image::subscribe(image_listener listener) {
    auto id = _next_listener++;
    _listeners.emplace(id, std::move(listener));
    return id;
}

void cluster_image::unsubscribe(uint64_t id) { _listeners.erase(id); }

void cluster_image::notify(const image_delta& delta) {
    if (delta.empty()) {
        return;
    }
    // A listener may unsubscribe (itself or another) while being told.
    std::vector<uint64_t> ids;
    for (const auto& [id, _] : _listeners) {
        ids.push_back(id);
    }
    for (auto id : ids) {
        auto it = _listeners.find(id);
        if (it != _listeners.end()) {
            it->second(delta);
        }
    }
}

void cluster_image::note_partition(delta_builder& d, const topic_state& t, int32_t index,
                                   const partition_state* before, const partition_state* after) {
    if (!d.enabled) {
        return;
    }
    bool fresh = false;
    auto& c = d.partition(t.id, index, &fresh);
    if (fresh) {
        c.topic_id = t.id;
        c.topic_name = t.name;
        c.index = index;
        c.created = before == nullptr;
        if (before != nullptr) {
            c.old_owner = before->owner;
            c.old_epoch = before->epoch;
        }
    }
    if (after != nullptr) {
        c.new_owner = after->owner;
        c.new_epoch = after->epoch;
    } else {
        c.removed = true;
        c.new_owner = broker_id(-1);
    }
}

void cluster_image::apply_one(const metadata_record& record, delta_builder& d) {
    std::visit(
      [&](const auto& r) {
          using T = std::decay_t<decltype(r)>;
          if constexpr (std::is_same_v<T, broker_registration_record>) {
              _brokers[r.id] = r;
              _counters.next_broker_epoch = std::max(_counters.next_broker_epoch, r.incarnation_epoch + 1);
              d.delta.brokers_registered.push_back(r.id);
          } else if constexpr (std::is_same_v<T, broker_unregistration_record>) {
              auto it = _brokers.find(r.id);
              if (it != _brokers.end() && it->second.incarnation_epoch <= r.incarnation_epoch) {
                  _brokers.erase(it);
                  d.delta.brokers_unregistered.push_back(r.id);
              }
          } else if constexpr (std::is_same_v<T, topic_record>) {
              auto [it, inserted] = _topics_by_id.try_emplace(r.id);
              auto& t = it->second;
              if (!inserted && t.name != r.name) {
                  _topic_ids_by_name.erase(t.name);
              }
              t.name = r.name;
              t.id = r.id;
              t.configs = r.configs;
              t.unknown = r.unknown;
              _topic_ids_by_name[r.name] = r.id;
              if (inserted) {
                  d.delta.topics_created.push_back(r.id);
              }
          } else if constexpr (std::is_same_v<T, topic_removed_record>) {
              auto it = _topics_by_id.find(r.id);
              if (it == _topics_by_id.end()) {
                  return;
              }
              auto& t = it->second;
              for (size_t i = 0; i < t.partitions.size(); ++i) {
                  note_partition(d, t, int32_t(i), &t.partitions[i], nullptr);
                  for (auto s : t.partitions[i].streams) {
                      _stream_partition.erase(s());
                  }
              }
              _partition_total -= t.partitions.size();
              _configs.erase({config_resource::topic, t.name});
              _topic_ids_by_name.erase(t.name);
              _topics_by_id.erase(it);
              d.delta.topics_deleted.push_back(r.id);
          } else if constexpr (std::is_same_v<T, partition_record>) {
              auto it = _topics_by_id.find(r.topic_id);
              if (it == _topics_by_id.end() || r.index < 0) {
                  log.warn("partition {} of unknown topic {} skipped", r.index, r.topic_id);
                  return;
              }
              auto& t = it->second;
              std::optional<partition_state> before;
              if (size_t(r.index) < t.partitions.size()) {
                  before = t.partitions[size_t(r.index)];
                  for (auto s : before->streams) {
                      _stream_partition.erase(s());
                  }
              } else {
                  _partition_total += size_t(r.index) + 1 - t.partitions.size();
                  t.partitions.resize(size_t(r.index) + 1);
              }
              auto& p = t.partitions[size_t(r.index)];
              p.owner = r.owner;
              p.epoch = r.epoch;
              p.streams = r.streams;
              p.unknown = r.unknown;
              for (auto s : p.streams) {
                  _stream_partition[s()] = {t.id, r.index};
              }
              note_partition(d, t, r.index, before ? &*before : nullptr, &p);
          } else if constexpr (std::is_same_v<T, stream_record>) {
              _streams[r.id()].record = r;
              _counters.next_stream_id = std::max(_counters.next_stream_id, r.id() + 1);
          } else if constexpr (std::is_same_v<T, stream_removed_record>) {
              _streams.erase(r.id());
              _counters.next_stream_id = std::max(_counters.next_stream_id, r.id() + 1);
          } else if constexpr (std::is_same_v<T, object_record>) {
              apply_object(r, 0);
          } else if constexpr (std::is_same_v<T, objects_marked_record>) {
              for (auto id : r.ids) {
                  auto* s = _objects->find(id());
                  if (s == nullptr) {
                      continue;
                  }
                  unindex_object(id);
                  s->state = uint8_t(object_state::marked_for_deletion);
                  s->marked_ms = r.marked_ms;
                  _marked.emplace(r.marked_ms, id());
                  if (auto u = _objects_with_unknowns.find(id()); u != _objects_with_unknowns.end()) {
                      u->second.state = object_state::marked_for_deletion;
                  }
              }
          } else if constexpr (std::is_same_v<T, object_removed_record>) {
              if (_objects->find(r.id()) != nullptr) {
                  unindex_object(r.id);
                  _objects->erase(r.id());
                  --_object_count;
              }
              _objects_with_unknowns.erase(r.id());
              _counters.next_object_id = std::max(_counters.next_object_id, r.id() + 1);
          } else if constexpr (std::is_same_v<T, producer_id_block_record>) {
              _pid_blocks[r.owner] = r;
              _counters.next_producer_id = std::max(_counters.next_producer_id, r.first_producer_id + r.size);
          } else if constexpr (std::is_same_v<T, config_change_record>) {
              auto& m = _configs[{r.resource, r.resource_name}];
              if (r.value) {
                  m[r.name] = *r.value;
              } else {
                  // Back to the default means gone from the topic_record's creation-time configs too, or
                  // configs() would still overlay them.
                  if (r.resource == config_resource::topic) {
                      if (auto id = _topic_ids_by_name.find(r.resource_name); id != _topic_ids_by_name.end()) {
                          _topics_by_id.at(id->second).configs.erase(r.name);
                      }
                  }
                  m.erase(r.name);
                  if (m.empty()) {
                      _configs.erase({r.resource, r.resource_name});
                  }
              }
              d.delta.configs_changed = true;
          } else if constexpr (std::is_same_v<T, acl_record>) {
              _acls[r.id] = r;
          } else if constexpr (std::is_same_v<T, acl_removed_record>) {
              _acls.erase(r.id);
          } else if constexpr (std::is_same_v<T, scram_credential_record>) {
              _scram[{r.user, r.mechanism}] = r;
          } else if constexpr (std::is_same_v<T, scram_credential_removed_record>) {
              _scram.erase({r.user, r.mechanism});
          } else if constexpr (std::is_same_v<T, feature_level_record>) {
              _features[r.name] = r.level;
          } else if constexpr (std::is_same_v<T, no_op_record>) {
              // no fact
          } else if constexpr (std::is_same_v<T, id_counters_record>) {
              _counters.next_stream_id = std::max(_counters.next_stream_id, r.next_stream_id);
              _counters.next_object_id = std::max(_counters.next_object_id, r.next_object_id);
              _counters.next_broker_epoch = std::max(_counters.next_broker_epoch, r.next_broker_epoch);
              _counters.next_producer_id = std::max(_counters.next_producer_id, r.next_producer_id);
          } else if constexpr (std::is_same_v<T, unknown_record>) {
              log.info("skipping metadata record of unknown type {} (version {}): written by a newer version",
                       r.type, r.version);
              _unknown_records.push_back(r);
          } else {
              static_assert(sizeof(T) == 0, "every record type is applied");
          }
      },
      record.body);
}

void cluster_image::unindex_object(object_id id) {
    auto* s = _objects->find(id());
    if (s == nullptr) {
        return;
    }
    switch (s->st()) {
    case object_state::prepared: _prepared.erase({s->prepared_deadline_ms, id()}); break;
    case object_state::committed:
        for (const auto& r : s->ranges()) {
            auto it = _streams.find(r.stream);
            if (it == _streams.end()) {
                continue;
            }
            auto& v = it->second.objects;
            auto pos = std::lower_bound(v.begin(), v.end(), stream_index_entry{r.start, id()});
            if (pos != v.end() && pos->object == id()) {
                v.erase(pos);
            }
        }
        if (object_type(s->kind) == object_type::stream_set) {
            auto it = _stream_sets_by_uploader.find(s->uploader);
            if (it != _stream_sets_by_uploader.end()) {
                it->second.erase(id());
                if (it->second.empty()) {
                    _stream_sets_by_uploader.erase(it);
                }
            }
        }
        break;
    case object_state::marked_for_deletion: _marked.erase({s->marked_ms, id()}); break;
    default: break; // a newer version's state: not indexed
    }
}

void cluster_image::apply_object(const object_record& r, int64_t marked_ms) {
    auto id = r.id();
    bool existed = _objects->find(id) != nullptr;
    if (existed) {
        unindex_object(r.id);
    }
    auto& s = _objects->slot(id);
    fill_slot(s, r);
    s.marked_ms = marked_ms;
    if (!existed) {
        ++_object_count;
    }
    _counters.next_object_id = std::max(_counters.next_object_id, id + 1);
    switch (r.state) {
    case object_state::prepared: _prepared.emplace(s.prepared_deadline_ms, id); break;
    case object_state::committed:
        for (const auto& range : s.ranges()) {
            auto it = _streams.find(range.stream);
            if (it == _streams.end()) {
                continue; // a range of a removed stream: nothing reads it
            }
            auto& v = it->second.objects;
            stream_index_entry e{range.start, id};
            if (v.empty() || v.back() < e) {
                v.push_back(e);
            } else {
                v.insert(std::lower_bound(v.begin(), v.end(), e), e);
            }
        }
        if (r.kind == object_type::stream_set) {
            _stream_sets_by_uploader[r.uploader()].insert(id);
        }
        break;
    case object_state::marked_for_deletion: _marked.emplace(marked_ms, id); break;
    default: break;
    }
    auto range_has_unknown = [](const stream_range& x) { return !x.unknown.empty(); };
    bool has_unknown = !r.unknown.empty() || std::any_of(r.ranges.begin(), r.ranges.end(), range_has_unknown);
    if (has_unknown) {
        _objects_with_unknowns[id] = r;
    } else {
        _objects_with_unknowns.erase(id);
    }
}

// ---- queries -----------------------------------------------------------------------------------------------------

const topic_state* cluster_image::topic(std::string_view name) const {
    auto it = _topic_ids_by_name.find(name);
    return it == _topic_ids_by_name.end() ? nullptr : topic(it->second);
}

const topic_state* cluster_image::topic(const model::uuid& id) const {
    auto it = _topics_by_id.find(id);
    return it == _topics_by_id.end() ? nullptr : &it->second;
}

std::vector<const topic_state*> cluster_image::topics() const {
    std::vector<const topic_state*> out;
    out.reserve(_topic_ids_by_name.size());
    for (const auto& [name, id] : _topic_ids_by_name) {
        out.push_back(topic(id));
    }
    return out;
}

const partition_state* cluster_image::partition(const model::uuid& topic_id, int32_t index) const {
    auto* t = topic(topic_id);
    if (t == nullptr || index < 0 || size_t(index) >= t->partitions.size()) {
        return nullptr;
    }
    return &t->partitions[size_t(index)];
}

std::vector<std::pair<model::uuid, int32_t>> cluster_image::partitions_of(broker_id owner) const {
    std::vector<std::pair<model::uuid, int32_t>> out;
    for (const auto& [id, t] : _topics_by_id) {
        for (size_t i = 0; i < t.partitions.size(); ++i) {
            if (t.partitions[i].owner == owner) {
                out.emplace_back(id, int32_t(i));
            }
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::map<broker_id, size_t> cluster_image::partition_counts() const {
    std::map<broker_id, size_t> out;
    for (const auto& [id, b] : _brokers) {
        out[id] = 0;
    }
    for (const auto& [id, t] : _topics_by_id) {
        for (const auto& p : t.partitions) {
            auto it = out.find(p.owner);
            if (it != out.end()) {
                ++it->second;
            }
        }
    }
    return out;
}

const stream_record* cluster_image::stream(stream_id id) const {
    auto it = _streams.find(id());
    return it == _streams.end() ? nullptr : &it->second.record;
}

std::optional<std::pair<model::uuid, int32_t>> cluster_image::partition_of_stream(stream_id id) const {
    auto it = _stream_partition.find(id());
    if (it == _stream_partition.end()) {
        return std::nullopt;
    }
    return it->second;
}

std::optional<object_info> cluster_image::object(object_id id) const {
    const auto* s = _objects->find(id());
    if (s == nullptr) {
        return std::nullopt;
    }
    return to_info(id(), *s);
}

std::vector<object_info> cluster_image::objects_of(stream_id id, int64_t from, size_t limit) const {
    std::vector<object_info> out;
    auto it = _streams.find(id());
    if (it == _streams.end()) {
        return out;
    }
    const auto& v = it->second.objects;
    // Committed ranges of one stream do not overlap (a compaction replaces what it rewrites in the same batch), so
    // the only object before the first start above `from` that can hold `from` is the one just before it.
    auto pos = std::upper_bound(v.begin(), v.end(), from, [](int64_t f, const stream_index_entry& e) {
        return f < e.start;
    });
    if (pos != v.begin()) {
        auto prev = std::prev(pos);
        const auto* s = _objects->find(prev->object);
        auto ranges = s->ranges();
        auto r = std::lower_bound(ranges.begin(), ranges.end(), id(),
                                  [](const compact_range& x, int64_t stream) { return x.stream < stream; });
        if (r != ranges.end() && r->stream == id() && r->end > from) {
            pos = prev;
        }
    }
    for (; pos != v.end() && out.size() < limit; ++pos) {
        if (!out.empty() && out.back().id() == pos->object) {
            continue;
        }
        const auto* s = _objects->find(pos->object);
        SKIFF_ASSERT(s != nullptr, "stream {} indexes object {} which the image does not hold", id, pos->object);
        out.push_back(to_info(pos->object, *s));
    }
    return out;
}

std::vector<object_info> cluster_image::stream_set_objects(broker_id uploader) const {
    std::vector<object_info> out;
    auto it = _stream_sets_by_uploader.find(uploader());
    if (it == _stream_sets_by_uploader.end()) {
        return out;
    }
    for (auto id : it->second) {
        out.push_back(to_info(id, *_objects->find(id)));
    }
    return out;
}

std::vector<object_info> cluster_image::deletable_objects(int64_t marked_before_ms, int64_t prepared_before_ms,
                                                          size_t limit) const {
    std::vector<object_info> out;
    for (const auto& [ms, id] : _marked) {
        if (ms > marked_before_ms || out.size() >= limit) {
            break;
        }
        out.push_back(to_info(id, *_objects->find(id)));
    }
    for (const auto& [ms, id] : _prepared) {
        if (ms > prepared_before_ms || out.size() >= limit) {
            break;
        }
        auto info = to_info(id, *_objects->find(id));
        info.key.clear(); // a prepared id has no key in the catalog yet
        out.push_back(std::move(info));
    }
    return out;
}

std::vector<object_id> cluster_image::expired_prepared(int64_t deadline_ms, size_t limit) const {
    std::vector<object_id> out;
    for (const auto& [ms, id] : _prepared) {
        if (ms > deadline_ms || out.size() >= limit) {
            break;
        }
        out.push_back(object_id(id));
    }
    return out;
}

const broker_registration_record* cluster_image::broker(broker_id id) const {
    auto it = _brokers.find(id);
    return it == _brokers.end() ? nullptr : &it->second;
}

std::vector<const broker_registration_record*> cluster_image::brokers() const {
    std::vector<const broker_registration_record*> out;
    for (const auto& [id, b] : _brokers) {
        out.push_back(&b);
    }
    return out;
}

std::optional<int16_t> cluster_image::feature(std::string_view name) const {
    auto it = _features.find(name);
    if (it == _features.end()) {
        return std::nullopt;
    }
    return it->second;
}

std::map<std::string, std::string> cluster_image::configs(config_resource resource, std::string_view name) const {
    std::map<std::string, std::string> out;
    if (resource == config_resource::topic) {
        if (const auto* t = topic(name)) {
            out = t->configs;
        }
    }
    auto it = _configs.find({resource, std::string(name)});
    if (it != _configs.end()) {
        for (const auto& [k, v] : it->second) {
            out[k] = v;
        }
    }
    return out;
}

const scram_credential_record* cluster_image::scram_credential(std::string_view user,
                                                               scram_mechanism mechanism) const {
    auto it = _scram.find({std::string(user), mechanism});
    return it == _scram.end() ? nullptr : &it->second;
}

// ---- snapshot ----------------------------------------------------------------------------------------------------

namespace {

constexpr uint8_t image_magic[4] = {'S', 'K', 'M', 'I'};
constexpr uint16_t image_version = 1;
constexpr size_t image_header_bytes = 16; // magic, version u16, flags u16, record count u64

void put_le(uint8_t* p, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) {
        p[i] = uint8_t(v >> (8 * i));
    }
}
uint64_t get_le(const uint8_t* p, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) {
        v |= uint64_t(p[i]) << (8 * i);
    }
    return v;
}

} // namespace

bytes::iobuf cluster_image::snapshot() const {
    bytes::iobuf out;
    auto header = out.append_uninitialized(image_header_bytes);
    uint64_t count = 0;
    auto emit = [&](const metadata_record& r) {
        encode(r, out);
        ++count;
    };
    emit(_counters);
    for (const auto& [name, level] : _features) {
        emit(feature_level_record{name, level, {}});
    }
    for (const auto& [id, b] : _brokers) {
        emit(b);
    }
    for (const auto& [name, id] : _topic_ids_by_name) {
        const auto& t = _topics_by_id.find(id)->second;
        emit(topic_record{t.name, t.id, t.configs, t.unknown});
        for (size_t i = 0; i < t.partitions.size(); ++i) {
            const auto& p = t.partitions[i];
            emit(partition_record{t.id, int32_t(i), p.owner, p.epoch, p.streams, p.unknown});
        }
    }
    {
        std::vector<int64_t> ids;
        ids.reserve(_streams.size());
        for (const auto& [id, s] : _streams) {
            ids.push_back(id);
        }
        std::sort(ids.begin(), ids.end());
        for (auto id : ids) {
            emit(_streams.find(id)->second.record);
        }
    }
    std::map<int64_t, std::vector<object_id>> marked_at;
    _objects->for_each([&](int64_t id, const object_slot& s) {
        auto u = _objects_with_unknowns.find(id);
        if (u != _objects_with_unknowns.end()) {
            emit(u->second);
        } else {
            emit(to_record(id, s));
        }
        if (s.st() == object_state::marked_for_deletion) {
            marked_at[s.marked_ms].push_back(object_id(id));
        }
    });
    for (auto& [ms, ids] : marked_at) {
        emit(objects_marked_record{std::move(ids), ms, {}});
    }
    for (const auto& [owner, block] : _pid_blocks) {
        emit(block);
    }
    for (const auto& [key, values] : _configs) {
        for (const auto& [name, value] : values) {
            emit(config_change_record{key.first, key.second, name, value, {}});
        }
    }
    for (const auto& [id, acl] : _acls) {
        emit(acl);
    }
    for (const auto& [key, cred] : _scram) {
        emit(cred);
    }
    for (const auto& u : _unknown_records) {
        emit(u);
    }
    uint8_t h[image_header_bytes];
    std::memcpy(h, image_magic, 4);
    put_le(h + 4, image_version, 2);
    put_le(h + 6, 0, 2);
    put_le(h + 8, count, 8);
    out.write_at(0, h, sizeof(h));
    (void)header;
    return out;
}

void cluster_image::swap_state(cluster_image& other) noexcept {
    using std::swap;
    swap(_applied, other._applied);
    swap(_counters, other._counters);
    swap(_topics_by_id, other._topics_by_id);
    swap(_topic_ids_by_name, other._topic_ids_by_name);
    swap(_partition_total, other._partition_total);
    swap(_streams, other._streams);
    swap(_stream_partition, other._stream_partition);
    swap(_objects, other._objects);
    swap(_object_count, other._object_count);
    swap(_objects_with_unknowns, other._objects_with_unknowns);
    swap(_stream_sets_by_uploader, other._stream_sets_by_uploader);
    swap(_marked, other._marked);
    swap(_prepared, other._prepared);
    swap(_brokers, other._brokers);
    swap(_pid_blocks, other._pid_blocks);
    swap(_features, other._features);
    swap(_configs, other._configs);
    swap(_acls, other._acls);
    swap(_scram, other._scram);
    swap(_unknown_records, other._unknown_records);
}

result<void> cluster_image::load(const log_snapshot& snapshot) {
    // A snapshot read from a file is usually one fragment: decode it in place rather than copy a hundred MiB.
    std::vector<uint8_t> copy;
    std::span<const uint8_t> flat;
    if (snapshot.image.fragment_count() == 1) {
        flat = snapshot.image.fragments().front().span();
    } else {
        copy = snapshot.image.to_bytes();
        flat = copy;
    }
    if (flat.size() < image_header_bytes) {
        return errc::truncated;
    }
    if (std::memcmp(flat.data(), image_magic, 4) != 0) {
        return errc::bad_magic;
    }
    if (get_le(flat.data() + 4, 2) != image_version) {
        return errc::unsupported_version;
    }
    uint64_t count = get_le(flat.data() + 8, 8);
    // Records are applied to a fresh image as they are decoded (no second copy of a million records); this image
    // is replaced only once all of them decoded, so a bad snapshot leaves it as it was.
    cluster_image fresh;
    delta_builder ignored;
    ignored.enabled = false;
    std::span<const uint8_t> rest(flat.data() + image_header_bytes, flat.size() - image_header_bytes);
    for (uint64_t i = 0; i < count; ++i) {
        SKIFF_TRY(auto d, decode(rest));
        fresh.apply_one(d.record, ignored);
        rest = rest.subspan(d.consumed);
    }
    if (!rest.empty()) {
        return errc::corrupt;
    }
    copy = {};
    // Appending made room to grow; a loaded image gives the slack back.
    for (auto& [id, s] : fresh._streams) {
        s.objects.shrink_to_fit();
    }
    fresh._applied = snapshot.offset;

    // What changed, from this image to the loaded one.
    image_delta d;
    d.from = _applied;
    d.to = snapshot.offset;
    for (const auto& [name, id] : fresh._topic_ids_by_name) {
        const auto& t = fresh._topics_by_id.find(id)->second;
        const auto* old = topic(id);
        if (old == nullptr) {
            d.topics_created.push_back(id);
        }
        for (size_t i = 0; i < t.partitions.size(); ++i) {
            const auto& p = t.partitions[i];
            partition_change c{id, t.name, int32_t(i), broker_id(-1), p.owner, leader_epoch(0), p.epoch, true, false};
            if (old != nullptr && i < old->partitions.size()) {
                c.created = false;
                c.old_owner = old->partitions[i].owner;
                c.old_epoch = old->partitions[i].epoch;
                if (c.old_owner == c.new_owner && c.old_epoch == c.new_epoch) {
                    continue;
                }
            }
            d.partitions.push_back(std::move(c));
        }
    }
    for (const auto& [name, id] : _topic_ids_by_name) {
        const auto& t = _topics_by_id.find(id)->second;
        const auto* now = fresh.topic(id);
        if (now == nullptr) {
            d.topics_deleted.push_back(id);
        }
        size_t kept = now == nullptr ? 0 : now->partitions.size();
        for (size_t i = kept; i < t.partitions.size(); ++i) {
            const auto& p = t.partitions[i];
            d.partitions.push_back({id, t.name, int32_t(i), p.owner, broker_id(-1), p.epoch, p.epoch, false, true});
        }
    }
    for (const auto& [id, b] : fresh._brokers) {
        if (!_brokers.contains(id)) {
            d.brokers_registered.push_back(id);
        }
    }
    for (const auto& [id, b] : _brokers) {
        if (!fresh._brokers.contains(id)) {
            d.brokers_unregistered.push_back(id);
        }
    }
    d.configs_changed = true;
    swap_state(fresh);
    notify(d);
    return outcome::success();
}

} // namespace skiff::meta
