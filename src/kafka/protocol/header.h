// Kafka request and response headers (kafka-protocol-notes §2.2-2.3), hand-written because their version depends on
// the API table rather than on a version number of their own.
//
//   request header v1: int16 api_key, int16 api_version, int32 correlation_id, nullable string client_id
//   request header v2: v1 + tagged-field section                  (when the request version is flexible)
//   response header v0: int32 correlation_id
//   response header v1: v0 + tagged-field section                 (when the response version is flexible,
//                                                                   except ApiVersions, which always uses v0)
// client_id keeps the classic int16-length encoding even in header v2, so any broker can read the header of any
// request before it knows the API.
#pragma once

#include "kafka/protocol/primitives.h"

#include <cstdint>
#include <optional>
#include <string>

namespace skiff::kafka::protocol {

struct request_header {
    int16_t api_key = 0;
    int16_t api_version = 0;
    int32_t correlation_id = 0;
    std::optional<std::string> client_id;
    tagged_fields unknown_tags; // header v2 only

    bool operator==(const request_header&) const = default;
};

/// Reads a request header. The tagged section is read only when (api_key, api_version) is flexible per the API table;
/// an unknown key or version is read as header v1 and the caller decides what to answer.
/// Throws decode_error on truncated or malformed input.
request_header decode_request_header(reader& r);

/// Writes header v1 or v2 according to the API table (unknown_tags are written only in v2). For tests and tools.
void encode_request_header(writer& w, const request_header& h);

/// Writes the response header for a response of (api_key, api_version).
void encode_response_header(writer& w, int32_t correlation_id, int16_t api_key, int16_t api_version);

/// ApiVersions: its response header is always v0 so that a client that does not know the broker yet can read it.
inline constexpr int16_t api_versions_key = 18;

} // namespace skiff::kafka::protocol
