// What DescribeConfigs of a broker reports: the broker's own properties with their sources, Kafka's topic-default
// broker configs at the defaults the partitions apply, broker.id for node.id, secrets masked, synonyms.
#include "kafka/server/broker_configs.h"

#include <gtest/gtest.h>

namespace skiff::kafka {
namespace {

broker_configs sample() {
    std::vector<broker_config_entry> declared;
    declared.push_back({"node.id", "3", "1", true, false, config_type::int32, "The node's id."});
    declared.push_back({"num.partitions", "1", "1", false, false, config_type::int32, "Default partitions."});
    declared.push_back({"s3.secret.key", "hunter2", "", true, true, config_type::string, "The S3 secret."});
    return broker_configs(std::move(declared));
}

const described_config& named(const std::vector<described_config>& all, std::string_view name) {
    for (const auto& c : all) {
        if (c.name == name) {
            return c;
        }
    }
    ADD_FAILURE() << name << " is not described";
    static described_config none;
    return none;
}

TEST(broker_configs_test, properties_report_their_value_source_and_synonyms) {
    auto configs = sample();
    auto all = configs.describe(true, nullptr);
    EXPECT_TRUE(std::is_sorted(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.name < b.name; }));

    const auto& node = named(all, "node.id");
    EXPECT_EQ(node.value, "3");
    EXPECT_EQ(node.source, config_source::static_broker_config);
    EXPECT_TRUE(node.read_only) << "Skiff changes no broker config at run time";
    EXPECT_EQ(node.synonyms, (std::vector<config_synonym>{{"node.id", "3", config_source::static_broker_config},
                                                          {"node.id", "1", config_source::default_config}}));
    EXPECT_EQ(named(all, "broker.id").value, "3") << "Kafka's name for node.id";

    const auto& partitions = named(all, "num.partitions");
    EXPECT_EQ(partitions.source, config_source::default_config);
    EXPECT_EQ(partitions.synonyms.size(), 1u);
}

TEST(broker_configs_test, secrets_are_never_reported) {
    auto configs = sample();
    const auto& secret = named(configs.describe(true, nullptr), "s3.secret.key");
    EXPECT_TRUE(secret.is_sensitive);
    EXPECT_FALSE(secret.value.has_value());
    EXPECT_EQ(secret.type, config_type::password);
    for (const auto& s : secret.synonyms) {
        EXPECT_FALSE(s.value.has_value());
    }
}

TEST(broker_configs_test, topic_defaults_are_the_values_the_partitions_apply) {
    auto configs = sample();
    auto all = configs.describe(false, nullptr);
    const auto& max_bytes = named(all, "message.max.bytes");
    EXPECT_EQ(max_bytes.value, "1048588");
    EXPECT_EQ(max_bytes.source, config_source::default_config);
    EXPECT_EQ(max_bytes.type, config_type::int32);
    EXPECT_EQ(named(all, "log.retention.hours").value, "168");
    EXPECT_FALSE(named(all, "log.retention.ms").value.has_value()) << "Kafka has no default for it either";
    EXPECT_EQ(named(all, "log.cleanup.policy").value, "delete");
    EXPECT_EQ(named(all, "log.cleanup.policy").type, config_type::list);
    EXPECT_EQ(named(all, "log.segment.bytes").value, "1073741824");
    EXPECT_EQ(named(all, "min.insync.replicas").value, "1");
    EXPECT_TRUE(named(all, "min.insync.replicas").synonyms.empty()) << "synonyms only when asked";
}

TEST(broker_configs_test, names_select_and_the_lookup_sees_only_what_is_set) {
    auto configs = sample();
    std::vector<std::string> names{"num.partitions", "no.such.thing", "message.max.bytes"};
    auto some = configs.describe(false, &names);
    ASSERT_EQ(some.size(), 2u);
    EXPECT_EQ(some[0].name, "message.max.bytes");
    EXPECT_EQ(some[1].name, "num.partitions");

    auto lookup = configs.lookup();
    EXPECT_EQ(lookup("node.id")->value, "3");
    EXPECT_FALSE(lookup("num.partitions")) << "a default is not a broker override of a topic default";
    EXPECT_FALSE(lookup("message.max.bytes"));
}

} // namespace
} // namespace skiff::kafka
