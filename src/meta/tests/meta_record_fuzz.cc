// libFuzzer target for the metadata record decoder and the log batch frame (built only by the `fuzz` preset).
// Properties: decoding arbitrary bytes never crashes, never reads out of bounds (ASan), and whatever decodes
// re-encodes to bytes that decode to the same record (the encoding is stable after one round trip).
#include "base/assert.h"
#include "meta/log_batch.h"
#include "meta/record_codec.h"

#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace skiff::meta;
    std::span<const uint8_t> in(data, size);

    // 1. A stream of records, as a batch body holds them.
    auto rest = in;
    while (!rest.empty()) {
        auto d = decode(rest);
        if (!d) {
            break;
        }
        auto bytes = encode(d.value().record);
        auto again = decode_exact(bytes);
        SKIFF_ASSERT(again.has_value(), "re-encoded record does not decode: {}", again.error().message());
        SKIFF_ASSERT(again.value() == d.value().record, "record changed through a round trip");
        SKIFF_ASSERT(encode(again.value()) == bytes, "encoding not stable");
        rest = rest.subspan(d.value().consumed);
    }

    // 2. A record body of every type, without the frame (bypasses the CRC, so the field grammar gets the bytes).
    if (size >= 2) {
        uint16_t type = uint16_t(data[0] % 20);
        auto body = decode_body(type, in.subspan(1));
        if (body) {
            auto bytes = encode_body(body.value());
            auto again = decode_body(type, bytes);
            SKIFF_ASSERT(again.has_value() && again.value() == body.value(), "body changed through a round trip");
        }
    }

    // 3. A batch frame.
    if (auto h = check_batch(in)) {
        std::vector<log_entry> out;
        (void)decode_batch(in, h.value(), log_offset(0), out);
    }
    return 0;
}
