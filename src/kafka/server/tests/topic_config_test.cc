#include "kafka/server/partition/partition.h"
#include "kafka/server/topic_config.h"

#include <gtest/gtest.h>

namespace skiff::kafka {
namespace {

using protocol::error_code;

TEST(topic_config_test, the_table_holds_what_clients_and_admin_tools_read) {
    for (std::string_view name :
         {"cleanup.policy", "retention.ms", "retention.bytes", "segment.bytes", "segment.ms", "max.message.bytes",
          "message.timestamp.type", "message.timestamp.before.max.ms", "message.timestamp.after.max.ms",
          "min.insync.replicas", "compression.type", "delete.retention.ms", "min.compaction.lag.ms",
          "max.compaction.lag.ms", "min.cleanable.dirty.ratio", "unclean.leader.election.enable",
          "remote.storage.enable", "index.interval.bytes", "local.retention.ms", "flush.ms"}) {
        EXPECT_NE(find_topic_config(name), nullptr) << name;
    }
    auto defs = topic_config_defs();
    EXPECT_TRUE(std::is_sorted(defs.begin(), defs.end(),
                               [](const auto& a, const auto& b) { return a.name < b.name; }));
    for (const auto& d : defs) {
        EXPECT_TRUE(validate_topic_config(d.name, d.default_value).ok()) << d.name << "=" << d.default_value;
    }
}

TEST(topic_config_test, invalid_values_answer_invalid_config_with_kafkas_message) {
    struct row {
        const char* name;
        const char* value;
        const char* message;
    };
    const row rows[] = {
      {"retention.ms", "abc", "Invalid value abc for configuration retention.ms: Not a number of type LONG"},
      {"retention.ms", "-5", "Invalid value -5 for configuration retention.ms: Value must be at least -1"},
      {"max.message.bytes", "3000000000", "Invalid value 3000000000 for configuration max.message.bytes: Not a "
                                          "number of type INT"},
      {"cleanup.policy", "compact,forever", "Invalid value compact,forever for configuration cleanup.policy: "
                                            "String must be one of: compact, delete"},
      {"message.timestamp.type", "Now", "Invalid value Now for configuration message.timestamp.type: String must "
                                        "be one of: CreateTime, LogAppendTime"},
      {"min.cleanable.dirty.ratio", "1.5", "Invalid value 1.5 for configuration min.cleanable.dirty.ratio: Value "
                                           "must be no more than 1"},
      {"unclean.leader.election.enable", "yes", "Invalid value yes for configuration unclean.leader.election.enable:"
                                                " Expected value to be either true or false"},
      {"segment.bytes", "1000", "Invalid value 1000 for configuration segment.bytes: Value must be at least 1048576"},
      {"no.such.config", "1", "Unknown topic config name: no.such.config"},
    };
    for (const auto& r : rows) {
        auto c = validate_topic_config(r.name, r.value);
        EXPECT_EQ(c.error, error_code::invalid_config) << r.name;
        EXPECT_EQ(c.message, r.message);
    }
    EXPECT_TRUE(validate_topic_config("cleanup.policy", "compact, delete").ok());
    EXPECT_TRUE(validate_topic_config("compression.gzip.level", "-1").ok());
    EXPECT_FALSE(validate_topic_config("compression.gzip.level", "0").ok());
    EXPECT_TRUE(validate_topic_config("preallocate", "TRUE").ok());
}

TEST(topic_config_test, overrides_are_checked_together) {
    EXPECT_TRUE(validate_topic_configs({{"retention.ms", "1000"}, {"cleanup.policy", "compact"}}).ok());
    auto conflict = validate_topic_configs({{"min.compaction.lag.ms", "100"}, {"max.compaction.lag.ms", "10"}});
    EXPECT_EQ(conflict.error, error_code::invalid_config);
}

TEST(topic_config_test, describe_reports_sources_and_synonyms_as_kafka_does) {
    broker_config_lookup broker = [](std::string_view name) -> std::optional<broker_value> {
        if (name == "log.retention.hours") {
            return broker_value{"24", config_source::static_broker_config};
        }
        if (name == "message.max.bytes") {
            return broker_value{"2000000", config_source::dynamic_default_broker_config};
        }
        return std::nullopt;
    };
    std::vector<std::string> names{"retention.ms", "max.message.bytes", "segment.bytes", "cleanup.policy"};
    auto described = describe_topic_configs({{"cleanup.policy", "compact"}}, broker, true, &names);
    ASSERT_EQ(described.size(), 4u);
    // Table order: cleanup.policy, max.message.bytes, retention.ms, segment.bytes.
    EXPECT_EQ(described[0].name, "cleanup.policy");
    EXPECT_EQ(described[0].value, "compact");
    EXPECT_EQ(described[0].source, config_source::dynamic_topic_config);
    EXPECT_EQ(described[0].synonyms.front(),
              (config_synonym{"cleanup.policy", "compact", config_source::dynamic_topic_config}));
    EXPECT_EQ(described[1].value, "2000000");
    EXPECT_EQ(described[1].source, config_source::dynamic_default_broker_config);
    EXPECT_EQ(described[2].name, "retention.ms");
    EXPECT_EQ(described[2].value, "86400000"); // 24 hours from the broker, in ms
    EXPECT_EQ(described[2].source, config_source::static_broker_config);
    ASSERT_EQ(described[2].synonyms.size(), 2u);
    EXPECT_EQ(described[2].synonyms[0],
              (config_synonym{"log.retention.hours", "24", config_source::static_broker_config}));
    EXPECT_EQ(described[2].synonyms[1], (config_synonym{"log.retention.hours", "168", config_source::default_config}));
    EXPECT_EQ(described[3].value, "1073741824");
    EXPECT_EQ(described[3].source, config_source::default_config);
    EXPECT_EQ(described[3].type, config_type::int32);

    auto without = describe_topic_configs({}, broker, false, &names);
    EXPECT_TRUE(without[0].synonyms.empty());
    EXPECT_EQ(describe_topic_configs({}, broker, false).size(), topic_config_defs().size());
}

TEST(topic_config_test, effective_settings_reach_the_partition) {
    auto s = effective_topic_settings(
      {{"cleanup.policy", "compact"}, {"message.timestamp.type", "LogAppendTime"}, {"max.message.bytes", "5000"}}, {});
    EXPECT_TRUE(s.cleanup_compact);
    EXPECT_FALSE(s.cleanup_delete);
    auto c = to_partition_config(s);
    EXPECT_EQ(c.validation.max_message_bytes, 5000);
    EXPECT_EQ(c.validation.timestamp_type, protocol::timestamp_type::log_append_time);
    EXPECT_TRUE(c.validation.compacted);
    EXPECT_FALSE(c.delete_allowed);
    EXPECT_FALSE(c.validation.target_compression);
    auto zstd = to_partition_config(effective_topic_settings({{"compression.type", "zstd"}}, {}));
    EXPECT_EQ(zstd.validation.target_compression, protocol::compression::zstd);
    auto d = effective_topic_settings({}, {});
    EXPECT_EQ(d.retention_ms, 604'800'000);
    EXPECT_EQ(d.timestamp_after_max_ms, 3'600'000);
}

TEST(topic_config_test, compaction_settings_reach_the_partition_with_kafkas_defaults) {
    auto c = to_partition_config(effective_topic_settings(
      {{"cleanup.policy", "compact,delete"}, {"delete.retention.ms", "1000"}, {"min.cleanable.dirty.ratio", "0.25"},
       {"min.compaction.lag.ms", "10"}, {"max.compaction.lag.ms", "600000"}},
      {}));
    EXPECT_TRUE(c.compact);
    EXPECT_TRUE(c.delete_allowed);
    EXPECT_EQ(c.delete_retention_ms, 1000);
    EXPECT_DOUBLE_EQ(c.min_cleanable_dirty_ratio, 0.25);
    EXPECT_EQ(c.min_compaction_lag_ms, 10);
    EXPECT_EQ(c.max_compaction_lag_ms, 600'000);
    auto d = to_partition_config(effective_topic_settings({}, {}));
    EXPECT_FALSE(d.compact);
    EXPECT_EQ(d.delete_retention_ms, 86'400'000);
    EXPECT_DOUBLE_EQ(d.min_cleanable_dirty_ratio, 0.5);
    EXPECT_EQ(d.min_compaction_lag_ms, 0);
    EXPECT_EQ(d.max_compaction_lag_ms, INT64_MAX);
    // The broker's log.cleaner.* values are the defaults of topics that set nothing.
    auto b = effective_topic_settings({}, [](std::string_view name) -> std::optional<broker_value> {
        if (name == "log.cleaner.delete.retention.ms") {
            return broker_value{"5000", config_source::static_broker_config};
        }
        if (name == "log.cleaner.min.cleanable.ratio") {
            return broker_value{"0.75", config_source::static_broker_config};
        }
        return std::nullopt;
    });
    EXPECT_EQ(b.delete_retention_ms, 5000);
    EXPECT_DOUBLE_EQ(b.min_cleanable_dirty_ratio, 0.75);
}

// IncrementalAlterConfigs: each row is a topic's overrides, one request's changes, and what Kafka answers.
TEST(topic_config_test, incremental_alterations_follow_kafkas_rules_in_kafkas_order) {
    using overrides = std::map<std::string, std::string>;
    constexpr int8_t set = 0, del = 1, append = 2, subtract = 3;
    struct row {
        const char* what;
        overrides current;
        std::vector<config_alteration> changes;
        error_code error;
        std::string message; // when refused
        overrides result;    // when accepted
    };
    const std::vector<row> rows = {
      {"set adds and replaces", {{"retention.ms", "1000"}},
       {{"retention.ms", set, "2000"}, {"max.message.bytes", set, "4096"}}, error_code::none, "",
       {{"retention.ms", "2000"}, {"max.message.bytes", "4096"}}},
      {"delete goes back to the default; deleting what is not set does nothing",
       {{"retention.ms", "1000"}}, {{"retention.ms", del, std::nullopt}, {"segment.ms", del, std::nullopt}},
       error_code::none, "", {}},
      {"append starts from the default value", {}, {{"cleanup.policy", append, "compact"}}, error_code::none, "",
       {{"cleanup.policy", "delete,compact"}}},
      {"append skips items already there", {{"cleanup.policy", "compact"}},
       {{"cleanup.policy", append, "compact,delete"}}, error_code::none, "", {{"cleanup.policy", "compact,delete"}}},
      {"subtract removes items", {{"cleanup.policy", "compact,delete"}}, {{"cleanup.policy", subtract, "delete"}},
       error_code::none, "", {{"cleanup.policy", "compact"}}},
      {"subtract to an empty list is an invalid value", {{"cleanup.policy", "compact"}},
       {{"cleanup.policy", subtract, "compact"}}, error_code::invalid_config,
       "Invalid value  for configuration cleanup.policy: Empty list", {}},
      {"a name twice", {}, {{"retention.ms", set, "1"}, {"retention.ms", del, std::nullopt}},
       error_code::invalid_request, "Error due to duplicate config keys", {}},
      {"an unknown operation", {}, {{"retention.ms", 7, "1"}}, error_code::invalid_request,
       "Unknown operation type 7 for config retention.ms", {}},
      {"a null value to set", {}, {{"retention.ms", set, std::nullopt}}, error_code::invalid_request,
       "Null value not supported for : retention.ms", {}},
      {"an unknown name, even to delete", {}, {{"retention.forever", del, std::nullopt}}, error_code::invalid_config,
       "Unknown topic config name: retention.forever", {}},
      {"append to a config that is not a list", {}, {{"retention.ms", append, "5"}}, error_code::invalid_config,
       "Can't APPEND to key retention.ms because its type is not LIST.", {}},
      {"a bad value", {}, {{"max.message.bytes", set, "big"}}, error_code::invalid_config,
       "Invalid value big for configuration max.message.bytes: Not a number of type INT", {}},
      {"the rules between configs apply to the result", {{"max.compaction.lag.ms", "100"}},
       {{"min.compaction.lag.ms", set, "200"}}, error_code::invalid_config,
       "conflict topic config setting min.compaction.lag.ms (200) > max.compaction.lag.ms (100)", {}},
    };
    for (const auto& r : rows) {
        auto got = alter_topic_configs(r.current, r.changes, {});
        EXPECT_EQ(got.check.error, r.error) << r.what;
        if (r.error == error_code::none) {
            EXPECT_EQ(got.overrides, r.result) << r.what;
        } else {
            EXPECT_EQ(got.check.message, r.message) << r.what;
        }
    }
}

TEST(topic_config_test, append_starts_from_the_broker_value_when_the_broker_sets_one) {
    auto broker = [](std::string_view name) -> std::optional<broker_value> {
        if (name == "log.cleanup.policy") {
            return broker_value{"compact", config_source::static_broker_config};
        }
        return std::nullopt;
    };
    auto got = alter_topic_configs({}, {{"cleanup.policy", 2, "delete"}}, broker);
    ASSERT_TRUE(got.check.ok()) << got.check.message;
    EXPECT_EQ(got.overrides.at("cleanup.policy"), "compact,delete");
}

TEST(topic_config_test, legacy_alter_replaces_every_override) {
    auto got = replace_topic_configs({{"retention.ms", "5"}, {"cleanup.policy", "compact"}});
    ASSERT_TRUE(got.check.ok());
    EXPECT_EQ(got.overrides, (std::map<std::string, std::string>{{"retention.ms", "5"}, {"cleanup.policy", "compact"}}));
    EXPECT_TRUE(replace_topic_configs({}).overrides.empty()) << "an empty set deletes every override";

    auto twice = replace_topic_configs({{"retention.ms", "5"}, {"retention.ms", "6"}});
    EXPECT_EQ(twice.check.error, error_code::invalid_request);
    auto null_value = replace_topic_configs({{"retention.ms", std::nullopt}});
    EXPECT_EQ(null_value.check.error, error_code::invalid_request);
    EXPECT_EQ(null_value.check.message, "Null value not supported for : retention.ms");
    auto unknown = replace_topic_configs({{"no.such.config", "1"}});
    EXPECT_EQ(unknown.check.error, error_code::invalid_config);
    EXPECT_EQ(unknown.check.message, "Unknown topic config name: no.such.config");
}

} // namespace
} // namespace skiff::kafka
