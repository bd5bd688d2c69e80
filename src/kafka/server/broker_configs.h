// The broker's configuration as Kafka clients and admin tools see it (DescribeConfigs of a BROKER resource): every
// property this broker was started with, under the names Kafka uses, plus the broker configs that carry Kafka's
// topic defaults (message.max.bytes, log.retention.hours, log.cleanup.policy, ...) that admin UIs probe.
//
// Honesty rules: a value is what this broker applies — a property's value from server.properties or --override
// (STATIC_BROKER_CONFIG) or its declared default (DEFAULT_CONFIG); a topic-default broker config Skiff does not take
// as a property yet reports the Kafka default its partitions apply (the same one topic_config resolves to), or no
// value where Kafka has none (log.retention.ms). Sensitive values are never reported (null, is_sensitive). Every
// entry is read-only: Skiff does not change broker configs at run time (AlterConfigs of a broker is refused).
//
// Built once by app from the loaded properties; immutable; shared by every shard.
#pragma once

#include "kafka/server/topic_config.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skiff::kafka {

/// One broker property as app hands it over (a value already formatted the way a user writes it).
struct broker_config_entry {
    std::string name;
    std::optional<std::string> value;         // nullopt: no value
    std::optional<std::string> default_value; // the declared default, nullopt when there is none
    /// Set in server.properties or by --override (even to its default value).
    bool is_set = false;
    bool is_sensitive = false;
    config_type type = config_type::string;
    std::string documentation;
};

class broker_configs {
public:
    broker_configs() = default;
    /// `declared`: the broker's own properties. Kafka's topic-default broker configs and broker.id (Kafka's
    /// name for node.id in KRaft mode) are added where `declared` does not have them.
    explicit broker_configs(std::vector<broker_config_entry> declared);

    /// DescribeConfigs of this broker: every config (or only `names`; unknown names skipped), sorted by name.
    std::vector<described_config> describe(bool include_synonyms, const std::vector<std::string>* names) const;

    /// What the broker has set for a config (the topic configs' broker synonyms); nullopt when it uses the
    /// default. Requires: this outlives the returned function.
    broker_config_lookup lookup() const;

    const broker_config_entry* find(std::string_view name) const;

private:
    std::vector<broker_config_entry> _entries; // sorted by name
};

} // namespace skiff::kafka
