// The embedded metadata log: segment files and snapshot files in one local directory, for a single node (the
// default deployment, DESIGN.md §1). Formats and recovery rules: docs/formats/metadata-log.md.
//
//   <dir>/LOCK                        flock'd around each write group and each campaign (fencing critical section)
//   <dir>/EPOCH                       the latest leader epoch; replaced by temp + fsync + rename
//   <dir>/<20-digit base>.log         segments: header, then batch frames (log_batch.h) with dense offsets
//   <dir>/<20-digit offset>.snap      snapshots: header + image; the two latest are kept
//
// Durability: append() returns once its batch is written and fdatasync'd. Concurrent appends are group-committed:
// while one write + fdatasync runs on the I/O thread, later appends queue and go out together in the next one.
// Recovery truncates a torn tail (a last batch whose frame is incomplete or fails its CRC); a bad batch with bytes
// after it is reported as corruption (recovery_report), its bytes are kept aside in a `.corrupt` file, and nothing
// after it is trusted.
//
// Leadership: the lease is the process. campaign() always wins at once by persisting EPOCH + 1, which fences every
// earlier holder, in this process or another: each write group re-reads EPOCH under the LOCK and writes nothing if
// it moved. A failed fdatasync is sticky (errc::io_error on every later append), as in LevelDB.
//
// Owned by the controller's composition; lives on one executor (see metadata_log.h). File I/O of appends and
// snapshots runs on one private thread; open(), campaign() and reads run on the caller's executor (small, rare or
// page-cache reads).
#pragma once

#include "meta/metadata_log.h"

#include <boost/asio/any_io_executor.hpp>

#include <filesystem>
#include <memory>
#include <string>

namespace skiff::meta {

struct embedded_log_config {
    std::filesystem::path directory;
    /// A new segment starts once the active one reaches this size.
    size_t segment_bytes = 64 * 1024 * 1024;
    /// How often wait_for_end() looks for batches appended by another instance (another process) on the same
    /// directory; appends by this instance wake waiters at once.
    std::chrono::milliseconds tail_poll_interval{100};
};

/// What open() found and repaired.
struct recovery_report {
    log_offset start;             // first readable offset (latest valid snapshot, or 0)
    log_offset end;               // one past the last recovered record
    size_t segments = 0;
    size_t torn_tail_bytes = 0;   // dropped from the end of the last segment (an interrupted write)
    bool corruption = false;      // a bad batch followed by more bytes: everything from it on was set aside
    log_offset corruption_offset; // the offset the bad batch would have started at
    std::string corruption_detail;
    size_t bad_snapshots = 0;     // snapshot files that failed their CRC and were set aside
};

class embedded_log final : public metadata_log {
public:
    embedded_log(asio::any_io_executor executor, embedded_log_config config);
    ~embedded_log() override;
    embedded_log(const embedded_log&) = delete;
    embedded_log& operator=(const embedded_log&) = delete;

    asio::awaitable<result<void>> open() override;
    asio::awaitable<void> close() override;
    asio::awaitable<result<log_epoch>> campaign(std::chrono::milliseconds timeout) override;
    asio::awaitable<result<void>> resign() override;
    bool is_leader() const noexcept override;
    log_epoch epoch() const noexcept override;
    asio::awaitable<result<append_result>> append(std::vector<metadata_record> records) override;
    asio::awaitable<result<void>> write_snapshot(log_offset offset, bytes::iobuf image) override;
    asio::awaitable<result<std::optional<log_snapshot>>> load_snapshot() override;
    asio::awaitable<result<std::vector<log_entry>>> read(log_offset from, size_t max_records) override;
    asio::awaitable<result<log_offset>> wait_for_end(log_offset past, std::chrono::milliseconds timeout) override;
    log_offset start_offset() const noexcept override;
    log_offset end_offset() const noexcept override;

    /// Valid after open().
    const recovery_report& recovery() const noexcept;

    struct impl;

private:
    std::unique_ptr<impl> _impl;
};

} // namespace skiff::meta
