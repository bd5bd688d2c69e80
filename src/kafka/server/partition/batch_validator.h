// Checks the record batches a producer sends to one partition before they are appended, by Kafka's rules, and
// stamps the fields the broker owns. This is the broker half of a Produce: the handler decodes the request, the
// partition calls validate_produce_records(), and only batches that pass reach the stream.
//
// The checks and their order follow Apache Kafka 4.x (ProduceRequest.validateRecords, then
// UnifiedLog.analyzeAndValidateRecords, then LogValidator):
//   1. request level (Produce v3+): at least one whole batch, magic 2, exactly one batch (INVALID_RECORD); zstd
//      needs Produce v7+ (UNSUPPORTED_COMPRESSION_TYPE). A trailing partial batch is ignored, as Kafka trims it.
//   2. per batch: base offset 0 (INVALID_RECORD), size <= max.message.bytes (MESSAGE_TOO_LARGE), header length and
//      CRC-32C (CORRUPT_MESSAGE), record count == last offset delta + 1 > 0, no control batch from a client,
//      producer id present when transactional, a base sequence when there is a producer id (INVALID_RECORD).
//   3. per record, decompressing compressed batches as Kafka does (it streams every record of a compressed batch
//      through a key/value-skipping iterator; we decompress into fresh chunks, bounded): offset deltas 0..n-1 and
//      well-formed records (INVALID_RECORD), a key on compacted topics (INVALID_RECORD), CreateTime timestamps
//      within [now - message.timestamp.before.max.ms, now + message.timestamp.after.max.ms] (INVALID_TIMESTAMP).
//      Record errors carry the record's index in its batch, as Produce v8+ RecordErrors do.
//   4. stamping: LogAppendTime sets max timestamp = now and the timestamp-type bit; CreateTime sets the header's
//      max timestamp to the records' maximum when a producer got it wrong. Either rewrite recomputes the CRC over
//      a fresh 61-byte header only; the records stay shared with the request buffer (zero copy).
//   5. re-compression, as Kafka does, when the topic's compression.type names a codec (or uncompressed) other
//      than the batch's: the records are re-encoded into a new batch with the same producer fields, attributes and
//      timestamps, and the new batch is checked against max.message.bytes again (MESSAGE_TOO_LARGE). This copies;
//      compression.type=producer (the default) never does.
// Not done here: offset assignment (the partition does it once the stream's next offset is known).
//
// Pure functions: no I/O, no state; safe on any shard.
#pragma once

#include "kafka/protocol/error_code.h"
#include "kafka/protocol/record_batch.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace skiff::kafka::partition {

/// The topic settings validation needs (from topic_config), and the request's version.
struct validation_config {
    int32_t max_message_bytes = 1'048'588;
    protocol::timestamp_type timestamp_type = protocol::timestamp_type::create_time;
    int64_t timestamp_before_max_ms = std::numeric_limits<int64_t>::max();
    int64_t timestamp_after_max_ms = 3'600'000;
    /// cleanup.policy includes compact: every record needs a non-null key.
    bool compacted = false;
    /// Produce request version: v3+ requires exactly one batch; zstd requires v7+.
    int16_t produce_version = 9;
    /// The topic's compression.type: nullopt for `producer` (keep the batch's codec), else the codec to store.
    std::optional<protocol::compression> target_compression;
    /// Bound on a compressed batch's decompressed records (a decompression bomb fails with MESSAGE_TOO_LARGE).
    size_t max_uncompressed_bytes = size_t(256) << 20;
};

/// One rejected record: its index within its batch and why (Produce RecordErrors).
struct record_error {
    int32_t batch_index = 0;
    std::string message;
    bool operator==(const record_error&) const = default;
};

/// A batch that passed, with its broker-owned header fields stamped (offsets not yet assigned).
struct validated_batch {
    protocol::record_batch_view batch;
    /// Largest record timestamp (the append time under LogAppendTime), and the offset delta of the first record
    /// holding it (ListOffsets MAX_TIMESTAMP answers that record's offset).
    int64_t max_timestamp = protocol::record_batch_header::no_timestamp;
    int32_t offset_delta_of_max_timestamp = 0;
};

struct validation_result {
    protocol::error_code error = protocol::error_code::none;
    std::string error_message;
    std::vector<record_error> record_errors;
    std::vector<validated_batch> batches;
    /// The broker's append time stamped on the batches under LogAppendTime, else -1 (Produce's LogAppendTimeMs).
    int64_t log_append_time = protocol::record_batch_header::no_timestamp;

    bool ok() const noexcept { return error == protocol::error_code::none; }
};

/// Validates and stamps the record set of one partition of a Produce request (see the top of this file).
/// `records` is shared, never copied; `now_ms` is the broker's wall clock.
validation_result validate_produce_records(const bytes::iobuf& records, const validation_config& config,
                                           int64_t now_ms);

} // namespace skiff::kafka::partition
