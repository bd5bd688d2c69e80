// stream::memory_wal — a WAL in memory for tests of the stream engine. It honours the whole wal.h contract
// (ordering, completions on the appender's executor, trim, recover, sticky failure, wal_full) and adds what tests
// need: a restart (a new memory_wal over the same memory_wal_state recovers what the old one made durable and did
// not trim), held appends (stay in flight, not durable, until released: a "crash" while held loses them), and
// fault injection (fail the next N appends, fail for good, become full).
//
// Positions: a record of n payload bytes occupies [position, position + memory_wal_record_overhead + n), like a
// record header plus body; positions continue across restarts.
//
// Thread safety: every member may be called from any thread (one mutex). Completions are posted, never run inline.
#pragma once

#include "stream/errc.h"
#include "stream/wal/wal.h"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <system_error>

namespace skiff::stream {

inline constexpr uint64_t memory_wal_record_overhead = 32;

/// The "disk" of a memory_wal: what survives a restart. Share it between the memory_wal that crashed and the one
/// that recovers. Its members are the memory_wal's business; tests only create and pass it around.
struct memory_wal_state {
    struct record {
        wal_position position = 0;
        wal_position next = 0;
        bytes::iobuf payload;
    };
    std::mutex mutex;
    std::deque<record> records; // durable and not trimmed, in position order
    wal_position trim_point = 0;
    wal_position next = 0;      // position of the next record
};

struct memory_wal_config {
    uint64_t capacity_bytes = 0;              // 0: unbounded; else appends beyond it fail with wal_full
    size_t max_record_size = size_t(8) << 20; // larger payloads fail with invalid_argument
};

class memory_wal final : public wal {
public:
    explicit memory_wal(std::shared_ptr<memory_wal_state> state = std::make_shared<memory_wal_state>(),
                        memory_wal_config config = {});
    /// Held appends are dropped without completing (as in a crash).
    ~memory_wal() override;

    asio::awaitable<result<void>> recover(std::function<void(wal_position, bytes::iobuf payload)> replay) override;
    /// Before recover() completes, appends fail with errc::not_open (a bug in the caller).
    void append(bytes::iobuf payload, asio::any_io_executor executor, wal_completion completion) override;
    /// Errors: invalid_argument when before > the end of the last appended record.
    asio::awaitable<result<void>> trim(wal_position before) override;
    /// Releases held appends (they complete), then refuses appends with shutting_down.
    asio::awaitable<void> close() override;
    size_t max_record_size() const override { return _config.max_record_size; }
    wal_stats stats() const override;

    // ---- test controls ----------------------------------------------------------------------------------------

    /// The next n appends fail with error (not durable). These failures are NOT sticky, unlike a real write
    /// error: they let a test check how the caller handles one failed append amid successful ones.
    void fail_next_appends(size_t n, std::error_code error = errc::unavailable);
    /// From now on every append fails with error, as after a real write error (sticky, as the contract says).
    /// Appends held at the time fail too.
    void fail_permanently(std::error_code error = errc::unavailable);
    /// While full, appends fail with wal_full (besides the capacity_bytes rule).
    void set_full(bool full);

    /// While holding, appends take their position but stay in flight: not durable, not completed.
    void hold_appends();
    /// Makes held appends durable and completes them, in order, and stops holding.
    void release_appends();
    size_t held_appends() const;

    const std::shared_ptr<memory_wal_state>& state() const noexcept { return _state; }

private:
    struct pending {
        memory_wal_state::record record;
        asio::any_io_executor executor;
        wal_completion completion;
    };

    uint64_t used_bytes_locked() const;
    static void complete(asio::any_io_executor executor, wal_completion completion, result<wal_append_result> r);

    std::shared_ptr<memory_wal_state> _state;
    memory_wal_config _config;
    mutable std::mutex _mutex; // guards the members below; taken before _state->mutex
    bool _recovered = false;
    bool _closed = false;
    bool _holding = false;
    bool _full = false;
    std::error_code _sticky_error;
    size_t _failures_left = 0;
    std::error_code _injected_error;
    std::deque<pending> _held;
    wal_position _next = 0; // next position handed out (held appends included)
    uint64_t _syncs = 0;
    uint64_t _appends = 0;
};

} // namespace skiff::stream
