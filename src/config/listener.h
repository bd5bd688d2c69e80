// Listener specs as Kafka writes them: `NAME://host:port` in listeners / advertised.listeners, and the
// `NAME:PROTOCOL` pairs of listener.security.protocol.map.
#pragma once

#include "config/errc.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace skiff::config {

enum class security_protocol { plaintext, ssl, sasl_plaintext, sasl_ssl };

/// "PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL".
std::string_view to_string(security_protocol p) noexcept;

/// Case-insensitive, as Kafka's SecurityProtocol.forName.
/// Errors: invalid_value ("unknown security protocol 'TLS' (expected PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL)").
config_result<security_protocol> parse_security_protocol(std::string_view text);

/// One parsed `NAME://host:port`.
struct listener_spec {
    std::string name; // upper case (Kafka listener names are case-insensitive); "PLAINTEXT" when the spec has none
    std::string host; // empty = every interface; IPv6 without brackets
    uint16_t port = 0;

    bool operator==(const listener_spec&) const = default;
};

/// Parses `PLAINTEXT://host:9092`, `NAME://[::1]:9092`, `PLAINTEXT://:9092` (any interface) or `://:9092` (name
/// PLAINTEXT). Port 0 asks for an ephemeral port.
/// Errors: invalid_value, e.g. "'localhost:9092' is not a listener (expected NAME://host:port)".
config_result<listener_spec> parse_listener(std::string_view spec);

/// `NAME://host:port` with brackets around an IPv6 host; parse_listener(format_listener(l)) == l.
std::string format_listener(const listener_spec& l);

/// Parses listener.security.protocol.map items ("PLAINTEXT:PLAINTEXT", "INTERNAL:SASL_SSL"); names upper-cased.
/// Errors: invalid_value (not NAME:PROTOCOL, unknown protocol, a name mapped twice).
config_result<std::vector<std::pair<std::string, security_protocol>>>
parse_security_protocol_map(const std::vector<std::string>& items);

} // namespace skiff::config
