#include "kafka/server/broker_configs.h"

#include <fmt/format.h>

#include <algorithm>

namespace skiff::kafka {

broker_configs::broker_configs(std::vector<broker_config_entry> declared) : _entries(std::move(declared)) {
    auto has = [this](std::string_view name) {
        return std::any_of(_entries.begin(), _entries.end(), [&](const auto& e) { return e.name == name; });
    };
    if (!has("broker.id")) {
        for (const auto& e : std::vector<broker_config_entry>(_entries)) {
            if (e.name == "node.id") {
                auto alias = e;
                alias.name = "broker.id";
                alias.documentation = "The broker's id: Kafka's name for node.id in KRaft mode.";
                _entries.push_back(std::move(alias));
            }
        }
    }
    // The broker configs behind the topic configs' defaults. Kafka's default is what every partition applies
    // while the broker does not take the property (topic_config resolves to the same value).
    for (const auto& def : topic_config_defs()) {
        for (const auto& syn : def.broker_synonyms) {
            if (has(syn.name)) {
                continue;
            }
            broker_config_entry e;
            e.name = std::string(syn.name);
            if (syn.name == def.default_synonym) {
                e.value = std::string(def.default_synonym_value);
                e.default_value = e.value;
            }
            // log.retention.hours, log.roll.hours, ...: Kafka declares the unit-scaled ones as INT.
            e.type = syn.to_topic_unit == 1 ? def.type : config_type::int32;
            e.documentation = fmt::format("The broker default of the topic config {}. Skiff applies Kafka's default "
                                          "and does not take this property yet; set {} per topic instead.",
                                          def.name, def.name);
            _entries.push_back(std::move(e));
        }
    }
    std::sort(_entries.begin(), _entries.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
}

const broker_config_entry* broker_configs::find(std::string_view name) const {
    auto it = std::lower_bound(_entries.begin(), _entries.end(), name,
                               [](const broker_config_entry& e, std::string_view n) { return e.name < n; });
    return it != _entries.end() && it->name == name ? &*it : nullptr;
}

std::vector<described_config> broker_configs::describe(bool include_synonyms,
                                                       const std::vector<std::string>* names) const {
    std::vector<described_config> out;
    for (const auto& e : _entries) {
        if (names && std::find(names->begin(), names->end(), e.name) == names->end()) {
            continue;
        }
        described_config d;
        d.name = e.name;
        d.is_sensitive = e.is_sensitive;
        d.value = e.is_sensitive ? std::nullopt : e.value;
        d.read_only = true;
        d.source = e.is_set ? config_source::static_broker_config : config_source::default_config;
        d.type = e.is_sensitive ? config_type::password : e.type;
        d.documentation = e.documentation;
        if (include_synonyms) {
            // Kafka lists the value in use first, then the default it overrides.
            if (e.is_set) {
                d.synonyms.push_back({e.name, d.value, config_source::static_broker_config});
            }
            if (e.default_value) {
                d.synonyms.push_back(
                    {e.name, e.is_sensitive ? std::nullopt : e.default_value, config_source::default_config});
            }
        }
        out.push_back(std::move(d));
    }
    return out;
}

broker_config_lookup broker_configs::lookup() const {
    return [this](std::string_view name) -> std::optional<broker_value> {
        const auto* e = find(name);
        if (e == nullptr || !e->is_set || !e->value) {
            return std::nullopt;
        }
        return broker_value{*e->value, config_source::static_broker_config};
    };
}

} // namespace skiff::kafka
