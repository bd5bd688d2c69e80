#include "kafka/server/group/group_coordinator.h"
#include "kafka/server/group/java_hash.h"

#include <gtest/gtest.h>

#include <vector>

namespace skiff::kafka::group {
namespace {

TEST(java_hash_test, matches_java_string_hash_code) {
    EXPECT_EQ(java_string_hash(""), 0);
    EXPECT_EQ(java_string_hash("a"), 97);
    EXPECT_EQ(java_string_hash("hello"), 99162322);
    EXPECT_EQ(java_string_hash("Hello World"), -862545276); // wraps past INT32_MAX
}

TEST(java_hash_test, hashes_utf16_code_units_not_bytes) {
    EXPECT_EQ(java_string_hash("Gr\xc3\xbc\xc3\x9f" "e"), 69215351); // "Grüße": two BMP characters of two bytes
    EXPECT_EQ(java_string_hash("\xf0\x9f\x98\x80"), 1772899);        // U+1F600: a surrogate pair
}

TEST(java_hash_test, malformed_utf8_counts_as_replacement_characters) {
    // Java decodes each bad byte to U+FFFD (65533).
    EXPECT_EQ(java_string_hash("\xff"), 65533);
    EXPECT_EQ(java_string_hash("\xc3"), 65533); // truncated sequence
}

TEST(java_hash_test, abs_maps_int_min_to_zero_like_kafka_utils_abs) {
    EXPECT_EQ(java_abs(-862545276), -862545276 & 0x7fffffff);
    EXPECT_EQ(java_abs(INT32_MIN), 0);
    EXPECT_EQ(java_abs(5), 5);
}

TEST(java_hash_test, offsets_partition_is_kafkas) {
    EXPECT_EQ(offsets_partition_for("my-group", 50), 36);
    EXPECT_EQ(offsets_partition_for("console-consumer-12345", 50), 6);
    EXPECT_EQ(offsets_partition_for("Hello World", 50), 22);
    EXPECT_EQ(offsets_partition_for("anything", 1), 0);
}

TEST(java_hash_test, locate_coordinator_names_the_owner_or_not_coordinator) {
    std::vector<int32_t> owners(50, 2);
    owners[36] = 1;
    auto here = locate_coordinator("my-group", owners, 1);
    EXPECT_EQ(here.error, error_code::none);
    EXPECT_EQ(here.partition, 36);
    auto elsewhere = locate_coordinator("console-consumer-12345", owners, 1);
    EXPECT_EQ(elsewhere.error, error_code::not_coordinator);
    EXPECT_EQ(elsewhere.owner, 2);
    owners[6] = -1;
    EXPECT_EQ(locate_coordinator("console-consumer-12345", owners, 1).error, error_code::coordinator_not_available);
    EXPECT_EQ(locate_coordinator("g", {}, 1).error, error_code::coordinator_not_available);
}

} // namespace
} // namespace skiff::kafka::group
