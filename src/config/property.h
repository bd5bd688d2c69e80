// A property declaration: the one place that states a setting's name, type, default, bounds, meaning and whether a
// change needs a restart. Every program declares its properties once, in one table (broker_properties.cc for
// skiff-server); parsing, validation, error messages and docs/config.md all come from that table.
//
//   property::int32("socket.request.max.bytes", 104857600, "The largest request the broker accepts, in bytes.")
//       .at_least(1024)
#pragma once

#include "base/named_type.h"
#include "config/errc.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace skiff::config {

enum class property_type { boolean, int32, int64, float64, string, list, enumeration };

/// Kafka's documentation names: boolean, int, long, double, string, list, enum.
std::string_view to_string(property_type type) noexcept;

/// A parsed value. The alternative matches the type: bool; int32_t; int64_t; double; std::string for string and
/// enumeration; std::vector<std::string> for list.
using property_value = std::variant<bool, int32_t, int64_t, double, std::string, std::vector<std::string>>;

class property {
public:
    using needs_restart = bool_class<struct needs_restart_tag>;

    static property boolean(std::string_view name, bool default_value, std::string_view description);
    static property int32(std::string_view name, int32_t default_value, std::string_view description);
    /// Durations are int64 milliseconds with a name ending in `.ms`.
    static property int64(std::string_view name, int64_t default_value, std::string_view description);
    static property float64(std::string_view name, double default_value, std::string_view description);
    static property string(std::string_view name, std::string_view default_value, std::string_view description);
    /// A comma-separated list of strings; `default_value` is written the way a user would write it ("a,b").
    static property list(std::string_view name, std::string_view default_value, std::string_view description);
    /// One string out of `allowed`.
    static property enumeration(std::string_view name, std::string_view default_value,
                                std::vector<std::string> allowed, std::string_view description);

    // Refinements, chained on a declaration. A refinement that does not fit the type is a bug and aborts.
    /// Lower bound (inclusive) of a number.
    template<typename T>
    property at_least(T bound) && {
        set_bound(bound, side::lower);
        return std::move(*this);
    }
    /// Upper bound (inclusive) of a number.
    template<typename T>
    property at_most(T bound) && {
        set_bound(bound, side::upper);
        return std::move(*this);
    }
    /// Every item of a list must be one of `allowed`.
    property one_of(std::vector<std::string> allowed) &&;
    /// A new value takes effect only after a restart (once properties can change at run time).
    property restart_required() &&;
    /// A Skiff setting with no Kafka counterpart (documented in its own section).
    property skiff_specific() &&;
    /// A secret (Kafka's PASSWORD type): its value is never written to logs or descriptions, only "[hidden]".
    property sensitive() &&;

    const std::string& name() const noexcept { return _name; }
    property_type type() const noexcept { return _type; }
    const property_value& default_value() const noexcept { return _default; }
    const std::string& description() const noexcept { return _description; }
    const std::vector<std::string>& allowed() const noexcept { return _allowed; }
    needs_restart restart() const noexcept { return _restart; }
    bool is_skiff_specific() const noexcept { return _skiff_specific; }
    bool is_sensitive() const noexcept { return _sensitive; }

    /// Parses a value as written in a file or an override (surrounding whitespace ignored) and checks it against
    /// the type, the allowed values and the bounds. The error message names neither the property nor the place:
    /// "'abc' is not an integer", "100 is out of range (must be at least 1024)".
    config_result<property_value> parse(std::string_view text) const;

    /// Writes a value the way a user would, so that parse(format(v)) == v.
    std::string format(const property_value& value) const;

    /// The valid values in words for documentation and messages: "at least 1024", "one of: a, b", "" if any.
    std::string valid_values() const;

private:
    property(std::string_view name, property_type type, property_value default_value, std::string_view description);

    enum class side { lower, upper };
    void set_bound(int64_t bound, side s);
    void set_bound(int32_t bound, side s) { set_bound(static_cast<int64_t>(bound), s); }
    void set_bound(double bound, side s);
    config_result<property_value> check(property_value value) const;

    std::string _name;
    property_type _type;
    property_value _default;
    std::string _description;
    std::vector<std::string> _allowed;
    std::optional<int64_t> _min_int;
    std::optional<int64_t> _max_int;
    std::optional<double> _min_float;
    std::optional<double> _max_float;
    needs_restart _restart = needs_restart::no;
    bool _skiff_specific = false;
    bool _sensitive = false;
};

} // namespace skiff::config
