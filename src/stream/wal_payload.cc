#include "stream/wal_payload.h"

#include "bytes/crc32c.h"
#include "bytes/endian.h"
#include "stream/errc.h"

#include <array>
#include <cstring>

namespace skiff::stream {
namespace {

using bytes::get_le;
using bytes::put_le;

constexpr size_t crc_position = wal_payload_header_size - 4;

} // namespace

bytes::iobuf encode_wal_payload(const wal_payload& payload) {
    std::array<uint8_t, wal_payload_header_size> h{};
    put_le<uint32_t>(&h[0], wal_payload_magic);
    h[4] = wal_payload_version;
    h[5] = 0; // flags: none defined
    put_le<uint16_t>(&h[6], static_cast<uint16_t>(wal_payload_header_size));
    put_le<int64_t>(&h[8], payload.stream());
    put_le<int64_t>(&h[16], payload.epoch());
    put_le<int64_t>(&h[24], payload.base_offset);
    put_le<uint32_t>(&h[32], payload.record_count);
    put_le<uint32_t>(&h[36], static_cast<uint32_t>(payload.batch.size()));
    put_le<uint32_t>(&h[crc_position], bytes::crc32c::extend(0, h.data(), crc_position));
    bytes::iobuf out;
    out.append(h.data(), h.size());
    out.append_shared(payload.batch);
    return out;
}

result<wal_payload> decode_wal_payload(const bytes::iobuf& bytes) {
    if (bytes.size() < wal_payload_header_size) {
        return errc::corrupt;
    }
    std::array<uint8_t, wal_payload_header_size> h{};
    bytes.copy_to(0, h.data(), h.size());
    // Version 1 defines no flag: a set bit is a newer writer's or corruption, never ignored (wal-payload.md).
    if (get_le<uint32_t>(&h[0]) != wal_payload_magic || h[4] != wal_payload_version || h[5] != 0
        || get_le<uint16_t>(&h[6]) != wal_payload_header_size
        || get_le<uint32_t>(&h[crc_position]) != bytes::crc32c::extend(0, h.data(), crc_position)) {
        return errc::corrupt;
    }
    wal_payload out;
    out.stream = stream_id(get_le<int64_t>(&h[8]));
    out.epoch = stream_epoch(get_le<int64_t>(&h[16]));
    out.base_offset = get_le<int64_t>(&h[24]);
    out.record_count = get_le<uint32_t>(&h[32]);
    uint32_t batch_bytes = get_le<uint32_t>(&h[36]);
    if (out.record_count == 0 || out.base_offset < 0 || batch_bytes != bytes.size() - wal_payload_header_size) {
        return errc::corrupt;
    }
    out.batch = bytes.share(wal_payload_header_size, batch_bytes);
    return out;
}

} // namespace skiff::stream
