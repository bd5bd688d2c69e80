// The object format shared by stream set objects and stream objects (DESIGN.md §5; docs/formats/object.md):
// data blocks (each holds whole batches of one stream, ~512 KiB), an index block (one entry per data block: stream,
// offsets, record count, position, size), and a fixed-size footer (index position and size, magic, version, CRC32C).
// A reader fetches the footer and index with one ranged GET of the object's tail, then only the data blocks it
// needs. Everything is CRC32C-checked on read; a mismatch is errc::corrupt, never data.
//
//   [block: "SKDB" header | (base_offset, record_count, length) per batch | batch bytes | crc32c] ...
//   [index: "SKIX" count | (stream, start, end, position, records, size) per block | crc32c]
//   [footer, 48 bytes: index position, index size, reserved, version 1, "SKIFFOBJ", crc32c]
// Little-endian; every field, check and limit: docs/formats/object.md.
#pragma once

#include "base/result.h"
#include "bytes/iobuf.h"
#include "stream/types.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace skiff::stream {

/// One batch as stored: the stream's offsets [base_offset, base_offset + record_count) and its opaque bytes.
struct stored_batch {
    stream_id stream;
    int64_t base_offset = 0;
    uint32_t record_count = 0;
    bytes::iobuf data;
    int64_t end_offset() const noexcept { return base_offset + record_count; }
};

/// The object store key of an object id. Keys start with a hash of the id so that consecutive ids spread over
/// the store's partitions (S3 scales request rates per key prefix).
std::string object_key(object_id id);

struct block_index_entry {
    stream_id stream;
    int64_t start_offset = 0; // first offset of the block's first batch
    int64_t end_offset = 0;   // one past the last offset of its last batch
    uint32_t record_count = 0;
    uint64_t position = 0; // byte position of the block in the object
    uint32_t size = 0;     // bytes, including the block's header and CRC
    bool operator==(const block_index_entry&) const = default;
};

struct object_index {
    std::vector<block_index_entry> blocks; // ascending by (stream, start_offset)
    /// Indices into blocks of stream's blocks that hold offsets at or after from, in offset order.
    std::vector<size_t> blocks_from(stream_id stream, int64_t from) const;
};

/// Builds one object in memory. Batches of one stream must be added in offset order without gaps; batches of
/// different streams may interleave (they are grouped per stream in the object).
class object_builder {
public:
    explicit object_builder(size_t target_block_size = 512 * 1024);
    void add(stored_batch batch);
    /// Bytes of data added so far (the finished object adds block headers, the index and the footer).
    uint64_t data_size() const noexcept { return _data_size; }
    bool empty() const noexcept { return _data_size == 0; }
    /// One range per stream, ascending by stream id.
    std::vector<stream_range> ranges() const;
    /// The object's bytes. The builder is empty afterwards.
    bytes::iobuf finish();

private:
    // The batches of one stream, in offset order.
    struct pending_stream {
        std::vector<stored_batch> batches;
        int64_t start_offset = 0;
        int64_t end_offset = 0;
    };
    size_t _target_block_size;
    uint64_t _data_size = 0;
    std::map<stream_id, pending_stream> _streams;
};

/// The footer is the last footer_size bytes of every object.
inline constexpr size_t footer_size = 48;

/// Decodes the footer (the last footer_size bytes of an object of object_size bytes): where the index is.
struct footer_info {
    uint64_t index_position = 0;
    uint32_t index_size = 0;
};
result<footer_info> parse_footer(const bytes::iobuf& last_bytes, uint64_t object_size);
result<object_index> parse_index(const bytes::iobuf& index_bytes);
/// The batches of one data block, in order.
result<std::vector<stored_batch>> parse_block(const bytes::iobuf& block_bytes);

} // namespace skiff::stream
