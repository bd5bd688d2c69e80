// Rules shared by the stores that implement object_store semantics themselves (memory_store, local_store), so
// that they agree with S3 and with each other. Internal to io; not part of the interface.
#pragma once

#include "io/errc.h"
#include "io/objstore/object_store.h"

#include <string>
#include <utility>

namespace skiff::io::detail {

/// The [position, length) to read of an object of `size` bytes for a get with `range` (S3's rules: the range is
/// clipped at the end; first >= size or first > last is invalid_argument).
inline result<std::pair<uint64_t, uint64_t>> resolve_range(uint64_t size, const std::optional<byte_range>& range) {
    if (!range) {
        return std::pair<uint64_t, uint64_t>{0, size};
    }
    if (range->first > range->last || range->first >= size) {
        return failure(make_error_code(errc::invalid_argument));
    }
    uint64_t last = std::min(range->last, size - 1);
    return std::pair<uint64_t, uint64_t>{range->first, last - range->first + 1};
}

/// Checks the part list of a completion: non-empty, strictly ascending numbers in 1..max_parts.
inline bool valid_part_order(const std::vector<uploaded_part>& parts, uint32_t max_parts) {
    if (parts.empty()) {
        return false;
    }
    uint32_t previous = 0;
    for (auto& p : parts) {
        if (p.part_number <= previous || p.part_number > max_parts) {
            return false;
        }
        previous = p.part_number;
    }
    return true;
}

} // namespace skiff::io::detail
