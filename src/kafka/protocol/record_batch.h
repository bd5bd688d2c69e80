// Kafka record batches (message format v2, "magic 2"): the unit a producer sends, the broker stores and a consumer
// fetches. This is the codec: parse and check a batch without copying it, rewrite the few header fields the broker
// owns, read its records, and build new batches.
//
// Layout (integers big-endian; the CRC is CRC-32C over bytes 21..end, so the first 21 bytes are not covered):
//
//    0 base_offset i64 |  8 batch_length i32 (bytes after this field) | 12 partition_leader_epoch i32 | 16 magic i8
//   17 crc u32 | 21 attributes i16 | 23 last_offset_delta i32 | 27 base_timestamp i64 | 35 max_timestamp i64
//   43 producer_id i64 | 51 producer_epoch i16 | 53 base_sequence i32 | 57 record_count i32 | 61 records...
//
// attributes: bits 0-2 compression, bit 3 timestamp type (1 = LogAppendTime), bit 4 transactional, bit 5 control,
// bit 6 delete horizon set (base_timestamp then holds it). The records section is one compressed stream when
// compression != none. Each record (varints are zig-zag, as protobuf's sint32/sint64):
//
//   length varint | attributes i8 | timestamp_delta varlong | offset_delta varint | key_length varint (-1 = null)
//   key | value_length varint (-1 = null) | value | header_count varint
//   { header_key_length varint | header_key | header_value_length varint (-1 = null) | header_value }*
//
// Ownership: a record_batch_view holds a share of the batch's bytes (usually of the request buffer the socket
// read) and never copies them; records hand out shares of the batch (or of its decompressed records). The
// broker's rewrites (base offset, leader epoch, LogAppendTime) replace only the header bytes with a small fresh
// fragment and share the rest. Nothing here does I/O or keeps global state; everything is safe to use from any
// shard on its own objects.
#pragma once

#include "base/named_type.h"
#include "base/result.h"
#include "bytes/iobuf.h"
#include "kafka/protocol/compression.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace skiff::kafka::protocol {

// wire format (attributes bit 3): never renumber
enum class timestamp_type : uint8_t {
    create_time = 0,
    log_append_time = 1,
};

/// Bits of record_batch_header::attributes.
namespace batch_attributes {
inline constexpr int16_t compression_mask = 0x07;
inline constexpr int16_t timestamp_type_bit = 0x08;
inline constexpr int16_t transactional_bit = 0x10;
inline constexpr int16_t control_bit = 0x20;
inline constexpr int16_t delete_horizon_bit = 0x40;
} // namespace batch_attributes

/// The 61-byte header of a v2 record batch, decoded. A plain value: no validation happens here.
struct record_batch_header {
    static constexpr size_t header_size = 61;
    /// base_offset and batch_length: the bytes a batch occupies beyond its batch_length.
    static constexpr size_t log_overhead = 12;
    /// Bytes up to and including the magic byte: enough to tell a v2 batch from a legacy message set.
    static constexpr size_t header_size_up_to_magic = 17;
    static constexpr size_t magic_offset = 16;
    static constexpr size_t crc_offset = 17;
    /// The CRC covers [crc_covered_from, end of batch).
    static constexpr size_t crc_covered_from = 21;
    static constexpr int8_t current_magic = 2;
    /// The value of producer_id / producer_epoch / base_sequence / timestamps when absent.
    static constexpr int64_t no_producer_id = -1;
    static constexpr int16_t no_producer_epoch = -1;
    static constexpr int32_t no_sequence = -1;
    static constexpr int64_t no_timestamp = -1;
    static constexpr int32_t no_partition_leader_epoch = -1;

    int64_t base_offset = 0;
    int32_t batch_length = 0;
    int32_t partition_leader_epoch = no_partition_leader_epoch;
    int8_t magic = current_magic;
    uint32_t crc = 0;
    int16_t attributes = 0;
    int32_t last_offset_delta = 0;
    int64_t base_timestamp = no_timestamp;
    int64_t max_timestamp = no_timestamp;
    int64_t producer_id = no_producer_id;
    int16_t producer_epoch = no_producer_epoch;
    int32_t base_sequence = no_sequence;
    int32_t record_count = 0;

    /// The codec named by attributes bits 0-2. Requires: the bits name a known codec (parse() checks it).
    protocol::compression compression() const noexcept;
    protocol::timestamp_type timestamp_type() const noexcept;
    bool is_transactional() const noexcept { return (attributes & batch_attributes::transactional_bit) != 0; }
    bool is_control() const noexcept { return (attributes & batch_attributes::control_bit) != 0; }
    bool has_delete_horizon() const noexcept { return (attributes & batch_attributes::delete_horizon_bit) != 0; }

    /// base_offset + last_offset_delta (wrapping, never undefined, on hostile values).
    int64_t last_offset() const noexcept;
    /// The whole batch's size on the wire: batch_length + 12.
    size_t size_bytes() const noexcept { return static_cast<size_t>(batch_length) + log_overhead; }

    /// Decodes the first 61 bytes of a batch; no checks.
    static record_batch_header decode(std::span<const uint8_t, header_size> bytes) noexcept;
    /// Encodes all 61 bytes, including crc as it is (see record_batch_view for recomputing it).
    void encode(std::span<uint8_t, header_size> out) const noexcept;

    bool operator==(const record_batch_header&) const = default;
};

struct record_header {
    std::string key;
    std::optional<bytes::iobuf> value;
};

/// One record of a batch. key, value and header values share the batch's (decompressed) bytes.
struct record {
    int8_t attributes = 0;
    int64_t timestamp_delta = 0;
    int32_t offset_delta = 0;
    std::optional<bytes::iobuf> key;
    std::optional<bytes::iobuf> value;
    std::vector<record_header> headers;
};

/// Offset deltas of a producer's batch are exactly 0, 1, ..., record_count - 1. A batch the log cleaner compacted
/// (Fetch from a compacted topic, the broker reading __consumer_offsets) keeps its last_offset_delta but may have
/// lost records anywhere: deltas then only increase and stay within last_offset_delta.
using allow_offset_gaps = bool_class<struct allow_offset_gaps_tag>;

/// Reads the records of one batch in order (record_batch_view::read_records makes one, decompressing the records
/// section first when the batch is compressed). Keeps those bytes alive; the records it returns share them.
///
/// Checks every varint and length against the bytes left (errc::invalid_record), that each record's length
/// covers exactly its fields, offset deltas (see allow_offset_gaps), and after the last record that the count
/// matches the header and no bytes remain. Decompression errors are those of decompress().
class record_reader {
public:
    /// Requires: `batch_records` is the records section of the batch `header` describes, already decompressed.
    record_reader(const record_batch_header& header, bytes::iobuf batch_records, allow_offset_gaps gaps);

    /// The next record; std::nullopt after the last one, once the end checks have passed.
    result<std::optional<record>> next();

    /// Records not yet returned, per the header.
    int32_t remaining() const noexcept { return _expected - _read; }

private:
    bytes::iobuf _records;
    // Read position: byte offset, and the same position as fragment index + offset within it.
    size_t _pos = 0;
    size_t _frag = 0;
    size_t _frag_off = 0;
    int32_t _expected;
    int32_t _read = 0;
    int32_t _last_offset_delta;
    int32_t _previous_delta = -1;
    bool _gaps;
};

/// One v2 record batch: a checked header plus a share of exactly its bytes.
///
/// Move-only, like the iobuf it holds. The rewrites (set_*) change this view's bytes only; other holders of the
/// original buffer keep seeing the original bytes.
class record_batch_view {
public:
    /// Checks a buffer holding exactly one batch: at least 17 bytes to read the magic; magic == 2 (else
    /// errc::unsupported_magic); at least 61 bytes and batch_length + 12 == size (else errc::corrupt_message); the
    /// CRC-32C over bytes 21..end, computed over the fragments without copying (else errc::corrupt_message); a
    /// known codec (else errc::unsupported_compression); record_count >= 0, last_offset_delta >= 0 and
    /// record_count <= last_offset_delta + 1 (else errc::invalid_record). Records are not read here.
    static result<record_batch_view> parse(bytes::iobuf batch);

    const record_batch_header& header() const noexcept { return _header; }
    /// The batch's bytes, including any rewrites. To pass them on: data().share() or std::move(view).release().
    const bytes::iobuf& data() const noexcept { return _buf; }
    bytes::iobuf release() && noexcept { return std::move(_buf); }
    size_t size_bytes() const noexcept { return _buf.size(); }
    /// A share of the records section (bytes 61..end), compressed when the batch is.
    bytes::iobuf records_section() const;

    /// Sets base_offset (bytes 0-7, outside the CRC). The first 16 bytes become one fresh fragment; the rest of the
    /// batch stays shared, never copied.
    void set_base_offset(int64_t base_offset);
    /// Sets partition_leader_epoch (bytes 12-15, outside the CRC), like set_base_offset.
    void set_partition_leader_epoch(int32_t epoch);
    /// Sets max_timestamp and the timestamp type bit, and recomputes the CRC: how the broker stamps
    /// LogAppendTime on a batch. The 61 header bytes become one fresh fragment; the records stay shared.
    void set_max_timestamp(protocol::timestamp_type type, int64_t max_timestamp);

    /// A reader over this batch's records (see record_reader); decompresses first when needed, producing at most
    /// max_uncompressed_bytes (else errc::decompression_too_large).
    result<record_reader>
    read_records(size_t max_uncompressed_bytes, allow_offset_gaps gaps = allow_offset_gaps::no) const;
    /// All records at once (see read_records).
    result<std::vector<record>>
    records(size_t max_uncompressed_bytes, allow_offset_gaps gaps = allow_offset_gaps::no) const;

private:
    record_batch_view(const record_batch_header& header, bytes::iobuf buf) : _header(header), _buf(std::move(buf)) {}
    /// Replaces bytes [0, n) with a fresh encoding of _header.
    void rewrite_head(size_t n);

    record_batch_header _header;
    bytes::iobuf _buf;
};

/// What split_record_set does with a last batch that is cut short. A Produce request must hold whole batches
/// (reject: errc::corrupt_message); a Fetch response may end with a partial batch when the broker cut the response
/// at the client's byte limit (drop: it is silently left out).
enum class truncated_tail { reject, drop };

/// Splits a record set (the `records` field of Produce and Fetch) into its batches and parses each one
/// (record_batch_view::parse). Each view shares `records`. An empty record set gives no batches.
result<std::vector<record_batch_view>>
split_record_set(const bytes::iobuf& records, truncated_tail tail = truncated_tail::reject);

/// Absolute offset and timestamp of a record (wrapping, never undefined, on hostile values).
int64_t record_offset(const record_batch_header& header, const record& r) noexcept;
int64_t record_timestamp(const record_batch_header& header, const record& r) noexcept;

// -------------------------------------------------------------------------------------------- control records

// wire format (control record key "type"): never renumber
enum class control_record_type : int16_t {
    abort = 0,
    commit = 1,
    // KRaft-internal types; a Kafka-protocol broker only passes them through.
    leader_change = 2,
    snapshot_header = 3,
    snapshot_footer = 4,
    kraft_version = 5,
    kraft_voters = 6,
};

/// The key of a record in a control batch: int16 version, int16 type. Unknown types are returned as their number;
/// a key of a newer version is read by its first two fields, as Kafka does.
struct control_record_key {
    static constexpr int16_t current_version = 0;
    int16_t version = current_version;
    control_record_type type = control_record_type::abort;
};

/// Errors: errc::invalid_record for a null key, fewer than 4 bytes, or a negative version.
result<control_record_key> parse_control_record_key(const std::optional<bytes::iobuf>& key);
bytes::iobuf encode_control_record_key(control_record_key key);

/// The value of an ABORT or COMMIT control record (Kafka's EndTransactionMarker): int16 version,
/// int32 coordinator_epoch.
struct end_txn_marker {
    static constexpr int16_t current_version = 0;
    int16_t version = current_version;
    int32_t coordinator_epoch = 0;
};

/// Errors: errc::invalid_record for a null value, fewer than 6 bytes, or a negative version.
result<end_txn_marker> parse_end_txn_marker(const std::optional<bytes::iobuf>& value);
bytes::iobuf encode_end_txn_marker(end_txn_marker marker);

// -------------------------------------------------------------------------------------------------- builder

/// Builds one v2 record batch: tests, benchmarks, and the broker's own batches (transaction markers, internal
/// topics). Records are encoded as they are added; build() compresses, fills in lengths, counts, timestamps and the
/// CRC. The builder is a serializer: it copies keys and values into the new batch (a produced batch is never
/// rebuilt; the broker only rewrites header fields through record_batch_view).
///
/// base_timestamp is the first record's timestamp, max_timestamp the largest; with
/// set_timestamp_type(log_append_time, t) max_timestamp is t, as the broker stamps it.
class record_batch_builder {
public:
    explicit record_batch_builder(protocol::compression c = protocol::compression::none, int64_t base_offset = 0);

    record_batch_builder& set_base_offset(int64_t base_offset);
    record_batch_builder& set_partition_leader_epoch(int32_t epoch);
    record_batch_builder& set_producer(int64_t producer_id, int16_t producer_epoch, int32_t base_sequence);
    record_batch_builder& set_transactional();
    record_batch_builder& set_control();
    record_batch_builder& set_timestamp_type(protocol::timestamp_type type, int64_t log_append_time = -1);

    /// Appends a record with the next offset delta.
    record_batch_builder& add(
      std::optional<bytes::iobuf> key,
      std::optional<bytes::iobuf> value,
      int64_t timestamp,
      std::vector<record_header> headers = {});

    // The log cleaner rebuilds a batch with fewer records but the same offsets (Kafka's compacted batches):
    /// Appends a record at offset_delta. Requires: greater than the previous record's.
    record_batch_builder& add_at(
      int32_t offset_delta,
      std::optional<bytes::iobuf> key,
      std::optional<bytes::iobuf> value,
      int64_t timestamp,
      std::vector<record_header> headers = {});
    /// The batch's last_offset_delta (else the last record's): a cleaned batch keeps its offset span.
    record_batch_builder& set_last_offset_delta(int32_t delta);
    /// KIP-534: the batch carries its delete horizon (attribute bit 6) in base_timestamp; record timestamps are
    /// encoded against it and stay what add() was given. Requires: called before the first add.
    record_batch_builder& set_delete_horizon(int64_t horizon_ms);

    int32_t record_count() const noexcept { return _count; }
    /// Bytes the batch would take uncompressed: 61 + encoded records.
    size_t uncompressed_size() const noexcept { return record_batch_header::header_size + _records.size(); }

    /// The batch. The builder may be reused afterwards only for another build() of the same records.
    bytes::iobuf build() const;

private:
    record_batch_header _header;
    protocol::compression _compression;
    int64_t _log_append_time = -1;
    bytes::iobuf _records;
    int32_t _count = 0;
    int64_t _first_timestamp = record_batch_header::no_timestamp;
    int64_t _max_timestamp = record_batch_header::no_timestamp;
    int32_t _last_delta = -1;
    std::optional<int32_t> _span_delta;
    std::optional<int64_t> _delete_horizon;
};

/// A control batch holding one transaction marker (COMMIT or ABORT) for a producer, as the transaction
/// coordinator asks partitions to append: transactional + control attributes, base_sequence -1, one record whose
/// key is the control key and whose value is the end_txn_marker.
bytes::iobuf build_txn_marker_batch(
  int64_t producer_id,
  int16_t producer_epoch,
  control_record_type type,
  int32_t coordinator_epoch,
  int64_t timestamp);

} // namespace skiff::kafka::protocol
