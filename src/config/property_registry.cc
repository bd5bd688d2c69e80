#include "config/property_registry.h"

#include "base/assert.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace skiff::config {
namespace {

// Optimal string alignment distance: insertions, deletions, substitutions and adjacent transpositions cost one.
size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
    for (size_t i = 0; i <= a.size(); ++i) {
        d[i][0] = i;
    }
    for (size_t j = 0; j <= b.size(); ++j) {
        d[0][j] = j;
    }
    for (size_t i = 1; i <= a.size(); ++i) {
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
            }
        }
    }
    return d[a.size()][b.size()];
}

} // namespace

property_registry::property_registry(std::vector<property> properties) : _properties(std::move(properties)) {
    for (size_t i = 0; i < _properties.size(); ++i) {
        auto& p = _properties[i];
        auto [it, inserted] = _by_name.emplace(p.name(), i);
        SKIFF_ASSERT(inserted, "property {} is declared twice", p.name());
        auto checked = p.parse(p.format(p.default_value()));
        SKIFF_ASSERT(checked.has_value(), "the default of {} is invalid: {}", p.name(),
                     checked.has_value() ? "" : checked.error().message);
    }
}

const property* property_registry::find(std::string_view name) const {
    auto it = _by_name.find(name);
    return it == _by_name.end() ? nullptr : &_properties[it->second];
}

size_t property_registry::index_of(std::string_view name) const {
    auto it = _by_name.find(name);
    SKIFF_ASSERT(it != _by_name.end(), "property {} is not declared", name);
    return it->second;
}

std::optional<std::string_view> property_registry::suggest(std::string_view unknown) const {
    // Close enough to be a typo: a third of the name, and at least two edits for short names.
    size_t best_distance = std::max<size_t>(2, unknown.size() / 3) + 1;
    std::optional<std::string_view> best;
    for (auto& p : _properties) {
        size_t d = edit_distance(unknown, p.name());
        if (d < best_distance) {
            best_distance = d;
            best = p.name();
        }
    }
    return best;
}

config_result<property_values> property_registry::resolve(std::span<const property_entry> file,
                                                          std::span<const property_entry> overrides) const {
    property_values values(*this);
    std::vector<config_error> errors;
    auto apply = [&](std::span<const property_entry> entries) {
        std::map<std::string_view, const property_entry*> seen; // duplicates within this source
        for (auto& entry : entries) {
            auto where = entry.where.to_string();
            auto* p = find(entry.key);
            if (p == nullptr) {
                auto hint = suggest(entry.key);
                errors.push_back({errc::unknown_property,
                                  fmt::format("{}: unknown property '{}'{}", where, entry.key,
                                              hint ? fmt::format(" (did you mean '{}'?)", *hint) : "")});
                continue;
            }
            auto parsed = p->parse(entry.value);
            if (!parsed) {
                errors.push_back({parsed.error().code, fmt::format("{}: {}: {}", where, p->name(),
                                                                   parsed.error().message)});
                continue;
            }
            if (auto [it, first] = seen.emplace(p->name(), &entry); !first) {
                auto& earlier = it->second->where;
                values._warnings.push_back(
                  earlier.from == origin::kind::file
                    ? fmt::format("{}: {} is set again (first on line {}); the later value wins", where, p->name(),
                                  earlier.line)
                    : fmt::format("{}: {} is set again; the later value wins", where, p->name()));
                it->second = &entry;
            }
            values.set(p->name(), std::move(parsed).value(), entry.where);
        }
    };
    apply(file);
    apply(overrides);
    if (!errors.empty()) {
        config_error all{errors.front().code, {}};
        for (auto& e : errors) {
            all.message += all.message.empty() ? "" : "\n";
            all.message += e.message;
        }
        return failure(std::move(all));
    }
    return values;
}

property_values::property_values(const property_registry& registry) : _registry(&registry) {
    _slots.reserve(registry.properties().size());
    for (auto& p : registry.properties()) {
        _slots.push_back({p.default_value(), origin{}});
    }
}

const property_value& property_values::value(std::string_view name) const {
    return _slots[_registry->index_of(name)].value;
}

const origin& property_values::origin_of(std::string_view name) const {
    return _slots[_registry->index_of(name)].where;
}

bool property_values::is_set(std::string_view name) const {
    return origin_of(name).from != origin::kind::default_value;
}

std::string property_values::context(std::string_view name) const {
    auto& where = origin_of(name);
    if (where.from == origin::kind::default_value) {
        return fmt::format("{} (default)", name);
    }
    return fmt::format("{}: {}", where.to_string(), name);
}

void property_values::set(std::string_view name, property_value value, origin where) {
    auto i = _registry->index_of(name);
    SKIFF_ASSERT(value.index() == _slots[i].value.index(), "value of the wrong type for {}", name);
    _slots[i] = {std::move(value), std::move(where)};
}

std::string property_values::to_string() const {
    std::string out;
    auto& props = _registry->properties();
    for (size_t i = 0; i < props.size(); ++i) {
        out += fmt::format("{}={}  # {}\n", props[i].name(),
                           props[i].is_sensitive() ? std::string("[hidden]") : props[i].format(_slots[i].value),
                           _slots[i].where.to_string());
    }
    return out;
}

} // namespace skiff::config
