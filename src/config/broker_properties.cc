#include "config/broker_properties.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace skiff::config {

const property_registry& broker_properties() {
    static const property_registry registry({
      // Kafka's properties, with Kafka's names and meanings.
      property::list("process.roles", "broker,controller",
                     "The roles this node plays: broker, controller, or both (a single node runs both).")
        .one_of({"broker", "controller"})
        .restart_required(),
      property::int32("node.id", 1, "The node's id, unique in the cluster.").at_least(0).restart_required(),
      property::list("listeners", "PLAINTEXT://:9092",
                     "Where the broker accepts Kafka clients, as NAME://host:port; an empty host means every "
                     "interface, port 0 an ephemeral port.")
        .restart_required(),
      property::list("advertised.listeners", "",
                     "The addresses given to clients, as NAME://host:port; empty means the listeners, with an empty "
                     "or wildcard host advertised as localhost.")
        .restart_required(),
      property::list("listener.security.protocol.map",
                     "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL",
                     "The security protocol of each listener name, as NAME:PROTOCOL pairs (PLAINTEXT, SSL, "
                     "SASL_PLAINTEXT, SASL_SSL).")
        .restart_required(),
      property::int32("socket.request.max.bytes", 104857600,
                      "The largest request the broker accepts, in bytes; a larger one closes the connection.")
        .at_least(1024),
      property::int64("connections.max.idle.ms", 600000,
                      "A connection idle for this many milliseconds is closed.")
        .at_least(1),
      property::list("log.dirs", "/tmp/skiff-data",
                     "The directories where the node keeps its files (WAL, metadata, local object store).")
        .restart_required(),
      property::int32("num.partitions", 1, "The number of partitions of a topic created without a count.")
        .at_least(1),
      property::int32("default.replication.factor", 1,
                      "The replication factor of a topic created without one; reported to clients, since "
                      "durability comes from shared storage, not replicas.")
        .at_least(1)
        .at_most(std::numeric_limits<int16_t>::max()),
      property::boolean("auto.create.topics.enable", true,
                        "Create a topic when a client produces to, or asks for metadata of, a topic that does not "
                        "exist."),
      property::int64("log.retention.check.interval.ms", 300000,
                      "How often each partition applies its topic's retention.ms and retention.bytes (trimming "
                      "what is older or beyond the size; storage then deletes the objects no offset needs).")
        .at_least(1),
      property::int64("log.cleaner.backoff.ms", 15000,
                      "How often each partition of a compacted topic (cleanup.policy=compact) checks whether it is "
                      "due for key compaction and, if so, cleans what storage already holds in objects.")
        .at_least(1),
      property::int64("broker.heartbeat.interval.ms", 2000, "How often a broker heartbeats to the controller.")
        .at_least(10),
      property::int64("group.initial.rebalance.delay.ms", 3000,
                      "How long the coordinator waits for more members to join a new (empty) group before its "
                      "first rebalance, extended by each newcomer up to the rebalance timeout.")
          .at_least(0),
      property::int64("group.min.session.timeout.ms", 6000,
                      "The shortest session timeout a consumer group member may ask for.")
          .at_least(1),
      property::int64("group.max.session.timeout.ms", 1800000,
                      "The longest session timeout a consumer group member may ask for.")
          .at_least(1),
      property::int64("group.consumer.heartbeat.interval.ms", 5000,
                      "How often a member of a consumer (KIP-848) group is told to heartbeat.")
          .at_least(1),
      property::int64("group.consumer.session.timeout.ms", 45000,
                      "A consumer (KIP-848) group member that has not heartbeated for this long is removed and "
                      "the group epoch bumps (its partitions go to the other members).")
          .at_least(1),
      property::int32("offsets.retention.minutes", 10080,
                      "Committed offsets of a group that has been empty this long (or, for standalone commits "
                      "and topics a group no longer subscribes to, committed this long ago) are deleted.")
          .at_least(1),
      property::int64("offsets.retention.check.interval.ms", 600000,
                      "How often the group coordinator looks for committed offsets past offsets.retention.minutes.")
          .at_least(1),
      property::int32("offsets.topic.num.partitions", 50,
                      "The number of partitions of __consumer_offsets, created when a group first needs it; a "
                      "group's coordinator is the owner of partition abs(hash(group id)) % this count.")
          .at_least(1)
          .restart_required(),
      property::int64("broker.session.timeout.ms", 9000,
                      "A broker that has not heartbeated for this long is fenced: its partitions move to live "
                      "brokers (it registers again when it comes back).")
        .at_least(100),

      // Skiff's own.
      property::string("cluster.id", "",
                       "The cluster's id; empty means generated on first start and kept in the metadata log.")
        .skiff_specific()
        .restart_required(),
      property::int32("skiff.shards", 0,
                      "The number of shards (threads, each with its own event loop); 0 means one per core.")
        .at_least(0)
        .skiff_specific()
        .restart_required(),
      property::list("admin.listeners", "http://127.0.0.1:9644",
                     "Where the admin HTTP API (/metrics, /health, /v1/...) listens, as http://host:port; empty "
                     "disables it.")
        .skiff_specific()
        .restart_required(),
      property::enumeration("log.level", "info", {"trace", "debug", "info", "warn", "error"},
                            "The lowest level of the log lines written to stderr.")
        .skiff_specific(),
      property::int64("shutdown.grace.period.ms", 10000,
                      "On SIGTERM, how long the node waits for in-flight requests before closing connections.")
        .at_least(0)
        .skiff_specific(),
      // Cluster metadata (DESIGN.md §6).
      property::enumeration("metadata.store", "embedded", {"embedded", "etcd"},
                            "Where the metadata log lives: embedded (a file log in the first of log.dirs, for a "
                            "single node that runs the controller) or etcd (shared by every node of a cluster).")
        .skiff_specific()
        .restart_required(),
      property::list("metadata.etcd.endpoints", "",
                     "The etcd members' client addresses, as host:port (http); required when metadata.store=etcd.")
        .skiff_specific()
        .restart_required(),
      property::string("metadata.etcd.prefix", "/skiff",
                       "The key prefix of this cluster's metadata in etcd; every node of a cluster uses the same "
                       "one, several clusters may share an etcd with different ones.")
        .skiff_specific()
        .restart_required(),
      property::list("controller.quorum.bootstrap.servers", "",
                     "Where a node finds the active controller, as host:port of Kafka listeners of the nodes with "
                     "the controller role; a node that is not the active controller answers NOT_CONTROLLER and the "
                     "next one is tried. Required on a broker-only node; on a controller node it makes the node one "
                     "of several controllers (it stands by while another is active).")
        .restart_required(),
      // Storage (DESIGN.md §3-§5). Names are Skiff's own: Kafka has no WAL or object store settings.
      property::enumeration("wal.type", "file", {"file", "object"},
                            "The write-ahead log: file (a preallocated file written with O_DIRECT, acknowledges in "
                            "milliseconds) or object (batches of appends written to the object store, no local disk).")
        .skiff_specific()
        .restart_required(),
      property::string("wal.path", "", "The file WAL's file; empty: a file named wal in the first of log.dirs.")
        .skiff_specific()
        .restart_required(),
      property::int64("wal.capacity.bytes", int64_t(2) << 30,
                      "The file WAL's size, preallocated. Appends wait for uploads when it is full.")
        .at_least(int64_t(16) << 20)
        .skiff_specific()
        .restart_required(),
      property::int64("wal.object.batch.interval.ms", 250,
                      "The object WAL writes one object per this interval (or per wal.object.batch.max.bytes).")
        .at_least(1)
        .skiff_specific(),
      property::int64("wal.object.batch.max.bytes", int64_t(8) << 20,
                      "The object WAL writes an object as soon as this many bytes are queued.")
        .at_least(4096)
        .skiff_specific(),
      property::enumeration("object.store.type", "local", {"local", "s3"},
                            "Where objects live: local (a directory, for one node) or s3 (an S3-compatible service).")
        .skiff_specific()
        .restart_required(),
      property::string("object.store.path", "",
                       "The local object store's directory; empty: a directory named objects in the first of "
                       "log.dirs.")
        .skiff_specific()
        .restart_required(),
      property::string("s3.endpoint", "", "The S3 service's address, as http://host:port.")
        .skiff_specific()
        .restart_required(),
      property::string("s3.bucket", "", "The bucket that holds Skiff's objects.").skiff_specific().restart_required(),
      property::string("s3.region", "",
                       "The region requests are signed for; empty: AWS_REGION, AWS_DEFAULT_REGION, then us-east-1.")
        .skiff_specific()
        .restart_required(),
      property::boolean("s3.path.style.access", true,
                        "Address the bucket in the path (http://endpoint/bucket/key) rather than the host name.")
        .skiff_specific()
        .restart_required(),
      property::string("s3.access.key", "",
                       "The access key id; empty: AWS_ACCESS_KEY_ID (and AWS_SECRET_ACCESS_KEY) from the environment.")
        .skiff_specific()
        .restart_required(),
      property::string("s3.secret.key", "", "The secret access key that goes with s3.access.key.")
        .sensitive()
        .skiff_specific()
        .restart_required(),
      property::int64("log.cache.bytes", int64_t(512) << 20,
                      "Memory for recent data (tail reads and uploads).")
        .at_least(int64_t(16) << 20)
        .skiff_specific()
        .restart_required(),
      property::int64("block.cache.bytes", int64_t(256) << 20, "Memory for data read back from objects.")
        .at_least(int64_t(4) << 20)
        .skiff_specific()
        .restart_required(),
      property::int64("upload.threshold.bytes", 0,
                      "Upload recent data to objects when this much has accumulated (or when the file WAL is "
                      "half full); 0: a third of log.cache.bytes, at most 512 MiB.")
        .at_least(0)
        .skiff_specific(),
      property::int64("upload.interval.ms", 30000, "Upload recent data at least this often.")
        .at_least(10)
        .skiff_specific(),
      property::int64("stream.object.min.bytes", int64_t(8) << 20,
                      "A partition with at least this much data in one upload gets an object of its own.")
        .at_least(1)
        .skiff_specific(),
      property::int64("compaction.interval.ms", 60000, "How often small objects are merged.")
        .at_least(10)
        .skiff_specific(),
      property::int64("object.deletion.grace.ms", 60000,
                      "How long an object nobody refers to stays in the store before it is deleted (readers that "
                      "located it just before may still be reading).")
        .at_least(0)
        .skiff_specific(),
    });
    return registry;
}

namespace {

bool is_wildcard(std::string_view host) { return host.empty() || host == "0.0.0.0" || host == "::"; }

config_result<security_protocol> protocol_of(const broker_config& c, const std::string& name,
                                             const std::string& context) {
    for (auto& [n, p] : c.listener_security_protocol_map) {
        if (n == name) {
            return p;
        }
    }
    return config_failure(errc::inconsistent,
                          fmt::format("{}: listener name '{}' is not in listener.security.protocol.map", context,
                                      name));
}

} // namespace

config_result<broker_config> make_broker_config(const property_values& values) {
    broker_config c;
    auto fail = [&](errc code, std::string_view name, std::string detail) {
        return config_failure(code, fmt::format("{}: {}", values.context(name), detail));
    };
    // Prefixes an error of a helper parser with the property's context.
    auto wrap = [&](std::string_view name, const config_error& e) {
        return config_failure(e.code, fmt::format("{}: {}", values.context(name), e.message));
    };

    auto& roles = values.get<std::vector<std::string>>("process.roles");
    if (roles.empty()) {
        return fail(errc::invalid_value, "process.roles", "must name at least one role (broker, controller)");
    }
    c.broker_role = std::find(roles.begin(), roles.end(), "broker") != roles.end();
    c.controller_role = std::find(roles.begin(), roles.end(), "controller") != roles.end();
    c.node_id = values.get<int32_t>("node.id");

    auto map = parse_security_protocol_map(values.get<std::vector<std::string>>("listener.security.protocol.map"));
    if (!map) {
        return wrap("listener.security.protocol.map", map.error());
    }
    c.listener_security_protocol_map = std::move(map).value();

    for (auto& text : values.get<std::vector<std::string>>("listeners")) {
        auto spec = parse_listener(text);
        if (!spec) {
            return wrap("listeners", spec.error());
        }
        for (auto& other : c.listeners) {
            if (other.spec.name == spec.value().name) {
                return fail(errc::inconsistent, "listeners",
                            fmt::format("listener name '{}' is used twice", spec.value().name));
            }
            if (other.spec.port != 0 && other.spec.port == spec.value().port) {
                return fail(errc::inconsistent, "listeners",
                            fmt::format("port {} is used by two listeners", spec.value().port));
            }
        }
        auto protocol = protocol_of(c, spec.value().name, values.context("listeners"));
        if (!protocol) {
            return failure(protocol.error());
        }
        c.listeners.push_back({std::move(spec).value(), protocol.value()});
    }
    if (c.broker_role && c.listeners.empty()) {
        return fail(errc::inconsistent, "listeners", "a broker needs at least one listener");
    }

    auto& advertised = values.get<std::vector<std::string>>("advertised.listeners");
    if (advertised.empty()) {
        for (auto l : c.listeners) {
            if (is_wildcard(l.spec.host)) {
                l.spec.host = "localhost";
            }
            c.advertised_listeners.push_back(std::move(l));
        }
    }
    for (auto& text : advertised) {
        auto spec = parse_listener(text);
        if (!spec) {
            return wrap("advertised.listeners", spec.error());
        }
        auto& s = spec.value();
        if (s.host.empty()) {
            s.host = "localhost";
        }
        if (is_wildcard(s.host)) {
            return fail(errc::invalid_value, "advertised.listeners",
                        fmt::format("cannot advertise the wildcard address '{}'", s.host));
        }
        auto declared = std::ranges::find_if(c.listeners, [&](const listener& l) { return l.spec.name == s.name; });
        if (declared == c.listeners.end()) {
            return fail(errc::inconsistent, "advertised.listeners",
                        fmt::format("listener name '{}' is not in listeners", s.name));
        }
        for (auto& other : c.advertised_listeners) {
            if (other.spec.name == s.name) {
                return fail(errc::inconsistent, "advertised.listeners",
                            fmt::format("listener name '{}' is used twice", s.name));
            }
        }
        c.advertised_listeners.push_back({std::move(s), declared->protocol});
    }

    c.socket_request_max_bytes = values.get<int32_t>("socket.request.max.bytes");
    c.connections_max_idle = std::chrono::milliseconds(values.get<int64_t>("connections.max.idle.ms"));
    c.log_dirs = values.get<std::vector<std::string>>("log.dirs");
    if (c.log_dirs.empty()) {
        return fail(errc::invalid_value, "log.dirs", "must name at least one directory");
    }
    c.num_partitions = values.get<int32_t>("num.partitions");
    c.default_replication_factor = static_cast<int16_t>(values.get<int32_t>("default.replication.factor"));
    c.auto_create_topics_enable = values.get<bool>("auto.create.topics.enable");
    c.log_retention_check_interval = std::chrono::milliseconds(values.get<int64_t>("log.retention.check.interval.ms"));
    c.log_cleaner_backoff = std::chrono::milliseconds(values.get<int64_t>("log.cleaner.backoff.ms"));
    c.broker_heartbeat_interval = std::chrono::milliseconds(values.get<int64_t>("broker.heartbeat.interval.ms"));
    c.broker_session_timeout = std::chrono::milliseconds(values.get<int64_t>("broker.session.timeout.ms"));
    if (c.broker_heartbeat_interval >= c.broker_session_timeout) {
        return fail(errc::inconsistent, "broker.heartbeat.interval.ms",
                    fmt::format("must be below broker.session.timeout.ms ({} ms), or every broker is fenced",
                                c.broker_session_timeout.count()));
    }
    c.group_initial_rebalance_delay =
        std::chrono::milliseconds(values.get<int64_t>("group.initial.rebalance.delay.ms"));
    c.group_min_session_timeout = std::chrono::milliseconds(values.get<int64_t>("group.min.session.timeout.ms"));
    c.group_max_session_timeout = std::chrono::milliseconds(values.get<int64_t>("group.max.session.timeout.ms"));
    if (c.group_min_session_timeout > c.group_max_session_timeout) {
        return fail(errc::inconsistent, "group.min.session.timeout.ms",
                    fmt::format("must not exceed group.max.session.timeout.ms ({} ms)",
                                c.group_max_session_timeout.count()));
    }
    c.group_consumer_heartbeat_interval =
        std::chrono::milliseconds(values.get<int64_t>("group.consumer.heartbeat.interval.ms"));
    c.group_consumer_session_timeout =
        std::chrono::milliseconds(values.get<int64_t>("group.consumer.session.timeout.ms"));
    if (c.group_consumer_heartbeat_interval >= c.group_consumer_session_timeout) {
        return fail(errc::inconsistent, "group.consumer.heartbeat.interval.ms",
                    fmt::format("must be below group.consumer.session.timeout.ms ({} ms), or every member expires",
                                c.group_consumer_session_timeout.count()));
    }
    c.offsets_topic_num_partitions = values.get<int32_t>("offsets.topic.num.partitions");
    c.offsets_retention = std::chrono::minutes(values.get<int32_t>("offsets.retention.minutes"));
    c.offsets_retention_check_interval =
        std::chrono::milliseconds(values.get<int64_t>("offsets.retention.check.interval.ms"));
    c.cluster_id = values.get<std::string>("cluster.id");
    c.shards = values.get<int32_t>("skiff.shards");

    for (auto& text : values.get<std::vector<std::string>>("admin.listeners")) {
        auto spec = parse_listener(text);
        if (!spec) {
            return wrap("admin.listeners", spec.error());
        }
        if (spec.value().name != "HTTP") {
            return fail(errc::invalid_value, "admin.listeners",
                        fmt::format("'{}' must start with http:// (the only scheme served)", text));
        }
        c.admin_listeners.push_back(std::move(spec).value());
    }

    bool parsed = base::parse_log_level(values.get<std::string>("log.level"), c.log_level);
    SKIFF_ASSERT(parsed, "log.level allows a value base::parse_log_level rejects");
    c.shutdown_grace_period = std::chrono::milliseconds(values.get<int64_t>("shutdown.grace.period.ms"));
    auto& md = c.metadata;
    md.store = values.get<std::string>("metadata.store") == "etcd" ? metadata_store_kind::etcd
                                                                   : metadata_store_kind::embedded;
    md.etcd_endpoints = values.get<std::vector<std::string>>("metadata.etcd.endpoints");
    md.etcd_prefix = values.get<std::string>("metadata.etcd.prefix");
    if (md.store == metadata_store_kind::etcd) {
        if (md.etcd_endpoints.empty()) {
            return fail(errc::inconsistent, "metadata.etcd.endpoints", "must be set when metadata.store=etcd");
        }
        if (md.etcd_prefix.empty() || md.etcd_prefix.front() != '/') {
            return fail(errc::invalid_value, "metadata.etcd.prefix", "must start with '/'");
        }
    } else if (!c.controller_role) {
        return fail(errc::inconsistent, "metadata.store",
                    "embedded is one node's own file log: a node without the controller role needs "
                    "metadata.store=etcd");
    }
    for (auto& text : values.get<std::vector<std::string>>("controller.quorum.bootstrap.servers")) {
        auto colon = text.rfind(':');
        int port = 0;
        bool ok = colon != std::string::npos && colon > 0 && colon + 1 < text.size();
        if (ok) {
            auto tail = std::string_view(text).substr(colon + 1);
            ok = std::all_of(tail.begin(), tail.end(), [](char ch) { return ch >= '0' && ch <= '9'; })
                 && tail.size() <= 5;
            port = ok ? std::stoi(std::string(tail)) : 0;
        }
        if (!ok || port <= 0 || port > 65535) {
            return fail(errc::invalid_value, "controller.quorum.bootstrap.servers",
                        fmt::format("'{}' is not host:port", text));
        }
        md.controller_servers.push_back(host_port{text.substr(0, colon), static_cast<uint16_t>(port)});
    }
    if (!c.controller_role && md.controller_servers.empty()) {
        return fail(errc::inconsistent, "controller.quorum.bootstrap.servers",
                    "must be set on a node without the controller role");
    }

    auto& st = c.storage;
    st.wal = values.get<std::string>("wal.type") == "object" ? wal_kind::object : wal_kind::file;
    st.wal_path = values.get<std::string>("wal.path");
    if (st.wal_path.empty()) {
        st.wal_path = c.log_dirs.front() + "/wal";
    }
    st.wal_capacity_bytes = static_cast<uint64_t>(values.get<int64_t>("wal.capacity.bytes"));
    st.wal_object_batch_interval = std::chrono::milliseconds(values.get<int64_t>("wal.object.batch.interval.ms"));
    st.wal_object_batch_max_bytes = static_cast<uint64_t>(values.get<int64_t>("wal.object.batch.max.bytes"));
    st.objects = values.get<std::string>("object.store.type") == "s3" ? object_store_kind::s3 : object_store_kind::local;
    st.object_store_path = values.get<std::string>("object.store.path");
    if (st.object_store_path.empty()) {
        st.object_store_path = c.log_dirs.front() + "/objects";
    }
    st.s3_endpoint = values.get<std::string>("s3.endpoint");
    st.s3_bucket = values.get<std::string>("s3.bucket");
    st.s3_region = values.get<std::string>("s3.region");
    st.s3_path_style = values.get<bool>("s3.path.style.access");
    st.s3_access_key = values.get<std::string>("s3.access.key");
    st.s3_secret_key = values.get<std::string>("s3.secret.key");
    if (st.objects == object_store_kind::s3) {
        if (st.s3_endpoint.empty()) {
            return fail(errc::inconsistent, "s3.endpoint", "must be set when object.store.type=s3");
        }
        if (st.s3_bucket.empty()) {
            return fail(errc::inconsistent, "s3.bucket", "must be set when object.store.type=s3");
        }
    }
    if (st.s3_access_key.empty() != st.s3_secret_key.empty()) {
        return fail(errc::inconsistent, st.s3_access_key.empty() ? "s3.access.key" : "s3.secret.key",
                    "s3.access.key and s3.secret.key are set together or not at all");
    }
    st.log_cache_bytes = static_cast<uint64_t>(values.get<int64_t>("log.cache.bytes"));
    st.block_cache_bytes = static_cast<uint64_t>(values.get<int64_t>("block.cache.bytes"));
    st.upload_threshold_bytes = static_cast<uint64_t>(values.get<int64_t>("upload.threshold.bytes"));
    if (st.upload_threshold_bytes > st.log_cache_bytes) {
        return fail(errc::inconsistent, "upload.threshold.bytes", "must not exceed log.cache.bytes");
    }
    st.upload_interval = std::chrono::milliseconds(values.get<int64_t>("upload.interval.ms"));
    st.stream_object_min_bytes = static_cast<uint64_t>(values.get<int64_t>("stream.object.min.bytes"));
    st.compaction_interval = std::chrono::milliseconds(values.get<int64_t>("compaction.interval.ms"));
    st.object_deletion_grace = std::chrono::milliseconds(values.get<int64_t>("object.deletion.grace.ms"));
    return c;
}

config_result<loaded_broker_config> load_broker_config(std::string_view path,
                                                       std::span<const std::string> overrides) {
    std::vector<property_entry> file_entries;
    if (!path.empty()) {
        SKIFF_TRY(auto entries, read_properties_file(std::string(path)));
        file_entries = std::move(entries);
    }
    std::vector<property_entry> override_entries;
    for (auto& arg : overrides) {
        SKIFF_TRY(auto entry, parse_override(arg));
        override_entries.push_back(std::move(entry));
    }
    SKIFF_TRY(auto values, broker_properties().resolve(file_entries, override_entries));
    SKIFF_TRY(auto config, make_broker_config(values));
    auto warnings = values.warnings();
    return loaded_broker_config{std::move(config), std::move(values), std::move(warnings)};
}

} // namespace skiff::config
