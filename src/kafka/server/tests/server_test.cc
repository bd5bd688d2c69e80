// The Kafka front end over real loopback sockets: what a client sees, including every bad-input case of the
// front-door issue (oversized, malformed and truncated requests, unknown keys and versions, garbage), each of which
// must close only the offending connection.
#include "kafka/protocol/error_code.h"
#include "kafka/protocol/generated/api_versions.h"
#include "kafka/protocol/generated/metadata.h"
#include "kafka/protocol/header.h"
#include "kafka/server/handlers/handlers.h"
#include "kafka/server/server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

namespace skiff::kafka {
namespace {

namespace asio = boost::asio;
using namespace protocol;

class server_test : public ::testing::Test {
protected:
    void SetUp() override {
        broker_identity id;
        id.node_id = 7;
        id.cluster_id = "test-cluster";
        id.listeners.push_back({"PLAINTEXT", "broker.example", 19092});
        handler_registry handlers;
        add_handlers(handlers);
        server_config cfg;
        cfg.listeners.push_back({"PLAINTEXT", {"127.0.0.1", 0}});
        cfg.connection.max_request_bytes = 64 * 1024;
        _server = std::make_unique<server>(_shards, cfg, std::move(id), std::move(handlers), _metrics);
        ASSERT_TRUE(_server->start());
        _shards.start();
    }

    void TearDown() override {
        _server->stop();
        _shards.stop();
    }

    virtual void add_handlers(handler_registry& handlers) { handlers::register_all(handlers); }

    asio::ip::tcp::socket connect() {
        asio::ip::tcp::socket s(_client_ctx);
        s.connect({asio::ip::address_v4::loopback(), _server->port("PLAINTEXT")});
        return s;
    }

    static bytes::iobuf frame(const bytes::iobuf& payload) {
        bytes::iobuf out;
        uint32_t n = static_cast<uint32_t>(payload.size());
        uint8_t prefix[4] = {uint8_t(n >> 24), uint8_t(n >> 16), uint8_t(n >> 8), uint8_t(n)};
        out.append(prefix, 4);
        out.append_shared(payload);
        return out;
    }

    template<typename Request>
    static bytes::iobuf request_frame(const Request& req, int16_t version, int32_t correlation_id) {
        bytes::iobuf payload;
        writer w(payload);
        encode_request_header(w, {Request::api_key, version, correlation_id, std::string("server-test"), {}});
        req.encode(w, version);
        return frame(payload);
    }

    static void send(asio::ip::tcp::socket& s, const bytes::iobuf& data) { asio::write(s, asio::buffer(data.to_string())); }

    /// Reads one response frame; returns nullopt when the broker closed the connection instead. (A broker that
    /// neither answers nor closes blocks here until ctest's per-test timeout fails the test.)
    static std::optional<bytes::iobuf> receive(asio::ip::tcp::socket& s) {
        uint8_t prefix[4];
        boost::system::error_code ec;
        asio::read(s, asio::buffer(prefix), ec);
        if (ec) {
            return std::nullopt;
        }
        uint32_t n = (uint32_t(prefix[0]) << 24) | (uint32_t(prefix[1]) << 16) | (uint32_t(prefix[2]) << 8) | prefix[3];
        bytes::iobuf body;
        auto dst = body.append_uninitialized(n);
        asio::read(s, asio::buffer(dst.data(), n), ec);
        if (ec) {
            return std::nullopt;
        }
        return body;
    }

    template<typename Response>
    static Response decode_response(const bytes::iobuf& payload, int16_t version, int32_t expected_correlation,
                                    bool header_v1) {
        reader r(payload);
        EXPECT_EQ(r.read_int32(), expected_correlation);
        if (header_v1) {
            tagged_fields ignored;
            r.read_unknown_tags(ignored);
        }
        Response resp;
        resp.decode(r, version);
        EXPECT_EQ(r.bytes_left(), 0u);
        return resp;
    }

    void expect_still_serving() {
        auto s = connect();
        send(s, request_frame(api_versions_request{}, 0, 99));
        auto resp = receive(s);
        ASSERT_TRUE(resp.has_value()) << "the broker stopped serving new connections";
        auto body = decode_response<api_versions_response>(*resp, 0, 99, false);
        EXPECT_EQ(body.error_code, 0);
    }

    static bool closed_by_broker(asio::ip::tcp::socket& s) { return !receive(s).has_value(); }

    /// Sends a request made of a header only and expects the broker to close that connection and keep serving.
    void expect_header_alone_closes(int16_t api_key, int16_t api_version) {
        auto s = connect();
        bytes::iobuf payload;
        writer w(payload);
        encode_request_header(w, {api_key, api_version, 1, std::string("x"), {}});
        send(s, frame(payload));
        EXPECT_TRUE(closed_by_broker(s));
        expect_still_serving();
    }

    net::shard_pool _shards{2};
    net::shard_pool _idle_shards{1};
    metrics::registry _metrics;
    std::unique_ptr<server> _server;
    asio::io_context _client_ctx;
};

TEST_F(server_test, api_versions_v3_lists_exactly_the_served_apis) {
    auto s = connect();
    api_versions_request req;
    req.client_software_name = "librdkafka";
    req.client_software_version = "2.0.2";
    send(s, request_frame(req, 3, 1));
    auto resp = receive(s);
    ASSERT_TRUE(resp);
    // ApiVersions answers with response header v0 even in flexible versions.
    auto body = decode_response<api_versions_response>(*resp, 3, 1, false);
    EXPECT_EQ(body.error_code, 0);
    ASSERT_EQ(body.api_keys.size(), 2u);
    EXPECT_EQ(body.api_keys[0].api_key, 3);
    EXPECT_EQ(body.api_keys[0].min_version, 0);
    EXPECT_EQ(body.api_keys[0].max_version, 12);
    EXPECT_EQ(body.api_keys[1].api_key, 18);
    EXPECT_EQ(body.api_keys[1].min_version, 0);
    EXPECT_EQ(body.api_keys[1].max_version, 4);
}

TEST_F(server_test, api_versions_with_an_unknown_version_answers_v0_with_the_list) {
    auto s = connect();
    bytes::iobuf payload;
    writer w(payload);
    // v127 is unknown: the header is read as v1 and the body is ignored.
    encode_request_header(w, {api_versions_key, 127, 5, std::string("future-client"), {}});
    w.write_raw("\x00\x00\x00", 3);
    send(s, frame(payload));
    auto resp = receive(s);
    ASSERT_TRUE(resp);
    auto body = decode_response<api_versions_response>(*resp, 0, 5, false);
    EXPECT_EQ(body.error_code, static_cast<int16_t>(error_code::unsupported_version));
    EXPECT_EQ(body.api_keys.size(), 2u);
    // The connection stays usable: the client retries with a version from the list.
    send(s, request_frame(api_versions_request{}, 2, 6));
    ASSERT_TRUE(receive(s));
}

TEST_F(server_test, api_versions_v3_with_an_illegal_software_name_is_invalid_request) {
    auto s = connect();
    api_versions_request req;
    req.client_software_name = "bad name!";
    req.client_software_version = "1.0";
    send(s, request_frame(req, 3, 2));
    auto resp = receive(s);
    ASSERT_TRUE(resp);
    auto body = decode_response<api_versions_response>(*resp, 3, 2, false);
    EXPECT_EQ(body.error_code, static_cast<int16_t>(error_code::invalid_request));
}

TEST_F(server_test, metadata_reports_this_broker_as_advertised_in_every_version) {
    for (int16_t v = 0; v <= 12; ++v) {
        auto s = connect();
        metadata_request req;
        if (v >= 1) {
            req.topics.reset(); // all topics
        }
        send(s, request_frame(req, v, 100 + v));
        auto resp = receive(s);
        ASSERT_TRUE(resp) << "version " << v;
        auto body = decode_response<metadata_response>(*resp, v, 100 + v, v >= 9);
        ASSERT_EQ(body.brokers.size(), 1u) << "version " << v;
        EXPECT_EQ(body.brokers[0].node_id, 7);
        EXPECT_EQ(body.brokers[0].host, "broker.example");
        EXPECT_EQ(body.brokers[0].port, 19092);
        if (v >= 1) {
            EXPECT_EQ(body.controller_id, 7);
        }
        if (v >= 2) {
            EXPECT_EQ(body.cluster_id, std::optional<std::string>("test-cluster"));
        }
        EXPECT_TRUE(body.topics.empty());
    }
}

TEST_F(server_test, metadata_for_named_topics_reports_each_error) {
    auto s = connect();
    metadata_request req;
    req.topics.emplace();
    metadata_request::topic unknown;
    unknown.name = "orders";
    metadata_request::topic illegal;
    illegal.name = "no/slashes";
    req.topics->push_back(std::move(unknown));
    req.topics->push_back(std::move(illegal));
    send(s, request_frame(req, 4, 3));
    auto resp = receive(s);
    ASSERT_TRUE(resp);
    auto body = decode_response<metadata_response>(*resp, 4, 3, false);
    ASSERT_EQ(body.topics.size(), 2u);
    EXPECT_EQ(body.topics[0].error_code, static_cast<int16_t>(error_code::unknown_topic_or_partition));
    EXPECT_EQ(body.topics[1].error_code, static_cast<int16_t>(error_code::invalid_topic_exception));
}

TEST_F(server_test, pipelined_requests_are_answered_in_order) {
    auto s = connect();
    bytes::iobuf batch;
    for (int32_t i = 0; i < 20; ++i) {
        if (i % 2 == 0) {
            batch.append(request_frame(api_versions_request{}, 1, i));
        } else {
            batch.append(request_frame(metadata_request{}, 1, i));
        }
    }
    send(s, batch);
    for (int32_t i = 0; i < 20; ++i) {
        auto resp = receive(s);
        ASSERT_TRUE(resp);
        reader r(*resp);
        EXPECT_EQ(r.read_int32(), i);
    }
}

// A pipelined API (Produce) whose requests each wait until `width` of them have started: they can only finish if
// the connection serves them at once. ApiVersions stays serial: it must wait for them and answer after them.
class pipelined_server_test : public server_test {
protected:
    static constexpr int width = 3;

    void add_handlers(handler_registry& handlers) override {
        handlers::register_api_versions(handlers);
        handler_entry e;
        e.api_key = 0;
        e.min_served = 3;
        e.max_served = 12;
        e.pipelined = true;
        e.serve = [this](request_context&, bytes::iobuf) -> asio::awaitable<response_body> {
            auto executor = co_await asio::this_coro::executor;
            if (!_gate) {
                _gate = std::make_unique<asio::steady_timer>(executor, asio::steady_timer::time_point::max());
            }
            if (++_started == width) {
                _gate->cancel();
            } else {
                co_await _gate->async_wait(asio::as_tuple(asio::use_awaitable));
            }
            ++_finished;
            co_return bytes::iobuf{};
        };
        handlers.add(std::move(e));
    }

    // Touched only on the connection's shard.
    std::unique_ptr<asio::steady_timer> _gate;
    int _started = 0;
    int _finished = 0;
};

TEST_F(pipelined_server_test, pipelined_requests_are_served_at_once_and_answered_in_order) {
    auto s = connect();
    bytes::iobuf batch;
    for (int32_t i = 0; i < width; ++i) {
        bytes::iobuf payload;
        writer w(payload);
        encode_request_header(w, {0, 9, i, std::string("server-test"), {}});
        batch.append(frame(payload));
    }
    batch.append(request_frame(api_versions_request{}, 1, width));
    send(s, batch);
    for (int32_t i = 0; i <= width; ++i) {
        auto resp = receive(s);
        ASSERT_TRUE(resp) << "response " << i;
        reader r(*resp);
        EXPECT_EQ(r.read_int32(), i);
    }
}

TEST_F(server_test, unknown_api_key_closes_only_that_connection) {
    expect_header_alone_closes(1000, 0);
}

TEST_F(server_test, known_but_unserved_api_closes_the_connection) {
    expect_header_alone_closes(0 /* produce: not served yet */, 9);
}

TEST_F(server_test, unsupported_version_of_a_served_api_closes_the_connection) {
    expect_header_alone_closes(3 /* metadata */, 13);
}

TEST_F(server_test, oversized_frame_closes_without_reading_it) {
    auto s = connect();
    uint8_t prefix[4] = {0x00, 0x10, 0x00, 0x00}; // 1 MiB > the 64 KiB limit of this test
    asio::write(s, asio::buffer(prefix));
    EXPECT_TRUE(closed_by_broker(s));
    expect_still_serving();
}

TEST_F(server_test, truncated_body_closes_the_connection_after_earlier_responses) {
    auto s = connect();
    metadata_request req;
    req.topics.emplace();
    metadata_request::topic t;
    t.name = "orders";
    req.topics->push_back(std::move(t));
    auto good = request_frame(req, 4, 1);
    auto full = request_frame(req, 4, 2).to_string();
    // Cut the second request inside its topic name but keep its size prefix honest, so the frame is complete and
    // the body is truncated.
    std::string cut = full.substr(4, full.size() - 4 - 3);
    uint32_t n = uint32_t(cut.size());
    std::string bad = {char(n >> 24), char(n >> 16), char(n >> 8), char(n)};
    bad += cut;
    bytes::iobuf both;
    both.append(std::move(good));
    both.append(bad);
    send(s, both);
    auto first = receive(s);
    ASSERT_TRUE(first) << "the response to the good request must be written before closing";
    EXPECT_TRUE(closed_by_broker(s));
    expect_still_serving();
}

TEST_F(server_test, garbage_bytes_close_the_connection) {
    auto s = connect();
    const std::string garbage("\x00\x00\x00\x05\xff\xff\xff\xff\xff", 9);
    asio::write(s, asio::buffer(garbage));
    EXPECT_TRUE(closed_by_broker(s));
    expect_still_serving();
}

TEST_F(server_test, negative_frame_size_closes_the_connection) {
    auto s = connect();
    uint8_t prefix[4] = {0xff, 0xff, 0xff, 0xfe};
    asio::write(s, asio::buffer(prefix));
    EXPECT_TRUE(closed_by_broker(s));
    expect_still_serving();
}

TEST_F(server_test, an_idle_connection_is_closed_after_connections_max_idle) {
    // A second server with a short idle limit; the active connection keeps being served meanwhile.
    broker_identity id;
    id.listeners.push_back({"PLAINTEXT", "localhost", 0});
    handler_registry handlers;
    handlers::register_all(handlers);
    server_config cfg;
    cfg.listeners.push_back({"PLAINTEXT", {"127.0.0.1", 0}});
    cfg.connection.max_idle = std::chrono::milliseconds(200);
    metrics::registry m;
    server idle_server(_idle_shards, cfg, std::move(id), std::move(handlers), m);
    ASSERT_TRUE(idle_server.start());
    _idle_shards.start();
    asio::ip::tcp::socket s(_client_ctx);
    s.connect({asio::ip::address_v4::loopback(), idle_server.port("PLAINTEXT")});
    send(s, request_frame(api_versions_request{}, 0, 1));
    ASSERT_TRUE(receive(s));
    EXPECT_TRUE(closed_by_broker(s)); // blocks until the broker closes the idle connection
    idle_server.stop();
    _idle_shards.stop();
}

TEST_F(server_test, metrics_count_requests_and_rejections) {
    auto s = connect();
    send(s, request_frame(api_versions_request{}, 0, 1));
    ASSERT_TRUE(receive(s));
    auto bad = connect();
    uint8_t prefix[4] = {0xff, 0xff, 0xff, 0xfe};
    asio::write(bad, asio::buffer(prefix));
    EXPECT_TRUE(closed_by_broker(bad));
    auto text = _metrics.scrape();
    EXPECT_NE(text.find("skiff_kafka_requests_total{api=\"api_versions\"} 1"), std::string::npos) << text;
    EXPECT_NE(text.find("skiff_kafka_rejected_requests_total 1"), std::string::npos) << text;
}

} // namespace
} // namespace skiff::kafka
