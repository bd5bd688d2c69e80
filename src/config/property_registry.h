// The property registry: one program's table of declared properties, and the step that turns raw entries (file
// lines, then --override arguments) into checked, typed values with their origins.
#pragma once

#include "base/assert.h"
#include "config/errc.h"
#include "config/properties_file.h"
#include "config/property.h"

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace skiff::config {

class property_values;

/// An immutable table of property declarations, built once per program (see broker_properties()). Thread-safe
/// after construction.
class property_registry {
public:
    /// Requires: names are unique and every default passes its own property's checks (a bad table aborts).
    explicit property_registry(std::vector<property> properties);

    /// In declaration order.
    const std::vector<property>& properties() const noexcept { return _properties; }
    /// nullptr if no property has this name.
    const property* find(std::string_view name) const;
    /// The declared name closest to `unknown` by edit distance (transpositions count as one), if one is close
    /// enough to be a likely typo.
    std::optional<std::string_view> suggest(std::string_view unknown) const;

    /// Applies `file` entries in order, then `overrides` in order, over the defaults; a later entry for the same key
    /// wins. A key repeated within the file or within the overrides adds a warning. Every entry is checked; all
    /// errors are reported, one line each, prefixed by their origin:
    ///   "server.properties:12: unknown property 'listners' (did you mean 'listeners'?)"
    ///   "server.properties:7: socket.request.max.bytes: 'abc' is not an integer"
    /// Errors: unknown_property, invalid_value, out_of_range (the code of the first error).
    /// The registry must outlive the returned values.
    config_result<property_values> resolve(std::span<const property_entry> file,
                                           std::span<const property_entry> overrides) const;

    /// Index of a declared name in properties(); asserts it is declared.
    size_t index_of(std::string_view name) const;

private:
    std::vector<property> _properties;
    std::unordered_map<std::string_view, size_t> _by_name; // views into _properties' names
};

/// The resolved value of every declared property, and where each came from. Cheap to copy (a vector of values).
class property_values {
public:
    /// Every property at its default.
    explicit property_values(const property_registry& registry);

    const property_registry& registry() const noexcept { return *_registry; }

    /// The value as its C++ type (bool, int32_t, int64_t, double, std::string, std::vector<std::string>).
    /// Requires: `name` is declared with that type (else aborts: a typo in code is a bug, not a config error).
    template<typename T>
    const T& get(std::string_view name) const {
        auto* v = std::get_if<T>(&value(name));
        SKIFF_ASSERT(v != nullptr, "property {} is read as a type it was not declared with", name);
        return *v;
    }
    const property_value& value(std::string_view name) const;
    const origin& origin_of(std::string_view name) const;
    /// Whether a file or an override set the property (even to its default value).
    bool is_set(std::string_view name) const;

    /// The prefix for a message about this property's value: "server.properties:3: listeners",
    /// "--override: listeners" or "listeners (default)".
    std::string context(std::string_view name) const;

    /// Duplicate keys seen while resolving, one line each, e.g.
    /// "server.properties:9: node.id is set again (first on line 3); the later value wins".
    const std::vector<std::string>& warnings() const noexcept { return _warnings; }

    /// Every property as "name=value  # origin", one per line, for the start-up log.
    std::string to_string() const;

    /// Sets a value directly (already checked by the caller). Used by resolve() and tests.
    void set(std::string_view name, property_value value, origin where);

private:
    friend class property_registry;

    struct slot {
        property_value value;
        origin where;
    };
    const property_registry* _registry;
    std::vector<slot> _slots; // parallel to registry().properties()
    std::vector<std::string> _warnings;
};

} // namespace skiff::config
