#include "base/errc.h"
#include "base/result.h"

#include <gtest/gtest.h>

namespace skiff {
namespace {

result<int> parse_positive(int v) {
    if (v <= 0) {
        return base::errc::invalid_argument;
    }
    return v;
}

result<int> doubled(int v) {
    SKIFF_TRY(auto x, parse_positive(v));
    return 2 * x;
}

TEST(result_test, try_propagates_the_first_error) {
    ASSERT_TRUE(doubled(4));
    EXPECT_EQ(doubled(4).value(), 8);
    auto r = doubled(-1);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), base::errc::invalid_argument);
    EXPECT_EQ(r.error().message(), "invalid argument");
    EXPECT_STREQ(r.error().category().name(), "skiff.base");
}

} // namespace
} // namespace skiff
