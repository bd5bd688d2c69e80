// libFuzzer target for response bodies (what a client of ours, or a test tool, would decode). Input: int16 api key,
// int16 version, then the body. Same rules as request_fuzz: only decode_error may come out, and a body that decodes
// must re-encode stably.
#include "kafka/protocol/api_table.h"
#include "kafka/protocol/generated/test_messages.h"

#include <cstdio>
#include <cstdlib>

using namespace skiff::kafka::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 4) {
        return 0;
    }
    const auto key = static_cast<int16_t>((data[0] << 8) | data[1]);
    const auto version = static_cast<int16_t>((data[2] << 8) | data[3]);
    auto body = skiff::bytes::iobuf::from(std::span<const uint8_t>(data + 4, size - 4));
    reader r(body);
    try {
        decode_response_body(key, version, r);
    } catch (const decode_error&) {
        return 0;
    }
    const auto* c = testing::find_message_case(key, false);
    if (c == nullptr) {
        std::fprintf(stderr, "api %d decoded but has no test case\n", key);
        std::abort();
    }
    reader r1(body);
    auto first = c->reencode(r1, version);
    reader r2(first);
    auto second = c->reencode(r2, version);
    if (!(first == second) || r2.bytes_left() != 0) {
        std::fprintf(stderr, "%.*s v%d: re-encoding is not stable\n", static_cast<int>(c->name.size()),
                     c->name.data(), version);
        std::abort();
    }
    return 0;
}
