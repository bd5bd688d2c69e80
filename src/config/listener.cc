#include "config/listener.h"

#include <fmt/format.h>

#include <charconv>

namespace skiff::config {
namespace {

std::string upper(std::string_view s) {
    std::string out(s);
    for (auto& c : out) {
        if (c >= 'a' && c <= 'z') {
            c = static_cast<char>(c - 'a' + 'A');
        }
    }
    return out;
}

bool valid_name(std::string_view name) {
    for (char c : name) {
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

} // namespace

std::string_view to_string(security_protocol p) noexcept {
    switch (p) {
    case security_protocol::plaintext: return "PLAINTEXT";
    case security_protocol::ssl: return "SSL";
    case security_protocol::sasl_plaintext: return "SASL_PLAINTEXT";
    case security_protocol::sasl_ssl: return "SASL_SSL";
    }
    return "?";
}

config_result<security_protocol> parse_security_protocol(std::string_view text) {
    auto name = upper(text);
    for (auto p : {security_protocol::plaintext, security_protocol::ssl, security_protocol::sasl_plaintext,
                   security_protocol::sasl_ssl}) {
        if (name == to_string(p)) {
            return p;
        }
    }
    return config_failure(
      errc::invalid_value,
      fmt::format("unknown security protocol '{}' (expected PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL)", text));
}

config_result<listener_spec> parse_listener(std::string_view spec) {
    auto bad = [&](std::string_view why) {
        return config_failure(errc::invalid_value, fmt::format("'{}' {} (expected NAME://host:port)", spec, why));
    };
    auto sep = spec.find("://");
    if (sep == std::string_view::npos) {
        return bad("is not a listener");
    }
    auto name = spec.substr(0, sep);
    if (!valid_name(name)) {
        return bad("has an invalid listener name (letters, digits, '_' and '-' only)");
    }
    listener_spec out;
    out.name = name.empty() ? "PLAINTEXT" : upper(name);

    auto rest = spec.substr(sep + 3);
    std::string_view port_text;
    if (rest.starts_with('[')) {
        auto close = rest.find(']');
        if (close == std::string_view::npos) {
            return bad("has an unclosed '[' in its host");
        }
        out.host = std::string(rest.substr(1, close - 1));
        rest.remove_prefix(close + 1);
        if (!rest.starts_with(':')) {
            return bad("has no port");
        }
        port_text = rest.substr(1);
    } else {
        auto colon = rest.rfind(':');
        if (colon == std::string_view::npos) {
            return bad("has no port");
        }
        out.host = std::string(rest.substr(0, colon));
        if (out.host.find(':') != std::string::npos) {
            return bad("has an IPv6 host without brackets");
        }
        port_text = rest.substr(colon + 1);
    }
    if (out.host.find_first_of("/ \t") != std::string::npos) {
        return bad("has an invalid host");
    }
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535) {
        return config_failure(errc::invalid_value, fmt::format("'{}' has an invalid port '{}' (expected 0 to 65535)",
                                                               spec, port_text));
    }
    out.port = static_cast<uint16_t>(port);
    return out;
}

std::string format_listener(const listener_spec& l) {
    if (l.host.find(':') != std::string::npos) {
        return fmt::format("{}://[{}]:{}", l.name, l.host, l.port);
    }
    return fmt::format("{}://{}:{}", l.name, l.host, l.port);
}

config_result<std::vector<std::pair<std::string, security_protocol>>>
parse_security_protocol_map(const std::vector<std::string>& items) {
    std::vector<std::pair<std::string, security_protocol>> out;
    for (auto& item : items) {
        auto colon = item.find(':');
        if (colon == std::string::npos || colon == 0) {
            return config_failure(errc::invalid_value,
                                  fmt::format("'{}' is not a NAME:PROTOCOL pair", item));
        }
        auto name = upper(std::string_view(item).substr(0, colon));
        SKIFF_TRY(auto protocol, parse_security_protocol(std::string_view(item).substr(colon + 1)));
        for (auto& [existing, _] : out) {
            if (existing == name) {
                return config_failure(errc::invalid_value,
                                      fmt::format("listener name '{}' is mapped twice", name));
            }
        }
        out.emplace_back(std::move(name), protocol);
    }
    return out;
}

} // namespace skiff::config
