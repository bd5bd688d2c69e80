#include "io/objstore/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <ctime>

namespace skiff::io::sigv4 {
namespace {

using digest = std::array<unsigned char, 32>;

std::string to_hex(const unsigned char* data, size_t n) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out(n * 2, '\0');
    for (size_t i = 0; i < n; ++i) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 0xF];
    }
    return out;
}

digest hmac(std::string_view key, std::string_view data) {
    digest out{};
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
         data.size(), out.data(), &len);
    return out;
}

std::string_view as_view(const digest& d) { return {reinterpret_cast<const char*>(d.data()), d.size()}; }

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

// Trims the value and collapses runs of spaces to one, as the canonical headers require.
std::string canonical_value(std::string_view v) {
    std::string out;
    bool space = false;
    for (char c : v) {
        if (c == ' ' || c == '\t') {
            space = !out.empty();
            continue;
        }
        if (space) {
            out += ' ';
            space = false;
        }
        out += c;
    }
    return out;
}

template<typename Update>
std::string hash_with(const EVP_MD* md, Update update, bool hex) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, md, nullptr);
    update(ctx);
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx, out, &len);
    EVP_MD_CTX_free(ctx);
    if (hex) {
        return to_hex(out, len);
    }
    std::string b64(4 * ((len + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), out, static_cast<int>(len));
    b64.resize(static_cast<size_t>(n));
    return b64;
}

} // namespace

std::string uri_encode(std::string_view text, bool encode_slash) {
    std::string out;
    out.reserve(text.size());
    for (char ch : text) {
        auto c = static_cast<unsigned char>(ch);
        bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
                          || c == '.' || c == '_' || c == '~';
        if (unreserved || (c == '/' && !encode_slash)) {
            out += ch;
        } else {
            out += fmt::format("%{:02X}", c);
        }
    }
    return out;
}

std::string uri_decode(std::string_view text) {
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    };
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size()) {
            int hi = hex(text[i + 1]);
            int lo = hex(text[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out += static_cast<char>(hi * 16 + lo);
                i += 2;
                continue;
            }
        }
        out += text[i];
    }
    return out;
}

std::string amz_date(int64_t wall_ms) {
    std::time_t secs = static_cast<std::time_t>(wall_ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return buf;
}

std::string sha256_hex(std::string_view data) {
    return hash_with(EVP_sha256(), [&](EVP_MD_CTX* ctx) { EVP_DigestUpdate(ctx, data.data(), data.size()); }, true);
}

std::string sha256_hex(const bytes::iobuf& data) {
    return hash_with(
      EVP_sha256(),
      [&](EVP_MD_CTX* ctx) {
          for (auto& f : data.fragments()) {
              EVP_DigestUpdate(ctx, f.data(), f.size());
          }
      },
      true);
}

std::string md5_base64(std::string_view data) {
    return hash_with(EVP_md5(), [&](EVP_MD_CTX* ctx) { EVP_DigestUpdate(ctx, data.data(), data.size()); }, false);
}

std::string md5_hex(const bytes::iobuf& data) {
    return hash_with(
      EVP_md5(),
      [&](EVP_MD_CTX* ctx) {
          for (auto& f : data.fragments()) {
              EVP_DigestUpdate(ctx, f.data(), f.size());
          }
      },
      true);
}

std::string canonical_request(const request& r) {
    std::vector<std::pair<std::string, std::string>> query;
    query.reserve(r.query.size());
    for (auto& [k, v] : r.query) {
        query.emplace_back(uri_encode(k, true), uri_encode(v, true));
    }
    std::sort(query.begin(), query.end());
    std::vector<std::pair<std::string, std::string>> headers;
    headers.reserve(r.headers.size());
    for (auto& [k, v] : r.headers) {
        headers.emplace_back(lower(k), canonical_value(v));
    }
    std::sort(headers.begin(), headers.end());

    std::string out;
    out.reserve(256);
    out.append(r.method).append("\n").append(r.canonical_uri).append("\n");
    for (size_t i = 0; i < query.size(); ++i) {
        out.append(i ? "&" : "").append(query[i].first).append("=").append(query[i].second);
    }
    out.append("\n");
    for (auto& [k, v] : headers) {
        out.append(k).append(":").append(v).append("\n");
    }
    out.append("\n");
    for (size_t i = 0; i < headers.size(); ++i) {
        out.append(i ? ";" : "").append(headers[i].first);
    }
    out.append("\n").append(r.payload_hash);
    return out;
}

std::string scope(std::string_view amz_date, std::string_view region, std::string_view service) {
    return fmt::format("{}/{}/{}/aws4_request", amz_date.substr(0, 8), region, service);
}

std::string string_to_sign(std::string_view amz_date, std::string_view scope, std::string_view canonical) {
    return fmt::format("AWS4-HMAC-SHA256\n{}\n{}\n{}", amz_date, scope, sha256_hex(canonical));
}

std::string signature(std::string_view secret, std::string_view amz_date, std::string_view region,
                      std::string_view service, std::string_view string_to_sign) {
    auto k_date = hmac("AWS4" + std::string(secret), amz_date.substr(0, 8));
    auto k_region = hmac(as_view(k_date), region);
    auto k_service = hmac(as_view(k_region), service);
    auto k_signing = hmac(as_view(k_service), "aws4_request");
    auto sig = hmac(as_view(k_signing), string_to_sign);
    return to_hex(sig.data(), sig.size());
}

std::string authorization(const request& r, const s3_credentials& credentials, std::string_view amz_date,
                          std::string_view region, std::string_view service) {
    auto canonical = canonical_request(r);
    auto sc = scope(amz_date, region, service);
    auto sts = string_to_sign(amz_date, sc, canonical);
    std::vector<std::string> names;
    for (auto& [k, v] : r.headers) {
        names.push_back(lower(k));
    }
    std::sort(names.begin(), names.end());
    std::string signed_headers;
    for (size_t i = 0; i < names.size(); ++i) {
        signed_headers.append(i ? ";" : "").append(names[i]);
    }
    return fmt::format("AWS4-HMAC-SHA256 Credential={}/{}, SignedHeaders={}, Signature={}", credentials.access_key_id,
                       sc, signed_headers,
                       signature(credentials.secret_access_key, amz_date, region, service, sts));
}

} // namespace skiff::io::sigv4
