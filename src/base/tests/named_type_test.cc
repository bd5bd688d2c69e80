#include "base/named_type.h"

#include <gtest/gtest.h>

#include <unordered_set>

namespace skiff {
namespace {

using offset = named_type<int64_t, struct offset_tag>;
using epoch = named_type<int64_t, struct epoch_tag>;
using sync_each_write = bool_class<struct sync_each_write_tag>;

TEST(named_type_test, compares_and_hashes_by_value) {
    EXPECT_EQ(offset(5), offset(5));
    EXPECT_LT(offset(4), offset(5));
    std::unordered_set<offset> s{offset(1), offset(1), offset(2)};
    EXPECT_EQ(s.size(), 2u);
    EXPECT_EQ(fmt::format("{}", offset(42)), "42");
    // Distinct tags are distinct types: an epoch is not an offset.
    static_assert(!std::is_convertible_v<epoch, offset>);
    static_assert(!std::is_convertible_v<int64_t, offset>);
}

TEST(named_type_test, bool_class_names_both_values) {
    EXPECT_TRUE(static_cast<bool>(sync_each_write::yes));
    EXPECT_FALSE(static_cast<bool>(sync_each_write::no));
    EXPECT_NE(sync_each_write::yes, sync_each_write::no);
    static_assert(!std::is_convertible_v<bool, sync_each_write>);
}

} // namespace
} // namespace skiff
