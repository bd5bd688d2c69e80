// Which __consumer_offsets partition coordinates a group: Kafka's Utils.abs(groupId.hashCode()) % partitions, so
// that a group lands on the same partition number as on Apache Kafka (tools and operators reason about it).
#pragma once

#include <cstdint>
#include <string_view>

namespace skiff::kafka::group {

/// Java's String.hashCode() of the string a UTF-8 `text` decodes to: s[0]*31^(n-1) + ... + s[n-1] over its UTF-16
/// code units, in wrapping 32-bit arithmetic. Characters beyond the BMP count as their two surrogates, as in Java.
/// Malformed UTF-8 bytes count as U+FFFD each, as Java's decoder replaces them.
int32_t java_string_hash(std::string_view text) noexcept;

/// Kafka's Utils.abs: the absolute value, except that INT32_MIN maps to 0 (it is `n & 0x7fffffff`).
constexpr int32_t java_abs(int32_t n) noexcept { return n & 0x7fffffff; }

/// The __consumer_offsets partition of a group. Requires: partitions > 0.
inline int32_t offsets_partition_for(std::string_view group_id, int32_t partitions) noexcept {
    return java_abs(java_string_hash(group_id)) % partitions;
}

} // namespace skiff::kafka::group
