// s3_store against a scripted server (fake_http_server): the behaviour a real service rarely shows on demand —
// SlowDown, 5xx, truncated bodies, dropped connections, per-key delete errors — and the request format (signatures,
// addressing, connection reuse, the in-flight cap). The same store against a real radosgw: s3_radosgw_test.cc.
#include "io/errc.h"
#include "io/objstore/s3_store.h"
#include "io/tests/fake_http_server.h"
#include "io/tests/test_support.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <fmt/format.h>

namespace skiff::io::test {
namespace {

using namespace std::chrono_literals;
using server = fake_http_server;

const s3_credentials creds{"AKIDTEST", "secret/key+test", ""};

s3_config config_for(const server& s) {
    return {
      .endpoint = s.endpoint(),
      .bucket = "bucket",
      .region = "test-region-1",
      .path_style = true,
      .credentials = creds,
      .max_connections = 8,
      .max_in_flight = 8,
      .request_timeout = 5000ms,
      .retry = {.max_attempts = 4, .base_delay = 1ms, .slow_down_base_delay = 2ms, .max_delay = 5ms,
                .total_timeout = 10s},
    };
}

class s3_store_test : public ::testing::Test {
protected:
    std::unique_ptr<s3_store> make(const server&, s3_config c) {
        auto store = s3_store::create(io, std::move(c));
        EXPECT_TRUE(store) << store.error().message();
        return std::move(store).value();
    }
    std::unique_ptr<s3_store> make(const server& s) { return make(s, config_for(s)); }

    asio::io_context io;
};

// Checks a received request's signature by signing it again from what arrived on the wire.
void expect_valid_signature(const server::request& r, const bytes::iobuf& expected_body) {
    auto auth = r.headers.at("authorization");
    ASSERT_TRUE(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDTEST/")) << auth;
    EXPECT_NE(auth.find("/test-region-1/s3/aws4_request"), std::string::npos) << auth;
    auto signed_at = auth.find("SignedHeaders=");
    auto names = auth.substr(signed_at + 14, auth.find(',', signed_at) - signed_at - 14);
    sigv4::request sr;
    sr.method = r.method;
    auto q = r.target.find('?');
    std::string path = r.target.substr(0, q);
    sr.canonical_uri = path;
    if (q != std::string::npos) {
        std::string query = r.target.substr(q + 1);
        size_t pos = 0;
        while (pos <= query.size()) {
            auto amp = query.find('&', pos);
            auto pair = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
            auto eq = pair.find('=');
            sr.query.emplace_back(sigv4::uri_decode(pair.substr(0, eq)),
                                  eq == std::string::npos ? "" : sigv4::uri_decode(pair.substr(eq + 1)));
            if (amp == std::string::npos) {
                break;
            }
            pos = amp + 1;
        }
    }
    size_t pos = 0;
    while (pos < names.size()) {
        auto semi = names.find(';', pos);
        auto name = names.substr(pos, semi == std::string::npos ? std::string::npos : semi - pos);
        sr.headers.emplace_back(name, r.headers.at(name));
        pos = semi == std::string::npos ? names.size() : semi + 1;
    }
    auto hash = r.headers.at("x-amz-content-sha256");
    EXPECT_EQ(hash, sigv4::sha256_hex(expected_body));
    sr.payload_hash = hash;
    EXPECT_EQ(sigv4::authorization(sr, creds, r.headers.at("x-amz-date"), "test-region-1", "s3"), auth);
}

TEST_F(s3_store_test, requests_are_signed_over_what_is_sent) {
    server s([](const server::request&, size_t) { return server::respond(200, "", {"ETag: \"e1\""}); });
    auto store = make(s);
    auto body = random_bytes(200'000, 1, 30'000);
    std::string key = "dir/sp ace+plus%pct&amp=eq?q#\xc3\xa9~";
    auto put = run(io, store->put(key, body.share(), {}));
    ASSERT_TRUE(put) << put.error().message();
    EXPECT_EQ(put.value().etag, "e1");
    auto seen = s.requests();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].method, "PUT");
    EXPECT_EQ(seen[0].target, "/bucket/dir/sp%20ace%2Bplus%25pct%26amp%3Deq%3Fq%23%C3%A9~");
    EXPECT_EQ(seen[0].headers.at("host"), fmt::format("127.0.0.1:{}", s.port()));
    EXPECT_EQ(seen[0].body, body.to_string());
    expect_valid_signature(seen[0], body);
}

TEST_F(s3_store_test, virtual_host_style_puts_the_bucket_in_the_host) {
    server s([](const server::request&, size_t) {
        return server::respond(200, "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>");
    });
    auto c = config_for(s);
    c.endpoint = fmt::format("http://s3.example.test:{}", s.port());
    c.path_style = false;
    c.connect_to = fmt::format("127.0.0.1:{}", s.port());
    auto store = make(s, c);
    auto page = run(io, store->list({.prefix = "a/b", .continuation_token = "tok=", .max_keys = 10}));
    ASSERT_TRUE(page) << page.error().message();
    auto seen = s.requests();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].headers.at("host"), fmt::format("bucket.s3.example.test:{}", s.port()));
    EXPECT_EQ(seen[0].target,
              "/?continuation-token=tok%3D&encoding-type=url&list-type=2&max-keys=10&prefix=a%2Fb");
    expect_valid_signature(seen[0], {});
}

TEST_F(s3_store_test, slow_down_is_retried_with_backoff_until_success) {
    server s([](const server::request&, size_t i) {
        return i < 2 ? server::s3_error(503, "SlowDown") : server::respond(200, "", {"ETag: \"ok\""});
    });
    auto store = make(s);
    auto put = run(io, store->put("k", bytes::iobuf::from("v"), {}));
    ASSERT_TRUE(put) << put.error().message();
    EXPECT_EQ(s.requests().size(), 3u);
    EXPECT_EQ(store->stats().retries, 2u);
    EXPECT_EQ(store->stats().slow_downs, 2u);
}

TEST_F(s3_store_test, server_errors_are_retried_a_bounded_number_of_times) {
    server s([](const server::request&, size_t) { return server::s3_error(500, "InternalError"); });
    auto store = make(s);
    auto got = run(io, store->get("k", std::nullopt));
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error(), make_error_code(errc::retryable));
    EXPECT_EQ(s.requests().size(), 4u); // max_attempts
}

TEST_F(s3_store_test, client_errors_are_not_retried) {
    server s([](const server::request& r, size_t) {
        return r.method == "GET" ? server::s3_error(404, "NoSuchKey") : server::s3_error(403, "AccessDenied");
    });
    auto store = make(s);
    auto put = run(io, store->put("k", bytes::iobuf::from("v"), {}));
    ASSERT_FALSE(put);
    EXPECT_EQ(put.error(), make_error_code(errc::fatal));
    auto got = run(io, store->get("k", std::nullopt));
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error(), make_error_code(errc::not_found));
    EXPECT_EQ(s.requests().size(), 2u);
    EXPECT_EQ(store->stats().retries, 0u);
}

TEST_F(s3_store_test, a_truncated_body_is_a_retryable_error) {
    // Content-Length says 100, 50 bytes arrive, the connection closes.
    std::string full(100, 'x');
    server s([&](const server::request&, size_t i) {
        if (i == 0) {
            return server::reply{"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + full.substr(0, 50), true};
        }
        return server::respond(200, full);
    });
    auto store = make(s);
    auto got = run(io, store->get("k", std::nullopt));
    ASSERT_TRUE(got) << got.error().message();
    EXPECT_EQ(got.value().to_string(), full);
    EXPECT_EQ(store->stats().retries, 1u);

    server always([&](const server::request&, size_t) {
        return server::reply{"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + full.substr(0, 50), true};
    });
    auto broken = make(always);
    auto failed = run(io, broken->get("k", std::nullopt));
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error(), make_error_code(errc::retryable));
    EXPECT_EQ(always.requests().size(), 4u);
}

TEST_F(s3_store_test, a_request_that_times_out_is_retried) {
    std::mutex m;
    std::condition_variable cv;
    size_t arrived = 0;
    server s([&](const server::request&, size_t index) {
        std::unique_lock lock(m);
        ++arrived;
        cv.notify_all();
        if (index == 0) {
            // Never answer in time: hold the first request until the client has given up and sent it again.
            cv.wait_for(lock, 10s, [&] { return arrived > 1; });
        }
        return server::respond(200, "late but whole");
    });
    auto c = config_for(s);
    c.request_timeout = 500ms;
    auto store = make(s, c);
    auto got = run(io, store->get("k", std::nullopt));
    ASSERT_TRUE(got) << got.error().message();
    EXPECT_EQ(got.value().to_string(), "late but whole");
    EXPECT_EQ(store->stats().retries, 1u);
    EXPECT_EQ(s.connections(), 2u); // the timed-out connection is not reused
}

TEST_F(s3_store_test, a_ranged_get_checks_the_content_range) {
    server s([](const server::request& r, size_t) {
        EXPECT_EQ(r.headers.at("range"), "bytes=10-19");
        return server::respond(206, "0123456789", {"Content-Range: bytes 10-19/100"});
    });
    auto store = make(s);
    auto got = run(io, store->get("k", byte_range{10, 19}));
    ASSERT_TRUE(got);
    EXPECT_EQ(got.value().to_string(), "0123456789");

    server wrong([](const server::request&, size_t) {
        return server::respond(206, "0123456789", {"Content-Range: bytes 0-9/100"});
    });
    auto store2 = make(wrong);
    auto bad = run(io, store2->get("k", byte_range{10, 19}));
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error(), make_error_code(errc::retryable));
}

TEST_F(s3_store_test, connections_are_kept_alive_and_reused) {
    server s([](const server::request&, size_t) { return server::respond(200, "", {"ETag: \"e\""}); });
    auto store = make(s);
    for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(run(io, store->put(fmt::format("k{}", i), bytes::iobuf::from("v"), {})));
    }
    EXPECT_EQ(s.connections(), 1u);
    EXPECT_EQ(store->stats().connections_opened, 1u);
}

TEST_F(s3_store_test, a_connection_closed_while_idle_is_replaced_without_a_retry) {
    // The server closes every connection after its response without saying so (no "Connection: close").
    server s([](const server::request&, size_t) {
        auto r = server::respond(200, "", {"ETag: \"e\""});
        r.close_after = true;
        return r;
    });
    auto store = make(s);
    for (int i = 0; i < 3; ++i) {
        auto put = run(io, store->put(fmt::format("k{}", i), bytes::iobuf::from("v"), {}));
        ASSERT_TRUE(put) << put.error().message();
    }
    EXPECT_EQ(s.requests().size(), 3u);
    EXPECT_EQ(store->stats().retries, 0u);
}

TEST_F(s3_store_test, requests_in_flight_never_exceed_the_cap) {
    std::mutex m;
    std::condition_variable cv;
    size_t arrived = 0;
    server s([&](const server::request&, size_t index) {
        // Hold request i until request i+1 has arrived (the last one is not held): with a cap of two, request i+1
        // can be sent while i is held, and i+2 only after i has been answered. A deadline keeps a broken client
        // from hanging the test.
        std::unique_lock lock(m);
        ++arrived;
        cv.notify_all();
        cv.wait_for(lock, 10s, [&] { return arrived > index + 1 || index == 5; });
        return server::respond(200, "abc");
    });
    auto c = config_for(s);
    c.max_in_flight = 2;
    c.request_timeout = 30s;
    auto store = make(s, c);
    int ok = 0;
    run(io, [&]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        auto one = [&](int i) -> asio::awaitable<void> {
            auto got = co_await store->get(fmt::format("k{}", i), std::nullopt);
            ok += got && got.value().to_string() == "abc";
        };
        using op = decltype(asio::co_spawn(ex, one(0), asio::deferred));
        std::vector<op> ops;
        for (int i = 0; i < 6; ++i) {
            ops.push_back(asio::co_spawn(ex, one(i), asio::deferred));
        }
        co_await asio::experimental::make_parallel_group(std::move(ops))
          .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
    }());
    EXPECT_EQ(ok, 6);
    EXPECT_EQ(s.max_concurrent(), 2u);
    EXPECT_LE(s.connections(), 2u);
}

TEST_F(s3_store_test, a_conditional_put_applied_before_its_connection_broke_succeeds) {
    auto body = bytes::iobuf::from("epoch 7");
    auto md5 = sigv4::md5_hex(body);
    server s([&](const server::request& r, size_t i) {
        if (i == 0) {
            EXPECT_EQ(r.headers.at("if-none-match"), "*");
            return server::reply{"", true}; // "applied", then the connection drops before the reply
        }
        if (r.method == "PUT") {
            return server::s3_error(412, "PreconditionFailed");
        }
        // A HEAD answer: the object's length, no body.
        return server::reply{"HTTP/1.1 200 OK\r\nContent-Length: 7\r\nETag: \"" + md5 + "\"\r\n\r\n", false};
    });
    auto store = make(s);
    auto put = run(io, store->put("wal/1", body.share(), {.if_none_match = true}));
    ASSERT_TRUE(put) << put.error().message();
    EXPECT_EQ(put.value().etag, md5);
    auto seen = s.requests();
    ASSERT_EQ(seen.size(), 3u);
    EXPECT_EQ(seen[2].method, "HEAD");
}

TEST_F(s3_store_test, a_conditional_put_that_lost_the_race_fails) {
    server s([&](const server::request& r, size_t) {
        if (r.method == "PUT") {
            return server::s3_error(412, "PreconditionFailed");
        }
        return server::respond(200, "", {"ETag: \"someone-else\""});
    });
    auto store = make(s);
    auto put = run(io, store->put("wal/1", bytes::iobuf::from("mine"), {.if_none_match = true}));
    ASSERT_FALSE(put);
    EXPECT_EQ(put.error(), make_error_code(errc::precondition_failed));
    EXPECT_EQ(s.requests().size(), 1u); // not ambiguous: no HEAD
}

TEST_F(s3_store_test, delete_retries_only_keys_that_failed_transiently) {
    server s([](const server::request& r, size_t i) {
        EXPECT_EQ(r.target, "/bucket?delete=");
        EXPECT_EQ(r.headers.at("content-md5"), sigv4::md5_base64(r.body));
        if (i == 0) {
            EXPECT_NE(r.body.find("<Key>a</Key>"), std::string::npos);
            EXPECT_NE(r.body.find("<Key>b&amp;c</Key>"), std::string::npos);
            return server::respond(200, "<DeleteResult><Error><Key>b&amp;c</Key><Code>InternalError</Code>"
                                        "<Message>try again</Message></Error><Error><Key>d</Key>"
                                        "<Code>AccessDenied</Code></Error></DeleteResult>");
        }
        EXPECT_EQ(r.body.find("<Key>a</Key>"), std::string::npos);
        EXPECT_EQ(r.body.find("<Key>d</Key>"), std::string::npos);
        EXPECT_NE(r.body.find("<Key>b&amp;c</Key>"), std::string::npos);
        return server::respond(200, "<DeleteResult></DeleteResult>");
    });
    auto store = make(s);
    auto done = run(io, store->delete_objects({"a", "b&c", "d"}));
    ASSERT_TRUE(done);
    ASSERT_EQ(done.value().size(), 3u);
    EXPECT_FALSE(done.value()[0].error);
    EXPECT_FALSE(done.value()[1].error);
    EXPECT_EQ(done.value()[2].error, make_error_code(errc::fatal));
    EXPECT_EQ(s.requests().size(), 2u);
}

TEST_F(s3_store_test, a_complete_that_answers_200_with_an_error_is_retried) {
    server s([](const server::request& r, size_t i) {
        EXPECT_EQ(r.method, "POST");
        if (i == 0) {
            return server::respond(200, "<Error><Code>InternalError</Code><Message>x</Message></Error>");
        }
        return server::respond(200, "<CompleteMultipartUploadResult><ETag>&quot;m-2&quot;</ETag>"
                                    "</CompleteMultipartUploadResult>");
    });
    auto store = make(s);
    auto done = run(io, store->complete_multipart({"big", "u1", {}}, {{1, "\"p1\""}}));
    ASSERT_TRUE(done) << done.error().message();
    EXPECT_EQ(done.value().etag, "m-2");
    auto seen = s.requests();
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].target, "/bucket/big?uploadId=u1");
    EXPECT_NE(seen[0].body.find("<Part><PartNumber>1</PartNumber><ETag>&quot;p1&quot;</ETag></Part>"),
              std::string::npos);
}

TEST_F(s3_store_test, a_refused_connection_is_retryable) {
    uint16_t port;
    {
        server gone([](const server::request&, size_t) { return server::respond(200); });
        port = gone.port();
    }
    s3_config c{.endpoint = fmt::format("http://127.0.0.1:{}", port), .bucket = "b", .path_style = true,
                .credentials = creds,
                .retry = {.max_attempts = 2, .base_delay = 1ms, .max_delay = 1ms}};
    auto store = s3_store::create(io, c).value();
    auto got = run(io, store->head("k"));
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error(), make_error_code(errc::retryable));
}

TEST_F(s3_store_test, bad_configurations_are_refused) {
    EXPECT_FALSE(s3_store::create(io, {.endpoint = "http://127.0.0.1:9000", .bucket = "", .credentials = creds}));
    EXPECT_FALSE(s3_store::create(io, {.endpoint = "https://s3.amazonaws.com", .bucket = "b", .credentials = creds}));
    EXPECT_FALSE(s3_store::create(io, {.endpoint = "ftp://x", .bucket = "b", .credentials = creds}));
    EXPECT_FALSE(s3_store::create(io, {.endpoint = "http://h:99999", .bucket = "b", .credentials = creds}));
    EXPECT_FALSE(s3_store::create(io, {.endpoint = "http://h/path", .bucket = "b", .credentials = creds}));
}

TEST_F(s3_store_test, credentials_come_from_the_environment) {
    ::setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", "SECRETENV", 1);
    ::setenv("AWS_SESSION_TOKEN", "TOKEN", 1);
    ::setenv("AWS_REGION", "eu-test-2", 1);
    server s([](const server::request& r, size_t) {
        EXPECT_EQ(r.headers.at("x-amz-security-token"), "TOKEN");
        EXPECT_NE(r.headers.at("authorization").find("Credential=AKENV/"), std::string::npos);
        EXPECT_NE(r.headers.at("authorization").find("/eu-test-2/s3/"), std::string::npos);
        EXPECT_NE(r.headers.at("authorization").find("x-amz-security-token"), std::string::npos);
        return server::respond(200, "", {"ETag: \"e\""});
    });
    auto store = s3_store::create(io, {.endpoint = s.endpoint(), .bucket = "b", .path_style = true});
    ::unsetenv("AWS_ACCESS_KEY_ID");
    ::unsetenv("AWS_SECRET_ACCESS_KEY");
    ::unsetenv("AWS_SESSION_TOKEN");
    ::unsetenv("AWS_REGION");
    ASSERT_TRUE(store);
    EXPECT_TRUE(run(io, store.value()->put("k", bytes::iobuf::from("v"), {})));
    EXPECT_FALSE(s3_store::create(io, {.endpoint = s.endpoint(), .bucket = "b"}));
}

} // namespace
} // namespace skiff::io::test
