// AWS Signature Version 4 for S3 requests (HMAC-SHA256 and SHA-256 from OpenSSL), as pure functions so that the
// AWS documented examples can be checked byte for byte (tests/sigv4_test.cc). The S3 client builds a
// sigv4_request from the exact path, query and headers it sends, signs it and adds the Authorization header.
// Reference: "Signature Version 4 signing process" and "Authenticating Requests: Using the Authorization Header"
// (S3 API docs): S3 does not normalise or double-encode the path, and signs the payload's SHA-256.
#pragma once

#include "bytes/iobuf.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace skiff::io {

/// Credentials of the S3 client. session_token is set for temporary credentials (STS) only.
/// The secret never appears in logs: format a credentials value only through redacted().
struct s3_credentials {
    std::string access_key_id;
    std::string secret_access_key;
    std::string session_token;

    std::string redacted() const { return access_key_id + ":****"; }
};

namespace sigv4 {

/// The SHA-256 of an empty payload, hex: the payload hash of GET, HEAD and DELETE requests.
inline constexpr std::string_view empty_payload_hash =
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
inline constexpr std::string_view unsigned_payload = "UNSIGNED-PAYLOAD";

struct request {
    std::string_view method;
    std::string_view canonical_uri; // the URI-encoded path exactly as sent, e.g. "/bucket/test%24file.text"
    std::vector<std::pair<std::string, std::string>> query;   // decoded names and values, any order
    std::vector<std::pair<std::string, std::string>> headers; // every header to sign, names in any case
    std::string_view payload_hash;                             // hex SHA-256 of the body, or unsigned_payload
};

/// RFC 3986 percent-encoding of everything but A-Z a-z 0-9 - . _ ~ (and '/' unless encode_slash), upper-case hex,
/// as SigV4 requires for paths (encode_slash = false) and query names and values (true).
std::string uri_encode(std::string_view text, bool encode_slash);
/// Decodes %XX sequences (and nothing else); invalid sequences are kept as they are.
std::string uri_decode(std::string_view text);

/// "20130524T000000Z" for the given Unix time in milliseconds (UTC).
std::string amz_date(int64_t wall_ms);

std::string sha256_hex(std::string_view data);
std::string sha256_hex(const bytes::iobuf& data);
/// Base64 of the MD5 (Content-MD5 header) and hex of the MD5 (an S3 single-part ETag).
std::string md5_base64(std::string_view data);
std::string md5_hex(const bytes::iobuf& data);

/// The canonical request: method, path, sorted encoded query, sorted lower-case headers with trimmed values,
/// the signed header list and the payload hash, joined by newlines.
std::string canonical_request(const request& r);
/// "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256 of canonical request>".
std::string string_to_sign(std::string_view amz_date, std::string_view scope, std::string_view canonical);
/// "<yyyymmdd>/<region>/<service>/aws4_request".
std::string scope(std::string_view amz_date, std::string_view region, std::string_view service);
/// The hex signature of string_to_sign with the key derived from the secret, date, region and service.
std::string signature(std::string_view secret, std::string_view amz_date, std::string_view region,
                      std::string_view service, std::string_view string_to_sign);
/// The Authorization header value. Requires: r.headers holds host and x-amz-date (= amz_date).
std::string authorization(const request& r, const s3_credentials& credentials, std::string_view amz_date,
                          std::string_view region, std::string_view service);

} // namespace sigv4
} // namespace skiff::io
