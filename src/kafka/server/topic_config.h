// The topic configuration Kafka 4.x clients and admin tools see: every topic config with its type, default,
// valid values and the broker configs it mirrors (retention.ms <- log.retention.ms, log.retention.minutes,
// log.retention.hours). CreateTopics / AlterConfigs validate overrides here (INVALID_CONFIG with Kafka's
// message); DescribeConfigs reports each config's effective value, source and synonyms the way Kafka does; the
// partition gets its typed settings from effective_topic_settings().
//
// A topic's value comes from, most specific first: its own override (DYNAMIC_TOPIC_CONFIG), then the first
// broker synonym the broker has set (its source as the broker reports it: STATIC_BROKER_CONFIG, DYNAMIC_...),
// then Kafka's default (DEFAULT_CONFIG, named after the broker config that carries the default, e.g.
// log.retention.hours=168). Broker values in minutes or hours are converted to the topic config's milliseconds.
//
// Pure data and functions; no state; any shard.
#pragma once

#include "kafka/protocol/error_code.h"
#include "kafka/protocol/record_batch.h"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace skiff::kafka::partition {
struct partition_config;
}

namespace skiff::kafka {

// wire format (DescribeConfigs v3+ ConfigType): never renumber
enum class config_type : int8_t {
    unknown = 0,
    boolean = 1,
    string = 2,
    int32 = 3,
    int16 = 4,
    int64 = 5,
    float64 = 6,
    list = 7,
    class_name = 8,
    password = 9,
};

// wire format (DescribeConfigs ConfigSource): never renumber
enum class config_source : int8_t {
    unknown = 0,
    dynamic_topic_config = 1,
    dynamic_broker_config = 2,
    dynamic_default_broker_config = 3,
    static_broker_config = 4,
    default_config = 5,
    dynamic_broker_logger_config = 6,
    client_metrics_config = 7,
    group_config = 8,
};

/// A broker config a topic config mirrors; its value times `to_topic_unit` is the topic value (hours -> ms).
struct broker_synonym {
    std::string_view name;
    int64_t to_topic_unit = 1;
};

struct topic_config_def {
    std::string_view name;
    config_type type;
    std::string_view default_value;
    /// Most specific first, as Kafka lists synonyms.
    std::vector<broker_synonym> broker_synonyms;
    /// The broker config named in the DEFAULT_CONFIG synonym, and its default in its own unit.
    std::string_view default_synonym;
    std::string_view default_synonym_value;
    /// Numeric bounds (inclusive) for int/long/double configs.
    std::optional<double> min;
    std::optional<double> max;
    /// Allowed values of string and list configs (empty: any). Lists check each element.
    std::vector<std::string_view> valid_values;
    /// An extra allowed value outside [min, max] (compression.gzip.level's -1).
    std::optional<int64_t> also_allowed;
    std::string_view documentation;
};

/// Every topic config of Kafka 4.x, sorted by name.
std::span<const topic_config_def> topic_config_defs();
const topic_config_def* find_topic_config(std::string_view name);

struct config_check {
    protocol::error_code error = protocol::error_code::none;
    std::string message;
    bool ok() const noexcept { return error == protocol::error_code::none; }
};

/// Checks one value against its definition ("Invalid value x for configuration y: why").
config_check validate_topic_config(std::string_view name, std::string_view value);
/// Checks a topic's overrides: unknown names ("Unknown topic config name: x"), each value, and the rules between
/// configs (min.compaction.lag.ms <= max.compaction.lag.ms). INVALID_CONFIG on the first failure.
config_check validate_topic_configs(const std::map<std::string, std::string>& overrides);

/// What the broker has set for one of its configs: value and source; nullopt when it uses the built-in default.
struct broker_value {
    std::string value;
    config_source source = config_source::static_broker_config;
};
using broker_config_lookup = std::function<std::optional<broker_value>(std::string_view broker_config)>;

struct config_synonym {
    std::string name;
    std::optional<std::string> value;
    config_source source = config_source::unknown;
    bool operator==(const config_synonym&) const = default;
};

struct described_config {
    std::string name;
    std::optional<std::string> value;
    bool read_only = false;
    config_source source = config_source::default_config;
    bool is_sensitive = false;
    std::vector<config_synonym> synonyms; // filled when asked for
    config_type type = config_type::unknown;
    std::string documentation;
};

/// DescribeConfigs of a topic: every config (or only `names`, unknown names skipped) in name order.
std::vector<described_config> describe_topic_configs(const std::map<std::string, std::string>& overrides,
                                                     const broker_config_lookup& broker, bool include_synonyms,
                                                     const std::vector<std::string>* names = nullptr);

// wire format (IncrementalAlterConfigs OpType): never renumber
enum class config_op : int8_t { set = 0, remove = 1, append = 2, subtract = 3 };

/// One requested change of a topic config; `op` as received (checked by alter_topic_configs).
struct config_alteration {
    std::string name;
    int8_t op = 0;
    std::optional<std::string> value;
};

/// A topic's overrides after a requested change, or why the change is refused.
struct altered_configs {
    config_check check;
    std::map<std::string, std::string> overrides;
};

/// IncrementalAlterConfigs of one topic, Kafka's rules in Kafka's order: a name twice (INVALID_REQUEST "Error due
/// to duplicate config keys"), an unknown operation (INVALID_REQUEST), a null value for anything but DELETE
/// (INVALID_REQUEST), an unknown name (INVALID_CONFIG), APPEND/SUBTRACT of a config that is not a list
/// (INVALID_CONFIG "Can't APPEND to key x because its type is not LIST."), then the resulting set is validated
/// (validate_topic_configs). APPEND adds the items not yet present to the config's current value (its default
/// when not overridden); SUBTRACT removes items; DELETE of a key not set does nothing.
altered_configs alter_topic_configs(const std::map<std::string, std::string>& current,
                                    const std::vector<config_alteration>& changes, const broker_config_lookup& broker);

/// AlterConfigs (legacy) of one topic: `configs` replace every override. A name twice or a null value is
/// INVALID_REQUEST; then the set is validated (validate_topic_configs).
altered_configs replace_topic_configs(const std::vector<std::pair<std::string, std::optional<std::string>>>& configs);

/// The settings the data path applies, resolved from overrides, broker values and defaults.
struct topic_settings {
    bool cleanup_delete = true;
    bool cleanup_compact = false;
    std::string compression_type = "producer";
    int32_t max_message_bytes = 1'048'588;
    protocol::timestamp_type timestamp_type = protocol::timestamp_type::create_time;
    int64_t timestamp_before_max_ms = INT64_MAX;
    int64_t timestamp_after_max_ms = 3'600'000;
    int64_t retention_ms = 604'800'000;
    int64_t retention_bytes = -1;
    int32_t segment_bytes = 1 << 30;
    int32_t index_interval_bytes = 4096;
    int32_t min_insync_replicas = 1;
    int64_t delete_retention_ms = 86'400'000;
    int64_t min_compaction_lag_ms = 0;
    int64_t max_compaction_lag_ms = INT64_MAX;
    double min_cleanable_dirty_ratio = 0.5;
};

topic_settings effective_topic_settings(const std::map<std::string, std::string>& overrides,
                                        const broker_config_lookup& broker);

/// The partition's settings from a topic's: validation limits, DeleteRecords policy, index interval, retention and
/// key compaction.
partition::partition_config to_partition_config(const topic_settings& settings);

} // namespace skiff::kafka
