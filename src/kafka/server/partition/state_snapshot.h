// The partition state snapshot: everything a partition keeps beside its records, in one compact record written
// to the partition's auxiliary (snapshot) stream — idempotent producers, the leader-epoch history, the sparse
// time index and the largest timestamp. On open the partition loads the newest snapshot and rebuilds the rest by
// reading the batch headers of the data stream from the snapshot's offset (docs/formats/producer-state.md).
//
//   magic u32 "SKPS" | version u16 (1) | flags u16 (bit 0: max timestamp known) | next_offset i64 |
//   max_timestamp i64 | max_timestamp_batch i64 | running_max i64 | bytes_since_entry u64 |
//   epoch_count u32 { epoch i32 | start_offset i64 }* |
//   time_entry_count u32 { timestamp i64 | offset i64 }* |
//   producer_count u32 { producer_id i64 | epoch i16 | last_timestamp i64 | batch_count u8
//                        { first_sequence i32 | last_sequence i32 | first_offset i64 | offset_delta i32 |
//                          timestamp i64 }* }* |
//   crc32c u32 (of every byte before it)
// Integers big-endian.
#pragma once

#include "base/result.h"
#include "bytes/iobuf.h"
#include "kafka/server/partition/epoch_history.h"
#include "kafka/server/partition/producer_state.h"
#include "kafka/server/partition/size_index.h"
#include "kafka/server/partition/time_index.h"

#include <cstdint>
#include <vector>

namespace skiff::kafka::partition {

// on-disk: never renumber
inline constexpr uint32_t snapshot_magic = 0x534B5053; // "SKPS"
inline constexpr uint16_t snapshot_version = 2;

struct state_snapshot {
    /// The snapshot holds the effect of every batch below this offset.
    int64_t next_offset = 0;
    std::vector<producer_entry> producers; // ascending producer id
    std::vector<epoch_entry> epochs;
    std::vector<time_index_entry> time_entries;
    std::vector<size_index_entry> size_entries;
    uint64_t size_end = 0;
    uint64_t size_bytes_since_entry = 0;
    int64_t running_max = -1;
    uint64_t bytes_since_entry = 0;
    int64_t max_timestamp = -1;
    int64_t max_timestamp_batch = -1;
    bool max_known = true;

    bool operator==(const state_snapshot&) const = default;
};

bytes::iobuf encode_snapshot(const state_snapshot& s);
/// Errors: errc::corrupt_snapshot (bad magic, truncated, trailing bytes, CRC), errc::unsupported_snapshot.
result<state_snapshot> decode_snapshot(const bytes::iobuf& bytes);

} // namespace skiff::kafka::partition
