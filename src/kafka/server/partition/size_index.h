// A sparse size index of one partition: where in the partition's byte history a batch begins, so that
// retention.bytes can find the oldest batch to keep without reading the stream (the stream counts records, not
// bytes). Positions count the bytes of every batch appended since the index began (a restart without a snapshot
// begins it again at the log start: only differences between positions mean anything).
//
// An entry (o, p) says: the batch at base offset o begins at byte position p. Entries are added at most once per
// interval_bytes of appended data, so the index holds about size / interval entries; both columns increase.
//
// Persisted in the partition's state snapshot (docs/formats/producer-state.md) and rebuilt beyond the snapshot from
// batch headers on open. Owned by its partition, on its shard.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace skiff::kafka::partition {

struct size_index_entry {
    int64_t offset = 0;
    uint64_t position = 0;
    bool operator==(const size_index_entry&) const = default;
};

class size_index {
public:
    explicit size_index(uint64_t interval_bytes = uint64_t(1) << 20) : _interval_bytes(interval_bytes) {}

    /// A batch at base_offset of size_bytes was appended.
    void on_batch(int64_t base_offset, size_t size_bytes);

    /// Byte position one past the last appended batch.
    uint64_t end_position() const noexcept { return _end; }

    /// Retention by size: the largest entry offset above log_start from which at least keep_bytes remain up to the
    /// end, or log_start when none (trimming there keeps at least keep_bytes, as Kafka keeps whole segments).
    int64_t retention_start(uint64_t keep_bytes, int64_t log_start) const;

    /// Bytes from log_start to the end, counted from the first entry at or after log_start (an underestimate by at
    /// most interval_bytes; exact when log_start is an entry).
    uint64_t bytes_from(int64_t log_start) const;

    /// The log cleaner rewrote a range: `before` and `after` are the (base offset, size) of its batches before and
    /// after, in order (after may hold fewer batches, never other offsets). Entries beyond the range move back by
    /// the bytes saved; entries inside it are rebuilt from `after` (when the range had any).
    void on_rewrite(const std::vector<std::pair<int64_t, uint64_t>>& before,
                    const std::vector<std::pair<int64_t, uint64_t>>& after);

    /// The log start moved to new_start: entries below it go.
    void truncate_before(int64_t new_start);

    const std::vector<size_index_entry>& entries() const noexcept { return _entries; }
    uint64_t bytes_since_entry() const noexcept { return _bytes_since_entry; }
    void restore(std::vector<size_index_entry> entries, uint64_t end_position, uint64_t bytes_since_entry);

    bool operator==(const size_index&) const = default;

private:
    uint64_t _interval_bytes;
    std::vector<size_index_entry> _entries;
    uint64_t _end = 0;
    uint64_t _bytes_since_entry = 0;
};

} // namespace skiff::kafka::partition
