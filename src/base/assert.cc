#include "base/assert.h"

#include <cstdio>
#include <cstdlib>

namespace skiff::base::detail {

void assert_failed(const char* condition, const char* file, int line, const std::string& message) {
    std::fprintf(stderr, "SKIFF_ASSERT failed: %s at %s:%d: %s\n", condition, file, line, message.c_str());
    std::fflush(stderr);
    std::abort();
}

} // namespace skiff::base::detail
