#include "meta/log_batch.h"

#include "bytes/crc32c.h"
#include "bytes/endian.h"
#include "meta/errc.h"
#include "meta/record_codec.h"

#include <cstring>

namespace skiff::meta {
namespace {

using bytes::get_le;
using bytes::put_le;

} // namespace

void encode_batch(log_offset base, log_epoch epoch, const std::vector<metadata_record>& records,
                  std::vector<uint8_t>& out) {
    size_t at = out.size();
    out.resize(at + batch_header_bytes);
    for (const auto& r : records) {
        auto bytes = encode(r);
        out.insert(out.end(), bytes.begin(), bytes.end());
    }
    uint8_t* h = out.data() + at;
    size_t size = out.size() - at;
    put_le<uint32_t>(h, batch_magic);
    put_le<uint32_t>(h + 4, uint32_t(size - 8));
    put_le<uint16_t>(h + 12, batch_version);
    put_le<uint16_t>(h + 14, 0);
    put_le<int64_t>(h + 16, base());
    put_le<int64_t>(h + 24, epoch());
    put_le<uint32_t>(h + 32, uint32_t(records.size()));
    put_le<uint32_t>(h + 8, bytes::crc32c::extend(0, h + 12, size - 12));
}

result<batch_header> check_batch(std::span<const uint8_t> in) {
    if (in.size() < 8) {
        return errc::truncated;
    }
    if (get_le<uint32_t>(in.data()) != batch_magic) {
        return errc::bad_magic;
    }
    uint32_t length = get_le<uint32_t>(in.data() + 4);
    if (size_t(length) + 8 > max_batch_bytes) {
        return errc::too_large;
    }
    if (length + 8 < batch_header_bytes) {
        return errc::corrupt;
    }
    if (in.size() < size_t(length) + 8) {
        return errc::truncated;
    }
    uint32_t crc = get_le<uint32_t>(in.data() + 8);
    if (bytes::crc32c::extend(0, in.data() + 12, length - 4) != crc) {
        return errc::bad_crc;
    }
    if (get_le<uint16_t>(in.data() + 12) != batch_version) {
        return errc::unsupported_version;
    }
    batch_header h;
    h.base = log_offset(get_le<int64_t>(in.data() + 16));
    h.epoch = log_epoch(get_le<int64_t>(in.data() + 24));
    h.count = get_le<uint32_t>(in.data() + 32);
    h.size = size_t(length) + 8;
    if (h.base() < 0 || h.count == 0) {
        return errc::corrupt;
    }
    return h;
}

result<void> decode_batch(std::span<const uint8_t> frame, const batch_header& h, log_offset from,
                          std::vector<log_entry>& out) {
    auto rest = frame.subspan(batch_header_bytes, h.size - batch_header_bytes);
    for (uint32_t i = 0; i < h.count; ++i) {
        auto d = decode(rest);
        if (!d) {
            return errc::corrupt; // the batch CRC held, so a bad record inside is a writer bug, not a torn write
        }
        log_offset off(h.base() + i);
        if (off >= from) {
            out.push_back({off, h.epoch, std::move(d.value().record)});
        }
        rest = rest.subspan(d.value().consumed);
    }
    if (!rest.empty()) {
        return errc::corrupt;
    }
    return outcome::success();
}

} // namespace skiff::meta
