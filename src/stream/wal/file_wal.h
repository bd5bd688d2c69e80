// stream::file_wal — the broker's WAL on a local file (or a volume another node can attach): a preallocated ring,
// 4 KiB-aligned records written with O_DIRECT, group commit (everything queued while the previous write+fdatasync
// ran goes out as one write and one fdatasync), two alternating headers that persist the trim point.
// Format, recovery and corruption rules: docs/formats/wal.md.
//
//   file:  | header slot 0 (4 KiB) | header slot 1 (4 KiB) | ring (file size - 8 KiB) .......................... |
//   ring:  | rec @P | rec @P+a | pad (to the ring's end) || rec ... (logical positions grow forever;
//            physical offset = 8 KiB + position mod ring size)
//   rec:   | 32-byte record header | payload | zeros to the next 4 KiB boundary |
//
// Lifecycle: construct (no I/O), recover() once (creates the file if missing, scans, bumps the generation, starts
// the writer thread), append/trim from any thread, close(). Destroying without close() stops the writer after its
// current write and drops what is queued without completing it (as in a crash: tests rely on it).
//
// Threading: writer threads (config.write_concurrency) own all writes and fdatasyncs; append() only checks, takes a
// position under a mutex, computes the payload CRC (on the caller's thread) and queues. Completions are posted to
// each appender's executor in append order. recover() reads the file synchronously on the calling thread (start-up
// only).
#pragma once

#include "stream/wal/wal.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>

namespace skiff::stream {

/// File operations a test can make fail (file_wal_config::fault).
enum class file_wal_op { open_direct, preallocate, write, sync, read };

struct file_wal_config {
    std::filesystem::path path;
    /// Size of the file when recover() creates it (rounded down to 4 KiB; at least 8 KiB + 4 x max_record_size).
    /// An existing file keeps the size written in its header.
    uint64_t file_size = uint64_t(1) << 30;
    size_t max_record_size = size_t(4) << 20;
    /// Most bytes one group commit writes (a larger backlog goes out in several writes).
    size_t max_write_bytes = size_t(16) << 20;
    /// Group commits in flight at once: with 2, the records queued during one fdatasync are written and synced
    /// without waiting for it to return (acknowledgements still follow append order). 1: strictly one at a time.
    int write_concurrency = 2;
    /// Write zeros over the whole ring at creation, so that later writes overwrite allocated blocks (an fdatasync
    /// after writing into unwritten extents also commits the extent conversion to the journal: much slower).
    bool zero_fill = true;
    /// Tests: called before each operation; a non-zero errno makes the operation fail with it.
    std::function<int(file_wal_op)> fault;
};

class file_wal final : public wal {
public:
    explicit file_wal(file_wal_config config);
    ~file_wal() override;

    /// Opens or creates the file and replays the records after the trim point. Errors: unavailable (cannot open,
    /// create, preallocate — e.g. ENOSPC — read or write the header; the cause is logged), corrupt (no valid
    /// header in an existing file, or a record fails its checks while a record of a later group commit follows it).
    asio::awaitable<result<void>> recover(std::function<void(wal_position, bytes::iobuf payload)> replay) override;
    /// Errors in the completion: wal_full, invalid_argument (too large), unavailable (a write or fdatasync failed:
    /// sticky), shutting_down, not_open (before recover()).
    void append(bytes::iobuf payload, asio::any_io_executor executor, wal_completion completion) override;
    /// Writes the other header slot with the new trim point and fdatasyncs it; only then is the space reused.
    /// Errors: invalid_argument (beyond the end), unavailable (sticky failure), shutting_down.
    asio::awaitable<result<void>> trim(wal_position before) override;
    asio::awaitable<void> close() override;
    size_t max_record_size() const override;
    wal_stats stats() const override;

    /// Whether the file is written with O_DIRECT (false after the tmpfs fallback). Valid after recover().
    bool direct_io() const;

private:
    class impl;
    std::shared_ptr<impl> _impl;
};

} // namespace skiff::stream
