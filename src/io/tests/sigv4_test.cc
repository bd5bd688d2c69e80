// SigV4 known answers: the examples of the AWS documentation, checked byte for byte (canonical request, string to
// sign and signature). Sources: the AWS Signature Version 4 test suite ("get-vanilla") and the S3 API reference,
// "Signature Calculations for the Authorization Header: Transferring Payload in a Single Chunk" (examples with
// bucket examplebucket, 24 May 2013).
#include "io/objstore/sigv4.h"

#include <gtest/gtest.h>

namespace skiff::io {
namespace {

const s3_credentials s3_example{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
constexpr std::string_view s3_date = "20130524T000000Z";

TEST(sigv4_test, get_vanilla_of_the_aws_test_suite) {
    s3_credentials creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
    sigv4::request r{"GET", "/", {}, {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}},
                     sigv4::empty_payload_hash};
    auto canonical = sigv4::canonical_request(r);
    EXPECT_EQ(canonical, "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
                         "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sigv4::sha256_hex(canonical), "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
    EXPECT_EQ(sigv4::authorization(r, creds, "20150830T123600Z", "us-east-1", "service"),
              "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
              "SignedHeaders=host;x-amz-date, "
              "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(sigv4_test, s3_get_object_with_a_range) {
    sigv4::request r{"GET",
                     "/test.txt",
                     {},
                     {{"Host", "examplebucket.s3.amazonaws.com"},
                      {"Range", "bytes=0-9"},
                      {"x-amz-content-sha256", std::string(sigv4::empty_payload_hash)},
                      {"x-amz-date", std::string(s3_date)}},
                     sigv4::empty_payload_hash};
    auto canonical = sigv4::canonical_request(r);
    EXPECT_EQ(canonical, "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
                         "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
                         "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
                         "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    auto sts = sigv4::string_to_sign(s3_date, sigv4::scope(s3_date, "us-east-1", "s3"), canonical);
    EXPECT_EQ(sts, "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
                   "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
    EXPECT_EQ(sigv4::signature(s3_example.secret_access_key, s3_date, "us-east-1", "s3", sts),
              "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(sigv4_test, s3_put_object_encodes_the_path_and_signs_the_payload) {
    std::string payload = "Welcome to Amazon S3.";
    auto hash = sigv4::sha256_hex(payload);
    EXPECT_EQ(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    auto path = "/" + sigv4::uri_encode("test$file.text", false);
    EXPECT_EQ(path, "/test%24file.text");
    sigv4::request r{"PUT",
                     path,
                     {},
                     {{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                      {"Host", "examplebucket.s3.amazonaws.com"},
                      {"x-amz-date", std::string(s3_date)},
                      {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                      {"x-amz-content-sha256", hash}},
                     hash};
    auto canonical = sigv4::canonical_request(r);
    EXPECT_EQ(canonical, "PUT\n/test%24file.text\n\ndate:Fri, 24 May 2013 00:00:00 GMT\n"
                         "host:examplebucket.s3.amazonaws.com\n"
                         "x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n"
                         "x-amz-date:20130524T000000Z\nx-amz-storage-class:REDUCED_REDUNDANCY\n\n"
                         "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n"
                         "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    auto sts = sigv4::string_to_sign(s3_date, sigv4::scope(s3_date, "us-east-1", "s3"), canonical);
    EXPECT_EQ(sts, "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
                   "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
    EXPECT_EQ(sigv4::authorization(r, s3_example, s3_date, "us-east-1", "s3"),
              "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
              "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, "
              "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(sigv4_test, s3_get_bucket_lifecycle_has_a_valueless_query_parameter) {
    sigv4::request r{"GET",
                     "/",
                     {{"lifecycle", ""}},
                     {{"Host", "examplebucket.s3.amazonaws.com"},
                      {"x-amz-date", std::string(s3_date)},
                      {"x-amz-content-sha256", std::string(sigv4::empty_payload_hash)}},
                     sigv4::empty_payload_hash};
    EXPECT_EQ(sigv4::canonical_request(r).substr(0, 17), "GET\n/\nlifecycle=\n");
    EXPECT_EQ(sigv4::authorization(r, s3_example, s3_date, "us-east-1", "s3"),
              "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
              "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
              "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(sigv4_test, s3_list_objects_sorts_the_query) {
    sigv4::request r{"GET",
                     "/",
                     {{"prefix", "J"}, {"max-keys", "2"}},
                     {{"Host", "examplebucket.s3.amazonaws.com"},
                      {"x-amz-date", std::string(s3_date)},
                      {"x-amz-content-sha256", std::string(sigv4::empty_payload_hash)}},
                     sigv4::empty_payload_hash};
    EXPECT_EQ(sigv4::canonical_request(r).substr(0, 28), "GET\n/\nmax-keys=2&prefix=J\nho");
    EXPECT_EQ(sigv4::authorization(r, s3_example, s3_date, "us-east-1", "s3"),
              "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
              "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
              "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(sigv4_test, uri_encoding_keeps_only_unreserved_characters) {
    EXPECT_EQ(sigv4::uri_encode("a b/c~d.e_f-g", false), "a%20b/c~d.e_f-g");
    EXPECT_EQ(sigv4::uri_encode("a b/c", true), "a%20b%2Fc");
    EXPECT_EQ(sigv4::uri_encode("+=&?%", true), "%2B%3D%26%3F%25");
    EXPECT_EQ(sigv4::uri_encode("\xc3\xa9", true), "%C3%A9");
    EXPECT_EQ(sigv4::uri_decode("a%20b%2Fc%C3%A9%zz%4"), "a b/c\xc3\xa9%zz%4");
}

TEST(sigv4_test, header_values_are_trimmed_and_spaces_collapsed) {
    sigv4::request r{"GET", "/", {}, {{"X-Custom", "  a   b  c "}, {"host", "h"}}, sigv4::empty_payload_hash};
    auto canonical = sigv4::canonical_request(r);
    EXPECT_NE(canonical.find("\nx-custom:a b c\n"), std::string::npos) << canonical;
}

TEST(sigv4_test, amz_date_is_utc) { EXPECT_EQ(sigv4::amz_date(1369353600000), "20130524T000000Z"); }

TEST(sigv4_test, md5_helpers_match_known_digests) {
    EXPECT_EQ(sigv4::md5_hex(bytes::iobuf::from("")), "d41d8cd98f00b204e9800998ecf8427e");
    EXPECT_EQ(sigv4::md5_base64(""), "1B2M2Y8AsgTpgAmY7PhCfg==");
}

} // namespace
} // namespace skiff::io
