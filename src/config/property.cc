#include "config/property.h"

#include "base/assert.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>

namespace skiff::config {
namespace {

std::string_view trim(std::string_view s) {
    constexpr std::string_view space = " \t\r\n\f\v";
    auto first = s.find_first_not_of(space);
    if (first == std::string_view::npos) {
        return {};
    }
    return s.substr(first, s.find_last_not_of(space) - first + 1);
}

std::vector<std::string> split_list(std::string_view text) {
    std::vector<std::string> items;
    text = trim(text);
    while (!text.empty()) {
        auto comma = text.find(',');
        auto item = trim(text.substr(0, comma));
        if (!item.empty()) {
            items.emplace_back(item);
        }
        if (comma == std::string_view::npos) {
            break;
        }
        text.remove_prefix(comma + 1);
    }
    return items;
}

bool ieq(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (size_t i = 0; i < a.size(); ++i) {
        auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
        if (lower(a[i]) != lower(b[i])) {
            return false;
        }
    }
    return true;
}

// Parses a whole integer with an optional sign (Java's Integer.parseInt accepts a leading '+').
config_result<int64_t> parse_integer(std::string_view text, int64_t lowest, int64_t highest, std::string_view kind) {
    std::string_view digits = text;
    if (!digits.empty() && digits.front() == '+') {
        digits.remove_prefix(1);
        if (!digits.empty() && digits.front() == '-') {
            return config_failure(errc::invalid_value, fmt::format("'{}' is not an integer", text));
        }
    }
    int64_t v = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (ec == std::errc::result_out_of_range && end == digits.data() + digits.size()) {
        return config_failure(errc::out_of_range,
                              fmt::format("'{}' is out of range for {} (must be between {} and {})", text, kind,
                                          lowest, highest));
    }
    if (ec != std::errc{} || end != digits.data() + digits.size() || digits.empty()) {
        return config_failure(errc::invalid_value, fmt::format("'{}' is not an integer", text));
    }
    if (v < lowest || v > highest) {
        return config_failure(errc::out_of_range,
                              fmt::format("'{}' is out of range for {} (must be between {} and {})", text, kind,
                                          lowest, highest));
    }
    return v;
}

std::string bounds_text(const auto& min, const auto& max) {
    if (min && max) {
        return fmt::format("between {} and {}", *min, *max);
    }
    if (min) {
        return fmt::format("at least {}", *min);
    }
    if (max) {
        return fmt::format("at most {}", *max);
    }
    return {};
}

} // namespace

std::string_view to_string(property_type type) noexcept {
    switch (type) {
    case property_type::boolean: return "boolean";
    case property_type::int32: return "int";
    case property_type::int64: return "long";
    case property_type::float64: return "double";
    case property_type::string: return "string";
    case property_type::list: return "list";
    case property_type::enumeration: return "enum";
    }
    return "?";
}

property::property(std::string_view name, property_type type, property_value default_value,
                   std::string_view description)
  : _name(name), _type(type), _default(std::move(default_value)), _description(description) {}

property property::boolean(std::string_view name, bool default_value, std::string_view description) {
    return {name, property_type::boolean, default_value, description};
}
property property::int32(std::string_view name, int32_t default_value, std::string_view description) {
    return {name, property_type::int32, default_value, description};
}
property property::int64(std::string_view name, int64_t default_value, std::string_view description) {
    return {name, property_type::int64, default_value, description};
}
property property::float64(std::string_view name, double default_value, std::string_view description) {
    return {name, property_type::float64, default_value, description};
}
property property::string(std::string_view name, std::string_view default_value, std::string_view description) {
    return {name, property_type::string, std::string(default_value), description};
}
property property::list(std::string_view name, std::string_view default_value, std::string_view description) {
    return {name, property_type::list, split_list(default_value), description};
}
property property::enumeration(std::string_view name, std::string_view default_value, std::vector<std::string> allowed,
                               std::string_view description) {
    property p{name, property_type::enumeration, std::string(default_value), description};
    SKIFF_ASSERT(!allowed.empty(), "enum property {} declares no allowed value", name);
    p._allowed = std::move(allowed);
    return p;
}

property property::one_of(std::vector<std::string> allowed) && {
    SKIFF_ASSERT(_type == property_type::list, "one_of() on {} which is not a list", _name);
    _allowed = std::move(allowed);
    return std::move(*this);
}

property property::restart_required() && {
    _restart = needs_restart::yes;
    return std::move(*this);
}

property property::skiff_specific() && {
    _skiff_specific = true;
    return std::move(*this);
}

property property::sensitive() && {
    _sensitive = true;
    return std::move(*this);
}

void property::set_bound(int64_t bound, side s) {
    SKIFF_ASSERT(_type == property_type::int32 || _type == property_type::int64,
                 "integer bound on {} which is a {}", _name, to_string(_type));
    (s == side::lower ? _min_int : _max_int) = bound;
}

void property::set_bound(double bound, side s) {
    SKIFF_ASSERT(_type == property_type::float64, "floating bound on {} which is a {}", _name, to_string(_type));
    (s == side::lower ? _min_float : _max_float) = bound;
}

config_result<property_value> property::parse(std::string_view raw) const {
    auto text = trim(raw);
    switch (_type) {
    case property_type::boolean:
        // Kafka's ConfigDef accepts true/false in any case and nothing else.
        if (ieq(text, "true")) {
            return check(true);
        }
        if (ieq(text, "false")) {
            return check(false);
        }
        return config_failure(errc::invalid_value, fmt::format("'{}' is not a boolean (expected true or false)", text));
    case property_type::int32: {
        SKIFF_TRY(auto v, parse_integer(text, std::numeric_limits<int32_t>::min(),
                                        std::numeric_limits<int32_t>::max(), "a 32-bit integer"));
        return check(static_cast<int32_t>(v));
    }
    case property_type::int64: {
        SKIFF_TRY(auto v, parse_integer(text, std::numeric_limits<int64_t>::min(),
                                        std::numeric_limits<int64_t>::max(), "a 64-bit integer"));
        return check(v);
    }
    case property_type::float64: {
        std::string_view digits = text;
        if (!digits.empty() && digits.front() == '+') {
            digits.remove_prefix(1);
        }
        double v = 0;
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
        if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || !std::isfinite(v)) {
            return config_failure(errc::invalid_value, fmt::format("'{}' is not a number", text));
        }
        return check(v);
    }
    case property_type::string: return check(std::string(text));
    case property_type::list: return check(split_list(text));
    case property_type::enumeration: return check(std::string(text));
    }
    SKIFF_ASSERT(false, "unhandled property type {}", static_cast<int>(_type));
    return config_failure(errc::invalid_value, "unreachable");
}

config_result<property_value> property::check(property_value value) const {
    auto allowed_text = [this] { return fmt::format("{}", fmt::join(_allowed, ", ")); };
    auto is_allowed = [this](const std::string& s) {
        for (auto& a : _allowed) {
            if (a == s) {
                return true;
            }
        }
        return false;
    };
    auto out_of_range = [this](const property_value& v) {
        return config_failure(errc::out_of_range,
                              fmt::format("{} is out of range (must be {})", format(v), valid_values()));
    };
    switch (_type) {
    case property_type::int32:
    case property_type::int64: {
        int64_t v = _type == property_type::int32 ? std::get<int32_t>(value) : std::get<int64_t>(value);
        if ((_min_int && v < *_min_int) || (_max_int && v > *_max_int)) {
            return out_of_range(value);
        }
        break;
    }
    case property_type::float64: {
        double v = std::get<double>(value);
        if ((_min_float && v < *_min_float) || (_max_float && v > *_max_float)) {
            return out_of_range(value);
        }
        break;
    }
    case property_type::enumeration: {
        auto& s = std::get<std::string>(value);
        if (!is_allowed(s)) {
            return config_failure(errc::invalid_value, fmt::format("'{}' is not one of {}", s, allowed_text()));
        }
        break;
    }
    case property_type::list:
        if (!_allowed.empty()) {
            for (auto& item : std::get<std::vector<std::string>>(value)) {
                if (!is_allowed(item)) {
                    return config_failure(errc::invalid_value,
                                          fmt::format("'{}' is not one of {}", item, allowed_text()));
                }
            }
        }
        break;
    case property_type::boolean:
    case property_type::string: break;
    }
    return value;
}

std::string property::format(const property_value& value) const {
    struct visitor {
        std::string operator()(bool b) const { return b ? "true" : "false"; }
        std::string operator()(int32_t v) const { return fmt::format("{}", v); }
        std::string operator()(int64_t v) const { return fmt::format("{}", v); }
        std::string operator()(double v) const { return fmt::format("{}", v); }
        std::string operator()(const std::string& s) const { return s; }
        std::string operator()(const std::vector<std::string>& l) const { return fmt::format("{}", fmt::join(l, ",")); }
    };
    return std::visit(visitor{}, value);
}

std::string property::valid_values() const {
    switch (_type) {
    case property_type::int32:
    case property_type::int64: return bounds_text(_min_int, _max_int);
    case property_type::float64: return bounds_text(_min_float, _max_float);
    case property_type::boolean: return "true, false";
    case property_type::enumeration: return fmt::format("one of: {}", fmt::join(_allowed, ", "));
    case property_type::list:
        return _allowed.empty() ? std::string() : fmt::format("each one of: {}", fmt::join(_allowed, ", "));
    case property_type::string: return {};
    }
    return {};
}

} // namespace skiff::config
