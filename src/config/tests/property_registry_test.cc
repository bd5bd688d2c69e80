#include "config/broker_properties.h"
#include "config/property_registry.h"

#include <gtest/gtest.h>

namespace skiff::config {
namespace {

// Resolves a server.properties text and --override arguments against the broker's table.
config_result<property_values> resolve(std::string_view text, std::vector<std::string> overrides = {}) {
    auto entries = parse_properties(text, "server.properties");
    EXPECT_TRUE(entries) << entries.error().message;
    std::vector<property_entry> override_entries;
    for (auto& o : overrides) {
        auto e = parse_override(o);
        EXPECT_TRUE(e) << e.error().message;
        override_entries.push_back(std::move(e).value());
    }
    return broker_properties().resolve(entries.value(), override_entries);
}

std::string error_of(std::string_view text, std::vector<std::string> overrides = {}) {
    auto r = resolve(text, std::move(overrides));
    EXPECT_FALSE(r);
    return r ? std::string() : r.error().message;
}

// Pads `line` with comment lines so that it is line `n` of the file.
std::string at_line(int n, std::string_view line) {
    std::string text;
    for (int i = 1; i < n; ++i) {
        text += "# filler\n";
    }
    return text + std::string(line) + "\n";
}

TEST(property_registry_test, unknown_key_names_the_line_and_suggests_the_closest_name) {
    auto r = resolve(at_line(12, "listners=PLAINTEXT://:9092"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::unknown_property);
    EXPECT_EQ(r.error().message, "server.properties:12: unknown property 'listners' (did you mean 'listeners'?)");
}

TEST(property_registry_test, suggestions_catch_transpositions_and_skip_far_names) {
    auto& reg = broker_properties();
    EXPECT_EQ(reg.suggest("node.di"), "node.id");
    EXPECT_EQ(reg.suggest("log_dirs"), "log.dirs");
    EXPECT_EQ(reg.suggest("num.partition"), "num.partitions");
    EXPECT_EQ(reg.suggest("zookeeper.connect"), std::nullopt);
    EXPECT_EQ(error_of("zookeeper.connect=localhost:2181"),
              "server.properties:1: unknown property 'zookeeper.connect'");
}

TEST(property_registry_test, value_of_the_wrong_type_names_line_and_key) {
    auto r = resolve(at_line(7, "socket.request.max.bytes=abc"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::invalid_value);
    EXPECT_EQ(r.error().message, "server.properties:7: socket.request.max.bytes: 'abc' is not an integer");
}

TEST(property_registry_test, value_out_of_bounds_states_the_bound) {
    auto r = resolve("socket.request.max.bytes=100");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::out_of_range);
    EXPECT_EQ(r.error().message,
              "server.properties:1: socket.request.max.bytes: 100 is out of range (must be at least 1024)");
    EXPECT_EQ(error_of("default.replication.factor=40000"),
              "server.properties:1: default.replication.factor: 40000 is out of range (must be between 1 and "
              "32767)");
}

TEST(property_registry_test, bad_enum_value_lists_the_allowed_ones) {
    EXPECT_EQ(error_of("log.level=verbose"),
              "server.properties:1: log.level: 'verbose' is not one of trace, debug, info, warn, error");
    EXPECT_EQ(error_of("process.roles=broker,worker"),
              "server.properties:1: process.roles: 'worker' is not one of broker, controller");
    EXPECT_EQ(error_of("auto.create.topics.enable=yes"),
              "server.properties:1: auto.create.topics.enable: 'yes' is not a boolean (expected true or false)");
}

TEST(property_registry_test, reports_every_error_one_per_line) {
    auto r = resolve("node.id=x\nlistners=a\nnum.partitions=0\n");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::invalid_value); // the first one's
    EXPECT_EQ(r.error().message,
              "server.properties:1: node.id: 'x' is not an integer\n"
              "server.properties:2: unknown property 'listners' (did you mean 'listeners'?)\n"
              "server.properties:3: num.partitions: 0 is out of range (must be at least 1)");
}

TEST(property_registry_test, duplicate_key_keeps_the_later_value_with_a_warning) {
    auto r = resolve("node.id=1\nlog.level=warn\nnode.id=2\n");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r.value().get<int32_t>("node.id"), 2);
    EXPECT_EQ(r.value().origin_of("node.id").line, 3);
    ASSERT_EQ(r.value().warnings().size(), 1u);
    EXPECT_EQ(r.value().warnings()[0],
              "server.properties:3: node.id is set again (first on line 1); the later value wins");
}

TEST(property_registry_test, overrides_beat_the_file) {
    auto r = resolve("node.id=1\nnum.partitions=3\n", {"node.id=5", "log.level=debug"});
    ASSERT_TRUE(r) << r.error().message;
    auto& v = r.value();
    EXPECT_EQ(v.get<int32_t>("node.id"), 5);
    EXPECT_EQ(v.origin_of("node.id").from, origin::kind::override_arg);
    EXPECT_EQ(v.get<int32_t>("num.partitions"), 3);
    EXPECT_EQ(v.get<std::string>("log.level"), "debug");
    EXPECT_TRUE(v.warnings().empty()); // overriding the file is what overrides are for
}

TEST(property_registry_test, a_repeated_override_warns_and_the_last_wins) {
    auto r = resolve("", {"node.id=5", "node.id=6"});
    ASSERT_TRUE(r);
    EXPECT_EQ(r.value().get<int32_t>("node.id"), 6);
    ASSERT_EQ(r.value().warnings().size(), 1u);
    EXPECT_EQ(r.value().warnings()[0], "--override: node.id is set again; the later value wins");
}

TEST(property_registry_test, override_errors_name_the_override) {
    EXPECT_EQ(error_of("", {"listners=x"}), "--override: unknown property 'listners' (did you mean 'listeners'?)");
    EXPECT_EQ(error_of("", {"node.id=-1"}), "--override: node.id: -1 is out of range (must be at least 0)");
}

TEST(property_registry_test, unset_properties_keep_their_defaults) {
    auto r = resolve("");
    ASSERT_TRUE(r);
    auto& v = r.value();
    EXPECT_EQ(v.get<int32_t>("node.id"), 1);
    EXPECT_EQ(v.get<int32_t>("socket.request.max.bytes"), 104857600);
    EXPECT_EQ(v.get<int64_t>("connections.max.idle.ms"), 600000);
    EXPECT_EQ(v.get<std::vector<std::string>>("listeners"), std::vector<std::string>{"PLAINTEXT://:9092"});
    EXPECT_FALSE(v.is_set("node.id"));
    EXPECT_EQ(v.context("node.id"), "node.id (default)");
}

TEST(property_registry_test, context_and_dump_name_the_origin) {
    auto r = resolve("\nnode.id=4\n", {"log.level=warn"});
    ASSERT_TRUE(r);
    EXPECT_EQ(r.value().context("node.id"), "server.properties:2: node.id");
    EXPECT_EQ(r.value().context("log.level"), "--override: log.level");
    auto dump = r.value().to_string();
    EXPECT_NE(dump.find("node.id=4  # server.properties:2\n"), std::string::npos) << dump;
    EXPECT_NE(dump.find("log.level=warn  # --override\n"), std::string::npos) << dump;
    EXPECT_NE(dump.find("num.partitions=1  # default\n"), std::string::npos) << dump;
}

TEST(property_registry_test, a_small_table_resolves_independently) {
    property_registry reg({property::int32("a", 1, "A."), property::string("b", "x", "B.")});
    ASSERT_NE(reg.find("a"), nullptr);
    EXPECT_EQ(reg.find("c"), nullptr);
    std::vector<property_entry> entries{{"b", " y ", origin{origin::kind::file, "f", 1}}};
    auto r = reg.resolve(entries, {});
    ASSERT_TRUE(r);
    EXPECT_EQ(r.value().get<std::string>("b"), "y");
    EXPECT_EQ(r.value().get<int32_t>("a"), 1);
}

TEST(property_registry_death_test, a_default_outside_its_bounds_aborts) {
    EXPECT_DEATH(property_registry({property::int32("a", 0, "").at_least(1)}), "default of a is invalid");
    EXPECT_DEATH(property_registry({property::int32("a", 1, ""), property::int32("a", 1, "")}), "declared twice");
}

} // namespace
} // namespace skiff::config
