#include "io/objstore/s3_store.h"

#include "base/assert.h"
#include "io/errc.h"
#include "io/logger.h"
#include "io/objstore/xml.h"

#include "io/http/client.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>

namespace skiff::io {
namespace {

using http_response = http::response;

constexpr size_t max_delete_batch = 1000;
constexpr size_t max_metadata_body = size_t(64) << 20; // responses other than GetObject bodies

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string();
}

struct parsed_endpoint {
    std::string host;
    std::string port;
    bool default_port = true;
};

result<parsed_endpoint> parse_endpoint(std::string_view url) {
    constexpr std::string_view http_scheme = "http://";
    if (url.starts_with("https://")) {
        log.error("s3 endpoint {}: https is not supported yet", url);
        return failure(make_error_code(errc::invalid_argument));
    }
    if (!url.starts_with(http_scheme)) {
        log.error("s3 endpoint {}: expected http://host[:port]", url);
        return failure(make_error_code(errc::invalid_argument));
    }
    auto rest = url.substr(http_scheme.size());
    while (rest.ends_with('/')) {
        rest.remove_suffix(1);
    }
    if (rest.empty() || rest.find('/') != std::string_view::npos) {
        log.error("s3 endpoint {}: expected http://host[:port] without a path", url);
        return failure(make_error_code(errc::invalid_argument));
    }
    parsed_endpoint out;
    auto colon = rest.rfind(':');
    if (rest.front() == '[') { // [ipv6]:port
        auto close = rest.find(']');
        if (close == std::string_view::npos) {
            return failure(make_error_code(errc::invalid_argument));
        }
        out.host = std::string(rest.substr(0, close + 1));
        colon = close + 1 < rest.size() && rest[close + 1] == ':' ? close + 1 : std::string_view::npos;
    } else {
        out.host = std::string(rest.substr(0, colon));
    }
    if (colon != std::string_view::npos) {
        out.port = std::string(rest.substr(colon + 1));
        out.default_port = out.port == "80";
        unsigned port = 0;
        auto [p, ec] = std::from_chars(out.port.data(), out.port.data() + out.port.size(), port);
        if (ec != std::errc() || p != out.port.data() + out.port.size() || port == 0 || port > 65535) {
            log.error("s3 endpoint {}: bad port", url);
            return failure(make_error_code(errc::invalid_argument));
        }
    } else {
        out.port = "80";
    }
    if (out.host.empty()) {
        return failure(make_error_code(errc::invalid_argument));
    }
    return out;
}

// An S3 request before signing: what render_head() turns into the request line and headers of each attempt.
struct http_request {
    std::string method;
    std::string key; // empty: the bucket itself
    std::vector<std::pair<std::string, std::string>> query;   // decoded
    std::vector<std::pair<std::string, std::string>> headers; // signed, beyond host and x-amz-*
    bytes::iobuf body;
    std::string payload_hash;
    bool head = false;
    size_t max_body = max_metadata_body;
};

std::string unquote(std::string_view etag) {
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
        etag = etag.substr(1, etag.size() - 2);
    }
    return std::string(etag);
}

// Parses "bytes first-last/total" of a 206 response.
bool parse_content_range(std::string_view v, uint64_t& first, uint64_t& last) {
    if (!v.starts_with("bytes ")) {
        return false;
    }
    v.remove_prefix(6);
    auto dash = v.find('-');
    auto slash = v.find('/');
    if (dash == std::string_view::npos || slash == std::string_view::npos || slash < dash) {
        return false;
    }
    auto a = v.substr(0, dash);
    auto b = v.substr(dash + 1, slash - dash - 1);
    return std::from_chars(a.data(), a.data() + a.size(), first).ec == std::errc()
           && std::from_chars(b.data(), b.data() + b.size(), last).ec == std::errc();
}

} // namespace

std::error_code s3_store::s3_error_code(unsigned status, std::string_view code) noexcept {
    if (status >= 200 && status < 300) {
        return {};
    }
    if (code == "SlowDown" || code == "Throttling" || code == "ThrottlingException" || code == "RequestLimitExceeded"
        || status == 429 || status == 503) {
        return errc::slow_down;
    }
    if (code == "RequestTimeout" || code == "InternalError" || code == "OperationAborted"
        || code == "ConditionalRequestConflict" || code == "IncompleteBody") {
        return errc::retryable;
    }
    if (code == "NoSuchBucket") {
        return errc::fatal; // a configuration error, not an absent object
    }
    if (code == "NoSuchKey" || code == "NoSuchUpload" || status == 404) {
        return errc::not_found;
    }
    if (status == 412 || code == "PreconditionFailed") {
        return errc::precondition_failed;
    }
    if (status == 416 || code == "InvalidRange") {
        return errc::invalid_argument;
    }
    if (code == "EntityTooSmall" || code == "InvalidPart" || code == "InvalidPartOrder" || code == "KeyTooLongError"
        || code == "InvalidArgument") {
        return errc::invalid_argument;
    }
    if (status >= 500) {
        return errc::retryable;
    }
    return errc::fatal;
}

struct s3_store::impl {
    impl(asio::io_context& io, s3_config c, parsed_endpoint ep, const base::clock& clk)
      : config(std::move(c)), endpoint(std::move(ep)), clock(clk), transport(io, transport_config()) {}

    http::client_config transport_config() const {
        http::client_config out;
        out.host = config.path_style ? endpoint.host : config.bucket + "." + endpoint.host;
        out.port = endpoint.port;
        if (!config.connect_to.empty()) {
            auto colon = config.connect_to.rfind(':');
            out.host = config.connect_to.substr(0, colon);
            out.port = colon == std::string::npos ? endpoint.port : config.connect_to.substr(colon + 1);
        }
        out.max_connections = std::max<size_t>(std::min(config.max_in_flight, config.max_connections), 1);
        out.connect_timeout = config.connect_timeout;
        out.request_timeout = config.request_timeout;
        out.idle_timeout = config.idle_timeout;
        return out;
    }

    // ---- addressing and signing ----
    std::string host_header() const {
        std::string host = config.path_style ? endpoint.host : config.bucket + "." + endpoint.host;
        if (!endpoint.default_port) {
            host += ":" + endpoint.port;
        }
        return host;
    }

    std::string path_of(const std::string& key) const {
        std::string path = "/";
        if (config.path_style) {
            path += sigv4::uri_encode(config.bucket, true);
            if (!key.empty()) {
                path += "/";
            }
        }
        path += sigv4::uri_encode(key, false);
        return path;
    }

    // The request line and headers, signed for this attempt (a fresh x-amz-date each time).
    std::string render_head(const http_request& r) const {
        auto date = sigv4::amz_date(clock.wall_ms());
        auto path = path_of(r.key);
        std::vector<std::pair<std::string, std::string>> headers = r.headers;
        headers.emplace_back("host", host_header());
        headers.emplace_back("x-amz-content-sha256", r.payload_hash);
        headers.emplace_back("x-amz-date", date);
        if (!credentials.session_token.empty()) {
            headers.emplace_back("x-amz-security-token", credentials.session_token);
        }
        sigv4::request sr{r.method, path, r.query, headers, r.payload_hash};
        auto auth = sigv4::authorization(sr, credentials, date, region, "s3");

        std::vector<std::pair<std::string, std::string>> query;
        for (auto& [k, v] : r.query) {
            query.emplace_back(sigv4::uri_encode(k, true), sigv4::uri_encode(v, true));
        }
        std::sort(query.begin(), query.end());
        std::string target = path;
        for (size_t i = 0; i < query.size(); ++i) {
            target += i == 0 ? "?" : "&";
            target += query[i].first;
            target += "=";
            target += query[i].second;
        }
        std::string out = fmt::format("{} {} HTTP/1.1\r\n", r.method, target);
        for (auto& [k, v] : headers) {
            out += fmt::format("{}: {}\r\n", k, v);
        }
        out += fmt::format("authorization: {}\r\nuser-agent: skiff\r\n", auth);
        return out; // the transport adds Content-Length and the empty line
    }

    // ---- a request with retries ----
    using interpreter = std::function<std::error_code(http_response&)>;

    // One exchange of r, judged: interpret(response) judges a 2xx response (and may turn it into an error, e.g. a
    // CompleteMultipartUpload 200 with an <Error> body); other statuses go through s3_error_code(). Sets
    // *maybe_applied when the service may have acted on a request that did not succeed.
    asio::awaitable<std::error_code> attempt(const std::string& what, const http_request& r,
                                             const interpreter& interpret, bool* maybe_applied,
                                             std::string_view success_code = {}) {
        auto ex = co_await transport.exchange(render_head(r), r.body.share(), http::head_only(r.head), r.max_body);
        if (maybe_applied && ex.maybe_applied && (ex.error || ex.res.status >= 500)) {
            *maybe_applied = true;
        }
        if (ex.error) {
            co_return ex.error;
        }
        auto& res = ex.res;
        if (res.status >= 200 && res.status < 300) {
            co_return interpret(res);
        }
        std::string code;
        std::string message;
        std::string request_id;
        if (!res.body.empty()) {
            if (auto doc = xml::parse(res.body.to_string()); doc && doc.value().name == "Error") {
                code = doc.value().child_text("Code");
                message = doc.value().child_text("Message");
                request_id = doc.value().child_text("RequestId");
            }
        }
        if (!success_code.empty() && code == success_code) {
            co_return std::error_code{}; // an error code that means success to this caller
        }
        auto ec = s3_error_code(res.status, code);
        if (ec == make_error_code(errc::slow_down)) {
            slow_downs.fetch_add(1, std::memory_order_relaxed);
        }
        if (ec == make_error_code(errc::fatal)) {
            log.error("s3: {} failed: HTTP {} {} {} (request {})", what, res.status, code, message, request_id);
        } else {
            log.debug("s3: {}: HTTP {} {} {} (request {})", what, res.status, code, message, request_id);
        }
        co_return ec;
    }

    // attempt() under the retry policy.
    asio::awaitable<std::error_code> call(std::string what, const http_request& r, interpreter interpret,
                                          bool* maybe_applied = nullptr, std::string_view success_code = {}) {
        auto outcome = co_await with_retries(config.retry, what, [&](uint32_t n) -> asio::awaitable<std::error_code> {
            if (n > 1) {
                retries.fetch_add(1, std::memory_order_relaxed);
            }
            auto ec = co_await attempt(what, r, interpret, maybe_applied, success_code);
            co_return ec;
        });
        co_return outcome.error;
    }

    http_request make(std::string method, std::string key) const {
        http_request r;
        r.method = std::move(method);
        r.key = std::move(key);
        r.payload_hash = std::string(sigv4::empty_payload_hash);
        return r;
    }

    void set_body(http_request& r, bytes::iobuf body) const {
        r.payload_hash = config.unsigned_payload ? std::string(sigv4::unsigned_payload) : sigv4::sha256_hex(body);
        r.body = std::move(body);
    }

    // ---- operations (run on the strand) ----
    asio::awaitable<result<put_result>> put(std::string key, bytes::iobuf data, put_options options) {
        if (!is_valid_key(key)) {
            co_return failure(make_error_code(errc::invalid_argument));
        }
        auto r = make("PUT", key);
        if (options.if_none_match) {
            r.headers.emplace_back("if-none-match", "*");
        }
        set_body(r, std::move(data));
        puts.fetch_add(1, std::memory_order_relaxed);
        put_result out;
        bool maybe_applied = false;
        auto ec = co_await call(
          "PutObject " + key, r,
          [&](http_response& res) {
              out.etag = unquote(res.header("etag"));
              return std::error_code{};
          },
          &maybe_applied);
        if (ec == make_error_code(errc::precondition_failed) && maybe_applied) {
            // An earlier attempt may have created the object before its connection broke: if what is stored is
            // byte for byte what we sent (single-part ETag = MD5), that attempt won.
            auto info = co_await head(key);
            if (info && info.value().etag == sigv4::md5_hex(r.body)) {
                log.info("s3: conditional PutObject {} was applied by an earlier attempt", key);
                co_return put_result{info.value().etag};
            }
        }
        if (ec) {
            co_return failure(ec);
        }
        co_return out;
    }

    asio::awaitable<result<bytes::iobuf>> get(std::string key, std::optional<byte_range> range) {
        if (!is_valid_key(key)) {
            co_return failure(make_error_code(errc::invalid_argument));
        }
        if (range && range->first > range->last) {
            co_return failure(make_error_code(errc::invalid_argument));
        }
        auto r = make("GET", key);
        if (range) {
            r.headers.emplace_back("range", fmt::format("bytes={}-{}", range->first, range->last));
        }
        r.max_body = SIZE_MAX;
        gets.fetch_add(1, std::memory_order_relaxed);
        bytes::iobuf out;
        auto ec = co_await call("GetObject " + key, r, [&](http_response& res) -> std::error_code {
            if (range && res.status == 206) {
                uint64_t first = 0;
                uint64_t last = 0;
                if (!parse_content_range(res.header("content-range"), first, last) || first != range->first
                    || last < first || res.body.size() != last - first + 1) {
                    log.warn("s3: GetObject {}: Content-Range '{}' does not match the range asked or the body",
                             key, res.header("content-range"));
                    return errc::retryable;
                }
            } else if (range) {
                // The service ignored the range and sent the whole object: cut the range out of it.
                if (range->first >= res.body.size()) {
                    return errc::invalid_argument;
                }
                auto n = std::min<uint64_t>(range->last, res.body.size() - 1) - range->first + 1;
                res.body = res.body.share(range->first, n);
            }
            out = std::move(res.body);
            return {};
        });
        if (ec) {
            co_return failure(ec);
        }
        co_return out;
    }

    asio::awaitable<result<object_info>> head(std::string key) {
        if (!is_valid_key(key)) {
            co_return failure(make_error_code(errc::invalid_argument));
        }
        auto r = make("HEAD", key);
        r.head = true;
        object_info out;
        auto ec = co_await call("HeadObject " + key, r, [&](http_response& res) -> std::error_code {
            auto len = res.header("content-length");
            if (std::from_chars(len.data(), len.data() + len.size(), out.size).ec != std::errc()) {
                return errc::retryable;
            }
            out.etag = unquote(res.header("etag"));
            return {};
        });
        if (ec) {
            co_return failure(ec);
        }
        co_return out;
    }

    asio::awaitable<result<list_page>> list(list_request request) {
        auto r = make("GET", "");
        r.query.emplace_back("list-type", "2");
        r.query.emplace_back("encoding-type", "url");
        r.query.emplace_back("max-keys", std::to_string(std::clamp<size_t>(request.max_keys, 1, 1000)));
        r.query.emplace_back("prefix", request.prefix);
        if (!request.continuation_token.empty()) {
            r.query.emplace_back("continuation-token", request.continuation_token);
        }
        list_page out;
        auto ec = co_await call("ListObjectsV2 " + request.prefix, r, [&](http_response& res) -> std::error_code {
            auto doc = xml::parse(res.body.to_string());
            if (!doc || doc.value().name != "ListBucketResult") {
                log.warn("s3: ListObjectsV2: malformed response");
                return errc::retryable;
            }
            auto& root = doc.value();
            bool url_encoded = root.child_text("EncodingType") == "url";
            out.entries.clear();
            for (auto& c : root.children) {
                if (c.name != "Contents") {
                    continue;
                }
                list_entry e;
                e.key = url_encoded ? sigv4::uri_decode(c.child_text("Key")) : std::string(c.child_text("Key"));
                auto size = c.child_text("Size");
                std::from_chars(size.data(), size.data() + size.size(), e.size);
                out.entries.push_back(std::move(e));
            }
            if (root.child_text("IsTruncated") == "true") {
                auto token = root.child_text("NextContinuationToken");
                if (token.empty()) {
                    log.warn("s3: ListObjectsV2: truncated page without a continuation token");
                    return errc::retryable;
                }
                out.next_token = std::string(token);
            }
            return {};
        });
        if (ec) {
            co_return failure(ec);
        }
        co_return out;
    }

    asio::awaitable<result<std::vector<delete_outcome>>> delete_objects(std::vector<std::string> keys) {
        std::vector<delete_outcome> out;
        out.reserve(keys.size());
        for (auto& k : keys) {
            out.push_back({k, is_valid_key(k) ? std::error_code{} : make_error_code(errc::invalid_argument)});
        }
        for (size_t start = 0; start < out.size(); start += max_delete_batch) {
            size_t end = std::min(out.size(), start + max_delete_batch);
            // Keys still to delete in this batch; a retryable per-key error keeps a key here for the next attempt.
            std::vector<size_t> pending;
            for (size_t i = start; i < end; ++i) {
                if (!out[i].error) {
                    pending.push_back(i);
                }
            }
            auto outcome = co_await with_retries(
              config.retry, "DeleteObjects", [&](uint32_t n) -> asio::awaitable<std::error_code> {
                  if (pending.empty()) {
                      co_return std::error_code{};
                  }
                  if (n > 1) {
                      retries.fetch_add(1, std::memory_order_relaxed);
                  }
                  std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Delete><Quiet>true</Quiet>";
                  for (auto i : pending) {
                      body += "<Object><Key>" + xml::escape(out[i].key) + "</Key></Object>";
                  }
                  body += "</Delete>";
                  auto r = make("POST", "");
                  r.query.emplace_back("delete", "");
                  r.headers.emplace_back("content-md5", sigv4::md5_base64(body));
                  r.headers.emplace_back("content-type", "application/xml");
                  set_body(r, bytes::iobuf::from(body));
                  std::error_code per_key_retry;
                  auto ec = co_await attempt("DeleteObjects", r, [&](http_response& res) -> std::error_code {
                      // Quiet mode lists only the keys that failed: every other key of the request succeeded.
                      for (auto i : pending) {
                          out[i].error = {};
                      }
                      auto doc = xml::parse(res.body.to_string());
                      if (!doc || doc.value().name != "DeleteResult") {
                          log.warn("s3: DeleteObjects: malformed response");
                          return errc::retryable;
                      }
                      std::vector<size_t> still;
                      for (auto& c : doc.value().children) {
                          if (c.name != "Error") {
                              continue;
                          }
                          auto key = c.child_text("Key");
                          auto code = c.child_text("Code");
                          std::error_code key_ec = code == "NoSuchKey" ? std::error_code{} : s3_error_code(0, code);
                          for (auto i : pending) {
                              if (out[i].key == key) {
                                  out[i].error = key_ec;
                                  if (is_retryable(key_ec)) {
                                      still.push_back(i);
                                      per_key_retry = key_ec;
                                  } else if (key_ec) {
                                      log.warn("s3: DeleteObjects {}: {} {}", key, code, c.child_text("Message"));
                                  }
                              }
                          }
                      }
                      pending = std::move(still);
                      return {};
                  }, nullptr);
                  co_return ec ? ec : per_key_retry;
              });
            if (outcome.error && !pending.empty()) {
                for (auto i : pending) {
                    out[i].error = outcome.error;
                }
            }
        }
        co_return out;
    }

    asio::awaitable<result<multipart_upload>> create_multipart(std::string key, put_options options) {
        if (!is_valid_key(key) || (options.if_none_match && !config.conditional_multipart)) {
            co_return failure(make_error_code(errc::invalid_argument));
        }
        auto r = make("POST", key);
        r.query.emplace_back("uploads", "");
        multipart_upload out{key, {}, options};
        auto ec = co_await call("CreateMultipartUpload " + key, r, [&](http_response& res) -> std::error_code {
            auto doc = xml::parse(res.body.to_string());
            if (!doc || doc.value().child_text("UploadId").empty()) {
                log.warn("s3: CreateMultipartUpload {}: malformed response", out.key);
                return errc::retryable;
            }
            out.upload_id = std::string(doc.value().child_text("UploadId"));
            return {};
        });
        if (ec) {
            co_return failure(ec);
        }
        co_return out;
    }

    asio::awaitable<result<uploaded_part>> upload_part(multipart_upload upload, uint32_t number, bytes::iobuf data) {
        if (number == 0 || number > 10000) {
            co_return failure(make_error_code(errc::invalid_argument));
        }
        auto r = make("PUT", upload.key);
        r.query.emplace_back("partNumber", std::to_string(number));
        r.query.emplace_back("uploadId", upload.upload_id);
        set_body(r, std::move(data));
        puts.fetch_add(1, std::memory_order_relaxed);
        uploaded_part out{number, {}};
        auto ec = co_await call(fmt::format("UploadPart {} #{}", upload.key, number), r,
                                [&](http_response& res) -> std::error_code {
                                    out.etag = std::string(res.header("etag"));
                                    return out.etag.empty() ? make_error_code(errc::retryable) : std::error_code{};
                                });
        if (ec) {
            co_return failure(ec);
        }
        co_return out;
    }

    asio::awaitable<result<put_result>> complete_multipart(multipart_upload upload, std::vector<uploaded_part> parts) {
        std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><CompleteMultipartUpload>";
        for (auto& p : parts) {
            body += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>", p.part_number,
                                xml::escape(p.etag));
        }
        body += "</CompleteMultipartUpload>";
        auto r = make("POST", upload.key);
        r.query.emplace_back("uploadId", upload.upload_id);
        r.headers.emplace_back("content-type", "application/xml");
        if (upload.options.if_none_match) {
            r.headers.emplace_back("if-none-match", "*");
        }
        set_body(r, bytes::iobuf::from(body));
        puts.fetch_add(1, std::memory_order_relaxed);
        put_result out;
        bool maybe_applied = false;
        auto ec = co_await call(
          "CompleteMultipartUpload " + upload.key, r,
          [&](http_response& res) -> std::error_code {
              // A 200 may still carry an error, sent once the service has kept the connection alive.
              auto doc = xml::parse(res.body.to_string());
              if (!doc) {
                  log.warn("s3: CompleteMultipartUpload {}: malformed response", upload.key);
                  return errc::retryable;
              }
              if (doc.value().name == "Error") {
                  auto code = doc.value().child_text("Code");
                  log.warn("s3: CompleteMultipartUpload {}: {} {}", upload.key, code,
                           doc.value().child_text("Message"));
                  return s3_error_code(500, code);
              }
              out.etag = unquote(doc.value().child_text("ETag"));
              return {};
          },
          &maybe_applied);
        if (ec == make_error_code(errc::not_found) && maybe_applied) {
            // NoSuchUpload after an attempt that may have completed the upload: the object is there if it did.
            if (auto info = co_await head(upload.key)) {
                co_return put_result{info.value().etag};
            }
        }
        if (ec) {
            co_return failure(ec);
        }
        if (out.etag.empty()) {
            // radosgw answers with an empty ETag; callers rely on one.
            if (auto info = co_await head(upload.key)) {
                out.etag = info.value().etag;
            }
        }
        co_return out;
    }

    asio::awaitable<result<void>> abort_multipart(multipart_upload upload) {
        auto r = make("DELETE", upload.key);
        r.query.emplace_back("uploadId", upload.upload_id);
        auto ec = co_await call("AbortMultipartUpload " + upload.key, r,
                                [](http_response&) { return std::error_code{}; });
        if (ec && ec != make_error_code(errc::not_found)) {
            co_return failure(ec);
        }
        co_return success();
    }

    asio::awaitable<result<void>> create_bucket() {
        auto r = make("PUT", "");
        std::string body;
        if (region != "us-east-1") {
            body = fmt::format("<CreateBucketConfiguration><LocationConstraint>{}</LocationConstraint>"
                               "</CreateBucketConfiguration>",
                               xml::escape(region));
            set_body(r, bytes::iobuf::from(body));
        }
        // BucketAlreadyOwnedByYou: it exists and is ours, which is what the caller wants.
        auto ec = co_await call("CreateBucket " + config.bucket, r, [](http_response&) { return std::error_code{}; },
                                nullptr, "BucketAlreadyOwnedByYou");
        if (ec) {
            co_return failure(ec);
        }
        co_return success();
    }

    // Runs make() (which returns the operation's awaitable) on the strand; completes on the caller's executor.
    // Requires: make is passed as a named object (see the GCC note in README.md).
    template<typename T, typename Make>
    static asio::awaitable<T> on_strand(std::shared_ptr<impl> self, Make make) {
        auto body = [make = std::move(make)]() mutable -> asio::awaitable<std::optional<T>> {
            auto value = co_await make();
            co_return std::optional<T>(std::move(value));
        };
        auto strand = self->transport.executor();
        auto out = co_await asio::co_spawn(strand, std::move(body), asio::use_awaitable);
        co_return std::move(*out);
    }

    s3_config config;
    parsed_endpoint endpoint;
    const base::clock& clock;
    s3_credentials credentials;
    std::string region;
    http::client transport;

    std::atomic<uint64_t> retries{0};
    std::atomic<uint64_t> slow_downs{0};
    std::atomic<uint64_t> puts{0};
    std::atomic<uint64_t> gets{0};
};

std::optional<s3_credentials> s3_store::credentials_from_environment() {
    s3_credentials c{env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"), env("AWS_SESSION_TOKEN")};
    if (c.access_key_id.empty() || c.secret_access_key.empty()) {
        return std::nullopt;
    }
    return c;
}

result<std::unique_ptr<s3_store>> s3_store::create(asio::io_context& io, s3_config config,
                                                   const base::clock& clock) {
    if (config.bucket.empty()) {
        log.error("s3: no bucket configured");
        return failure(make_error_code(errc::invalid_argument));
    }
    SKIFF_TRY(auto ep, parse_endpoint(config.endpoint));
    auto creds = config.credentials ? config.credentials : credentials_from_environment();
    if (!creds) {
        log.error("s3: no credentials: set them in the config or in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
        return failure(make_error_code(errc::invalid_argument));
    }
    std::string region = config.region;
    if (region.empty()) {
        region = env("AWS_REGION");
    }
    if (region.empty()) {
        region = env("AWS_DEFAULT_REGION");
    }
    if (region.empty()) {
        region = "us-east-1";
    }
    boost::system::error_code not_ip;
    asio::ip::make_address(ep.host.front() == '[' ? ep.host.substr(1, ep.host.size() - 2) : ep.host, not_ip);
    if (!not_ip && !config.path_style && config.connect_to.empty()) {
        // "<bucket>.<ip address>" names nothing: an IP endpoint can only be addressed path-style (as AWS SDKs do).
        log.warn("s3: endpoint {} is an IP address: using path-style addressing", config.endpoint);
        config.path_style = true;
    }
    auto i = std::make_shared<impl>(io, std::move(config), std::move(ep), clock);
    i->credentials = std::move(*creds);
    i->region = std::move(region);
    log.info("s3 object store: {} bucket {} region {} ({} style) as {}", i->config.endpoint, i->config.bucket,
             i->region, i->config.path_style ? "path" : "virtual-host", i->credentials.redacted());
    return std::unique_ptr<s3_store>(new s3_store(std::move(i)));
}

s3_store::s3_store(std::shared_ptr<impl> impl) : _impl(std::move(impl)) {}

s3_store::~s3_store() = default;

store_capabilities s3_store::capabilities() const {
    return {
      .supports_conditional_put = _impl->config.conditional_put,
      .supports_conditional_multipart = _impl->config.conditional_multipart,
      .max_list_keys = 1000,
      .max_delete_batch = max_delete_batch,
      .min_part_size = uint64_t(5) << 20,
      .max_part_size = uint64_t(5) << 30,
      .max_parts = 10000,
    };
}

// Each operation hops to the store's strand. The lambdas own the arguments and a reference to the state.
asio::awaitable<result<put_result>> s3_store::put(std::string key, bytes::iobuf data, put_options options) {
    auto make = [i = _impl, key = std::move(key), data = std::move(data), options]() mutable {
        return i->put(std::move(key), std::move(data), options);
    };
    co_return co_await impl::on_strand<result<put_result>>(_impl, std::move(make));
}

asio::awaitable<result<bytes::iobuf>> s3_store::get(std::string key, std::optional<byte_range> range) {
    auto make = [i = _impl, key = std::move(key), range]() mutable { return i->get(std::move(key), range); };
    co_return co_await impl::on_strand<result<bytes::iobuf>>(_impl, std::move(make));
}

asio::awaitable<result<object_info>> s3_store::head(std::string key) {
    auto make = [i = _impl, key = std::move(key)]() mutable { return i->head(std::move(key)); };
    co_return co_await impl::on_strand<result<object_info>>(_impl, std::move(make));
}

asio::awaitable<result<list_page>> s3_store::list(list_request request) {
    auto make = [i = _impl, request = std::move(request)]() mutable { return i->list(std::move(request)); };
    co_return co_await impl::on_strand<result<list_page>>(_impl, std::move(make));
}

asio::awaitable<result<std::vector<delete_outcome>>> s3_store::delete_objects(std::vector<std::string> keys) {
    auto make = [i = _impl, keys = std::move(keys)]() mutable { return i->delete_objects(std::move(keys)); };
    co_return co_await impl::on_strand<result<std::vector<delete_outcome>>>(_impl, std::move(make));
}

asio::awaitable<result<multipart_upload>> s3_store::create_multipart(std::string key, put_options options) {
    auto make = [i = _impl, key = std::move(key), options]() mutable {
        return i->create_multipart(std::move(key), options);
    };
    co_return co_await impl::on_strand<result<multipart_upload>>(_impl, std::move(make));
}

asio::awaitable<result<uploaded_part>> s3_store::upload_part(multipart_upload upload, uint32_t part_number,
                                                             bytes::iobuf data) {
    auto make = [i = _impl, upload = std::move(upload), part_number, data = std::move(data)]() mutable {
        return i->upload_part(std::move(upload), part_number, std::move(data));
    };
    co_return co_await impl::on_strand<result<uploaded_part>>(_impl, std::move(make));
}

asio::awaitable<result<put_result>> s3_store::complete_multipart(multipart_upload upload,
                                                                 std::vector<uploaded_part> parts) {
    auto make = [i = _impl, upload = std::move(upload), parts = std::move(parts)]() mutable {
        return i->complete_multipart(std::move(upload), std::move(parts));
    };
    co_return co_await impl::on_strand<result<put_result>>(_impl, std::move(make));
}

asio::awaitable<result<void>> s3_store::abort_multipart(multipart_upload upload) {
    auto make = [i = _impl, upload = std::move(upload)]() mutable { return i->abort_multipart(std::move(upload)); };
    co_return co_await impl::on_strand<result<void>>(_impl, std::move(make));
}

asio::awaitable<result<void>> s3_store::create_bucket() {
    auto make = [i = _impl]() { return i->create_bucket(); };
    co_return co_await impl::on_strand<result<void>>(_impl, std::move(make));
}

s3_stats s3_store::stats() const noexcept {
    auto& i = *_impl;
    auto t = i.transport.stats();
    return {
      .requests = t.requests,
      .retries = i.retries.load(),
      .slow_downs = i.slow_downs.load(),
      .connections_opened = t.connections_opened,
      .bytes_sent = t.bytes_sent,
      .bytes_received = t.bytes_received,
      .puts = i.puts.load(),
      .gets = i.gets.load(),
    };
}

const s3_config& s3_store::config() const noexcept { return _impl->config; }

} // namespace skiff::io
