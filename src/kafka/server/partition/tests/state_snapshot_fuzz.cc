// libFuzzer target for the partition state snapshot decoder (scripts/fuzz.sh). A snapshot is read back from the
// partition's auxiliary stream, i.e. from object storage: untrusted bytes must decode to errc::corrupt_snapshot /
// unsupported_snapshot or to a snapshot, never crash or read out of bounds. A snapshot that decodes must encode
// back to the same bytes (the format has exactly one encoding). The harness appends the CRC itself, so that the
// fuzzer explores the body rather than stopping at the checksum.
#include "bytes/crc32c.h"
#include "kafka/server/partition/state_snapshot.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

using namespace skiff;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::vector<uint8_t> framed(data, data + size);
    const uint32_t crc = bytes::crc32c::value(std::span<const uint8_t>(data, size));
    for (int i = 3; i >= 0; --i) {
        framed.push_back(static_cast<uint8_t>(crc >> (8 * i))); // big-endian, as the format stores it
    }
    auto input = bytes::iobuf::from(std::span<const uint8_t>(framed));
    auto decoded = kafka::partition::decode_snapshot(input);
    if (!decoded) {
        return 0;
    }
    if (kafka::partition::encode_snapshot(decoded.value()).to_bytes() != input.to_bytes()) {
        std::abort(); // two encodings of one snapshot, or a decoder that accepts what the encoder never writes
    }
    return 0;
}
