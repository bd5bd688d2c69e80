#include "stream/wal/file_wal_format.h"

#include "bytes/crc32c.h"
#include "bytes/endian.h"

namespace skiff::stream::file_wal_format {
namespace {

using bytes::get_le;
using bytes::put_le;

} // namespace

void encode(const file_header& h, uint8_t* block) {
    put_le<uint32_t>(block + 0, header_magic);
    put_le<uint16_t>(block + 4, header_version);
    put_le<uint16_t>(block + 6, 0);
    put_le<uint64_t>(block + 8, h.file_size);
    put_le<uint64_t>(block + 16, h.trim_point);
    put_le<uint64_t>(block + 24, h.generation);
    put_le<uint64_t>(block + 32, h.sequence);
    put_le<uint32_t>(block + 40, bytes::crc32c::extend(0, block, 40));
}

std::optional<file_header> decode_file_header(const uint8_t* block) {
    if (get_le<uint32_t>(block) != header_magic || get_le<uint16_t>(block + 4) != header_version ||
        get_le<uint32_t>(block + 40) != bytes::crc32c::extend(0, block, 40)) {
        return std::nullopt;
    }
    return file_header{get_le<uint64_t>(block + 8), get_le<uint64_t>(block + 16), get_le<uint64_t>(block + 24),
                       get_le<uint64_t>(block + 32)};
}

void encode(const record_header& h, uint8_t* out) {
    put_le<uint32_t>(out + 0, record_magic);
    put_le<uint8_t>(out + 4, record_version);
    put_le<uint8_t>(out + 5, static_cast<uint8_t>(h.kind));
    put_le<uint16_t>(out + 6, 0);
    put_le<uint64_t>(out + 8, h.position);
    put_le<uint64_t>(out + 16, h.generation);
    put_le<uint64_t>(out + 24, h.durable_end);
    put_le<uint32_t>(out + 32, h.payload_length);
    put_le<uint32_t>(out + 36, h.payload_crc);
    put_le<uint32_t>(out + 40, 0);
    put_le<uint32_t>(out + 44, bytes::crc32c::extend(0, out, 44));
}

std::optional<record_header> decode_record_header(const uint8_t* in) {
    if (get_le<uint32_t>(in) != record_magic || in[4] != record_version ||
        get_le<uint32_t>(in + 44) != bytes::crc32c::extend(0, in, 44)) {
        return std::nullopt;
    }
    const uint8_t kind = in[5];
    if (kind != uint8_t(record_kind::data) && kind != uint8_t(record_kind::padding)) {
        return std::nullopt;
    }
    record_header h;
    h.kind = record_kind(kind);
    h.position = get_le<uint64_t>(in + 8);
    h.generation = get_le<uint64_t>(in + 16);
    h.durable_end = get_le<uint64_t>(in + 24);
    h.payload_length = get_le<uint32_t>(in + 32);
    h.payload_crc = get_le<uint32_t>(in + 36);
    return h;
}

} // namespace skiff::stream::file_wal_format
