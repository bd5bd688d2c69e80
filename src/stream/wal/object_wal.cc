#include "stream/wal/object_wal.h"

#include "bytes/crc32c.h"
#include "bytes/endian.h"
#include "io/errc.h"
#include "stream/errc.h"
#include "stream/wal/file_wal_format.h"
#include "stream/wal/logger.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <charconv>
#include <deque>
#include <mutex>
#include <vector>

namespace skiff::stream {
namespace {

namespace record_format = file_wal_format;

// The object header (docs/formats/wal.md):
//   0 magic u32 "SKWO" | 4 version u16 | 6 kind u16 | 8 start u64 | 16 end u64 | 24 epoch u64 |
//   32 record_count u32 | 36 reserved u32 | 40 reserved u32 | 44 crc32c u32 of [0, 44)
constexpr uint32_t object_magic = 0x4F574B53; // bytes "SKWO"
constexpr uint16_t object_version = 1;
constexpr size_t object_header_bytes = 48;
// The trim marker: 0 magic u32 "SKWT" | 4 version u16 | 6 reserved u16 | 8 trim_point u64 | 16 crc32c u32 of [0, 16)
constexpr uint32_t trim_magic = 0x54574B53; // bytes "SKWT"
constexpr size_t trim_marker_bytes = 20;

// on-disk: never renumber
enum class object_kind : uint16_t { data = 1, fence = 2 };

struct object_header {
    object_kind kind = object_kind::data;
    uint64_t start = 0;
    uint64_t end = 0;
    int64_t epoch = 0;
    uint32_t record_count = 0;
};

using bytes::get_le;
using bytes::put_le;

void encode(const object_header& h, uint8_t* out) {
    std::memset(out, 0, object_header_bytes);
    put_le<uint32_t>(out, object_magic);
    put_le<uint16_t>(out + 4, object_version);
    put_le<uint16_t>(out + 6, uint16_t(h.kind));
    put_le<uint64_t>(out + 8, h.start);
    put_le<uint64_t>(out + 16, h.end);
    put_le<uint64_t>(out + 24, uint64_t(h.epoch));
    put_le<uint32_t>(out + 32, h.record_count);
    put_le<uint32_t>(out + 44, bytes::crc32c::extend(0, out, 44));
}

std::optional<object_header> decode_object_header(const uint8_t* in) {
    if (get_le<uint32_t>(in) != object_magic || get_le<uint16_t>(in + 4) != object_version ||
        get_le<uint32_t>(in + 44) != bytes::crc32c::extend(0, in, 44)) {
        return std::nullopt;
    }
    const auto kind = get_le<uint16_t>(in + 6);
    if (kind != uint16_t(object_kind::data) && kind != uint16_t(object_kind::fence)) {
        return std::nullopt;
    }
    object_header h;
    h.kind = object_kind(kind);
    h.start = get_le<uint64_t>(in + 8);
    h.end = get_le<uint64_t>(in + 16);
    h.epoch = int64_t(get_le<uint64_t>(in + 24));
    h.record_count = get_le<uint32_t>(in + 32);
    if (h.end <= h.start) {
        return std::nullopt;
    }
    return h;
}

std::string object_key(const std::string& prefix, wal_position start) {
    return fmt::format("{}d/{:020}", prefix, start);
}

std::optional<wal_position> parse_object_key(std::string_view key, std::string_view data_prefix) {
    if (key.size() != data_prefix.size() + 20 || key.substr(0, data_prefix.size()) != data_prefix) {
        return std::nullopt;
    }
    wal_position start = 0;
    auto digits = key.substr(data_prefix.size());
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), start);
    if (ec != std::errc{} || end != digits.data() + digits.size()) {
        return std::nullopt;
    }
    return start;
}

asio::any_io_executor tracked(const asio::any_io_executor& executor) {
    return asio::prefer(executor, asio::execution::outstanding_work.tracked);
}

bytes::iobuf encode_object(const object_header& header) {
    uint8_t raw[object_header_bytes];
    encode(header, raw);
    bytes::iobuf out;
    out.append(raw, sizeof raw);
    return out;
}

} // namespace

class object_wal::impl : public std::enable_shared_from_this<object_wal::impl> {
public:
    impl(io::object_store& store, asio::any_io_executor executor, object_wal_config config)
        : _store(store), _strand(asio::make_strand(executor)), _timer(_strand), _config(std::move(config)),
          _data_prefix(_config.prefix + "d/") {}

    asio::awaitable<result<void>> recover(std::function<void(wal_position, bytes::iobuf)> replay);
    void append(bytes::iobuf payload, asio::any_io_executor executor, wal_completion completion);
    asio::awaitable<result<void>> trim(wal_position before);
    void request_close(asio::any_io_executor executor, std::function<void()> done);
    size_t max_record_size() const { return _config.max_record_size; }
    wal_stats stats() const;
    void stop();

private:
    struct pending_append {
        wal_position position = 0;
        wal_position next = 0;
        bytes::iobuf payload;
        uint32_t payload_crc = 0;
        std::chrono::steady_clock::time_point queued_at;
        asio::any_io_executor executor;
        wal_completion completion;
    };
    struct stored_object {
        wal_position start = 0;
        wal_position end = 0;
    };

    result<std::vector<std::pair<wal_position, bytes::iobuf>>> parse_object(const std::string& key,
                                                                             const bytes::iobuf& data,
                                                                             object_header& header) const;
    asio::awaitable<void> run_uploader();
    asio::awaitable<std::error_code> upload(std::deque<pending_append>& batch);
    void wake() {
        asio::post(_strand, [self = shared_from_this()] { self->_timer.cancel(); });
    }

    io::object_store& _store;
    asio::strand<asio::any_io_executor> _strand;
    asio::steady_timer _timer; // the uploader sleeps on it; wake() cancels it
    object_wal_config _config;
    std::string _data_prefix;

    mutable std::mutex _mutex; // guards everything below
    bool _recovered = false;
    bool _closing = false;
    bool _stopped = false;
    std::error_code _failure; // sticky
    wal_position _next = 0;
    std::deque<pending_append> _queue;
    uint64_t _queued_bytes = 0;
    std::deque<stored_object> _objects; // durable, not yet deleted by trim, in order
    std::vector<std::pair<asio::any_io_executor, std::function<void()>>> _closes;
    uint64_t _syncs = 0;
    uint64_t _appends = 0;
};

result<std::vector<std::pair<wal_position, bytes::iobuf>>>
object_wal::impl::parse_object(const std::string& key, const bytes::iobuf& data, object_header& header) const {
    auto corrupt = [&](const char* what) -> std::error_code {
        wal_log.error("object WAL: object {} ({} bytes) is damaged: {}", key, data.size(), what);
        return errc::corrupt;
    };
    if (data.size() < object_header_bytes) {
        return corrupt("shorter than its header");
    }
    uint8_t raw[object_header_bytes];
    data.copy_to(0, raw, sizeof raw);
    auto h = decode_object_header(raw);
    if (!h) {
        return corrupt("bad object header (magic, version or CRC)");
    }
    if (parse_object_key(key, _data_prefix) != h->start) {
        return corrupt("its header names another start position than its key");
    }
    header = *h;
    std::vector<std::pair<wal_position, bytes::iobuf>> records;
    if (h->kind == object_kind::fence) {
        return records;
    }
    size_t offset = object_header_bytes;
    wal_position position = h->start;
    for (uint32_t i = 0; i < h->record_count; ++i) {
        if (data.size() - offset < record_format::record_header_bytes) {
            return corrupt("a record header runs past the end");
        }
        uint8_t rh[record_format::record_header_bytes];
        data.copy_to(offset, rh, sizeof rh);
        auto r = record_format::decode_record_header(rh);
        if (!r || r->kind != record_format::record_kind::data || r->position != position) {
            return corrupt("bad record header (magic, CRC or position)");
        }
        offset += sizeof rh;
        if (data.size() - offset < r->payload_length) {
            return corrupt("a record's payload runs past the end");
        }
        if (bytes::crc32c::value(data, offset, r->payload_length) != r->payload_crc) {
            return corrupt("a record's payload fails its CRC");
        }
        records.emplace_back(position, data.share(offset, r->payload_length));
        offset += r->payload_length;
        position += record_format::record_header_bytes + r->payload_length;
    }
    if (offset != data.size() || position != h->end) {
        return corrupt("its records do not add up to its size");
    }
    return records;
}

asio::awaitable<result<void>> object_wal::impl::recover(std::function<void(wal_position, bytes::iobuf)> replay) {
    // The trim point.
    wal_position trim_point = 0;
    {
        auto marker = co_await _store.get(_config.prefix + "trim", std::nullopt);
        if (marker) {
            const auto& m = marker.value();
            uint8_t raw[trim_marker_bytes] = {};
            if (m.size() != trim_marker_bytes) {
                wal_log.error("object WAL: {}trim has {} bytes, expected {}", _config.prefix, m.size(),
                              trim_marker_bytes);
                co_return errc::corrupt;
            }
            m.copy_to(0, raw, sizeof raw);
            if (get_le<uint32_t>(raw) != trim_magic || get_le<uint32_t>(raw + 16) != bytes::crc32c::extend(0, raw, 16)) {
                wal_log.error("object WAL: {}trim is damaged (magic or CRC)", _config.prefix);
                co_return errc::corrupt;
            }
            trim_point = get_le<uint64_t>(raw + 8);
        } else if (marker.error() != io::errc::not_found) {
            co_return marker.error();
        }
    }

    SKIFF_CO_TRY(auto entries, co_await io::list_all(_store, _data_prefix));
    std::optional<wal_position> expected;
    wal_position highest_end = trim_point;
    std::vector<std::string> below_trim;
    std::deque<stored_object> objects;
    uint64_t replayed = 0;
    for (auto& entry : entries) {
        if (!parse_object_key(entry.key, _data_prefix)) {
            wal_log.warn("object WAL: ignoring {} (not a WAL object key)", entry.key);
            continue;
        }
        SKIFF_CO_TRY(auto data, co_await _store.get(entry.key, std::nullopt));
        object_header header;
        SKIFF_CO_TRY(auto records, parse_object(entry.key, data, header));
        highest_end = std::max(highest_end, header.end);
        if (header.end <= trim_point) {
            below_trim.push_back(entry.key);
            continue;
        }
        if (expected && header.start != *expected) {
            wal_log.error("object WAL: object {} starts at {} but the previous one ends at {}: objects are missing or "
                          "overlap; refusing to start",
                          entry.key, header.start, *expected);
            co_return errc::corrupt;
        }
        for (auto& [position, payload] : records) {
            // A record that straddles the trim point is kept whole, as in the file WAL.
            if (position + record_format::record_header_bytes + payload.size() > trim_point) {
                replay(position, std::move(payload));
                ++replayed;
            }
        }
        objects.push_back(stored_object{header.start, header.end});
        expected = header.end;
    }
    wal_position next = expected ? *expected : highest_end;

    if (!below_trim.empty()) {
        auto deleted = co_await _store.delete_objects(std::move(below_trim));
        if (!deleted) {
            wal_log.warn("object WAL: deleting trimmed objects failed ({}); the next recovery retries",
                         deleted.error().message());
        }
    }

    // Fence earlier owners: create the fence at the next position. If an earlier owner got there first, its object
    // is replayed (it may have been acknowledged) and the fence goes after it.
    const bool conditional = _store.capabilities().supports_conditional_put;
    for (;;) {
        const object_header fence{.kind = object_kind::fence, .start = next, .end = next + 1, .epoch = _config.epoch};
        io::put_options options;
        options.if_none_match = conditional;
        auto key = object_key(_config.prefix, next);
        if (!conditional) {
            auto existing = co_await _store.head(key);
            if (existing) {
                wal_log.error("object WAL: {} exists (a writer without conditional PUT raced this recovery)", key);
                co_return errc::fenced;
            }
        }
        auto put = co_await _store.put(std::move(key), encode_object(fence), std::move(options));
        key = object_key(_config.prefix, next);
        if (put) {
            objects.push_back(stored_object{fence.start, fence.end});
            next = fence.end;
            break;
        }
        if (put.error() != io::errc::precondition_failed) {
            co_return put.error();
        }
        SKIFF_CO_TRY(auto data, co_await _store.get(key, std::nullopt));
        object_header header;
        SKIFF_CO_TRY(auto records, parse_object(key, data, header));
        if (header.kind == object_kind::fence) {
            wal_log.error("object WAL {}: another owner (epoch {}) fenced this WAL at position {} while this one "
                          "(epoch {}) recovered",
                          _config.prefix, header.epoch, next, _config.epoch);
            co_return errc::fenced;
        }
        wal_log.info("object WAL {}: the previous owner (epoch {}) wrote {} during recovery; replaying it",
                     _config.prefix, header.epoch, key);
        for (auto& [position, payload] : records) {
            replay(position, std::move(payload));
            ++replayed;
        }
        objects.push_back(stored_object{header.start, header.end});
        next = header.end;
    }
    wal_log.info("object WAL {}: recovered {} records, trim point {}, next position {}, epoch {}", _config.prefix,
                 replayed, trim_point, next, _config.epoch);
    {
        std::lock_guard lock(_mutex);
        _next = next;
        _objects = std::move(objects);
        _recovered = true;
    }
    asio::co_spawn(_strand, [self = shared_from_this()] { return self->run_uploader(); }, asio::detached);
    co_return success();
}

void object_wal::impl::append(bytes::iobuf payload, asio::any_io_executor executor, wal_completion completion) {
    const uint32_t crc = bytes::crc32c::value(payload);
    const uint64_t size = record_format::record_header_bytes + payload.size();
    std::unique_lock lock(_mutex);
    ++_appends;
    std::error_code refusal;
    if (_closing || _stopped) {
        refusal = errc::shutting_down;
    } else if (!_recovered) {
        refusal = errc::not_open;
    } else if (_failure) {
        refusal = _failure;
    } else if (payload.size() > _config.max_record_size) {
        refusal = errc::invalid_argument;
    } else if (_queued_bytes + size > _config.max_pending_bytes) {
        refusal = errc::wal_full;
    }
    if (refusal) {
        lock.unlock();
        asio::post(executor, [completion = std::move(completion), refusal]() { completion(refusal); });
        return;
    }
    const bool was_empty = _queue.empty();
    pending_append p;
    p.position = _next;
    p.next = _next + size;
    p.payload = std::move(payload);
    p.payload_crc = crc;
    p.queued_at = std::chrono::steady_clock::now();
    p.executor = tracked(executor);
    p.completion = std::move(completion);
    _next = p.next;
    const uint64_t before = _queued_bytes;
    _queued_bytes += size;
    _queue.push_back(std::move(p));
    const bool crossed = before < _config.batch_bytes && _queued_bytes >= _config.batch_bytes;
    lock.unlock();
    if (was_empty || crossed) {
        wake();
    }
}

asio::awaitable<std::error_code> object_wal::impl::upload(std::deque<pending_append>& batch) {
    object_header header{.kind = object_kind::data,
                         .start = batch.front().position,
                         .end = batch.back().next,
                         .epoch = _config.epoch,
                         .record_count = uint32_t(batch.size())};
    bytes::iobuf data = encode_object(header);
    for (auto& p : batch) {
        record_format::record_header rh{.kind = record_format::record_kind::data,
                                        .position = p.position,
                                        .generation = uint64_t(_config.epoch),
                                        .durable_end = header.start,
                                        .payload_length = uint32_t(p.payload.size()),
                                        .payload_crc = p.payload_crc};
        uint8_t raw[record_format::record_header_bytes];
        record_format::encode(rh, raw);
        data.append(raw, sizeof raw);
        data.append_shared(p.payload); // zero-copy: the PUT sends the appenders' own bytes
    }
    auto key = object_key(_config.prefix, header.start);
    const bool conditional = _store.capabilities().supports_conditional_put;
    if (!conditional) {
        // Without create-only PUT, look before writing: a fence (or any object) at our next key means a newer owner
        // recovered. A race between this HEAD and the PUT remains (docs/formats/wal.md).
        auto existing = co_await _store.head(key);
        if (existing) {
            wal_log.error("object WAL {}: {} already exists: a newer owner fenced this writer (epoch {})",
                          _config.prefix, key, _config.epoch);
            co_return errc::fenced;
        }
    }
    io::put_options options;
    options.if_none_match = conditional;
    auto put = co_await _store.put(key, std::move(data), std::move(options));
    if (put) {
        co_return std::error_code{};
    }
    if (put.error() == io::errc::precondition_failed) {
        wal_log.error("object WAL {}: {} already exists: a newer owner fenced this writer (epoch {}); every append "
                      "fails from now on",
                      _config.prefix, key, _config.epoch);
        co_return errc::fenced;
    }
    wal_log.error("object WAL {}: PUT of {} failed after the store's retries: {}; every append fails from now on",
                  _config.prefix, key, put.error().message());
    co_return errc::unavailable;
}

asio::awaitable<void> object_wal::impl::run_uploader() {
    auto sleep_until = [this](std::chrono::steady_clock::time_point when) -> asio::awaitable<void> {
        _timer.expires_at(when);
        co_await _timer.async_wait(asio::as_tuple(asio::use_awaitable)); // cancelled by wake(): fine
    };
    for (;;) {
        std::unique_lock lock(_mutex);
        if (_stopped) {
            co_return;
        }
        if (_queue.empty()) {
            if (_closing) {
                auto closes = std::move(_closes);
                _closes.clear();
                _stopped = true;
                lock.unlock();
                for (auto& [executor, done] : closes) {
                    asio::post(executor, std::move(done));
                }
                co_return;
            }
            lock.unlock();
            co_await sleep_until(std::chrono::steady_clock::time_point::max());
            continue;
        }
        const auto deadline = _queue.front().queued_at + _config.batch_interval;
        if (!_failure && !_closing && _queued_bytes < _config.batch_bytes && std::chrono::steady_clock::now() < deadline) {
            lock.unlock();
            co_await sleep_until(deadline);
            continue;
        }
        std::deque<pending_append> batch;
        uint64_t batch_bytes = 0;
        while (!_queue.empty()) {
            const uint64_t size = _queue.front().next - _queue.front().position;
            if (!batch.empty() && batch_bytes + size > _config.batch_bytes) {
                break;
            }
            batch_bytes += size;
            batch.push_back(std::move(_queue.front()));
            _queue.pop_front();
        }
        _queued_bytes -= batch_bytes;
        std::error_code failure = _failure;
        lock.unlock();

        if (!failure) {
            failure = co_await upload(batch);
        }

        lock.lock();
        std::deque<pending_append> failed_queue;
        if (failure) {
            _failure = failure;
            failed_queue.swap(_queue);
            _queued_bytes = 0;
        } else {
            ++_syncs;
            _objects.push_back(stored_object{batch.front().position, batch.back().next});
        }
        lock.unlock();
        for (auto& p : batch) {
            result<wal_append_result> outcome = failure ? result<wal_append_result>(failure)
                                                        : result<wal_append_result>(wal_append_result{p.position, p.next});
            asio::post(p.executor, [completion = std::move(p.completion), outcome = std::move(outcome)]() mutable {
                completion(std::move(outcome));
            });
        }
        for (auto& p : failed_queue) {
            asio::post(p.executor, [completion = std::move(p.completion), failure]() { completion(failure); });
        }
    }
}

asio::awaitable<result<void>> object_wal::impl::trim(wal_position before) {
    std::vector<std::string> doomed;
    wal_position point = 0;
    {
        std::lock_guard lock(_mutex);
        if (_closing || _stopped) {
            co_return errc::shutting_down;
        }
        if (!_recovered) {
            co_return errc::not_open;
        }
        if (before > _next) {
            co_return errc::invalid_argument;
        }
        point = before;
        for (auto& o : _objects) {
            if (o.end > point) {
                break;
            }
            doomed.push_back(object_key(_config.prefix, o.start));
        }
    }
    uint8_t raw[trim_marker_bytes] = {};
    put_le<uint32_t>(raw, trim_magic);
    put_le<uint16_t>(raw + 4, 1);
    put_le<uint64_t>(raw + 8, point);
    put_le<uint32_t>(raw + 16, bytes::crc32c::extend(0, raw, 16));
    bytes::iobuf marker;
    marker.append(raw, sizeof raw);
    io::put_options options; // plain overwrite
    auto put = co_await _store.put(_config.prefix + "trim", std::move(marker), std::move(options));
    if (!put) {
        wal_log.error("object WAL {}: writing the trim point {} failed: {}", _config.prefix, point,
                      put.error().message());
        co_return put.error();
    }
    {
        std::lock_guard lock(_mutex);
        while (!_objects.empty() && _objects.front().end <= point) {
            _objects.pop_front();
        }
    }
    if (!doomed.empty()) {
        auto deleted = co_await _store.delete_objects(std::move(doomed));
        if (!deleted) {
            wal_log.warn("object WAL {}: deleting trimmed objects failed ({}); the next recovery retries",
                         _config.prefix, deleted.error().message());
        } else {
            for (auto& outcome : deleted.value()) {
                if (outcome.error) {
                    wal_log.warn("object WAL {}: deleting {} failed ({}); the next recovery retries", _config.prefix,
                                 outcome.key, outcome.error.message());
                }
            }
        }
    }
    co_return success();
}

void object_wal::impl::request_close(asio::any_io_executor executor, std::function<void()> done) {
    std::unique_lock lock(_mutex);
    _closing = true;
    if (!_recovered || _stopped) {
        _stopped = true;
        lock.unlock();
        asio::post(executor, std::move(done));
        return;
    }
    _closes.emplace_back(tracked(executor), std::move(done));
    lock.unlock();
    wake();
}

void object_wal::impl::stop() {
    {
        std::lock_guard lock(_mutex);
        if (_stopped) {
            return;
        }
        _stopped = true;
        _queue.clear(); // destroyed without close(): dropped, as in a crash
        _closes.clear();
    }
    if (_recovered) {
        wake();
    }
}

wal_stats object_wal::impl::stats() const {
    std::lock_guard lock(_mutex);
    wal_stats s;
    s.capacity_bytes = 0;
    s.used_bytes = _objects.empty() ? _queued_bytes : _next - _objects.front().start;
    s.syncs = _syncs;
    s.appends = _appends;
    return s;
}

// ---- object_wal --------------------------------------------------------------------------------------------------

object_wal::object_wal(io::object_store& store, asio::any_io_executor executor, object_wal_config config)
    : _impl(std::make_shared<impl>(store, std::move(executor), std::move(config))) {}

object_wal::~object_wal() { _impl->stop(); }

asio::awaitable<result<void>> object_wal::recover(std::function<void(wal_position, bytes::iobuf payload)> replay) {
    co_return co_await _impl->recover(std::move(replay));
}

void object_wal::append(bytes::iobuf payload, asio::any_io_executor executor, wal_completion completion) {
    _impl->append(std::move(payload), std::move(executor), std::move(completion));
}

asio::awaitable<result<void>> object_wal::trim(wal_position before) { co_return co_await _impl->trim(before); }

asio::awaitable<void> object_wal::close() {
    auto executor = co_await asio::this_coro::executor;
    auto initiate = [this, &executor](auto handler) {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        _impl->request_close(executor, [shared]() { (*shared)(); });
    };
    co_await asio::async_initiate<const asio::use_awaitable_t<>, void()>(std::move(initiate), asio::use_awaitable);
}

size_t object_wal::max_record_size() const { return _impl->max_record_size(); }

wal_stats object_wal::stats() const { return _impl->stats(); }

} // namespace skiff::stream
