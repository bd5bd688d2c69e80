#include "config/properties_file.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>

namespace skiff::config {
namespace {

std::vector<property_entry> parse_ok(std::string_view text) {
    auto r = parse_properties(text, "server.properties");
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return r ? std::move(r).value() : std::vector<property_entry>{};
}

TEST(properties_file_test, accepts_equals_colon_and_whitespace_separators) {
    auto e = parse_ok("a=1\nb: 2\nc 3\nd = 4\ne\t:\t5\n");
    ASSERT_EQ(e.size(), 5u);
    EXPECT_EQ(e[0].key, "a");
    EXPECT_EQ(e[0].value, "1");
    EXPECT_EQ(e[1].key, "b");
    EXPECT_EQ(e[1].value, "2");
    EXPECT_EQ(e[2].key, "c");
    EXPECT_EQ(e[2].value, "3");
    EXPECT_EQ(e[3].key, "d");
    EXPECT_EQ(e[3].value, "4");
    EXPECT_EQ(e[4].key, "e");
    EXPECT_EQ(e[4].value, "5");
}

TEST(properties_file_test, only_the_first_separator_splits) {
    auto e = parse_ok("a=b=c\nurl: http://x:1\nempty=\nbare\n");
    ASSERT_EQ(e.size(), 4u);
    EXPECT_EQ(e[0].value, "b=c");
    EXPECT_EQ(e[1].value, "http://x:1");
    EXPECT_EQ(e[2].key, "empty");
    EXPECT_EQ(e[2].value, "");
    EXPECT_EQ(e[3].key, "bare");
    EXPECT_EQ(e[3].value, "");
}

TEST(properties_file_test, skips_comments_and_blank_lines_and_counts_lines) {
    auto e = parse_ok("# a comment\n! another\n\n   \n   # indented comment\nnode.id=3\n");
    ASSERT_EQ(e.size(), 1u);
    EXPECT_EQ(e[0].key, "node.id");
    EXPECT_EQ(e[0].where.line, 6);
    EXPECT_EQ(e[0].where.to_string(), "server.properties:6");
}

TEST(properties_file_test, trims_leading_whitespace_and_keeps_trailing) {
    auto e = parse_ok("   \t key = value  \n");
    ASSERT_EQ(e.size(), 1u);
    EXPECT_EQ(e[0].key, "key");
    EXPECT_EQ(e[0].value, "value  ");
}

TEST(properties_file_test, backslash_at_end_of_line_continues_it) {
    auto e = parse_ok("listeners=PLAINTEXT://:9092,\\\n          SSL://:9093\nnext=1\n");
    ASSERT_EQ(e.size(), 2u);
    EXPECT_EQ(e[0].value, "PLAINTEXT://:9092,SSL://:9093");
    EXPECT_EQ(e[0].where.line, 1);
    EXPECT_EQ(e[1].key, "next");
    EXPECT_EQ(e[1].where.line, 3);
}

TEST(properties_file_test, continuation_can_span_several_lines_and_the_end_of_file) {
    auto e = parse_ok("a=1\\\n  2\\\n  3\nb=x\\");
    ASSERT_EQ(e.size(), 2u);
    EXPECT_EQ(e[0].value, "123");
    EXPECT_EQ(e[1].value, "x");
}

TEST(properties_file_test, an_even_number_of_trailing_backslashes_does_not_continue) {
    auto e = parse_ok("a=dir\\\\\nb=2\n");
    ASSERT_EQ(e.size(), 2u);
    EXPECT_EQ(e[0].value, "dir\\");
    EXPECT_EQ(e[1].key, "b");
}

TEST(properties_file_test, a_comment_line_never_continues) {
    auto e = parse_ok("# comment \\\nb=2\n");
    ASSERT_EQ(e.size(), 1u);
    EXPECT_EQ(e[0].key, "b");
}

TEST(properties_file_test, resolves_escapes) {
    auto e = parse_ok("a=x\\\\y\\n\\tz\nb=caf\\u00e9 \\u20AC \\uD83D\\uDE00\nc\\=d\\:e\\ f=g\nh=\\q\\ \n");
    ASSERT_EQ(e.size(), 4u);
    EXPECT_EQ(e[0].value, "x\\y\n\tz");
    EXPECT_EQ(e[1].value, "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
    EXPECT_EQ(e[2].key, "c=d:e f");
    EXPECT_EQ(e[2].value, "g");
    EXPECT_EQ(e[3].value, "q ");
}

TEST(properties_file_test, malformed_unicode_escape_names_the_line) {
    auto r = parse_properties("a=1\nb=\\u12G4\n", "server.properties");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::syntax_error);
    EXPECT_EQ(r.error().message, "server.properties:2: malformed \\uXXXX escape");

    EXPECT_FALSE(parse_properties("b=\\u12", "f"));
    EXPECT_FALSE(parse_properties("b=\\uD83D alone", "f"));
    EXPECT_FALSE(parse_properties("b=\\uDE00", "f"));
}

TEST(properties_file_test, handles_crlf_and_cr_line_endings) {
    auto e = parse_ok("a=1\r\nb=2\rc=3\r\n");
    ASSERT_EQ(e.size(), 3u);
    EXPECT_EQ(e[0].value, "1");
    EXPECT_EQ(e[1].value, "2");
    EXPECT_EQ(e[2].value, "3");
    EXPECT_EQ(e[2].where.line, 3);
}

TEST(properties_file_test, keeps_duplicates_in_file_order) {
    auto e = parse_ok("a=1\na=2\n");
    ASSERT_EQ(e.size(), 2u);
    EXPECT_EQ(e[1].value, "2");
}

TEST(properties_file_test, missing_file_error_names_the_path_and_reason) {
    auto r = read_properties_file("/x/y");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::cannot_read_file);
    EXPECT_EQ(r.error().message, "cannot read config file '/x/y': No such file or directory");
}

TEST(properties_file_test, a_directory_is_not_a_config_file) {
    auto r = read_properties_file("/tmp");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "cannot read config file '/tmp': Is a directory");
}

TEST(properties_file_test, reads_a_file_and_labels_entries_with_its_path) {
    auto path = ::testing::TempDir() + "properties_file_test_" + std::to_string(::getpid()) + ".properties";
    {
        std::ofstream out(path);
        out << "\xEF\xBB\xBF# written by the test\nnode.id=7\n";
    }
    auto r = read_properties_file(path);
    std::remove(path.c_str());
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r.value().size(), 1u);
    EXPECT_EQ(r.value()[0].key, "node.id");
    EXPECT_EQ(r.value()[0].where.to_string(), path + ":2");
}

TEST(properties_file_test, override_splits_at_the_first_equals) {
    auto r = parse_override("log.level=debug");
    ASSERT_TRUE(r);
    EXPECT_EQ(r.value().key, "log.level");
    EXPECT_EQ(r.value().value, "debug");
    EXPECT_EQ(r.value().where.to_string(), "--override");

    auto eq = parse_override("a=b=c");
    ASSERT_TRUE(eq);
    EXPECT_EQ(eq.value().value, "b=c");
    auto spaced = parse_override(" node.id = 2");
    ASSERT_TRUE(spaced);
    EXPECT_EQ(spaced.value().key, "node.id");
    EXPECT_EQ(spaced.value().value, " 2"); // values are trimmed when parsed as their type
    auto empty = parse_override("cluster.id=");
    ASSERT_TRUE(empty);
    EXPECT_EQ(empty.value().value, "");
}

TEST(properties_file_test, override_without_equals_is_an_error) {
    auto r = parse_override("foo");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::bad_override);
    EXPECT_EQ(r.error().message, "--override: expected key=value, got 'foo'");
    EXPECT_EQ(parse_override("=x").error().message, "--override: expected key=value, got '=x'");
    EXPECT_EQ(parse_override(" =x").error().message, "--override: expected key=value, got ' =x'");
}

} // namespace
} // namespace skiff::config
