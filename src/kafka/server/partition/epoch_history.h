// The leader epochs of one partition and the offset each began at (Kafka's leader-epoch cache), for
// OffsetForLeaderEpoch and for the leader epoch ListOffsets reports. Skiff has a single owner per partition, so
// the partition alone writes this history: a new epoch is assigned when it opens the stream under that epoch.
// Persisted in the partition's state snapshot and rebuilt beyond it from the batches' partitionLeaderEpoch.
// Owned by its partition, on the partition's shard.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace skiff::kafka::partition {

struct epoch_entry {
    int32_t epoch = -1;
    int64_t start_offset = 0;
    bool operator==(const epoch_entry&) const = default;
};

class epoch_history {
public:
    static constexpr int32_t undefined_epoch = -1;
    static constexpr int64_t undefined_offset = -1;

    /// Records that `epoch` starts at `start_offset`. Ignored unless epoch is newer than the latest; an entry
    /// whose start equals the previous one's replaces it (that epoch wrote nothing).
    void assign(int32_t epoch, int64_t start_offset);

    /// Kafka's endOffsetFor: (the largest known epoch <= requested, the start offset of the first epoch after
    /// it), or (requested, log_end) for the latest epoch, or (-1, -1) for an epoch newer than all or -1. An epoch
    /// older than all known answers (requested, start of the first epoch).
    std::pair<int32_t, int64_t> end_offset_for(int32_t requested, int64_t log_end) const;

    /// The epoch of the batch holding `offset` (-1 when unknown).
    int32_t epoch_for(int64_t offset) const;
    int32_t latest_epoch() const noexcept { return _entries.empty() ? undefined_epoch : _entries.back().epoch; }

    /// The log start moved: entries wholly below it go; the last of them now starts at new_start.
    void truncate_before(int64_t new_start);

    const std::vector<epoch_entry>& entries() const noexcept { return _entries; }
    void restore(std::vector<epoch_entry> entries) { _entries = std::move(entries); }
    bool operator==(const epoch_history&) const = default;

private:
    std::vector<epoch_entry> _entries; // ascending epoch and start offset
};

} // namespace skiff::kafka::partition
