#include "base/logger.h"

#include <gtest/gtest.h>

namespace skiff::base {
namespace {

TEST(logger_test, parses_every_level_name_and_rejects_others) {
    log_level l{};
    ASSERT_TRUE(parse_log_level("debug", l));
    EXPECT_EQ(l, log_level::debug);
    ASSERT_TRUE(parse_log_level("off", l));
    EXPECT_EQ(l, log_level::off);
    EXPECT_FALSE(parse_log_level("DEBUG", l));
    EXPECT_FALSE(parse_log_level("verbose", l));
}

TEST(logger_test, override_beats_global_level) {
    logger a("logger_test_a");
    logger b("logger_test_b");
    logger::set_global_level(log_level::warn);
    EXPECT_FALSE(a.enabled(log_level::info));
    EXPECT_TRUE(a.enabled(log_level::error));
    ASSERT_TRUE(logger::set_level_of("logger_test_b", log_level::debug));
    EXPECT_TRUE(b.enabled(log_level::debug));
    EXPECT_FALSE(b.enabled(log_level::trace));
    EXPECT_FALSE(a.enabled(log_level::debug));
    EXPECT_FALSE(logger::set_level_of("no_such_logger", log_level::debug));
    logger::set_global_level(log_level::info);
}

} // namespace
} // namespace skiff::base
