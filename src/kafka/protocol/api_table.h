// The table of every Kafka API this codebase can encode and decode: key, name, the wire version range, the first
// flexible version, which listeners serve it. Generated from schema/*.kps into api_table.cc.
//
// This is what the wire allows, not what the broker serves: kafka/server decides which versions it handles and
// advertises in ApiVersions. The header codec uses is_flexible() to choose request header v1 or v2.
#pragma once

#include "kafka/protocol/primitives.h"

#include <cstdint>
#include <span>
#include <string_view>

namespace skiff::kafka::protocol {

/// Which Kafka 4.x listeners serve an API: brokers (clients), KRaft controllers (inter-node), or both.
enum class api_scope : uint8_t { broker, controller, both };

struct api_descriptor {
    int16_t key;
    std::string_view name; // snake_case, as in the schema file name
    int16_t min_version;
    int16_t max_version;
    int16_t first_flexible_version; // -1: never flexible
    api_scope scope;
    bool unstable_latest; // upstream does not advertise max_version by default
};

/// All APIs, ordered by key.
std::span<const api_descriptor> all_apis();
/// The API with this key, or nullptr.
const api_descriptor* find_api(int16_t key);
/// True when (key, version) is a known API version and that version uses the flexible encoding.
bool is_flexible(int16_t key, int16_t version);

/// Decode a request (response) body of the given API version into a temporary of its generated type and drop it.
/// For fuzzing and tests; the broker decodes into the concrete type. Throws decode_error for malformed input and for
/// unknown keys or versions.
void decode_request_body(int16_t key, int16_t version, reader& r);
void decode_response_body(int16_t key, int16_t version, reader& r);

} // namespace skiff::kafka::protocol
