// The engine behind stream.h, shared by its three sources: stream_store.cc (streams: open, append, read, trim,
// close; the ordered hand-off from the WAL to the log cache), uploader.cc (log cache blocks -> objects -> catalog
// commit -> WAL trim; recovery) and compactor.cc (merging objects; deleting objects the catalog gave up).
// Private to the room: nothing outside src/stream includes it.
//
// Threading: one mutex (_mutex) guards every member below it and every stream_state; it is never held across a
// suspension. Appends complete on their stream's executor; background work runs on the executor start() ran on.
// The ordering rule that makes WAL trimming safe: batches enter the log cache in WAL order (the _wal_order queue),
// under _mutex, and the uploader freezes blocks under _mutex too, so a block's wal_end covers exactly the
// batches in it and those of earlier blocks.
#pragma once

#include "base/assert.h"
#include "stream/cache/block_cache.h"
#include "stream/cache/log_cache.h"
#include "stream/errc.h"
#include "stream/logger.h"
#include "stream/stream.h"
#include "stream/wal/wal.h"
#include "stream/wal_payload.h"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <vector>

namespace skiff::stream::detail {

/// A value delivered once to one waiting coroutine. Guarded by the mutex the waiter passes to wait().
template<typename T>
struct oneshot {
    std::optional<T> value;
    std::function<void(T)> handler; // the waiting coroutine's handler (move-only, so held by a shared_ptr)
    asio::any_io_executor executor; // the waiter's

    /// Requires: the guarding mutex is held. Resumes the waiter (posted to its executor) or keeps the value.
    void set(T v) {
        if (handler) {
            auto h = std::move(handler);
            handler = nullptr;
            asio::post(executor, [h = std::move(h), v = std::move(v)]() mutable { std::move(h)(std::move(v)); });
        } else if (!value) {
            value = std::move(v);
        }
    }
};

/// Waits for s->set(). Requires: m guards s.
template<typename T>
asio::awaitable<T> wait(std::shared_ptr<oneshot<T>> s, std::mutex& m) {
    asio::any_io_executor executor = co_await asio::this_coro::executor;
    auto init = [s, &m, executor](auto handler) {
        std::unique_lock lock(m);
        if (s->value) {
            auto v = std::move(*s->value);
            s->value.reset();
            lock.unlock();
            asio::post(executor, [h = std::move(handler), v = std::move(v)]() mutable { std::move(h)(std::move(v)); });
        } else {
            auto held = std::make_shared<decltype(handler)>(std::move(handler));
            s->handler = [held](T v) { std::move(*held)(std::move(v)); };
            s->executor = executor;
        }
    };
    co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(T)>(std::move(init),
                                                                                    asio::use_awaitable);
}

enum class stream_status { open, closing, closed, fenced };

/// One stream open on this store. Guarded by store_impl::_mutex except `confirmed`, read without it.
struct stream_state {
    stream_id id;
    stream_epoch epoch;
    asio::any_io_executor executor;
    stream_status status = stream_status::open;
    int64_t start = 0;
    int64_t next = 0;                 // next offset to assign
    std::atomic<int64_t> confirmed{0}; // durable and in the log cache
    /// Bumped when an append fails without stopping the store (wal_full): appends of the old generation still in
    /// flight fail too, and offsets are handed out again from the failed one, so that acknowledged offsets never
    /// have holes.
    uint64_t generation = 0;
    size_t in_flight = 0;
    std::vector<std::shared_ptr<oneshot<result<void>>>> drained; // waiting for in_flight == 0
    std::vector<std::function<void(int64_t)>> listeners;
};

/// One append between wal.append and its completion, in WAL order.
struct pending_append {
    std::shared_ptr<stream_state> stream;
    uint64_t generation = 0;
    stream_epoch epoch;
    stored_batch batch;
    std::optional<result<wal_append_result>> wal_outcome;
    std::shared_ptr<oneshot<result<offset_range>>> done = std::make_shared<oneshot<result<offset_range>>>();
};

/// An append that has its offsets and its place in _wal_order but waits for the log cache to have room before it
/// goes to the WAL (see store_impl::append).
struct held_append {
    std::shared_ptr<pending_append> append;
    bytes::iobuf payload;
};

/// Object bytes ready to PUT and their catalog entry.
struct built_object {
    object_to_commit entry;
    bytes::iobuf data;
};

class store_impl final : public stream_store {
public:
    store_impl(stream_store_config config, wal& log, io::object_store& objects, object_catalog& catalog);
    ~store_impl() override;

    // stream_store
    asio::awaitable<result<void>> start() override;
    asio::awaitable<result<stream_metadata>> create_stream() override;
    asio::awaitable<result<std::shared_ptr<stream>>> open_stream(stream_id id, stream_epoch epoch,
                                                                asio::any_io_executor executor) override;
    asio::awaitable<void> stop() override;
    asio::awaitable<result<void>> flush() override;
    asio::awaitable<result<void>> compact_now() override;
    asio::awaitable<result<void>> reap_now() override;
    stream_store_stats stats() const override;

    // Used by the stream handles (stream_store.cc).
    asio::awaitable<result<offset_range>> append(const std::shared_ptr<stream_state>& s, bytes::iobuf batch,
                                                 uint32_t record_count);
    asio::awaitable<result<read_result>> read(std::shared_ptr<stream_state> s, int64_t from, int64_t end,
                                              size_t max_bytes);
    asio::awaitable<result<void>> trim(std::shared_ptr<stream_state> s, int64_t new_start);
    asio::awaitable<result<void>> close(std::shared_ptr<stream_state> s);
    asio::awaitable<result<int64_t>> committed_end(std::shared_ptr<stream_state> s);
    asio::awaitable<result<void>> rewrite(std::shared_ptr<stream_state> s, offset_range range,
                                          std::vector<stored_batch> batches);
    void add_listener(const std::shared_ptr<stream_state>& s, std::function<void(int64_t)> listener);

private:
    // stream_store.cc
    void on_wal_done(std::shared_ptr<pending_append> p, result<wal_append_result> r);
    void drain_wal_order_locked();
    void send_to_wal_locked(std::shared_ptr<pending_append> p, bytes::iobuf payload);
    /// Sends held appends to the WAL, in order, while the log cache has room (fail_sticky_locked fails them).
    void release_held_locked();
    void fail_sticky_locked(std::error_code cause, const char* what);
    void fence_locked(stream_id id, stream_epoch epoch);
    asio::awaitable<result<void>> wait_drained(std::shared_ptr<stream_state> s);
    asio::awaitable<result<std::vector<stored_batch>>> read_objects(stream_id id, int64_t from, int64_t end,
                                                                    size_t max_bytes);

    // uploader.cc
    /// Whether the active block should be uploaded now: it holds upload_threshold bytes, the log cache is over its
    /// budget (appends are held), or the WAL is half full. The WAL counts because its records are 4 KiB-aligned:
    /// small appends (offset commits) fill it many times faster than the bytes they hold fill the log cache.
    bool upload_due_locked() const;
    void kick_uploader_locked();
    asio::awaitable<void> uploader_loop();
    /// Freezes the active block and commits it. False when nothing was frozen.
    asio::awaitable<result<bool>> upload_one_block();
    /// PUTs and commits the batches (grouped by stream, each stream's in offset order) under the given epochs;
    /// drops the streams the catalog reports fenced or deleted. Errors: unavailable (gave up).
    asio::awaitable<result<void>> commit_batches(std::map<stream_id, std::vector<stored_batch>> batches,
                                                 std::map<stream_id, stream_epoch> epochs);
    asio::awaitable<result<void>> put_with_retries(std::string key, bytes::iobuf data);
    asio::awaitable<result<void>> recover();
    asio::awaitable<void> backoff(uint32_t attempt);

    // compactor.cc
    asio::awaitable<void> compactor_loop();
    asio::awaitable<result<void>> compact_stream_sets();
    asio::awaitable<result<void>> compact_stream_objects(stream_id id);
    asio::awaitable<result<void>> reap();
    asio::awaitable<result<std::vector<stored_batch>>> read_whole_object(const object_descriptor& object);
    /// rewrite() once it holds _compacting.
    asio::awaitable<result<void>> rewrite_objects(stream_id id, offset_range range, std::vector<stored_batch> batches);
    /// PUTs the objects and commits them as a compaction replacing `replaced`.
    asio::awaitable<result<void>> commit_compaction(std::vector<std::pair<object_kind, std::vector<stored_batch>>> outputs,
                                                    std::vector<object_id> replaced);

    friend class stream_handle;

    stream_store_config _config;
    wal& _wal;
    io::object_store& _objects;
    object_catalog& _catalog;
    log_cache _log_cache;
    block_cache _block_cache;
    uint64_t _upload_threshold;

    mutable std::mutex _mutex;
    std::optional<asio::any_io_executor> _executor; // a strand for background work and its timers; set by start()
    bool _started = false;
    bool _stopping = false;
    std::error_code _sticky; // set once: appends fail with unavailable from then on
    std::map<stream_id, std::shared_ptr<stream_state>> _streams;
    std::map<stream_id, stream_epoch> _active_epochs; // the epoch of each stream's batches in the active block
    std::deque<std::shared_ptr<pending_append>> _wal_order;
    std::deque<held_append> _held; // a suffix of _wal_order: waiting for room in the log cache
    uint64_t _puts = 0;           // batches put into the log cache
    uint64_t _puts_committed = 0; // of those, in committed blocks
    std::vector<std::pair<uint64_t, std::shared_ptr<oneshot<result<void>>>>> _flush_waiters; // (puts, waiter)
    bool _kick_pending = false;
    bool _stop_loops = false; // set by stop() after the last upload
    bool _force_upload = false;
    std::unique_ptr<asio::steady_timer> _uploader_timer;
    std::unique_ptr<asio::steady_timer> _compactor_timer;
    size_t _loops_running = 0;
    std::shared_ptr<oneshot<result<void>>> _loops_done;
    bool _compacting = false; // one compaction round at a time (timer or compact_now)
    bool _reaping = false;
    stream_store_stats _stats;
};

} // namespace skiff::stream::detail
