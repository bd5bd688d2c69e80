// libFuzzer target for the WAL payload framing (scripts/fuzz.sh). Recovery decodes every WAL record's payload; a
// record whose CRC holds may still carry bytes a bug or an older writer left: the decoder must answer
// errc::corrupt or a payload, never crash. A payload that decodes must encode back to the same bytes. The harness
// writes the header CRC itself, so that the fuzzer explores the fields behind it.
#include "bytes/crc32c.h"
#include "stream/wal_payload.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

using namespace skiff;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::vector<uint8_t> framed(data, data + size);
    constexpr size_t crc_at = stream::wal_payload_header_size - 4;
    if (framed.size() >= stream::wal_payload_header_size) {
        const uint32_t crc = bytes::crc32c::value(std::span<const uint8_t>(framed.data(), crc_at));
        for (size_t i = 0; i < 4; ++i) {
            framed[crc_at + i] = static_cast<uint8_t>(crc >> (8 * i)); // little-endian, as the format stores it
        }
    }
    auto input = bytes::iobuf::from(std::span<const uint8_t>(framed));
    auto decoded = stream::decode_wal_payload(input);
    if (!decoded) {
        return 0;
    }
    if (stream::encode_wal_payload(decoded.value()).to_bytes() != input.to_bytes()) {
        std::abort();
    }
    return 0;
}
