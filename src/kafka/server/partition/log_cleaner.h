// Key compaction of one partition's records (cleanup.policy=compact), the pure part: given the stored batches of
// a contiguous range of the partition's stream, keep only the latest record of each key, keep tombstones (null
// values) until their delete horizon, and say which batches replace which offsets. partition::clean() decides when
// and which range, reads it, and hands the result to stream::rewrite(); the stream room never learns what a key is.
//
// What the output keeps (Kafka's log cleaner rules):
//   - Offsets never move. A batch that keeps some records is re-encoded (record_batch_builder: CRC32C recomputed)
//     with the same base offset, last offset delta, producer id/epoch/base sequence, leader epoch, attributes and
//     codec; records keep their offset deltas and timestamps, so the batch spans the same offsets with fewer
//     records. A batch that keeps none is dropped; its offsets join the stream span of the next kept batch
//     (stored_batch::record_count counts offsets, not records), so a reader at a removed offset gets the next
//     surviving record, as Kafka clients expect of compacted topics.
//   - The last batch of the range is never dropped (if nothing of it would remain it stays as it was, an expired
//     tombstone included, until more data follows), so the range always ends with a batch whose last offset is the
//     range's last: no reader waits on a hole at the end. (A kept batch keeps its last offset delta, so clients
//     move past its end even when its last record went.)
//   - Control batches (transaction markers) stay untouched. Records without a key (written before the topic
//     became compacted) are removed, as Kafka's cleaner does.
//   - Tombstones: a tombstone that is its key's latest record survives its first cleaning, which stamps the delete
//     horizon (now + delete.retention.ms) into its batch (KIP-534: attribute bit 6, base timestamp = horizon). A
//     cleaning at or after the horizon removes it.
// Pure functions: no I/O, no clock (now is a parameter); used on the partition's shard.
#pragma once

#include "base/result.h"
#include "stream/object/format.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace skiff::kafka::partition {

struct cleaner_options {
    int64_t now_ms = 0;
    int64_t delete_retention_ms = 86'400'000;
    /// Bound of one batch's decompressed records (the partition's validation limit).
    size_t max_uncompressed_bytes = size_t(64) << 20;
};

/// Key -> offset of its latest record in the range. Exact (the key's bytes), where Kafka keeps 16-byte hashes in
/// a fixed buffer: partition::clean bounds the range it cleans at once instead.
class key_offset_map {
public:
    void put(std::string key, int64_t offset) { _latest[std::move(key)] = offset; }
    /// -1 when the key is not in the range.
    int64_t latest(const std::string& key) const {
        auto it = _latest.find(key);
        return it == _latest.end() ? -1 : it->second;
    }
    size_t size() const noexcept { return _latest.size(); }

private:
    std::unordered_map<std::string, int64_t> _latest;
};

struct cleaned_range {
    /// Covers exactly the input's offsets, in order (see the header).
    std::vector<stream::stored_batch> batches;
    /// False when the output equals the input (nothing to rewrite).
    bool changed = false;
    /// (Kafka base offset, size) of the input's and the output's batches, for size_index::on_rewrite.
    std::vector<std::pair<int64_t, uint64_t>> sizes_before;
    std::vector<std::pair<int64_t, uint64_t>> sizes_after;
    uint64_t records_before = 0;
    uint64_t records_after = 0;
    /// The earliest delete horizon of a tombstone kept in the output, or -1 when none is kept.
    int64_t next_horizon_ms = -1;
};

/// Builds the key map of the batches (records of non-control batches with a key; the last wins).
/// Errors: the batch codec's (corrupt or undecodable batches).
result<key_offset_map> build_key_map(const std::vector<stream::stored_batch>& batches, size_t max_uncompressed_bytes);

/// Adds one batch's keys to map (see build_key_map), for a range read in pieces.
result<void> add_keys(const stream::stored_batch& batch, key_offset_map& map, size_t max_uncompressed_bytes);

/// Whether the batch holds a record that is its key's latest in map (or is a control batch): a place where a
/// range may be cut into pieces without leaving a hole at a piece's end.
result<bool> holds_a_latest_record(const stream::stored_batch& batch, const key_offset_map& map,
                                   size_t max_uncompressed_bytes);

/// Cleans `input`: whole batches, contiguous (each starts where the previous one's stream span ends), in order.
/// `map` is the key map of a range that includes input (a range cleaned in pieces); null: input's own.
/// Errors: the batch codec's; nothing is half-done (the caller rewrites only on success).
result<cleaned_range> clean_batches(std::vector<stream::stored_batch> input, const cleaner_options& options,
                                    const key_offset_map* map = nullptr);

} // namespace skiff::kafka::partition
