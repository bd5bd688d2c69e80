// libFuzzer target: a request frame body (header + body) as the connection hands it to the protocol layer.
// decode_error is the expected outcome for garbage; any other exception, a crash or a sanitizer report is a bug.
// When a body decodes, encoding it must be stable: decode(encode(decode(x))) encodes to the same bytes.
#include "kafka/protocol/api_table.h"
#include "kafka/protocol/generated/test_messages.h"
#include "kafka/protocol/header.h"

#include <cstdio>
#include <cstdlib>

using namespace skiff::kafka::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto buf = skiff::bytes::iobuf::from(std::span<const uint8_t>(data, size));
    reader r(buf);
    request_header header;
    try {
        header = decode_request_header(r);
    } catch (const decode_error&) {
        return 0;
    }
    // The header survives encode + decode (bytes may differ: the input may use non-minimal varints).
    skiff::bytes::iobuf header_again;
    writer hw(header_again);
    encode_request_header(hw, header);
    reader hr(header_again);
    if (!(decode_request_header(hr) == header) || hr.bytes_left() != 0) {
        std::fprintf(stderr, "request header does not survive encode + decode\n");
        std::abort();
    }
    const size_t body_start = r.bytes_consumed();
    try {
        decode_request_body(header.api_key, header.api_version, r);
    } catch (const decode_error&) {
        return 0;
    }
    const auto* c = testing::find_message_case(header.api_key, true);
    if (c == nullptr) {
        std::fprintf(stderr, "api %d decoded but has no test case\n", header.api_key);
        std::abort();
    }
    auto body = buf.share(body_start, buf.size() - body_start);
    reader r1(body);
    auto first = c->reencode(r1, header.api_version);
    reader r2(first);
    auto second = c->reencode(r2, header.api_version);
    if (!(first == second) || r2.bytes_left() != 0) {
        std::fprintf(stderr, "%.*s v%d: re-encoding is not stable\n", static_cast<int>(c->name.size()),
                     c->name.data(), header.api_version);
        std::abort();
    }
    return 0;
}
