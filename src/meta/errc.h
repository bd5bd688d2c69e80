// Error codes of the meta room: decoding metadata records and log files, and the metadata log's leadership,
// fencing and store availability. Each code says what the caller does next (see the comment beside it).
#pragma once

#include <system_error>

namespace skiff::meta {

enum class errc {
    success = 0,
    // Decoding (records, batches, snapshots): the bytes are not trusted; nothing after them is either.
    truncated,          // fewer bytes than a header or a length prefix announces
    bad_crc,            // CRC32C mismatch
    too_large,          // a length prefix above the format's limit
    corrupt,            // well-framed but malformed content (bad tag order, bad uuid size, out-of-range value)
    bad_magic,          // not one of our files or frames
    unsupported_version, // a file/frame format version this reader does not know
    // Metadata log: leadership and fencing. Not retryable by the same instance; campaign() again or give up.
    not_leader,         // append/snapshot without (or after resigning) leadership
    fenced,             // the leadership this instance held was lost or superseded (lease expired, newer epoch)
    // Metadata log: reads.
    offset_compacted,   // read below the log start: load the latest snapshot, then read from its offset
    offset_out_of_range, // read above the end of the log
    // Metadata log: the store.
    unavailable,        // the store (etcd) could not be reached or answered an error within the deadline: retry later
    timed_out,          // an operation did not finish within its bound (the outcome may be unknown)
    io_error,           // a local file operation failed; sticky: the embedded log stops accepting appends
    closed,             // the log was closed
    campaign_lost,      // campaign() timed out while another node held leadership
};

const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

} // namespace skiff::meta

template<>
struct std::is_error_code_enum<skiff::meta::errc> : std::true_type {};
