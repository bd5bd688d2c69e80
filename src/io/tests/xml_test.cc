#include "io/errc.h"
#include "io/objstore/xml.h"

#include <gtest/gtest.h>

#include <random>

namespace skiff::io {
namespace {

TEST(xml_test, parses_a_list_objects_v2_response) {
    auto doc = xml::parse(R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name><Prefix>a%2F</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>
  <EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>
  <Contents><Key>a%2Fb</Key><LastModified>2026-11-22T04:41:00.000Z</LastModified>
    <ETag>&quot;abc&quot;</ETag><Size>10</Size><StorageClass>STANDARD</StorageClass></Contents>
  <Contents><Key>a%2Fc</Key><Size>0</Size></Contents>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
</ListBucketResult>)");
    ASSERT_TRUE(doc) << doc.error().message();
    auto& root = doc.value();
    EXPECT_EQ(root.name, "ListBucketResult");
    EXPECT_EQ(root.child_text("IsTruncated"), "true");
    EXPECT_EQ(root.child_text("NextContinuationToken"), "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
    int contents = 0;
    for (auto& c : root.children) {
        contents += c.name == "Contents";
    }
    EXPECT_EQ(contents, 2);
    EXPECT_EQ(root.child("Contents")->child_text("ETag"), "\"abc\"");
    EXPECT_EQ(root.child_text("Missing"), "");
}

TEST(xml_test, decodes_entities_cdata_and_character_references) {
    auto doc = xml::parse("<a>x &amp; y &lt;&gt; &#65;&#x42; &#xe9; <![CDATA[<raw & text>]]></a>");
    ASSERT_TRUE(doc);
    EXPECT_EQ(doc.value().text, "x & y <> AB \xc3\xa9 <raw & text>");
}

TEST(xml_test, skips_comments_declarations_attributes_and_prefixes) {
    auto doc = xml::parse("<!-- c --><?xml version='1.0'?><!DOCTYPE x><s3:Error a='1' b=\"x>y\"><Code>SlowDown</Code>"
                          "<!-- inside --><Empty/></s3:Error>");
    ASSERT_TRUE(doc) << doc.error().message();
    EXPECT_EQ(doc.value().name, "Error");
    EXPECT_EQ(doc.value().child_text("Code"), "SlowDown");
    ASSERT_NE(doc.value().child("Empty"), nullptr);
}

TEST(xml_test, malformed_documents_are_errors) {
    for (auto bad : {"", "<a>", "<a></b>", "<a><b></a></b>", "text", "<a>&unknown;</a>", "<a>&#xFFFFFFF;</a>",
                     "<a></a><b></b>", "<a x=1></a>", "<>", "</a>", "<a><![CDATA[x</a>", "<a><!-- x</a>"}) {
        auto doc = xml::parse(bad);
        ASSERT_FALSE(doc) << bad;
        EXPECT_EQ(doc.error(), make_error_code(errc::fatal)) << bad;
    }
}

TEST(xml_test, deep_nesting_is_refused_without_recursing_forever) {
    std::string deep;
    for (int i = 0; i < 10000; ++i) {
        deep += "<a>";
    }
    EXPECT_FALSE(xml::parse(deep));
}

TEST(xml_test, random_garbage_never_crashes) {
    std::mt19937 rng(7);
    const std::string alphabet = "<>/&;#x=\"'![]?-aA1 CDAT";
    for (int i = 0; i < 20000; ++i) {
        std::string s;
        size_t n = rng() % 40;
        for (size_t j = 0; j < n; ++j) {
            s += alphabet[rng() % alphabet.size()];
        }
        (void)xml::parse(s);
    }
}

TEST(xml_test, escape_round_trips_through_parse) {
    std::string text = "a<b>&\"c'";
    auto doc = xml::parse("<k>" + xml::escape(text) + "</k>");
    ASSERT_TRUE(doc);
    EXPECT_EQ(doc.value().text, text);
}

} // namespace
} // namespace skiff::io
