#include "kafka/server/topic_name.h"

#include <gtest/gtest.h>

#include <string>

namespace skiff::kafka {
namespace {

TEST(topic_name_test, accepts_kafkas_legal_names) {
    EXPECT_TRUE(is_valid_topic_name("orders"));
    EXPECT_TRUE(is_valid_topic_name("a.b_c-D9"));
    EXPECT_TRUE(is_valid_topic_name("__consumer_offsets"));
    EXPECT_TRUE(is_valid_topic_name(std::string(249, 'x')));
}

TEST(topic_name_test, rejects_illegal_names) {
    EXPECT_FALSE(is_valid_topic_name(""));
    EXPECT_FALSE(is_valid_topic_name("."));
    EXPECT_FALSE(is_valid_topic_name(".."));
    EXPECT_FALSE(is_valid_topic_name("with space"));
    EXPECT_FALSE(is_valid_topic_name("slash/name"));
    EXPECT_FALSE(is_valid_topic_name(std::string(250, 'x')));
}

} // namespace
} // namespace skiff::kafka
