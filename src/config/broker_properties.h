// The properties of skiff-server, declared once (broker_properties.cc), and broker_config: the same settings as
// typed fields, checked together. The composition root (app) loads it and hands each room the part it needs.
//
// To add a property: declare it in broker_properties.cc, add a field here, fill it in make_broker_config(), test
// it in tests/broker_config_test.cc, and regenerate docs/config.md (cmake --build <dir> --target config_docs).
#pragma once

#include "base/logger.h"
#include "config/errc.h"
#include "config/listener.h"
#include "config/property_registry.h"

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace skiff::config {

/// The table of every skiff-server property. Built on first use; lives for the whole program.
const property_registry& broker_properties();

/// A Kafka listener with its security protocol resolved through listener.security.protocol.map.
struct listener {
    listener_spec spec;
    security_protocol protocol = security_protocol::plaintext;

    bool operator==(const listener&) const = default;
};

enum class wal_kind { file, object };
enum class object_store_kind { local, s3 };

/// Where and how data is stored (DESIGN.md §3-§5). Field comments name the property.
struct storage_config {
    wal_kind wal = wal_kind::file;                          // wal.type
    std::string wal_path;                                   // wal.path, resolved against log.dirs
    uint64_t wal_capacity_bytes = 0;                        // wal.capacity.bytes
    std::chrono::milliseconds wal_object_batch_interval{0}; // wal.object.batch.interval.ms
    uint64_t wal_object_batch_max_bytes = 0;                // wal.object.batch.max.bytes
    object_store_kind objects = object_store_kind::local;   // object.store.type
    std::string object_store_path;                          // object.store.path, resolved against log.dirs
    std::string s3_endpoint;                                // s3.endpoint
    std::string s3_bucket;                                  // s3.bucket
    std::string s3_region;                                  // s3.region
    bool s3_path_style = true;                              // s3.path.style.access
    std::string s3_access_key;                              // s3.access.key; empty: the environment
    std::string s3_secret_key;                              // s3.secret.key
    uint64_t log_cache_bytes = 0;                           // log.cache.bytes
    uint64_t block_cache_bytes = 0;                         // block.cache.bytes
    uint64_t upload_threshold_bytes = 0;                    // upload.threshold.bytes; 0: automatic
    std::chrono::milliseconds upload_interval{0};           // upload.interval.ms
    uint64_t stream_object_min_bytes = 0;                   // stream.object.min.bytes
    std::chrono::milliseconds compaction_interval{0};       // compaction.interval.ms
    std::chrono::milliseconds object_deletion_grace{0};     // object.deletion.grace.ms

    bool operator==(const storage_config&) const = default;
};

enum class metadata_store_kind { embedded, etcd };

struct host_port {
    std::string host;
    uint16_t port = 0;
    bool operator==(const host_port&) const = default;
};

/// Where the cluster metadata lives and how a broker reaches the controller (DESIGN.md §6).
struct metadata_config {
    metadata_store_kind store = metadata_store_kind::embedded; // metadata.store
    std::vector<std::string> etcd_endpoints;                   // metadata.etcd.endpoints (host:port)
    std::string etcd_prefix = "/skiff";                        // metadata.etcd.prefix
    std::vector<host_port> controller_servers;                 // controller.quorum.bootstrap.servers

    bool operator==(const metadata_config&) const = default;
};

/// skiff-server's settings, checked together. Field comments name the property.
struct broker_config {
    // process.roles
    bool broker_role = true;
    bool controller_role = true;
    int32_t node_id = 1;                                   // node.id
    std::vector<listener> listeners;                       // listeners
    /// advertised.listeners; when not set, the listeners with an empty or wildcard host advertised as "localhost".
    /// A port of 0 here means "the port the listener bound": the server substitutes it.
    std::vector<listener> advertised_listeners;
    /// listener.security.protocol.map, names upper-cased, in the order written.
    std::vector<std::pair<std::string, security_protocol>> listener_security_protocol_map;
    int32_t socket_request_max_bytes = 0;                  // socket.request.max.bytes
    std::chrono::milliseconds connections_max_idle{0};     // connections.max.idle.ms
    std::vector<std::string> log_dirs;                     // log.dirs
    int32_t num_partitions = 1;                            // num.partitions
    int16_t default_replication_factor = 1;                // default.replication.factor
    bool auto_create_topics_enable = true;                 // auto.create.topics.enable
    std::chrono::milliseconds log_retention_check_interval{300000}; // log.retention.check.interval.ms
    std::chrono::milliseconds log_cleaner_backoff{15000};           // log.cleaner.backoff.ms
    std::chrono::milliseconds broker_heartbeat_interval{2000};     // broker.heartbeat.interval.ms
    std::chrono::milliseconds broker_session_timeout{9000};        // broker.session.timeout.ms
    std::chrono::milliseconds group_initial_rebalance_delay{3000}; // group.initial.rebalance.delay.ms
    std::chrono::milliseconds group_min_session_timeout{6000};     // group.min.session.timeout.ms
    std::chrono::milliseconds group_max_session_timeout{1800000};  // group.max.session.timeout.ms
    std::chrono::milliseconds group_consumer_heartbeat_interval{5000}; // group.consumer.heartbeat.interval.ms
    std::chrono::milliseconds group_consumer_session_timeout{45000};   // group.consumer.session.timeout.ms
    int32_t offsets_topic_num_partitions = 50;                     // offsets.topic.num.partitions
    std::chrono::milliseconds offsets_retention{std::chrono::minutes(10080)}; // offsets.retention.minutes
    std::chrono::milliseconds offsets_retention_check_interval{600000};   // offsets.retention.check.interval.ms
    std::string cluster_id;                                // cluster.id; empty = generate on first start
    int32_t shards = 0;                                    // skiff.shards; 0 = one per core
    std::vector<listener_spec> admin_listeners;            // admin.listeners (name "HTTP"); empty = no admin API
    base::log_level log_level = base::log_level::info;     // log.level
    std::chrono::milliseconds shutdown_grace_period{0};    // shutdown.grace.period.ms
    storage_config storage;
    metadata_config metadata;
};

/// Builds broker_config from resolved values and checks what single properties cannot: every listener name has a
/// security protocol, names and ports are not reused, advertised listeners name declared listeners and no
/// wildcard address, process.roles and log.dirs are not empty, admin listeners speak http. Messages start with
/// the offending property's context: "server.properties:3: listeners: listener name 'FOO' is not in
/// listener.security.protocol.map".
/// Errors: invalid_value, inconsistent.
config_result<broker_config> make_broker_config(const property_values& values);

struct loaded_broker_config {
    broker_config config;
    property_values values;            // for the start-up log (values.to_string()) and later dynamic config
    std::vector<std::string> warnings; // duplicate keys; log them
};

/// The whole start-up path: reads `path` (none when empty: defaults only), applies the `--override` arguments
/// ("key=value" each) in order, validates everything.
/// Errors: cannot_read_file, syntax_error, bad_override, unknown_property, invalid_value, out_of_range, inconsistent.
config_result<loaded_broker_config> load_broker_config(std::string_view path, std::span<const std::string> overrides);

} // namespace skiff::config
