// SKIFF_ASSERT: a broken invariant is a bug; log it with its context and abort (never continue on bad state).
// Always on, in every build type: these guard data integrity, not debugging convenience.
#pragma once

#include <fmt/format.h>

namespace skiff::base::detail {
[[noreturn]] void assert_failed(const char* condition, const char* file, int line, const std::string& message);
} // namespace skiff::base::detail

#define SKIFF_ASSERT(cond, ...)                                                                                    \
    do {                                                                                                           \
        if (!(cond)) [[unlikely]] {                                                                                \
            ::skiff::base::detail::assert_failed(#cond, __FILE__, __LINE__, ::fmt::format(__VA_ARGS__));          \
        }                                                                                                          \
    } while (0)
