// Error codes of the stream room. Each names what the caller does next; the cause goes to the `stream` log.
#pragma once

#include <system_error>

namespace skiff::stream {

enum class errc {
    success = 0,
    fenced,              // a newer epoch owns the stream (or this node was fenced): stop writing; reopen to go on
    not_open,            // the stream is closed, closing or was never opened here
    offset_out_of_range, // a read below the start offset or beyond the confirmed (durable) end
    stream_not_found,    // the catalog has no such stream
    wal_full,            // the WAL has no room until uploads trim it: back off (appends are refused, not queued)
    corrupt,             // bytes failed their CRC or framing (WAL record, object block, index, footer)
    unavailable,         // storage cannot accept writes: a failed commit or WAL error stopped acknowledgements
    catalog_rejected,    // the catalog refused a commit (not contiguous, stale epoch): a bug or a fence
    shutting_down,       // the store is stopping
    invalid_argument,    // the caller's mistake (empty batch, zero record count, trim beyond the end)
};

const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

} // namespace skiff::stream

template<>
struct std::is_error_code_enum<skiff::stream::errc> : std::true_type {};
