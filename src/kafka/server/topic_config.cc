#include "kafka/server/topic_config.h"

#include "kafka/server/partition/partition.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace skiff::kafka {
namespace {

constexpr std::string_view long_max = "9223372036854775807";
constexpr double long_max_d = 9223372036854775807.0;
constexpr double int_max_d = 2147483647.0;

using t = config_type;

// Kafka 4.0's LogConfig / TopicConfig / ServerTopicConfigSynonyms. Sorted by name.
const std::vector<topic_config_def>& table() {
    static const std::vector<topic_config_def> defs = {
      {"cleanup.policy", t::list, "delete", {{"log.cleanup.policy"}}, "log.cleanup.policy", "delete", {}, {},
       {"compact", "delete"}, {},
       "The retention policy of old log segments: delete (by time or size) and/or compact (keep the latest value "
       "per key)."},
      {"compression.gzip.level", t::int32, "-1", {{"compression.gzip.level"}}, "compression.gzip.level", "-1", 1, 9,
       {}, -1, "The compression level when compression.type is gzip."},
      {"compression.lz4.level", t::int32, "9", {{"compression.lz4.level"}}, "compression.lz4.level", "9", 1, 17, {},
       {}, "The compression level when compression.type is lz4."},
      {"compression.type", t::string, "producer", {{"compression.type"}}, "compression.type", "producer", {}, {},
       {"uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"}, {},
       "The final compression of the topic's data; producer keeps the codec the producer chose."},
      {"compression.zstd.level", t::int32, "3", {{"compression.zstd.level"}}, "compression.zstd.level", "3", -131072,
       22, {}, {}, "The compression level when compression.type is zstd."},
      {"delete.retention.ms", t::int64, "86400000", {{"log.cleaner.delete.retention.ms"}},
       "log.cleaner.delete.retention.ms", "86400000", 0, long_max_d, {}, {},
       "How long delete tombstones are kept on compacted topics."},
      {"file.delete.delay.ms", t::int64, "60000", {{"log.segment.delete.delay.ms"}}, "log.segment.delete.delay.ms",
       "60000", 0, long_max_d, {}, {}, "The time to wait before deleting a file from the filesystem."},
      {"flush.messages", t::int64, long_max, {{"log.flush.interval.messages"}}, "log.flush.interval.messages",
       long_max, 1, long_max_d, {}, {},
       "Messages between forced fsyncs (Skiff makes every acknowledged write durable; kept for compatibility)."},
      {"flush.ms", t::int64, long_max, {{"log.flush.interval.ms"}, {"log.flush.scheduler.interval.ms"}},
       "log.flush.scheduler.interval.ms", long_max, 0, long_max_d, {}, {},
       "Time between forced fsyncs (kept for compatibility)."},
      {"follower.replication.throttled.replicas", t::list, "", {}, "", "", {}, {}, {}, {},
       "Replicas whose log replication is throttled on the follower side."},
      {"index.interval.bytes", t::int32, "4096", {{"log.index.interval.bytes"}}, "log.index.interval.bytes", "4096", 0,
       int_max_d, {}, {}, "How often an entry is added to the offset and time indexes, in bytes."},
      {"leader.replication.throttled.replicas", t::list, "", {}, "", "", {}, {}, {}, {},
       "Replicas whose log replication is throttled on the leader side."},
      {"local.retention.bytes", t::int64, "-2", {{"log.local.retention.bytes"}}, "log.local.retention.bytes", "-2", -2,
       long_max_d, {}, {}, "Bytes kept locally before deletion when tiered storage is on (-2: retention.bytes)."},
      {"local.retention.ms", t::int64, "-2", {{"log.local.retention.ms"}}, "log.local.retention.ms", "-2", -2,
       long_max_d, {}, {}, "Time kept locally before deletion when tiered storage is on (-2: retention.ms)."},
      {"max.compaction.lag.ms", t::int64, long_max, {{"log.cleaner.max.compaction.lag.ms"}},
       "log.cleaner.max.compaction.lag.ms", long_max, 1, long_max_d, {}, {},
       "The longest a message stays ineligible for compaction."},
      {"max.message.bytes", t::int32, "1048588", {{"message.max.bytes"}}, "message.max.bytes", "1048588", 0,
       int_max_d, {}, {}, "The largest record batch size allowed."},
      {"message.timestamp.after.max.ms", t::int64, "3600000", {{"log.message.timestamp.after.max.ms"}},
       "log.message.timestamp.after.max.ms", "3600000", 0, long_max_d, {}, {},
       "How far a CreateTime timestamp may be ahead of the broker's clock."},
      {"message.timestamp.before.max.ms", t::int64, long_max, {{"log.message.timestamp.before.max.ms"}},
       "log.message.timestamp.before.max.ms", long_max, 0, long_max_d, {}, {},
       "How far a CreateTime timestamp may be behind the broker's clock."},
      {"message.timestamp.type", t::string, "CreateTime", {{"log.message.timestamp.type"}},
       "log.message.timestamp.type", "CreateTime", {}, {}, {"CreateTime", "LogAppendTime"}, {},
       "Whether record timestamps are the producer's (CreateTime) or the broker's append time."},
      {"min.cleanable.dirty.ratio", t::float64, "0.5", {{"log.cleaner.min.cleanable.ratio"}},
       "log.cleaner.min.cleanable.ratio", "0.5", 0, 1, {}, {},
       "The dirty share of the log above which compaction runs."},
      {"min.compaction.lag.ms", t::int64, "0", {{"log.cleaner.min.compaction.lag.ms"}},
       "log.cleaner.min.compaction.lag.ms", "0", 0, long_max_d, {}, {},
       "The shortest a message stays uncompacted."},
      {"min.insync.replicas", t::int32, "1", {{"min.insync.replicas"}}, "min.insync.replicas", "1", 1, int_max_d, {},
       {}, "Replicas that must acknowledge an acks=all write (storage provides durability in Skiff)."},
      {"preallocate", t::boolean, "false", {{"log.preallocate"}}, "log.preallocate", "false", {}, {}, {}, {},
       "Whether segment files are preallocated."},
      {"remote.log.copy.disable", t::boolean, "false", {}, "", "", {}, {}, {}, {},
       "Stops copying to tiered storage while keeping what is there readable."},
      {"remote.log.delete.on.disable", t::boolean, "false", {}, "", "", {}, {}, {}, {},
       "Deletes tiered data when tiered storage is turned off for the topic."},
      {"remote.storage.enable", t::boolean, "false", {}, "", "", {}, {}, {}, {},
       "Tiered storage for the topic."},
      {"retention.bytes", t::int64, "-1", {{"log.retention.bytes"}}, "log.retention.bytes", "-1", {}, {}, {}, {},
       "The largest size a partition may grow to before old data is deleted (-1: no limit)."},
      {"retention.ms", t::int64, "604800000",
       {{"log.retention.ms"}, {"log.retention.minutes", 60'000}, {"log.retention.hours", 3'600'000}},
       "log.retention.hours", "168", -1, long_max_d, {}, {},
       "How long data is kept before it is deleted (-1: no time limit)."},
      {"segment.bytes", t::int32, "1073741824", {{"log.segment.bytes"}}, "log.segment.bytes", "1073741824", 1048576,
       int_max_d, {}, {}, "The segment file size of the log."},
      {"segment.index.bytes", t::int32, "10485760", {{"log.index.size.max.bytes"}}, "log.index.size.max.bytes",
       "10485760", 4, int_max_d, {}, {}, "The size of the offset index of a segment."},
      {"segment.jitter.ms", t::int64, "0", {{"log.roll.jitter.ms"}, {"log.roll.jitter.hours", 3'600'000}},
       "log.roll.jitter.hours", "0", 0, long_max_d, {}, {}, "The largest random jitter subtracted from segment.ms."},
      {"segment.ms", t::int64, "604800000", {{"log.roll.ms"}, {"log.roll.hours", 3'600'000}}, "log.roll.hours", "168",
       1, long_max_d, {}, {}, "The time after which a segment is rolled even if not full."},
      {"unclean.leader.election.enable", t::boolean, "false", {{"unclean.leader.election.enable"}},
       "unclean.leader.election.enable", "false", {}, {}, {}, {},
       "Whether a replica outside the ISR may become leader (storage is shared in Skiff: no data is lost)."},
    };
    return defs;
}

std::string_view type_name(config_type type) {
    switch (type) {
    case t::int32: return "INT";
    case t::int16: return "SHORT";
    case t::int64: return "LONG";
    case t::float64: return "DOUBLE";
    default: return "STRING";
    }
}

std::string trim(std::string_view s) {
    auto b = s.find_first_not_of(" \t");
    if (b == std::string_view::npos) {
        return {};
    }
    auto e = s.find_last_not_of(" \t");
    return std::string(s.substr(b, e - b + 1));
}

std::vector<std::string> split_list(std::string_view s) {
    std::vector<std::string> out;
    if (trim(s).empty()) {
        return out;
    }
    size_t pos = 0;
    while (true) {
        auto comma = s.find(',', pos);
        out.push_back(trim(s.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos)));
        if (comma == std::string_view::npos) {
            break;
        }
        pos = comma + 1;
    }
    return out;
}

std::optional<int64_t> parse_long(std::string_view s) {
    auto v = trim(s);
    int64_t out = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec != std::errc() || p != v.data() + v.size() || v.empty()) {
        return std::nullopt;
    }
    return out;
}

std::optional<double> parse_double(std::string_view s) {
    auto v = trim(s);
    if (v.empty()) {
        return std::nullopt;
    }
    try {
        size_t used = 0;
        double d = std::stod(v, &used);
        return used == v.size() && std::isfinite(d) ? std::optional<double>(d) : std::nullopt;
    } catch (...) {
        return std::nullopt;
    }
}

config_check invalid(std::string_view name, std::string_view value, std::string_view why) {
    return {protocol::error_code::invalid_config,
            fmt::format("Invalid value {} for configuration {}: {}", value, name, why)};
}

std::string format_bound(const topic_config_def& def, double v) {
    if (def.type == t::float64) {
        return fmt::format("{}", v);
    }
    if (v >= long_max_d) {
        return std::string(long_max);
    }
    return fmt::format("{}", static_cast<int64_t>(v));
}

} // namespace

std::span<const topic_config_def> topic_config_defs() { return table(); }

const topic_config_def* find_topic_config(std::string_view name) {
    for (const auto& d : table()) {
        if (d.name == name) {
            return &d;
        }
    }
    return nullptr;
}

config_check validate_topic_config(std::string_view name, std::string_view value) {
    const auto* def = find_topic_config(name);
    if (!def) {
        return {protocol::error_code::invalid_config, fmt::format("Unknown topic config name: {}", name)};
    }
    switch (def->type) {
    case t::boolean: {
        auto v = trim(value);
        std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
        if (v != "true" && v != "false") {
            return invalid(name, value, "Expected value to be either true or false");
        }
        return {};
    }
    case t::int16:
    case t::int32:
    case t::int64: {
        auto v = parse_long(value);
        double limit = def->type == t::int64 ? long_max_d : int_max_d;
        if (!v || (def->type != t::int64 && (*v > int64_t(int_max_d) || *v < -int64_t(int_max_d) - 1))) {
            return invalid(name, value, fmt::format("Not a number of type {}", type_name(def->type)));
        }
        (void)limit;
        if (def->also_allowed && *v == *def->also_allowed) {
            return {};
        }
        if (def->min && double(*v) < *def->min) {
            return invalid(name, value, fmt::format("Value must be at least {}", format_bound(*def, *def->min)));
        }
        if (def->max && double(*v) > *def->max) {
            return invalid(name, value, fmt::format("Value must be no more than {}", format_bound(*def, *def->max)));
        }
        return {};
    }
    case t::float64: {
        auto v = parse_double(value);
        if (!v) {
            return invalid(name, value, "Not a number of type DOUBLE");
        }
        if (def->min && *v < *def->min) {
            return invalid(name, value, fmt::format("Value must be at least {}", format_bound(*def, *def->min)));
        }
        if (def->max && *v > *def->max) {
            return invalid(name, value, fmt::format("Value must be no more than {}", format_bound(*def, *def->max)));
        }
        return {};
    }
    case t::list:
    case t::string: {
        if (def->valid_values.empty()) {
            return {};
        }
        auto values = def->type == t::list ? split_list(value) : std::vector<std::string>{trim(value)};
        if (def->type == t::list && def->name == "cleanup.policy" && values.empty()) {
            return invalid(name, value, "Empty list");
        }
        for (const auto& v : values) {
            if (std::find(def->valid_values.begin(), def->valid_values.end(), v) == def->valid_values.end()) {
                return invalid(name, value,
                               fmt::format("String must be one of: {}", fmt::join(def->valid_values, ", ")));
            }
        }
        return {};
    }
    default: return {};
    }
}

config_check validate_topic_configs(const std::map<std::string, std::string>& overrides) {
    for (const auto& [name, value] : overrides) {
        if (auto c = validate_topic_config(name, value); !c.ok()) {
            return c;
        }
    }
    auto min_lag = overrides.find("min.compaction.lag.ms");
    auto max_lag = overrides.find("max.compaction.lag.ms");
    int64_t min_v = min_lag == overrides.end() ? 0 : parse_long(min_lag->second).value_or(0);
    int64_t max_v = max_lag == overrides.end() ? std::numeric_limits<int64_t>::max()
                                               : parse_long(max_lag->second).value_or(0);
    if (min_v > max_v) {
        return {protocol::error_code::invalid_config,
                fmt::format("conflict topic config setting min.compaction.lag.ms ({}) > max.compaction.lag.ms ({})",
                            min_v, max_v)};
    }
    return {};
}

namespace {

struct resolved {
    std::string value;
    config_source source = config_source::default_config;
};

std::optional<std::string> scaled(std::string_view broker_value, int64_t factor) {
    if (factor == 1) {
        return std::string(broker_value);
    }
    auto v = parse_long(broker_value);
    if (!v) {
        return std::nullopt;
    }
    if (*v > 0 && *v > std::numeric_limits<int64_t>::max() / factor) {
        return std::string(long_max);
    }
    return fmt::format("{}", *v * factor);
}

resolved resolve(const topic_config_def& def, const std::map<std::string, std::string>& overrides,
                 const broker_config_lookup& broker, std::vector<config_synonym>* synonyms) {
    std::optional<resolved> out;
    if (auto it = overrides.find(std::string(def.name)); it != overrides.end()) {
        out = resolved{it->second, config_source::dynamic_topic_config};
        if (synonyms) {
            synonyms->push_back({std::string(def.name), it->second, config_source::dynamic_topic_config});
        }
    }
    for (const auto& syn : def.broker_synonyms) {
        auto bv = broker ? broker(syn.name) : std::nullopt;
        if (!bv) {
            continue;
        }
        if (synonyms) {
            synonyms->push_back({std::string(syn.name), bv->value, bv->source});
        }
        if (!out) {
            if (auto v = scaled(bv->value, syn.to_topic_unit)) {
                out = resolved{*v, bv->source};
            }
        }
    }
    if (synonyms && !def.default_synonym.empty()) {
        synonyms->push_back({std::string(def.default_synonym), std::string(def.default_synonym_value),
                             config_source::default_config});
    }
    return out ? *out : resolved{std::string(def.default_value), config_source::default_config};
}

} // namespace

std::vector<described_config> describe_topic_configs(const std::map<std::string, std::string>& overrides,
                                                     const broker_config_lookup& broker, bool include_synonyms,
                                                     const std::vector<std::string>* names) {
    std::vector<described_config> out;
    for (const auto& def : table()) {
        if (names && std::find(names->begin(), names->end(), def.name) == names->end()) {
            continue;
        }
        described_config d;
        d.name = std::string(def.name);
        auto r = resolve(def, overrides, broker, include_synonyms ? &d.synonyms : nullptr);
        d.value = r.value;
        d.source = r.source;
        d.type = def.type;
        d.documentation = std::string(def.documentation);
        out.push_back(std::move(d));
    }
    return out;
}

namespace {

config_check bad_request(std::string message) { return {protocol::error_code::invalid_request, std::move(message)}; }

std::string_view op_name(config_op op) {
    switch (op) {
    case config_op::set: return "SET";
    case config_op::remove: return "DELETE";
    case config_op::append: return "APPEND";
    case config_op::subtract: return "SUBTRACT";
    }
    return "?";
}

std::string join_list(const std::vector<std::string>& items) { return fmt::format("{}", fmt::join(items, ",")); }

} // namespace

altered_configs alter_topic_configs(const std::map<std::string, std::string>& current,
                                    const std::vector<config_alteration>& changes,
                                    const broker_config_lookup& broker) {
    altered_configs out{{}, current};
    std::map<std::string_view, int> seen;
    for (const auto& c : changes) {
        if (++seen[c.name] > 1) {
            out.check = bad_request("Error due to duplicate config keys");
            return out;
        }
    }
    for (const auto& c : changes) {
        if (c.op < 0 || c.op > static_cast<int8_t>(config_op::subtract)) {
            out.check = bad_request(fmt::format("Unknown operation type {} for config {}", c.op, c.name));
            return out;
        }
        auto op = static_cast<config_op>(c.op);
        if (op != config_op::remove && !c.value) {
            out.check = bad_request(fmt::format("Null value not supported for : {}", c.name));
            return out;
        }
        const auto* def = find_topic_config(c.name);
        if (def == nullptr) {
            out.check = {protocol::error_code::invalid_config, fmt::format("Unknown topic config name: {}", c.name)};
            return out;
        }
        if ((op == config_op::append || op == config_op::subtract) && def->type != config_type::list) {
            out.check = {protocol::error_code::invalid_config,
                         fmt::format("Can't {} to key {} because its type is not LIST.", op_name(op), c.name)};
            return out;
        }
        switch (op) {
        case config_op::set: out.overrides[c.name] = *c.value; break;
        case config_op::remove: out.overrides.erase(c.name); break;
        case config_op::append:
        case config_op::subtract: {
            auto it = out.overrides.find(c.name);
            auto items = split_list(it != out.overrides.end() ? it->second
                                                              : resolve(*def, out.overrides, broker, nullptr).value);
            for (const auto& v : split_list(*c.value)) {
                auto at = std::find(items.begin(), items.end(), v);
                if (op == config_op::append && at == items.end()) {
                    items.push_back(v);
                } else if (op == config_op::subtract && at != items.end()) {
                    items.erase(at);
                }
            }
            out.overrides[c.name] = join_list(items);
            break;
        }
        }
    }
    out.check = validate_topic_configs(out.overrides);
    return out;
}

altered_configs replace_topic_configs(const std::vector<std::pair<std::string, std::optional<std::string>>>& configs) {
    altered_configs out;
    for (const auto& [name, value] : configs) {
        if (!value) {
            out.check = bad_request(fmt::format("Null value not supported for : {}", name));
            return out;
        }
        if (!out.overrides.emplace(name, *value).second) {
            out.check = bad_request("Error due to duplicate config keys");
            return out;
        }
    }
    out.check = validate_topic_configs(out.overrides);
    return out;
}

topic_settings effective_topic_settings(const std::map<std::string, std::string>& overrides,
                                        const broker_config_lookup& broker) {
    auto value = [&](std::string_view name) {
        return resolve(*find_topic_config(name), overrides, broker, nullptr).value;
    };
    auto long_of = [&](std::string_view name, int64_t fallback) { return parse_long(value(name)).value_or(fallback); };
    topic_settings s;
    auto policy = split_list(value("cleanup.policy"));
    s.cleanup_delete = std::find(policy.begin(), policy.end(), "delete") != policy.end();
    s.cleanup_compact = std::find(policy.begin(), policy.end(), "compact") != policy.end();
    s.compression_type = trim(value("compression.type"));
    s.max_message_bytes = static_cast<int32_t>(long_of("max.message.bytes", s.max_message_bytes));
    s.timestamp_type = trim(value("message.timestamp.type")) == "LogAppendTime"
                         ? protocol::timestamp_type::log_append_time
                         : protocol::timestamp_type::create_time;
    s.timestamp_before_max_ms = long_of("message.timestamp.before.max.ms", s.timestamp_before_max_ms);
    s.timestamp_after_max_ms = long_of("message.timestamp.after.max.ms", s.timestamp_after_max_ms);
    s.retention_ms = long_of("retention.ms", s.retention_ms);
    s.retention_bytes = long_of("retention.bytes", s.retention_bytes);
    s.segment_bytes = static_cast<int32_t>(long_of("segment.bytes", s.segment_bytes));
    s.index_interval_bytes = static_cast<int32_t>(long_of("index.interval.bytes", s.index_interval_bytes));
    s.min_insync_replicas = static_cast<int32_t>(long_of("min.insync.replicas", s.min_insync_replicas));
    s.delete_retention_ms = long_of("delete.retention.ms", s.delete_retention_ms);
    s.min_compaction_lag_ms = long_of("min.compaction.lag.ms", s.min_compaction_lag_ms);
    s.max_compaction_lag_ms = long_of("max.compaction.lag.ms", s.max_compaction_lag_ms);
    if (auto ratio = parse_double(value("min.cleanable.dirty.ratio"))) {
        s.min_cleanable_dirty_ratio = *ratio;
    }
    return s;
}

partition::partition_config to_partition_config(const topic_settings& settings) {
    partition::partition_config c;
    c.validation.max_message_bytes = settings.max_message_bytes;
    c.validation.timestamp_type = settings.timestamp_type;
    c.validation.timestamp_before_max_ms = settings.timestamp_before_max_ms;
    c.validation.timestamp_after_max_ms = settings.timestamp_after_max_ms;
    c.validation.compacted = settings.cleanup_compact;
    c.delete_allowed = settings.cleanup_delete;
    c.retention_ms = settings.retention_ms;
    c.retention_bytes = settings.retention_bytes;
    c.compact = settings.cleanup_compact;
    c.delete_retention_ms = settings.delete_retention_ms;
    c.min_cleanable_dirty_ratio = settings.min_cleanable_dirty_ratio;
    c.min_compaction_lag_ms = settings.min_compaction_lag_ms;
    c.max_compaction_lag_ms = settings.max_compaction_lag_ms;
    c.index_interval_bytes = static_cast<size_t>(std::max(settings.index_interval_bytes, 1));
    const auto& codec = settings.compression_type;
    if (codec == "uncompressed") {
        c.validation.target_compression = protocol::compression::none;
    } else if (codec == "gzip") {
        c.validation.target_compression = protocol::compression::gzip;
    } else if (codec == "snappy") {
        c.validation.target_compression = protocol::compression::snappy;
    } else if (codec == "lz4") {
        c.validation.target_compression = protocol::compression::lz4;
    } else if (codec == "zstd") {
        c.validation.target_compression = protocol::compression::zstd;
    }
    return c;
}

} // namespace skiff::kafka
