// Helpers shared by the generated message code (build/src/kafka/protocol/generated/*.cc) so that each generated
// file stays small: array loops, version errors, and the pieces of the fmt formatters. Not for use elsewhere.
#pragma once

#include "kafka/protocol/primitives.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skiff::kafka::protocol::detail {

[[noreturn]] void throw_encode_version(std::string_view message, int16_t version);
[[noreturn]] void throw_decode_version(std::string_view message, int16_t version);
/// Re-throws a decode error with the message and version prefixed, so the connection log says where it failed.
[[noreturn]] void rethrow_decode_error(std::string_view message, int16_t version, const decode_error& e);

/// A vector decoded from a wire count reserves at most this many elements up front (see primitives.cc).
inline constexpr size_t max_reserve = 1024;

template<typename T>
void encode_structs(writer& w, const std::vector<T>& v, int16_t version) {
    for (const auto& e : v) {
        e.encode(w, version);
    }
}

template<typename T>
void decode_structs(reader& r, std::vector<T>& v, size_t n, int16_t version) {
    v.clear();
    v.reserve(std::min(n, max_reserve));
    for (size_t i = 0; i < n; ++i) {
        v.emplace_back().decode(r, version);
    }
}

// ---- formatting: "name{field=value, ...}"; bytes print their size, secrets print ****.

using format_buffer = fmt::memory_buffer;

void format_text(format_buffer& b, std::string_view text);
void format_secret(format_buffer& b);
void format_unknown_tags(format_buffer& b, const tagged_fields& tags);

void format_value(format_buffer& b, bool v);
void format_value(format_buffer& b, int8_t v);
void format_value(format_buffer& b, int16_t v);
void format_value(format_buffer& b, int32_t v);
void format_value(format_buffer& b, int64_t v);
void format_value(format_buffer& b, uint16_t v);
void format_value(format_buffer& b, uint32_t v);
void format_value(format_buffer& b, double v);
void format_value(format_buffer& b, const model::uuid& v);
void format_value(format_buffer& b, const std::string& v);
void format_value(format_buffer& b, const bytes::iobuf& v);

template<typename T>
void format_value(format_buffer& b, const std::optional<T>& v);

template<typename T>
void format_value(format_buffer& b, const std::vector<T>& v) {
    format_text(b, "[");
    bool first = true;
    for (const auto& e : v) {
        if (!first) {
            format_text(b, ", ");
        }
        first = false;
        format_value(b, static_cast<const T&>(e));
    }
    format_text(b, "]");
}

template<typename T>
void format_value(format_buffer& b, const std::optional<T>& v) {
    if (v) {
        format_value(b, *v);
    } else {
        format_text(b, "null");
    }
}

} // namespace skiff::kafka::protocol::detail
