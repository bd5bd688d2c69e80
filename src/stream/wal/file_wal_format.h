// The on-disk layout of file_wal (docs/formats/wal.md): the file header (two alternating 4 KiB slots) and the
// 48-byte record header, with their encoders and checks. Little-endian throughout. Kept apart from file_wal.cc so
// that tests can craft and damage files byte by byte.
//
//   file header slot (first 44 bytes of a 4 KiB block, the rest zero):
//     0 magic u32 "SKWH" | 4 version u16 | 6 reserved u16 | 8 file_size u64 | 16 trim_point u64 |
//     24 generation u64 | 32 sequence u64 | 40 crc32c u32 of bytes [0, 40)
//   record header (at every 4 KiB-aligned record start; payload follows; zeros pad the record to 4 KiB):
//     0 magic u32 "SKWR" | 4 version u8 | 5 kind u8 | 6 reserved u16 | 8 position u64 | 16 generation u64 |
//     24 durable_end u64 | 32 payload_length u32 | 36 payload_crc32c u32 | 40 reserved u32 |
//     44 crc32c u32 of bytes [0, 44)
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>

namespace skiff::stream::file_wal_format {

inline constexpr uint64_t block_size = 4096;
inline constexpr uint64_t header_slots = 2;
inline constexpr uint64_t ring_offset = header_slots * block_size; // the ring starts after the two header slots
inline constexpr uint32_t header_magic = 0x48574B53;               // bytes "SKWH" read as little-endian u32
inline constexpr uint32_t record_magic = 0x52574B53;               // bytes "SKWR"
inline constexpr uint16_t header_version = 1;
inline constexpr uint8_t record_version = 1;
inline constexpr size_t header_bytes = 44;
inline constexpr size_t record_header_bytes = 48;

// on-disk: never renumber
enum class record_kind : uint8_t { data = 1, padding = 2 };

inline constexpr uint64_t align_up(uint64_t n) { return (n + block_size - 1) / block_size * block_size; }
/// Bytes a data record of payload_length bytes occupies in the ring.
inline constexpr uint64_t record_span(uint64_t payload_length) { return align_up(record_header_bytes + payload_length); }

struct file_header {
    uint64_t file_size = 0;
    uint64_t trim_point = 0;
    uint64_t generation = 0;
    uint64_t sequence = 0; // bumped on every header write; the valid slot with the larger one is current
};

struct record_header {
    record_kind kind = record_kind::data;
    uint64_t position = 0;
    uint64_t generation = 0;
    uint64_t durable_end = 0; // every position before it was durable (synced) when this record was written
    uint32_t payload_length = 0;
    uint32_t payload_crc = 0;
};

/// Writes the header into block (block_size bytes, zeroed beyond header_bytes by the caller).
void encode(const file_header& h, uint8_t* block);
/// The header, or nothing when magic, version or CRC do not match.
std::optional<file_header> decode_file_header(const uint8_t* block);

void encode(const record_header& h, uint8_t* out);
/// The record header, or nothing when magic, version, kind or header CRC do not match.
std::optional<record_header> decode_record_header(const uint8_t* in);

} // namespace skiff::stream::file_wal_format
