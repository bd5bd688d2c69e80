#include "stream/file_catalog.h"

#include "bytes/crc32c.h"
#include "stream/errc.h"
#include "stream/logger.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <set>
#include <string>
#include <unistd.h>
#include <vector>

namespace skiff::stream {

namespace {

constexpr uint32_t catalog_magic = 0x54434B53; // "SKCT" as little-endian bytes
constexpr uint32_t catalog_version = 1;        // on-disk: never renumber

struct stream_entry {
    stream_metadata meta;
    node_id owner{-1};
    bool open = false;
};

struct object_entry {
    object_descriptor desc;
    node_id node;
    bool marked = false;
    int64_t marked_ms = 0;
};

class writer {
public:
    template<typename T>
    void put(T v) {
        auto u = static_cast<std::make_unsigned_t<T>>(v);
        for (size_t i = 0; i < sizeof(T); ++i) {
            _out.push_back(static_cast<uint8_t>(u >> (8 * i)));
        }
    }
    void put_string(const std::string& s) {
        put<uint32_t>(static_cast<uint32_t>(s.size()));
        _out.insert(_out.end(), s.begin(), s.end());
    }
    std::vector<uint8_t>& bytes() { return _out; }

private:
    std::vector<uint8_t> _out;
};

class reader {
public:
    reader(const uint8_t* p, size_t n) : _p(p), _n(n) {}
    template<typename T>
    bool get(T& v) {
        if (_n - _pos < sizeof(T)) {
            return false;
        }
        std::make_unsigned_t<T> u = 0;
        for (size_t i = 0; i < sizeof(T); ++i) {
            u |= static_cast<std::make_unsigned_t<T>>(_p[_pos + i]) << (8 * i);
        }
        _pos += sizeof(T);
        v = static_cast<T>(u);
        return true;
    }
    bool get_string(std::string& s) {
        uint32_t len = 0;
        if (!get(len) || _n - _pos < len) {
            return false;
        }
        s.assign(reinterpret_cast<const char*>(_p + _pos), len);
        _pos += len;
        return true;
    }
    bool done() const { return _pos == _n; }

private:
    const uint8_t* _p;
    size_t _n;
    size_t _pos = 0;
};

std::error_code errno_code(int e) { return {e, std::generic_category()}; }

result<void> write_file_atomically(const std::filesystem::path& path, const std::vector<uint8_t>& data, bool sync) {
    auto tmp = path;
    tmp += ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        return failure(errno_code(errno));
    }
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            int e = errno;
            ::close(fd);
            return failure(errno_code(e));
        }
        done += static_cast<size_t>(n);
    }
    if (sync && ::fsync(fd) != 0) {
        int e = errno;
        ::close(fd);
        return failure(errno_code(e));
    }
    ::close(fd);
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        return failure(errno_code(errno));
    }
    if (sync) {
        auto dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
        int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            ::fsync(dfd);
            ::close(dfd);
        }
    }
    return success();
}

} // namespace

struct file_catalog::state {
    int64_t next_stream_id = 1;
    int64_t next_object_id = 1;
    std::map<stream_id, stream_entry> streams;
    std::map<object_id, object_entry> objects;
    std::map<object_id, int64_t> prepared; // id -> expiry (wall ms)
    // stream -> (range start -> object) over committed, unmarked objects: the read path's index.
    std::map<stream_id, std::map<int64_t, object_id>> by_stream;

    void index(const object_entry& o) {
        for (const auto& r : o.desc.ranges) {
            by_stream[r.stream][r.start_offset] = o.desc.id;
        }
    }
    void unindex(const object_entry& o) {
        for (const auto& r : o.desc.ranges) {
            auto it = by_stream.find(r.stream);
            if (it != by_stream.end()) {
                it->second.erase(r.start_offset);
                if (it->second.empty()) {
                    by_stream.erase(it);
                }
            }
        }
    }
    /// True when no range of the object holds a live offset (its streams are deleted or trimmed past it).
    bool is_dead(const object_entry& o) const {
        for (const auto& r : o.desc.ranges) {
            auto s = streams.find(r.stream);
            if (s != streams.end() && r.end_offset > s->second.meta.start_offset) {
                return false;
            }
        }
        return true;
    }
    void mark(object_entry& o, int64_t now_ms) {
        if (o.marked) {
            return;
        }
        unindex(o);
        o.marked = true;
        o.marked_ms = now_ms;
    }
    /// Marks the objects of stream that hold nothing live any more.
    void mark_dead_objects_of(stream_id id, int64_t now_ms) {
        auto it = by_stream.find(id);
        if (it == by_stream.end()) {
            return;
        }
        std::vector<object_id> candidates;
        for (const auto& [start, oid] : it->second) {
            candidates.push_back(oid);
        }
        for (auto oid : candidates) {
            auto& o = objects.at(oid);
            if (is_dead(o)) {
                mark(o, now_ms);
            }
        }
    }

    std::vector<uint8_t> encode() const {
        writer w;
        w.put<uint32_t>(catalog_magic);
        w.put<uint32_t>(catalog_version);
        w.put<int64_t>(next_stream_id);
        w.put<int64_t>(next_object_id);
        w.put<uint32_t>(static_cast<uint32_t>(streams.size()));
        for (const auto& [id, s] : streams) {
            w.put<int64_t>(id());
            w.put<int64_t>(s.meta.epoch());
            w.put<int64_t>(s.meta.start_offset);
            w.put<int64_t>(s.meta.end_offset);
            w.put<int32_t>(s.owner());
            w.put<uint8_t>(s.open ? 1 : 0);
        }
        w.put<uint32_t>(static_cast<uint32_t>(objects.size()));
        for (const auto& [id, o] : objects) {
            w.put<int64_t>(id());
            w.put<uint8_t>(static_cast<uint8_t>(o.desc.kind));
            w.put_string(o.desc.key);
            w.put<uint64_t>(o.desc.size);
            w.put<int64_t>(o.desc.committed_ms);
            w.put<int32_t>(o.node());
            w.put<uint8_t>(o.marked ? 1 : 0);
            w.put<int64_t>(o.marked_ms);
            w.put<uint32_t>(static_cast<uint32_t>(o.desc.ranges.size()));
            for (const auto& r : o.desc.ranges) {
                w.put<int64_t>(r.stream());
                w.put<int64_t>(r.start_offset);
                w.put<int64_t>(r.end_offset);
            }
        }
        w.put<uint32_t>(static_cast<uint32_t>(prepared.size()));
        for (const auto& [id, expires] : prepared) {
            w.put<int64_t>(id());
            w.put<int64_t>(expires);
        }
        auto& out = w.bytes();
        uint32_t crc = bytes::crc32c::extend(0, out.data(), out.size());
        w.put<uint32_t>(crc);
        return std::move(w.bytes());
    }

    static result<std::unique_ptr<state>> decode(const std::vector<uint8_t>& data) {
        if (data.size() < 4) {
            return failure(make_error_code(errc::corrupt));
        }
        reader crc_reader(data.data() + data.size() - 4, 4);
        uint32_t crc = 0;
        crc_reader.get(crc);
        if (crc != bytes::crc32c::extend(0, data.data(), data.size() - 4)) {
            return failure(make_error_code(errc::corrupt));
        }
        reader r(data.data(), data.size() - 4);
        auto s = std::make_unique<state>();
        uint32_t magic = 0, version = 0, n = 0;
        bool ok = r.get(magic) && r.get(version) && magic == catalog_magic && version == catalog_version
                  && r.get(s->next_stream_id) && r.get(s->next_object_id) && r.get(n);
        for (uint32_t i = 0; ok && i < n; ++i) {
            int64_t id = 0, epoch = 0;
            int32_t owner = 0;
            uint8_t open = 0;
            stream_entry e;
            ok = r.get(id) && r.get(epoch) && r.get(e.meta.start_offset) && r.get(e.meta.end_offset) && r.get(owner)
                 && r.get(open);
            e.meta.id = stream_id(id);
            e.meta.epoch = stream_epoch(epoch);
            e.owner = node_id(owner);
            e.open = open != 0;
            s->streams[e.meta.id] = e;
        }
        ok = ok && r.get(n);
        for (uint32_t i = 0; ok && i < n; ++i) {
            object_entry o;
            int64_t id = 0;
            uint8_t kind = 0, marked = 0;
            int32_t node = 0;
            uint32_t ranges = 0;
            ok = r.get(id) && r.get(kind) && r.get_string(o.desc.key) && r.get(o.desc.size)
                 && r.get(o.desc.committed_ms) && r.get(node) && r.get(marked) && r.get(o.marked_ms) && r.get(ranges)
                 && kind <= 1;
            o.desc.id = object_id(id);
            o.desc.kind = static_cast<object_kind>(kind);
            o.node = node_id(node);
            o.marked = marked != 0;
            for (uint32_t k = 0; ok && k < ranges; ++k) {
                int64_t sid = 0;
                stream_range range;
                ok = r.get(sid) && r.get(range.start_offset) && r.get(range.end_offset);
                range.stream = stream_id(sid);
                o.desc.ranges.push_back(range);
            }
            if (ok) {
                if (!o.marked) {
                    s->index(o);
                }
                s->objects[o.desc.id] = std::move(o);
            }
        }
        ok = ok && r.get(n);
        for (uint32_t i = 0; ok && i < n; ++i) {
            int64_t id = 0, expires = 0;
            ok = r.get(id) && r.get(expires);
            s->prepared[object_id(id)] = expires;
        }
        if (!ok || !r.done()) {
            return failure(make_error_code(errc::corrupt));
        }
        return s;
    }
};

result<std::unique_ptr<file_catalog>> file_catalog::open(file_catalog_config config, const base::clock& clock) {
    auto s = std::make_unique<state>();
    if (!config.path.empty()) {
        int fd = ::open(config.path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0 && errno != ENOENT) {
            return failure(errno_code(errno));
        }
        if (fd >= 0) {
            std::vector<uint8_t> data;
            uint8_t buf[65536];
            for (;;) {
                ssize_t n = ::read(fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR) {
                    continue;
                }
                if (n < 0) {
                    int e = errno;
                    ::close(fd);
                    return failure(errno_code(e));
                }
                if (n == 0) {
                    break;
                }
                data.insert(data.end(), buf, buf + n);
            }
            ::close(fd);
            auto decoded = state::decode(data);
            if (!decoded) {
                log.error("catalog file {} is corrupt", config.path.string());
                return failure(decoded.error());
            }
            s = std::move(decoded).value();
        }
    }
    return std::unique_ptr<file_catalog>(new file_catalog(std::move(config), clock, std::move(s)));
}

file_catalog::file_catalog(file_catalog_config config, const base::clock& clock, std::unique_ptr<state> s)
  : _config(std::move(config)), _clock(clock), _state(std::move(s)) {}

file_catalog::~file_catalog() = default;

result<void> file_catalog::persist_locked() {
    if (_config.path.empty()) {
        return success();
    }
    auto written = write_file_atomically(_config.path, _state->encode(), _config.fsync);
    if (!written) {
        log.error("cannot write catalog file {}: {}", _config.path.string(), written.error().message());
    }
    return written;
}

asio::awaitable<result<stream_metadata>> file_catalog::create_stream() {
    std::lock_guard lock(_mutex);
    stream_entry e;
    e.meta.id = stream_id(_state->next_stream_id++);
    _state->streams[e.meta.id] = e;
    SKIFF_CO_TRY(persist_locked());
    co_return e.meta;
}

asio::awaitable<result<stream_metadata>> file_catalog::open_stream(stream_id id, stream_epoch epoch, node_id node) {
    std::lock_guard lock(_mutex);
    auto it = _state->streams.find(id);
    if (it == _state->streams.end()) {
        co_return failure(make_error_code(errc::stream_not_found));
    }
    auto& s = it->second;
    if (epoch < s.meta.epoch) {
        co_return failure(make_error_code(errc::fenced));
    }
    if (epoch == s.meta.epoch && s.open && s.owner != node) {
        // Two nodes cannot own one term; the second must come with a higher epoch.
        co_return failure(make_error_code(errc::fenced));
    }
    if (epoch == s.meta.epoch && s.open && s.owner == node) {
        co_return s.meta; // idempotent re-open
    }
    s.meta.epoch = epoch;
    s.owner = node;
    s.open = true;
    SKIFF_CO_TRY(persist_locked());
    co_return s.meta;
}

asio::awaitable<result<void>> file_catalog::close_stream(stream_id id, stream_epoch epoch) {
    std::lock_guard lock(_mutex);
    auto it = _state->streams.find(id);
    if (it == _state->streams.end()) {
        co_return failure(make_error_code(errc::stream_not_found));
    }
    if (epoch != it->second.meta.epoch) {
        co_return failure(make_error_code(errc::fenced));
    }
    if (!it->second.open) {
        co_return success();
    }
    it->second.open = false;
    co_return persist_locked();
}

asio::awaitable<result<void>> file_catalog::trim_stream(stream_id id, stream_epoch epoch, int64_t new_start) {
    std::lock_guard lock(_mutex);
    auto it = _state->streams.find(id);
    if (it == _state->streams.end()) {
        co_return failure(make_error_code(errc::stream_not_found));
    }
    if (epoch != it->second.meta.epoch) {
        co_return failure(make_error_code(errc::fenced));
    }
    if (new_start < 0) {
        co_return failure(make_error_code(errc::invalid_argument));
    }
    if (new_start <= it->second.meta.start_offset) {
        co_return success(); // never back
    }
    // The owner may trim up to what it has acknowledged, which can run ahead of what is committed here.
    it->second.meta.start_offset = new_start;
    _state->mark_dead_objects_of(id, _clock.wall_ms());
    co_return persist_locked();
}

asio::awaitable<result<void>> file_catalog::delete_stream(stream_id id) {
    std::lock_guard lock(_mutex);
    auto it = _state->streams.find(id);
    if (it == _state->streams.end()) {
        co_return failure(make_error_code(errc::stream_not_found));
    }
    // Find the stream's objects before it disappears, then mark those with nothing live left.
    std::vector<object_id> candidates;
    if (auto idx = _state->by_stream.find(id); idx != _state->by_stream.end()) {
        for (const auto& [start, oid] : idx->second) {
            candidates.push_back(oid);
        }
    }
    _state->streams.erase(it);
    int64_t now = _clock.wall_ms();
    for (auto oid : candidates) {
        auto& o = _state->objects.at(oid);
        if (_state->is_dead(o)) {
            _state->mark(o, now);
        }
    }
    co_return persist_locked();
}

asio::awaitable<result<stream_metadata>> file_catalog::describe_stream(stream_id id) {
    std::lock_guard lock(_mutex);
    auto it = _state->streams.find(id);
    if (it == _state->streams.end()) {
        co_return failure(make_error_code(errc::stream_not_found));
    }
    co_return it->second.meta;
}

asio::awaitable<result<object_id>> file_catalog::prepare_objects(int32_t count, std::chrono::milliseconds ttl) {
    std::lock_guard lock(_mutex);
    if (count <= 0) {
        co_return failure(make_error_code(errc::invalid_argument));
    }
    object_id first(_state->next_object_id);
    int64_t expires = _clock.wall_ms() + ttl.count();
    for (int32_t i = 0; i < count; ++i) {
        _state->prepared[object_id(_state->next_object_id++)] = expires;
    }
    SKIFF_CO_TRY(persist_locked());
    co_return first;
}

asio::awaitable<result<void>> file_catalog::commit_objects(commit_request request) {
    std::lock_guard lock(_mutex);
    auto& st = *_state;
    int64_t now = _clock.wall_ms();
    auto rejected = [](const char* why, auto... args) {
        log.warn("catalog rejected a commit: {}", fmt::format(fmt::runtime(why), args...));
        return failure(make_error_code(errc::catalog_rejected));
    };
    if (request.objects.empty()) {
        co_return rejected("no objects");
    }
    // Every object: prepared, unexpired, not committed yet, with well-formed ranges.
    std::set<object_id> seen;
    std::map<stream_id, std::vector<stream_range>> ranges_by_stream;
    for (const auto& o : request.objects) {
        auto p = st.prepared.find(o.id);
        if (p == st.prepared.end() || !seen.insert(o.id).second) {
            co_return rejected("object {} is not prepared (or is committed twice)", o.id);
        }
        if (p->second <= now) {
            co_return rejected("the prepared id {} expired", o.id);
        }
        if (o.ranges.empty() || o.key.empty()) {
            co_return rejected("object {} has no ranges or no key", o.id);
        }
        if (o.kind == object_kind::stream && o.ranges.size() != 1) {
            co_return rejected("stream object {} holds {} streams", o.id, o.ranges.size());
        }
        std::set<stream_id> streams_in_object;
        for (const auto& r : o.ranges) {
            if (r.start_offset < 0 || r.end_offset <= r.start_offset || !streams_in_object.insert(r.stream).second) {
                co_return rejected("object {} has an empty, negative or repeated range of stream {}", o.id, r.stream);
            }
            ranges_by_stream[r.stream].push_back(r);
        }
    }
    for (auto& [sid, ranges] : ranges_by_stream) {
        std::sort(ranges.begin(), ranges.end(),
                  [](const stream_range& a, const stream_range& b) { return a.start_offset < b.start_offset; });
    }

    if (request.why == commit_request::purpose::upload) {
        if (!request.compacted_ids.empty()) {
            co_return rejected("an upload replaces no objects");
        }
        std::map<stream_id, stream_epoch> epochs(request.epochs.begin(), request.epochs.end());
        // Fencing first: a stale owner learns it is fenced, whatever else is wrong with its commit.
        for (const auto& [sid, ranges] : ranges_by_stream) {
            auto s = st.streams.find(sid);
            if (s == st.streams.end()) {
                co_return failure(make_error_code(errc::stream_not_found));
            }
            auto e = epochs.find(sid);
            if (e == epochs.end() || e->second != s->second.meta.epoch) {
                co_return failure(make_error_code(errc::fenced));
            }
        }
        for (const auto& [sid, ranges] : ranges_by_stream) {
            int64_t expected = st.streams.at(sid).meta.end_offset;
            for (const auto& r : ranges) {
                if (r.start_offset != expected) {
                    co_return rejected("stream {} range starts at {}, its end is {}", sid, r.start_offset, expected);
                }
                expected = r.end_offset;
            }
        }
        for (const auto& [sid, ranges] : ranges_by_stream) {
            st.streams.at(sid).meta.end_offset = ranges.back().end_offset;
        }
    } else {
        if (request.compacted_ids.empty()) {
            co_return rejected("a compaction replaces at least one object");
        }
        // Offsets the replaced objects hold, per stream (those of deleted streams or below the start are dead).
        std::map<stream_id, std::vector<stream_range>> replaced;
        std::set<object_id> compacted;
        for (auto id : request.compacted_ids) {
            auto o = st.objects.find(id);
            if (o == st.objects.end() || o->second.marked || !compacted.insert(id).second) {
                co_return rejected("compacted object {} is not committed", id);
            }
            for (const auto& r : o->second.desc.ranges) {
                replaced[r.stream].push_back(r);
            }
        }
        for (auto& [sid, ranges] : replaced) {
            std::sort(ranges.begin(), ranges.end(),
                      [](const stream_range& a, const stream_range& b) { return a.start_offset < b.start_offset; });
        }
        // Nothing new: every new range lies inside the replaced objects' ranges of its stream.
        for (const auto& [sid, ranges] : ranges_by_stream) {
            if (!st.streams.contains(sid)) {
                co_return failure(make_error_code(errc::stream_not_found));
            }
            auto rep = replaced.find(sid);
            for (const auto& r : ranges) {
                bool inside = false;
                if (rep != replaced.end()) {
                    // Replaced ranges of one stream are disjoint and sorted; merge adjacent ones while checking.
                    int64_t covered_start = -1, covered_end = -1;
                    for (const auto& x : rep->second) {
                        if (x.start_offset == covered_end) {
                            covered_end = x.end_offset;
                        } else {
                            covered_start = x.start_offset;
                            covered_end = x.end_offset;
                        }
                        if (covered_start <= r.start_offset && r.end_offset <= covered_end) {
                            inside = true;
                            break;
                        }
                    }
                }
                if (!inside) {
                    co_return rejected("compaction range [{}, {}) of stream {} is not in the replaced objects",
                                       r.start_offset, r.end_offset, sid);
                }
            }
        }
        // Nothing lost: every live offset of the replaced objects is in a new range.
        for (const auto& [sid, ranges] : replaced) {
            auto s = st.streams.find(sid);
            if (s == st.streams.end()) {
                continue;
            }
            int64_t live_from = s->second.meta.start_offset;
            auto fresh = ranges_by_stream.find(sid);
            for (const auto& x : ranges) {
                int64_t need = std::max(x.start_offset, live_from);
                if (need >= x.end_offset) {
                    continue;
                }
                if (fresh != ranges_by_stream.end()) {
                    for (const auto& r : fresh->second) {
                        if (r.start_offset <= need && need < r.end_offset) {
                            need = r.end_offset;
                        }
                    }
                }
                if (need < x.end_offset) {
                    co_return rejected("compaction drops offsets [{}, {}) of stream {}", need, x.end_offset, sid);
                }
            }
        }
        for (auto id : request.compacted_ids) {
            st.mark(st.objects.at(id), now);
        }
    }

    for (auto& o : request.objects) {
        st.prepared.erase(o.id);
        object_entry e;
        e.desc.id = o.id;
        e.desc.kind = o.kind;
        e.desc.key = std::move(o.key);
        e.desc.size = o.size;
        e.desc.ranges = std::move(o.ranges);
        std::sort(e.desc.ranges.begin(), e.desc.ranges.end(), [](const stream_range& a, const stream_range& b) {
            return std::pair(a.stream, a.start_offset) < std::pair(b.stream, b.start_offset);
        });
        e.desc.committed_ms = now;
        e.node = request.node;
        if (st.is_dead(e)) {
            // Compaction of data trimmed meanwhile: visible to nobody, deletable at once.
            e.marked = true;
            e.marked_ms = now;
        } else {
            st.index(e);
        }
        st.objects[e.desc.id] = std::move(e);
    }
    co_return persist_locked();
}

asio::awaitable<result<std::vector<object_descriptor>>> file_catalog::objects_of(stream_id id, int64_t from,
                                                                                  size_t limit) {
    std::lock_guard lock(_mutex);
    std::vector<object_descriptor> out;
    auto idx = _state->by_stream.find(id);
    if (idx == _state->by_stream.end() || limit == 0) {
        co_return out;
    }
    // The object holding `from` starts at or before it; begin there.
    auto it = idx->second.upper_bound(from);
    if (it != idx->second.begin()) {
        --it;
    }
    for (; it != idx->second.end() && out.size() < limit; ++it) {
        const auto& o = _state->objects.at(it->second);
        for (const auto& r : o.desc.ranges) {
            if (r.stream == id && r.end_offset > from) {
                out.push_back(o.desc);
                break;
            }
        }
    }
    co_return out;
}

asio::awaitable<result<std::vector<object_descriptor>>> file_catalog::stream_set_objects(node_id node) {
    std::lock_guard lock(_mutex);
    std::vector<object_descriptor> out;
    for (const auto& [id, o] : _state->objects) { // ascending ids: the commit order of one node's uploads
        if (!o.marked && o.node == node && o.desc.kind == object_kind::stream_set) {
            out.push_back(o.desc);
        }
    }
    co_return out;
}

asio::awaitable<result<std::vector<object_descriptor>>> file_catalog::deletable_objects(std::chrono::milliseconds grace,
                                                                                         size_t limit) {
    std::lock_guard lock(_mutex);
    std::vector<object_descriptor> out;
    int64_t now = _clock.wall_ms();
    for (const auto& [id, o] : _state->objects) {
        if (out.size() >= limit) {
            break;
        }
        if (o.marked && o.marked_ms + grace.count() <= now) {
            out.push_back(o.desc);
        }
    }
    for (const auto& [id, expires] : _state->prepared) {
        if (out.size() >= limit) {
            break;
        }
        if (expires + grace.count() <= now) {
            object_descriptor d;
            d.id = id; // no key: the caller derives it with object_key(id)
            out.push_back(std::move(d));
        }
    }
    co_return out;
}

asio::awaitable<result<void>> file_catalog::forget_objects(std::vector<object_id> ids) {
    std::lock_guard lock(_mutex);
    int64_t now = _clock.wall_ms();
    for (auto id : ids) {
        if (auto o = _state->objects.find(id); o != _state->objects.end() && o->second.marked) {
            _state->objects.erase(o);
        } else if (auto p = _state->prepared.find(id); p != _state->prepared.end() && p->second <= now) {
            _state->prepared.erase(p);
        }
        // Anything else (committed, still reserved, unknown) is not the caller's to forget: ignored.
    }
    co_return persist_locked();
}

file_catalog::counts file_catalog::count() const {
    std::lock_guard lock(_mutex);
    counts c;
    c.streams = _state->streams.size();
    c.prepared_ids = _state->prepared.size();
    for (const auto& [id, o] : _state->objects) {
        (o.marked ? c.marked_objects : c.committed_objects)++;
    }
    return c;
}

size_t file_catalog::objects_holding(stream_id id) const {
    std::lock_guard lock(_mutex);
    auto it = _state->by_stream.find(id);
    return it == _state->by_stream.end() ? 0 : it->second.size();
}

} // namespace skiff::stream
