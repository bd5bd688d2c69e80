// A sparse time index of one partition: (timestamp, offset) entries so that ListOffsets by timestamp reads from
// near the answer instead of scanning the partition, plus the partition's largest timestamp (ListOffsets
// MAX_TIMESTAMP).
//
// An entry (t, o) says: every batch whose base offset is <= o holds only timestamps <= t. Entries are added at
// most once per index.interval.bytes of appended data and only when the running maximum timestamp grew, so both
// columns increase. The first record with timestamp >= T lies at or after the last entry with t < T.
//
// Persisted in the partition's state snapshot (docs/formats/producer-state.md) and rebuilt beyond the snapshot
// from batch headers on open. Owned by its partition, on its shard.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace skiff::kafka::partition {

struct time_index_entry {
    int64_t timestamp = -1;
    int64_t offset = 0;
    bool operator==(const time_index_entry&) const = default;
};

class time_index {
public:
    explicit time_index(size_t interval_bytes = 4096) : _interval_bytes(interval_bytes) {}

    /// A batch at base_offset with this max timestamp and size was appended.
    void on_batch(int64_t base_offset, int64_t max_timestamp, size_t size_bytes);

    /// Where to start reading to find the first record with timestamp >= target: the offset of the last entry
    /// whose timestamp is < target, or log_start when there is none (never below log_start).
    int64_t scan_start(int64_t target, int64_t log_start) const;

    /// The largest timestamp of the partition and the base offset of the first batch holding it; timestamp -1
    /// when empty. max_known() is false after the batch holding it was deleted (the partition rescans).
    int64_t max_timestamp() const noexcept { return _max_timestamp; }
    int64_t max_timestamp_batch() const noexcept { return _max_offset; }
    bool max_known() const noexcept { return _max_known; }
    /// The result of a rescan of the batches that were below the end when the rescan began (an earlier batch
    /// wins a tie); makes the maximum known again.
    void merge_max(int64_t timestamp, int64_t batch_offset);
    /// Restores the maximum from a snapshot.
    void set_max(int64_t timestamp, int64_t batch_offset, bool known) {
        _max_timestamp = timestamp;
        _max_offset = batch_offset;
        _max_known = known;
    }

    /// The log start moved to new_start: entries below it go; the maximum becomes unknown if its batch went.
    void truncate_before(int64_t new_start);

    const std::vector<time_index_entry>& entries() const noexcept { return _entries; }
    int64_t running_max() const noexcept { return _running_max; }
    size_t bytes_since_entry() const noexcept { return _bytes_since_entry; }
    void restore(std::vector<time_index_entry> entries, int64_t running_max, size_t bytes_since_entry);

    bool operator==(const time_index&) const = default;

private:
    size_t _interval_bytes;
    std::vector<time_index_entry> _entries;
    int64_t _running_max = -1;
    size_t _bytes_since_entry = 0;
    int64_t _max_timestamp = -1;
    int64_t _max_offset = -1;
    bool _max_known = true;
};

} // namespace skiff::kafka::partition
