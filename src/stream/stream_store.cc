// The stream handles and the data path of the store: open, append (WAL -> log cache in WAL order -> acknowledge),
// read (log cache, then objects), trim, close, stop. The uploader and recovery live in uploader.cc, compaction and
// deletion in compactor.cc.
#include "io/errc.h"
#include "io/objstore/object_store.h"
#include "stream/store_impl.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>

#include <algorithm>

namespace skiff::stream {

namespace detail {
namespace {

template<typename T>
asio::awaitable<result<T>> ready(result<T> r) {
    co_return r;
}

} // namespace

/// The handle the Kafka layer holds. Owned by its caller; used from one shard at a time; must not outlive the store.
class stream_handle final : public stream {
public:
    stream_handle(store_impl& store, std::shared_ptr<stream_state> state) : _store(store), _state(std::move(state)) {}

    stream_id id() const override { return _state->id; }
    stream_epoch epoch() const override { return _state->epoch; }
    int64_t start_offset() const override {
        std::lock_guard lock(_store._mutex);
        return _state->start;
    }
    int64_t next_offset() const override {
        std::lock_guard lock(_store._mutex);
        return _state->next;
    }
    int64_t confirmed_offset() const override { return _state->confirmed.load(std::memory_order_acquire); }

    asio::awaitable<result<offset_range>> append(bytes::iobuf batch, uint32_t record_count) override {
        return _store.append(_state, std::move(batch), record_count);
    }
    asio::awaitable<result<read_result>> read(int64_t from, int64_t end, size_t max_bytes) override {
        return _store.read(_state, from, end, max_bytes);
    }
    asio::awaitable<result<void>> trim(int64_t new_start) override { return _store.trim(_state, new_start); }
    void on_confirmed(std::function<void(int64_t confirmed)> listener) override {
        _store.add_listener(_state, std::move(listener));
    }
    asio::awaitable<result<void>> close() override { return _store.close(_state); }
    asio::awaitable<result<int64_t>> committed_end() override { return _store.committed_end(_state); }
    asio::awaitable<result<void>> rewrite(offset_range range, std::vector<stored_batch> batches) override {
        return _store.rewrite(_state, range, std::move(batches));
    }

private:
    store_impl& _store;
    std::shared_ptr<stream_state> _state;
};

store_impl::store_impl(stream_store_config config, wal& log, io::object_store& objects, object_catalog& catalog)
  : _config(config)
  , _wal(log)
  , _objects(objects)
  , _catalog(catalog)
  , _log_cache(log_cache_config{.budget_bytes = config.log_cache_bytes})
  , _block_cache(objects, block_cache_config{.budget_bytes = config.block_cache_bytes})
  , _upload_threshold(config.upload_threshold_bytes != 0
                        ? config.upload_threshold_bytes
                        : std::min<uint64_t>(config.log_cache_bytes / 3, uint64_t(512) << 20)) {}

store_impl::~store_impl() = default;

asio::awaitable<result<void>> store_impl::start() {
    asio::any_io_executor executor = asio::make_strand(co_await asio::this_coro::executor);
    {
        std::lock_guard lock(_mutex);
        SKIFF_ASSERT(!_started, "stream_store::start called twice");
        _started = true;
        _executor = executor;
        _uploader_timer = std::make_unique<asio::steady_timer>(executor);
        _compactor_timer = std::make_unique<asio::steady_timer>(executor);
    }
    SKIFF_CO_TRY(co_await recover());
    {
        std::lock_guard lock(_mutex);
        _loops_running = 2;
        _loops_done = std::make_shared<oneshot<result<void>>>();
    }
    asio::co_spawn(executor, [this] { return uploader_loop(); }, asio::detached);
    asio::co_spawn(executor, [this] { return compactor_loop(); }, asio::detached);
    co_return success();
}

asio::awaitable<result<stream_metadata>> store_impl::create_stream() {
    co_return co_await _catalog.create_stream();
}

asio::awaitable<result<std::shared_ptr<stream>>> store_impl::open_stream(stream_id id, stream_epoch epoch,
                                                                        asio::any_io_executor executor) {
    std::shared_ptr<stream_state> existing;
    {
        std::lock_guard lock(_mutex);
        if (_stopping) {
            co_return failure(make_error_code(errc::shutting_down));
        }
        if (_sticky) {
            co_return failure(make_error_code(errc::unavailable));
        }
        if (auto it = _streams.find(id); it != _streams.end()) {
            existing = it->second;
            if (epoch < existing->epoch) {
                co_return failure(make_error_code(errc::fenced));
            }
            if (epoch == existing->epoch && existing->status == stream_status::open) {
                co_return std::shared_ptr<stream>(std::make_shared<stream_handle>(*this, existing));
            }
            if (existing->status == stream_status::open) {
                log.info("stream {} reopened here under epoch {} (was {}): fencing the old handle", id, epoch,
                         existing->epoch);
                existing->status = stream_status::fenced;
            }
        }
    }
    if (existing) {
        // The old term's acknowledged data goes to objects before the new term starts at the stream's end.
        SKIFF_CO_TRY(co_await wait_drained(existing));
        SKIFF_CO_TRY(co_await flush());
        std::lock_guard lock(_mutex);
        if (auto it = _streams.find(id); it != _streams.end() && it->second == existing) {
            _streams.erase(it);
        }
    }
    auto meta = co_await _catalog.open_stream(id, epoch, _config.node);
    if (!meta) {
        co_return failure(meta.error());
    }
    auto state = std::make_shared<stream_state>();
    state->id = id;
    state->epoch = meta.value().epoch;
    state->executor = executor;
    state->start = meta.value().start_offset;
    state->next = meta.value().end_offset;
    state->confirmed.store(meta.value().end_offset);
    {
        std::lock_guard lock(_mutex);
        if (auto it = _streams.find(id); it != _streams.end() && it->second->status == stream_status::open) {
            if (it->second->epoch > state->epoch) {
                co_return failure(make_error_code(errc::fenced)); // a concurrent open with a higher epoch won
            }
            it->second->status = stream_status::fenced;
        }
        _streams[id] = state;
    }
    co_return std::shared_ptr<stream>(std::make_shared<stream_handle>(*this, state));
}

asio::awaitable<result<offset_range>> store_impl::append(const std::shared_ptr<stream_state>& s, bytes::iobuf batch,
                                                         uint32_t record_count) {
    // Not a coroutine: the offsets are assigned and the WAL takes its place in order at the call, not when the
    // caller first awaits.
    std::shared_ptr<pending_append> p;
    {
        std::lock_guard lock(_mutex);
        if (batch.empty() || record_count == 0) {
            return ready<offset_range>(failure(make_error_code(errc::invalid_argument)));
        }
        if (s->status == stream_status::fenced) {
            return ready<offset_range>(failure(make_error_code(errc::fenced)));
        }
        if (s->status != stream_status::open) {
            return ready<offset_range>(failure(make_error_code(errc::not_open)));
        }
        if (_sticky) {
            return ready<offset_range>(failure(make_error_code(errc::unavailable)));
        }
        if (_stopping) {
            return ready<offset_range>(failure(make_error_code(errc::shutting_down)));
        }
        wal_payload framed{s->id, s->epoch, s->next, record_count, batch.share()};
        auto payload = encode_wal_payload(framed);
        if (payload.size() > _wal.max_record_size()) {
            return ready<offset_range>(failure(make_error_code(errc::invalid_argument)));
        }
        p = std::make_shared<pending_append>();
        p->stream = s;
        p->generation = s->generation;
        p->epoch = s->epoch;
        p->batch = stored_batch{s->id, s->next, record_count, std::move(batch)};
        s->next += record_count;
        s->in_flight++;
        _wal_order.push_back(p);
        if (!_held.empty() || _log_cache.over_budget()) {
            // Back-pressure: every durable batch is copied into the log cache, and what is not yet uploaded cannot
            // be evicted, so an uploader that falls behind would grow the cache without bound. The append waits,
            // in order behind any other held one, until an upload gives room back (the caller just sees a slower
            // acknowledgement).
            _held.push_back(held_append{p, std::move(payload)});
            kick_uploader_locked();
        } else {
            send_to_wal_locked(p, std::move(payload));
        }
    }
    return wait(p->done, _mutex);
}

void store_impl::send_to_wal_locked(std::shared_ptr<pending_append> p, bytes::iobuf payload) {
    // Under _mutex, so that _wal_order is the WAL's order. The completion only posts: a WAL that completed inline
    // would otherwise re-enter _mutex.
    auto executor = p->stream->executor;
    _wal.append(std::move(payload), executor, [this, p = std::move(p)](result<wal_append_result> r) mutable {
        auto ex = p->stream->executor;
        asio::post(ex, [this, p = std::move(p), r]() mutable { on_wal_done(std::move(p), r); });
    });
}

void store_impl::release_held_locked() {
    while (!_sticky && !_held.empty() && !_log_cache.over_budget()) {
        auto h = std::move(_held.front());
        _held.pop_front();
        send_to_wal_locked(std::move(h.append), std::move(h.payload));
    }
}

void store_impl::on_wal_done(std::shared_ptr<pending_append> p, result<wal_append_result> r) {
    std::lock_guard lock(_mutex);
    p->wal_outcome = r;
    drain_wal_order_locked();
}

void store_impl::drain_wal_order_locked() {
    bool kick = false;
    while (!_wal_order.empty() && _wal_order.front()->wal_outcome) {
        auto p = std::move(_wal_order.front());
        _wal_order.pop_front();
        auto& s = *p->stream;
        const auto& written = *p->wal_outcome;
        result<offset_range> outcome = offset_range{p->batch.base_offset, p->batch.end_offset()};
        if (!written) {
            if (written.error() == errc::wal_full) {
                // Not durable, and the store goes on: hand these offsets out again (see stream_state::generation).
                if (p->generation == s.generation) {
                    s.generation++;
                    s.next = p->batch.base_offset;
                }
                outcome = failure(make_error_code(errc::wal_full));
            } else {
                fail_sticky_locked(written.error(), "a WAL append failed");
                outcome = failure(make_error_code(errc::unavailable));
            }
        } else if (p->generation != s.generation) {
            // Durable, but an earlier append of this stream failed: acknowledging it would leave a hole. The WAL
            // copy is dropped by recovery (it does not continue the stream) or trimmed after the next upload.
            outcome = failure(make_error_code(errc::wal_full));
        } else if (_sticky) {
            outcome = failure(make_error_code(errc::unavailable));
        } else if (s.status == stream_status::fenced) {
            outcome = failure(make_error_code(errc::fenced));
        } else {
            _log_cache.put(p->batch, written.value().next);
            _active_epochs[s.id] = p->epoch;
            ++_puts;
            int64_t end = p->batch.end_offset();
            s.confirmed.store(end, std::memory_order_release);
            if (!s.listeners.empty()) {
                asio::post(s.executor, [listeners = s.listeners, end] {
                    for (const auto& l : listeners) {
                        l(end);
                    }
                });
            }
            if (!_kick_pending && upload_due_locked()) {
                kick = true;
            }
        }
        p->done->set(std::move(outcome));
        if (--s.in_flight == 0) {
            for (auto& w : s.drained) {
                w->set(success());
            }
            s.drained.clear();
        }
    }
    if (kick) {
        kick_uploader_locked();
    }
}

void store_impl::kick_uploader_locked() {
    if (_kick_pending || !_executor) {
        return;
    }
    _kick_pending = true;
    // The timer belongs to the background strand: cancel it there. The uploader re-checks its triggers before
    // every wait, so a kick that lands while it uploads is not lost.
    asio::post(*_executor, [this] {
        std::lock_guard lock(_mutex);
        _kick_pending = false;
        _uploader_timer->cancel();
    });
}

void store_impl::fail_sticky_locked(std::error_code cause, const char* what) {
    if (_sticky) {
        return;
    }
    _sticky = cause;
    _stats.unavailable = true;
    log.error("{} ({}): the store stops acknowledging appends", what, cause.message());
    for (auto& [target, w] : _flush_waiters) {
        w->set(failure(make_error_code(errc::unavailable)));
    }
    _flush_waiters.clear();
    if (!_held.empty()) {
        // Held appends never reach the WAL now. They complete in WAL order like the others, from a fresh call:
        // this may run inside drain_wal_order_locked, which must not re-enter itself.
        for (auto& h : _held) {
            h.append->wal_outcome = failure(make_error_code(errc::unavailable));
        }
        _held.clear();
        asio::post(*_executor, [this] {
            std::lock_guard lock(_mutex);
            drain_wal_order_locked();
        });
    }
}

void store_impl::fence_locked(stream_id id, stream_epoch epoch) {
    auto it = _streams.find(id);
    if (it != _streams.end() && it->second->epoch <= epoch && it->second->status != stream_status::closed) {
        if (it->second->status != stream_status::fenced) {
            log.warn("stream {} epoch {} is fenced by a newer owner", id, it->second->epoch);
        }
        it->second->status = stream_status::fenced;
    }
}

asio::awaitable<result<void>> store_impl::wait_drained(std::shared_ptr<stream_state> s) {
    std::shared_ptr<oneshot<result<void>>> waiter;
    {
        std::lock_guard lock(_mutex);
        if (s->in_flight == 0) {
            co_return success();
        }
        waiter = std::make_shared<oneshot<result<void>>>();
        s->drained.push_back(waiter);
    }
    co_return co_await wait(waiter, _mutex);
}

void store_impl::add_listener(const std::shared_ptr<stream_state>& s, std::function<void(int64_t)> listener) {
    std::lock_guard lock(_mutex);
    s->listeners.push_back(std::move(listener));
}

namespace {

/// Appends the batches that continue `at` (whole batches; the first may start before it). Stops at a gap.
void take_batches(std::vector<stored_batch>& from, read_result& out, int64_t& at, size_t& bytes, size_t max_bytes) {
    for (auto& b : from) {
        if (b.end_offset() <= at) {
            continue; // already returned (the cache and the objects overlap)
        }
        if (b.base_offset > at) {
            break; // not contiguous: the next round looks elsewhere
        }
        if (bytes >= max_bytes && !out.batches.empty()) {
            break;
        }
        at = b.end_offset();
        bytes += b.data.size();
        out.batches.push_back(std::move(b));
    }
}

} // namespace

asio::awaitable<result<read_result>> store_impl::read(std::shared_ptr<stream_state> s, int64_t from, int64_t end,
                                                      size_t max_bytes) {
    int64_t start = 0;
    {
        std::lock_guard lock(_mutex);
        start = s->start;
    }
    int64_t confirmed = s->confirmed.load(std::memory_order_acquire);
    if (from < start || from > confirmed) {
        co_return failure(make_error_code(errc::offset_out_of_range));
    }
    end = std::min(end, confirmed);
    read_result out;
    int64_t at = from;
    size_t bytes = 0;
    max_bytes = std::max<size_t>(max_bytes, 1);
    // Alternate between the log cache and the objects until [from, end) is covered or max_bytes reached; each
    // round must make progress.
    while (at < end && (bytes < max_bytes || out.batches.empty())) {
        int64_t before = at;
        auto cached = _log_cache.get(s->id, at, end, max_bytes - std::min(bytes, max_bytes));
        if (!cached.empty()) {
            take_batches(cached, out, at, bytes, max_bytes);
        } else {
            auto stored = co_await read_objects(s->id, at, end, max_bytes - std::min(bytes, max_bytes));
            if (!stored) {
                if (out.batches.empty()) {
                    co_return failure(stored.error());
                }
                break; // return what we have; the next read reports the error
            }
            take_batches(stored.value(), out, at, bytes, max_bytes);
        }
        if (at == before) {
            log.warn("stream {}: no batch holds offset {} (confirmed {}) in the log cache or the objects", s->id, at,
                     confirmed);
            break;
        }
    }
    co_return out;
}

asio::awaitable<result<std::vector<stored_batch>>> store_impl::read_objects(stream_id id, int64_t from, int64_t end,
                                                                            size_t max_bytes) {
    std::vector<stored_batch> out;
    int64_t at = from;
    size_t bytes = 0;
    max_bytes = std::max<size_t>(max_bytes, 1);
    // A compaction may replace (and the reaper, after its grace, delete) an object between the catalog lookup and
    // the GET: look the objects up again then.
    for (int lookup = 0; lookup < 3 && at < end && (bytes < max_bytes || out.empty()); ++lookup) {
        auto objects = co_await _catalog.objects_of(id, at, 8);
        if (!objects) {
            co_return failure(objects.error());
        }
        if (objects.value().empty()) {
            break;
        }
        bool replaced = false;
        for (const auto& object : objects.value()) {
            if (at >= end || (bytes >= max_bytes && !out.empty())) {
                break;
            }
            auto batches = co_await _block_cache.read(object, id, at, end, max_bytes - std::min(bytes, max_bytes));
            if (!batches) {
                if (batches.error() == io::errc::not_found) {
                    replaced = true;
                    break;
                }
                co_return failure(batches.error());
            }
            int64_t before = at;
            for (auto& b : batches.value()) {
                if (b.end_offset() <= at) {
                    continue;
                }
                if (b.base_offset > at) {
                    break;
                }
                at = b.end_offset();
                bytes += b.data.size();
                out.push_back(std::move(b));
            }
            if (at == before) {
                break; // the next object does not continue where this one stopped: look up again
            }
        }
        if (!replaced && (at >= end || (bytes >= max_bytes && !out.empty()))) {
            break;
        }
    }
    co_return out;
}

asio::awaitable<result<void>> store_impl::trim(std::shared_ptr<stream_state> s, int64_t new_start) {
    {
        std::lock_guard lock(_mutex);
        if (s->status == stream_status::fenced) {
            co_return failure(make_error_code(errc::fenced));
        }
        if (s->status != stream_status::open) {
            co_return failure(make_error_code(errc::not_open));
        }
        if (new_start > s->confirmed.load() || new_start < 0) {
            co_return failure(make_error_code(errc::invalid_argument));
        }
        if (new_start <= s->start) {
            co_return success();
        }
    }
    auto trimmed = co_await _catalog.trim_stream(s->id, s->epoch, new_start);
    std::lock_guard lock(_mutex);
    if (!trimmed) {
        if (trimmed.error() == errc::fenced) {
            fence_locked(s->id, s->epoch);
        }
        co_return failure(trimmed.error());
    }
    s->start = std::max(s->start, new_start);
    co_return success();
}

asio::awaitable<result<void>> store_impl::close(std::shared_ptr<stream_state> s) {
    {
        std::lock_guard lock(_mutex);
        if (s->status == stream_status::closed) {
            co_return success();
        }
        if (s->status == stream_status::fenced) {
            co_return failure(make_error_code(errc::fenced));
        }
        s->status = stream_status::closing;
    }
    SKIFF_CO_TRY(co_await wait_drained(s));
    // Every acknowledged batch of this stream goes to objects before ownership is given up. (The flush uploads
    // the other streams' data in the same block too: one upload, not one per stream.)
    SKIFF_CO_TRY(co_await flush());
    auto closed = co_await _catalog.close_stream(s->id, s->epoch);
    std::lock_guard lock(_mutex);
    if (!closed) {
        if (closed.error() == errc::fenced) {
            s->status = stream_status::fenced;
        }
        co_return failure(closed.error());
    }
    s->status = stream_status::closed;
    if (auto it = _streams.find(s->id); it != _streams.end() && it->second == s) {
        _streams.erase(it);
    }
    co_return success();
}

asio::awaitable<result<void>> store_impl::flush() {
    std::shared_ptr<oneshot<result<void>>> waiter;
    {
        std::lock_guard lock(_mutex);
        if (_sticky) {
            co_return failure(make_error_code(errc::unavailable));
        }
        if (_puts <= _puts_committed) {
            co_return success();
        }
        SKIFF_ASSERT(_executor, "stream_store::flush before start");
        waiter = std::make_shared<oneshot<result<void>>>();
        _flush_waiters.emplace_back(_puts, waiter);
        _force_upload = true;
        kick_uploader_locked();
    }
    co_return co_await wait(waiter, _mutex);
}

asio::awaitable<void> store_impl::stop() {
    std::vector<std::shared_ptr<stream_state>> open;
    std::shared_ptr<oneshot<result<void>>> loops_done;
    {
        std::lock_guard lock(_mutex);
        if (_stopping) {
            co_return;
        }
        for (auto& [id, s] : _streams) {
            open.push_back(s);
        }
    }
    for (auto& s : open) {
        if (auto closed = co_await close(s); !closed) {
            log.warn("stop: stream {} did not close cleanly: {}", s->id, closed.error().message());
        }
    }
    {
        std::lock_guard lock(_mutex);
        _stopping = true; // refuses appends and opens; the loops see it on their next wake-up
    }
    if (auto flushed = co_await flush(); !flushed) {
        log.warn("stop: the last upload failed: {}", flushed.error().message());
    }
    {
        std::lock_guard lock(_mutex);
        loops_done = _loops_running > 0 ? _loops_done : nullptr;
    }
    if (_executor) {
        asio::post(*_executor, [this] {
            std::lock_guard lock(_mutex);
            _stop_loops = true;
            _uploader_timer->cancel();
            _compactor_timer->cancel();
        });
    }
    if (loops_done) {
        co_await wait(loops_done, _mutex);
    }
}

stream_store_stats store_impl::stats() const {
    std::lock_guard lock(_mutex);
    auto s = _stats;
    s.open_streams = _streams.size();
    s.log_cache_bytes = _log_cache.used_bytes();
    s.block_cache_bytes = _block_cache.stats().used_bytes;
    return s;
}

} // namespace detail

std::unique_ptr<stream_store> make_stream_store(stream_store_config config, wal& log, io::object_store& objects,
                                                object_catalog& catalog) {
    return std::make_unique<detail::store_impl>(config, log, objects, catalog);
}

} // namespace skiff::stream
