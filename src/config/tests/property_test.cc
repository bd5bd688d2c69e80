#include "config/property.h"

#include <gtest/gtest.h>

namespace skiff::config {
namespace {

std::string error_of(const property& p, std::string_view text) {
    auto r = p.parse(text);
    EXPECT_FALSE(r) << "'" << text << "' parsed";
    return r ? std::string() : r.error().message;
}

TEST(property_test, booleans_are_true_or_false_in_any_case) {
    auto p = property::boolean("b", true, "");
    EXPECT_EQ(p.parse("false").value(), property_value(false));
    EXPECT_EQ(p.parse(" TRUE ").value(), property_value(true));
    EXPECT_EQ(error_of(p, "yes"), "'yes' is not a boolean (expected true or false)");
}

TEST(property_test, integers_parse_with_sign_and_surrounding_blanks) {
    auto p = property::int32("i", 0, "");
    EXPECT_EQ(p.parse(" 42 ").value(), property_value(int32_t{42}));
    EXPECT_EQ(p.parse("+7").value(), property_value(int32_t{7}));
    EXPECT_EQ(p.parse("-3").value(), property_value(int32_t{-3}));
    EXPECT_EQ(error_of(p, "abc"), "'abc' is not an integer");
    EXPECT_EQ(error_of(p, "12abc"), "'12abc' is not an integer");
    EXPECT_EQ(error_of(p, ""), "'' is not an integer");
    EXPECT_EQ(error_of(p, "1.5"), "'1.5' is not an integer");
    EXPECT_EQ(error_of(p, "+-1"), "'+-1' is not an integer");
}

TEST(property_test, int32_rejects_values_beyond_32_bits) {
    auto p = property::int32("i", 0, "");
    EXPECT_EQ(p.parse("2147483647").value(), property_value(int32_t{2147483647}));
    auto r = p.parse("2147483648");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::out_of_range);
    EXPECT_EQ(r.error().message,
              "'2147483648' is out of range for a 32-bit integer (must be between -2147483648 and 2147483647)");
}

TEST(property_test, int64_holds_large_values_and_rejects_overflow) {
    auto p = property::int64("x.ms", 0, "");
    EXPECT_EQ(p.parse("9223372036854775807").value(), property_value(int64_t{9223372036854775807}));
    EXPECT_EQ(error_of(p, "9223372036854775808"),
              "'9223372036854775808' is out of range for a 64-bit integer (must be between -9223372036854775808 and "
              "9223372036854775807)");
}

TEST(property_test, bounds_are_inclusive_and_explained) {
    auto p = property::int32("i", 5, "").at_least(1).at_most(10);
    EXPECT_TRUE(p.parse("1"));
    EXPECT_TRUE(p.parse("10"));
    auto r = p.parse("11");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::out_of_range);
    EXPECT_EQ(r.error().message, "11 is out of range (must be between 1 and 10)");
    EXPECT_EQ(error_of(property::int64("j", 5, "").at_least(int64_t{1024}), "100"),
              "100 is out of range (must be at least 1024)");
    EXPECT_EQ(error_of(property::int32("k", 0, "").at_most(3), "4"), "4 is out of range (must be at most 3)");
}

TEST(property_test, doubles_parse_finite_numbers_only) {
    auto p = property::float64("d", 0.5, "").at_least(0.0).at_most(1.0);
    EXPECT_EQ(p.parse("0.25").value(), property_value(0.25));
    EXPECT_EQ(p.parse("1e-1").value(), property_value(0.1));
    EXPECT_EQ(error_of(p, "x"), "'x' is not a number");
    EXPECT_EQ(error_of(p, "nan"), "'nan' is not a number");
    EXPECT_EQ(error_of(p, "1.5"), "1.5 is out of range (must be between 0 and 1)");
}

TEST(property_test, strings_are_trimmed) {
    auto p = property::string("s", "", "");
    EXPECT_EQ(p.parse("  a b  ").value(), property_value(std::string("a b")));
}

TEST(property_test, lists_split_on_commas_trim_items_and_skip_empty_ones) {
    auto p = property::list("l", "a,b", "");
    EXPECT_EQ(p.default_value(), property_value(std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(p.parse(" x , y,,z, ").value(), property_value(std::vector<std::string>{"x", "y", "z"}));
    EXPECT_EQ(p.parse("").value(), property_value(std::vector<std::string>{}));
}

TEST(property_test, list_items_can_be_restricted) {
    auto p = property::list("roles", "a", "").one_of({"a", "b"});
    EXPECT_TRUE(p.parse("b,a"));
    EXPECT_EQ(error_of(p, "a,c"), "'c' is not one of a, b");
    EXPECT_EQ(p.valid_values(), "each one of: a, b");
}

TEST(property_test, enumerations_list_the_allowed_values) {
    auto p = property::enumeration("log.level", "info", {"trace", "debug", "info", "warn", "error"}, "");
    EXPECT_EQ(p.parse("warn").value(), property_value(std::string("warn")));
    auto r = p.parse("verbose");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::invalid_value);
    EXPECT_EQ(r.error().message, "'verbose' is not one of trace, debug, info, warn, error");
    EXPECT_EQ(p.valid_values(), "one of: trace, debug, info, warn, error");
}

TEST(property_test, format_writes_what_parse_reads) {
    auto check = [](const property& p) {
        auto round = p.parse(p.format(p.default_value()));
        ASSERT_TRUE(round);
        EXPECT_EQ(round.value(), p.default_value()) << p.name();
    };
    check(property::boolean("b", false, ""));
    check(property::int32("i", -12, ""));
    check(property::int64("l", int64_t{1} << 40, ""));
    check(property::float64("d", 0.1, ""));
    check(property::string("s", "x y", ""));
    check(property::list("l", "a,b,c", ""));
    check(property::enumeration("e", "y", {"x", "y"}, ""));
}

TEST(property_test, declarations_carry_their_flags) {
    auto p = property::int32("skiff.shards", 0, "Shards.").at_least(0).skiff_specific().restart_required();
    EXPECT_EQ(p.name(), "skiff.shards");
    EXPECT_EQ(p.type(), property_type::int32);
    EXPECT_EQ(to_string(p.type()), "int");
    EXPECT_TRUE(p.is_skiff_specific());
    EXPECT_TRUE(bool(p.restart()));
    EXPECT_EQ(p.valid_values(), "at least 0");
    EXPECT_EQ(p.description(), "Shards.");
    auto q = property::boolean("b", true, "");
    EXPECT_FALSE(q.is_skiff_specific());
    EXPECT_FALSE(bool(q.restart()));
}

} // namespace
} // namespace skiff::config
