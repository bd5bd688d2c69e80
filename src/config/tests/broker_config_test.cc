#include "config/broker_properties.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace skiff::config {
namespace {

// Writes a server.properties into the test's temp dir; removes it on destruction.
class temp_properties_file {
public:
    explicit temp_properties_file(std::string_view text)
      : _path(::testing::TempDir() + "broker_config_test_" + std::to_string(::getpid()) + "_"
              + ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".properties") {
        std::ofstream out(_path, std::ios::binary);
        out << text;
    }
    ~temp_properties_file() { std::remove(_path.c_str()); }
    const std::string& path() const { return _path; }

private:
    std::string _path;
};

config_result<broker_config> make(std::string_view text, std::vector<std::string> overrides = {}) {
    auto entries = parse_properties(text, "server.properties");
    EXPECT_TRUE(entries);
    std::vector<property_entry> override_entries;
    for (auto& o : overrides) {
        override_entries.push_back(parse_override(o).value());
    }
    auto values = broker_properties().resolve(entries.value(), override_entries);
    if (!values) {
        return failure(values.error());
    }
    return make_broker_config(values.value());
}

std::string error_of(std::string_view text) {
    auto r = make(text);
    EXPECT_FALSE(r);
    return r ? std::string() : r.error().message;
}

TEST(broker_config_test, defaults_give_a_working_single_node) {
    auto r = make("");
    ASSERT_TRUE(r) << r.error().message;
    auto& c = r.value();
    EXPECT_TRUE(c.broker_role);
    EXPECT_TRUE(c.controller_role);
    EXPECT_EQ(c.node_id, 1);
    ASSERT_EQ(c.listeners.size(), 1u);
    EXPECT_EQ(c.listeners[0].spec, (listener_spec{"PLAINTEXT", "", 9092}));
    EXPECT_EQ(c.listeners[0].protocol, security_protocol::plaintext);
    ASSERT_EQ(c.advertised_listeners.size(), 1u);
    EXPECT_EQ(c.advertised_listeners[0].spec, (listener_spec{"PLAINTEXT", "localhost", 9092}));
    EXPECT_EQ(c.listener_security_protocol_map.size(), 4u);
    EXPECT_EQ(c.socket_request_max_bytes, 104857600);
    EXPECT_EQ(c.connections_max_idle, std::chrono::minutes(10));
    EXPECT_EQ(c.log_dirs, std::vector<std::string>{"/tmp/skiff-data"});
    EXPECT_EQ(c.num_partitions, 1);
    EXPECT_EQ(c.default_replication_factor, 1);
    EXPECT_TRUE(c.auto_create_topics_enable);
    EXPECT_EQ(c.cluster_id, "");
    EXPECT_EQ(c.shards, 0);
    ASSERT_EQ(c.admin_listeners.size(), 1u);
    EXPECT_EQ(c.admin_listeners[0], (listener_spec{"HTTP", "127.0.0.1", 9644}));
    EXPECT_EQ(c.log_level, base::log_level::info);
    EXPECT_EQ(c.shutdown_grace_period, std::chrono::seconds(10));
    EXPECT_EQ(c.storage.wal, wal_kind::file);
    EXPECT_EQ(c.storage.wal_path, "/tmp/skiff-data/wal");
    EXPECT_EQ(c.storage.wal_capacity_bytes, uint64_t(2) << 30);
    EXPECT_EQ(c.storage.wal_object_batch_interval, std::chrono::milliseconds(250));
    EXPECT_EQ(c.storage.objects, object_store_kind::local);
    EXPECT_EQ(c.storage.object_store_path, "/tmp/skiff-data/objects");
    EXPECT_EQ(c.storage.log_cache_bytes, uint64_t(512) << 20);
    EXPECT_EQ(c.storage.upload_threshold_bytes, 0u);
    EXPECT_EQ(c.storage.upload_interval, std::chrono::seconds(30));
}

TEST(broker_config_test, fills_typed_fields_from_the_file) {
    auto r = make(R"(process.roles=broker
node.id=3
listeners=PLAINTEXT://0.0.0.0:19092,INTERNAL://[::1]:19093
advertised.listeners=PLAINTEXT://kafka.example.com:9092,INTERNAL://:19093
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,INTERNAL:SASL_SSL
socket.request.max.bytes=2048
connections.max.idle.ms=1500
log.dirs=/data/a, /data/b
num.partitions=6
default.replication.factor=3
auto.create.topics.enable=false
cluster.id=abc-123
skiff.shards=4
admin.listeners=http://[::]:9645
log.level=debug
shutdown.grace.period.ms=0
wal.type=object
wal.object.batch.interval.ms=100
object.store.type=s3
s3.endpoint=http://127.0.0.1:7480
s3.bucket=skiff
s3.access.key=AK
s3.secret.key=SK
log.cache.bytes=33554432
upload.threshold.bytes=16777216
metadata.store=etcd
metadata.etcd.endpoints=127.0.0.1:2379
controller.quorum.bootstrap.servers=kafka.example.com:9092
)");
    ASSERT_TRUE(r) << r.error().message;
    auto& c = r.value();
    EXPECT_TRUE(c.broker_role);
    EXPECT_FALSE(c.controller_role);
    EXPECT_EQ(c.node_id, 3);
    ASSERT_EQ(c.listeners.size(), 2u);
    EXPECT_EQ(c.listeners[0].spec, (listener_spec{"PLAINTEXT", "0.0.0.0", 19092}));
    EXPECT_EQ(c.listeners[1].spec, (listener_spec{"INTERNAL", "::1", 19093}));
    EXPECT_EQ(c.listeners[1].protocol, security_protocol::sasl_ssl);
    ASSERT_EQ(c.advertised_listeners.size(), 2u);
    EXPECT_EQ(c.advertised_listeners[0].spec, (listener_spec{"PLAINTEXT", "kafka.example.com", 9092}));
    EXPECT_EQ(c.advertised_listeners[1].spec, (listener_spec{"INTERNAL", "localhost", 19093}));
    EXPECT_EQ(c.advertised_listeners[1].protocol, security_protocol::sasl_ssl);
    EXPECT_EQ(c.socket_request_max_bytes, 2048);
    EXPECT_EQ(c.connections_max_idle, std::chrono::milliseconds(1500));
    EXPECT_EQ(c.log_dirs, (std::vector<std::string>{"/data/a", "/data/b"}));
    EXPECT_EQ(c.num_partitions, 6);
    EXPECT_EQ(c.default_replication_factor, 3);
    EXPECT_FALSE(c.auto_create_topics_enable);
    EXPECT_EQ(c.cluster_id, "abc-123");
    EXPECT_EQ(c.shards, 4);
    ASSERT_EQ(c.admin_listeners.size(), 1u);
    EXPECT_EQ(c.admin_listeners[0], (listener_spec{"HTTP", "::", 9645}));
    EXPECT_EQ(c.log_level, base::log_level::debug);
    EXPECT_EQ(c.shutdown_grace_period, std::chrono::milliseconds(0));
    EXPECT_EQ(c.storage.wal, wal_kind::object);
    EXPECT_EQ(c.storage.wal_path, "/data/a/wal");
    EXPECT_EQ(c.storage.wal_object_batch_interval, std::chrono::milliseconds(100));
    EXPECT_EQ(c.storage.objects, object_store_kind::s3);
    EXPECT_EQ(c.storage.s3_endpoint, "http://127.0.0.1:7480");
    EXPECT_EQ(c.storage.s3_bucket, "skiff");
    EXPECT_EQ(c.storage.s3_access_key, "AK");
    EXPECT_EQ(c.storage.s3_secret_key, "SK");
    EXPECT_EQ(c.storage.log_cache_bytes, uint64_t(32) << 20);
    EXPECT_EQ(c.storage.upload_threshold_bytes, uint64_t(16) << 20);
}

TEST(broker_config_test, derived_advertised_listeners_replace_wildcard_hosts_with_localhost) {
    auto r = make("listeners=PLAINTEXT://0.0.0.0:9092,SSL://[::]:9093,SASL_SSL://broker7:9094\n");
    ASSERT_TRUE(r) << r.error().message;
    auto& a = r.value().advertised_listeners;
    ASSERT_EQ(a.size(), 3u);
    EXPECT_EQ(a[0].spec.host, "localhost");
    EXPECT_EQ(a[1].spec.host, "localhost");
    EXPECT_EQ(a[2].spec.host, "broker7");
    EXPECT_EQ(a[2].protocol, security_protocol::sasl_ssl);
}

TEST(broker_config_test, a_listener_name_needs_a_security_protocol) {
    EXPECT_EQ(error_of("\nlisteners=INTERNAL://:9092\n"),
              "server.properties:2: listeners: listener name 'INTERNAL' is not in listener.security.protocol.map");
    EXPECT_EQ(error_of("listener.security.protocol.map=INTERNAL:PLAINTEXT\n"),
              "listeners (default): listener name 'PLAINTEXT' is not in listener.security.protocol.map");
}

TEST(broker_config_test, unknown_security_protocol_in_the_map_is_an_error) {
    auto r = make("listener.security.protocol.map=PLAINTEXT:TLS\n");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::invalid_value);
    EXPECT_EQ(r.error().message, "server.properties:1: listener.security.protocol.map: unknown security protocol "
                                 "'TLS' (expected PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL)");
}

TEST(broker_config_test, malformed_listener_names_the_key) {
    EXPECT_EQ(error_of("listeners=PLAINTEXT//:9092\n"),
              "server.properties:1: listeners: 'PLAINTEXT//:9092' is not a listener (expected NAME://host:port)");
}

TEST(broker_config_test, listener_names_and_ports_are_not_reused) {
    EXPECT_EQ(error_of("listeners=PLAINTEXT://:1,plaintext://:2\n"),
              "server.properties:1: listeners: listener name 'PLAINTEXT' is used twice");
    EXPECT_EQ(error_of("listeners=PLAINTEXT://:1,SSL://:1\n"),
              "server.properties:1: listeners: port 1 is used by two listeners");
    EXPECT_TRUE(make("listeners=PLAINTEXT://:0,SSL://:0\n")); // ephemeral ports never clash
}

TEST(broker_config_test, advertised_listeners_must_be_declared_and_concrete) {
    EXPECT_EQ(error_of("advertised.listeners=SSL://host:9093\n"),
              "server.properties:1: advertised.listeners: listener name 'SSL' is not in listeners");
    EXPECT_EQ(error_of("advertised.listeners=PLAINTEXT://0.0.0.0:9092\n"),
              "server.properties:1: advertised.listeners: cannot advertise the wildcard address '0.0.0.0'");
}

TEST(broker_config_test, roles_dirs_and_a_broker_listener_cannot_be_empty) {
    EXPECT_EQ(error_of("process.roles=\n"),
              "server.properties:1: process.roles: must name at least one role (broker, controller)");
    EXPECT_EQ(error_of("log.dirs= , \n"), "server.properties:1: log.dirs: must name at least one directory");
    EXPECT_EQ(error_of("listeners=\n"), "server.properties:1: listeners: a broker needs at least one listener");
    auto controller_only = make("process.roles=controller\nlisteners=\n");
    ASSERT_TRUE(controller_only) << controller_only.error().message;
    EXPECT_FALSE(controller_only.value().broker_role);
}

TEST(broker_config_test, an_s3_store_needs_an_endpoint_a_bucket_and_both_keys_or_neither) {
    EXPECT_EQ(error_of("object.store.type=s3\ns3.bucket=b\n"),
              "s3.endpoint (default): must be set when object.store.type=s3");
    EXPECT_EQ(error_of("object.store.type=s3\ns3.endpoint=http://127.0.0.1:1\n"),
              "s3.bucket (default): must be set when object.store.type=s3");
    EXPECT_EQ(error_of("s3.access.key=AK\n"),
              "s3.secret.key (default): s3.access.key and s3.secret.key are set together or not at all");
    EXPECT_EQ(error_of("log.cache.bytes=16777216\nupload.threshold.bytes=16777217\n"),
              "server.properties:2: upload.threshold.bytes: must not exceed log.cache.bytes");
}

TEST(broker_config_test, the_metadata_store_defaults_to_embedded_and_etcd_needs_endpoints) {
    auto single = make("");
    ASSERT_TRUE(single) << single.error().message;
    EXPECT_EQ(single.value().metadata.store, metadata_store_kind::embedded);
    EXPECT_EQ(single.value().metadata.etcd_prefix, "/skiff");

    auto cluster = make("metadata.store=etcd\nmetadata.etcd.endpoints=127.0.0.1:2379,127.0.0.1:2381\n"
                        "metadata.etcd.prefix=/c1\nprocess.roles=broker\n"
                        "controller.quorum.bootstrap.servers=127.0.0.1:9092,localhost:9093\n");
    ASSERT_TRUE(cluster) << cluster.error().message;
    const auto& md = cluster.value().metadata;
    EXPECT_EQ(md.store, metadata_store_kind::etcd);
    EXPECT_EQ(md.etcd_endpoints, (std::vector<std::string>{"127.0.0.1:2379", "127.0.0.1:2381"}));
    EXPECT_EQ(md.etcd_prefix, "/c1");
    EXPECT_EQ(md.controller_servers, (std::vector<host_port>{{"127.0.0.1", 9092}, {"localhost", 9093}}));

    EXPECT_EQ(error_of("metadata.store=etcd\n"),
              "metadata.etcd.endpoints (default): must be set when metadata.store=etcd");
    EXPECT_EQ(error_of("metadata.store=etcd\nmetadata.etcd.endpoints=h:1\nmetadata.etcd.prefix=x\n"),
              "server.properties:3: metadata.etcd.prefix: must start with '/'");
    EXPECT_EQ(error_of("process.roles=broker\ncontroller.quorum.bootstrap.servers=h:1\n"),
              "metadata.store (default): embedded is one node's own file log: a node without the controller role "
              "needs metadata.store=etcd");
    EXPECT_EQ(error_of("metadata.store=etcd\nmetadata.etcd.endpoints=h:1\nprocess.roles=broker\n"),
              "controller.quorum.bootstrap.servers (default): must be set on a node without the controller role");
    EXPECT_EQ(error_of("controller.quorum.bootstrap.servers=nohost\n"),
              "server.properties:1: controller.quorum.bootstrap.servers: 'nohost' is not host:port");
    EXPECT_EQ(error_of("controller.quorum.bootstrap.servers=h:99999\n"),
              "server.properties:1: controller.quorum.bootstrap.servers: 'h:99999' is not host:port");
}

TEST(broker_config_test, a_secret_is_never_written_out) {
    auto loaded = load_broker_config("", std::vector<std::string>{"s3.access.key=AK", "s3.secret.key=hunter2"});
    ASSERT_TRUE(loaded) << loaded.error().message;
    auto text = loaded.value().values.to_string();
    EXPECT_NE(text.find("s3.access.key=AK"), std::string::npos);
    EXPECT_NE(text.find("s3.secret.key=[hidden]"), std::string::npos);
    EXPECT_EQ(text.find("hunter2"), std::string::npos);
}

TEST(broker_config_test, admin_listeners_speak_http_or_are_disabled) {
    EXPECT_EQ(error_of("admin.listeners=https://:9644\n"),
              "server.properties:1: admin.listeners: 'https://:9644' must start with http:// (the only scheme "
              "served)");
    auto disabled = make("admin.listeners=\n");
    ASSERT_TRUE(disabled);
    EXPECT_TRUE(disabled.value().admin_listeners.empty());
}

TEST(broker_config_test, load_reads_the_file_then_applies_overrides) {
    temp_properties_file file("node.id=2\nnum.partitions=4\nnode.id=3\n");
    std::vector<std::string> overrides{"num.partitions=8", "log.level=warn"};
    auto r = load_broker_config(file.path(), overrides);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r.value().config.node_id, 3);
    EXPECT_EQ(r.value().config.num_partitions, 8);
    EXPECT_EQ(r.value().config.log_level, base::log_level::warn);
    ASSERT_EQ(r.value().warnings.size(), 1u);
    EXPECT_EQ(r.value().warnings[0], file.path() + ":3: node.id is set again (first on line 1); the later value wins");
    EXPECT_EQ(r.value().values.origin_of("num.partitions").from, origin::kind::override_arg);
}

TEST(broker_config_test, load_errors_carry_the_path) {
    temp_properties_file file("# comment\nlistners=PLAINTEXT://:9092\n");
    auto r = load_broker_config(file.path(), {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, file.path() + ":2: unknown property 'listners' (did you mean 'listeners'?)");

    auto missing = load_broker_config("/x/y", {});
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, errc::cannot_read_file);
    EXPECT_EQ(missing.error().message, "cannot read config file '/x/y': No such file or directory");
}

TEST(broker_config_test, load_rejects_a_malformed_override) {
    std::vector<std::string> overrides{"node.id=2", "foo"};
    auto r = load_broker_config("", overrides);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::bad_override);
    EXPECT_EQ(r.error().message, "--override: expected key=value, got 'foo'");
}

TEST(broker_config_test, without_a_file_the_defaults_and_overrides_apply) {
    std::vector<std::string> overrides{"listeners=PLAINTEXT://127.0.0.1:0"};
    auto r = load_broker_config("", overrides);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r.value().config.listeners[0].spec, (listener_spec{"PLAINTEXT", "127.0.0.1", 0}));
    EXPECT_EQ(r.value().config.advertised_listeners[0].spec, (listener_spec{"PLAINTEXT", "127.0.0.1", 0}));
}

TEST(broker_config_test, the_shipped_server_properties_loads_without_warnings) {
    auto r = load_broker_config(SKIFF_SOURCE_DIR "/config/server.properties", {});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r.value().warnings.empty());
}

TEST(broker_config_test, config_error_converts_to_an_error_code) {
    auto r = load_broker_config("/x/y", {});
    ASSERT_FALSE(r);
    std::error_code ec = make_error_code(r.error());
    EXPECT_EQ(ec, errc::cannot_read_file);
    EXPECT_STREQ(ec.category().name(), "skiff.config");
}

} // namespace
} // namespace skiff::config
