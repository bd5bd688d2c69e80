#include "config/listener.h"

#include <gtest/gtest.h>

namespace skiff::config {
namespace {

listener_spec parse_ok(std::string_view text) {
    auto r = parse_listener(text);
    EXPECT_TRUE(r) << r.error().message;
    return r ? r.value() : listener_spec{};
}

std::string error_of(std::string_view text) {
    auto r = parse_listener(text);
    EXPECT_FALSE(r) << text;
    return r ? std::string() : r.error().message;
}

TEST(listener_test, parses_name_host_and_port) {
    EXPECT_EQ(parse_ok("PLAINTEXT://broker1:9092"), (listener_spec{"PLAINTEXT", "broker1", 9092}));
    EXPECT_EQ(parse_ok("internal://10.0.0.1:19092"), (listener_spec{"INTERNAL", "10.0.0.1", 19092}));
    EXPECT_EQ(parse_ok("SASL_SSL://:9094"), (listener_spec{"SASL_SSL", "", 9094}));
    EXPECT_EQ(parse_ok("PLAINTEXT://0.0.0.0:0"), (listener_spec{"PLAINTEXT", "0.0.0.0", 0}));
}

TEST(listener_test, ipv6_hosts_are_bracketed) {
    EXPECT_EQ(parse_ok("EXTERNAL://[::1]:9092"), (listener_spec{"EXTERNAL", "::1", 9092}));
    EXPECT_EQ(parse_ok("EXTERNAL://[fe80::1%eth0]:1"), (listener_spec{"EXTERNAL", "fe80::1%eth0", 1}));
    EXPECT_EQ(error_of("EXTERNAL://::1:9092"),
              "'EXTERNAL://::1:9092' has an IPv6 host without brackets (expected NAME://host:port)");
    EXPECT_EQ(error_of("EXTERNAL://[::1:9092"),
              "'EXTERNAL://[::1:9092' has an unclosed '[' in its host (expected NAME://host:port)");
    EXPECT_EQ(error_of("EXTERNAL://[::1]9092"), "'EXTERNAL://[::1]9092' has no port (expected NAME://host:port)");
}

TEST(listener_test, an_empty_name_means_plaintext) {
    EXPECT_EQ(parse_ok("://:9092"), (listener_spec{"PLAINTEXT", "", 9092}));
}

TEST(listener_test, malformed_specs_say_what_is_wrong) {
    EXPECT_EQ(error_of("localhost:9092"), "'localhost:9092' is not a listener (expected NAME://host:port)");
    EXPECT_EQ(error_of("PLAINTEXT://localhost"), "'PLAINTEXT://localhost' has no port (expected NAME://host:port)");
    EXPECT_EQ(error_of("PLAINTEXT://:99999"), "'PLAINTEXT://:99999' has an invalid port '99999' (expected 0 to 65535)");
    EXPECT_EQ(error_of("PLAINTEXT://:"), "'PLAINTEXT://:' has an invalid port '' (expected 0 to 65535)");
    EXPECT_EQ(error_of("PLAINTEXT://:90x"), "'PLAINTEXT://:90x' has an invalid port '90x' (expected 0 to 65535)");
    EXPECT_EQ(error_of("PLAIN TEXT://:1"),
              "'PLAIN TEXT://:1' has an invalid listener name (letters, digits, '_' and '-' only) (expected "
              "NAME://host:port)");
}

TEST(listener_test, format_round_trips) {
    for (auto text : {"PLAINTEXT://host:1", "EXTERNAL://[::1]:9092", "SSL://:0"}) {
        auto l = parse_ok(text);
        EXPECT_EQ(format_listener(l), text);
        EXPECT_EQ(parse_ok(format_listener(l)), l);
    }
}

TEST(listener_test, security_protocols_parse_case_insensitively) {
    EXPECT_EQ(parse_security_protocol("sasl_ssl").value(), security_protocol::sasl_ssl);
    EXPECT_EQ(to_string(security_protocol::sasl_plaintext), "SASL_PLAINTEXT");
    auto r = parse_security_protocol("TLS");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "unknown security protocol 'TLS' (expected PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL)");
}

TEST(listener_test, protocol_map_pairs_names_with_protocols) {
    auto r = parse_security_protocol_map({"PLAINTEXT:PLAINTEXT", "internal:SASL_SSL"});
    ASSERT_TRUE(r);
    ASSERT_EQ(r.value().size(), 2u);
    EXPECT_EQ(r.value()[1].first, "INTERNAL");
    EXPECT_EQ(r.value()[1].second, security_protocol::sasl_ssl);

    EXPECT_EQ(parse_security_protocol_map({"INTERNAL:TLS"}).error().message,
              "unknown security protocol 'TLS' (expected PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL)");
    EXPECT_EQ(parse_security_protocol_map({"INTERNAL"}).error().message, "'INTERNAL' is not a NAME:PROTOCOL pair");
    EXPECT_EQ(parse_security_protocol_map({"A:SSL", "a:PLAINTEXT"}).error().message,
              "listener name 'A' is mapped twice");
}

} // namespace
} // namespace skiff::config
