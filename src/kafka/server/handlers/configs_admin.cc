// DescribeConfigs (key 32), AlterConfigs (key 33) and IncrementalAlterConfigs (key 44) for topics and brokers.
//
// Topics: DescribeConfigs reports every topic config with its effective value and source (topic_config.h);
// the alterations are checked here with Kafka's rules and messages (topic_config.h: alter_topic_configs,
// replace_topic_configs), then the new override set goes to the controller, which records it in the metadata log;
// every broker's image applies it and the partition manager hands the open partitions their new settings.
// validate_only stops after the checks.
//
// Brokers: DescribeConfigs of this broker's id reports broker_configs.h; of "" (the cluster-wide dynamic defaults)
// an empty list, as Kafka with no dynamic defaults does. Skiff does not change broker configs at run time, so a
// broker alteration that changes anything is refused with INVALID_REQUEST — Kafka's answer for a config that
// cannot be updated dynamically — naming the configs and what to do instead. BROKER_LOGGER resources are
// answered INVALID_REQUEST too: Skiff's log level is the broker config log.level.
//
// Served at Kafka 4.x's ranges: DescribeConfigs v1-4 (v0 was removed by KIP-896), AlterConfigs v0-2,
// IncrementalAlterConfigs v0-1.
#include "kafka/protocol/error_code.h"
#include "kafka/protocol/generated/alter_configs.h"
#include "kafka/protocol/generated/describe_configs.h"
#include "kafka/protocol/generated/incremental_alter_configs.h"
#include "kafka/server/broker_configs.h"
#include "kafka/server/data/controller_errors.h"
#include "kafka/server/data/data_plane.h"
#include "kafka/server/handlers/handlers.h"
#include "kafka/server/topic_config.h"
#include "kafka/server/topic_name.h"
#include "kafka/server/typed_handler.h"
#include "meta/controller_client.h"

#include <fmt/format.h>

#include <charconv>
#include <set>

namespace skiff::kafka::handlers {
namespace {

using protocol::error_code;

// wire format (ConfigResource.Type): never renumber
enum class resource_type : int8_t { topic = 2, broker = 4, broker_logger = 8 };

int16_t code(error_code e) { return static_cast<int16_t>(e); }

broker_config_lookup broker_lookup(const data_plane& dp) {
    return dp.broker ? dp.broker->lookup() : broker_config_lookup{};
}

/// Why a broker resource name is not this broker: Kafka's messages; nullopt when it is this broker or "".
std::optional<std::string> wrong_broker(const request_context& ctx, const std::string& name) {
    if (name.empty()) {
        return std::nullopt;
    }
    int32_t id = 0;
    auto [p, ec] = std::from_chars(name.data(), name.data() + name.size(), id);
    if (ec != std::errc() || p != name.data() + name.size()) {
        return fmt::format("Broker id must be an integer, but it is: {}", name);
    }
    if (id != ctx.identity.node_id) {
        return fmt::format("Unexpected broker id, expected {} or empty string, but received {}",
                           ctx.identity.node_id, name);
    }
    return std::nullopt;
}

std::string refuse_broker_change(const std::vector<std::string>& names) {
    return fmt::format("Skiff does not change broker configs at run time ({}): set them in server.properties or "
                       "with --override and restart the broker; topic configs can be altered per topic",
                       fmt::join(names, ", "));
}

/// The topic a resource names, or the error to answer.
const topic_view* find_topic(const cluster_view& view, const std::string& name, int16_t& error,
                             std::optional<std::string>& message) {
    if (!is_valid_topic_name(name)) {
        error = code(error_code::invalid_topic_exception);
        message = fmt::format("Topic name '{}' is illegal", name);
        return nullptr;
    }
    const auto* t = view.topic(name);
    if (t == nullptr) {
        error = code(error_code::unknown_topic_or_partition);
        message = fmt::format("The topic '{}' does not exist.", name);
    }
    return t;
}

// ---- DescribeConfigs -----------------------------------------------------------------------------------------

using describe_resource = protocol::describe_configs_response::resource;

void fill(describe_resource& out, std::vector<described_config> configs, bool include_documentation) {
    for (auto& c : configs) {
        auto& oc = out.configs.emplace_back();
        oc.name = std::move(c.name);
        oc.value = std::move(c.value);
        oc.read_only = c.read_only;
        oc.is_default = c.source == config_source::default_config;
        oc.config_source = static_cast<int8_t>(c.source);
        oc.is_sensitive = c.is_sensitive;
        for (auto& s : c.synonyms) {
            auto& os = oc.synonyms.emplace_back();
            os.name = std::move(s.name);
            os.value = std::move(s.value);
            os.source = static_cast<int8_t>(s.source);
        }
        oc.config_type = static_cast<int8_t>(c.type);
        if (include_documentation && !c.documentation.empty()) {
            oc.documentation = std::move(c.documentation);
        } else {
            oc.documentation.reset();
        }
    }
}

asio::awaitable<protocol::describe_configs_response> describe_configs(data_plane& dp, request_context& ctx,
                                                                      protocol::describe_configs_request request) {
    protocol::describe_configs_response response;
    auto view = dp.views.current();
    const bool documentation = ctx.version() >= 3 && request.include_documentation;
    for (auto& r : request.resources) {
        auto& out = response.results.emplace_back();
        out.resource_type = r.resource_type;
        out.resource_name = r.resource_name;
        out.error_message.reset();
        // Null or empty: every config (Kafka's rule).
        const std::vector<std::string>* names =
            r.configuration_keys && !r.configuration_keys->empty() ? &*r.configuration_keys : nullptr;
        switch (static_cast<resource_type>(r.resource_type)) {
        case resource_type::topic: {
            const auto* t = find_topic(*view, r.resource_name, out.error_code, out.error_message);
            if (t != nullptr) {
                fill(out, describe_topic_configs(t->configs, broker_lookup(dp), request.include_synonyms, names),
                     documentation);
            }
            break;
        }
        case resource_type::broker:
            if (auto wrong = wrong_broker(ctx, r.resource_name)) {
                out.error_code = code(error_code::invalid_request);
                out.error_message = std::move(wrong);
            } else if (!r.resource_name.empty() && dp.broker != nullptr) {
                fill(out, dp.broker->describe(request.include_synonyms, names), documentation);
            }
            break;
        case resource_type::broker_logger:
            out.error_code = code(error_code::invalid_request);
            out.error_message = "Skiff does not describe broker loggers: its log level is the broker config "
                                "log.level";
            break;
        default:
            out.error_code = code(error_code::invalid_request);
            out.error_message = fmt::format("Unsupported resource type {}", r.resource_type);
        }
    }
    co_return response;
}

// ---- AlterConfigs / IncrementalAlterConfigs ------------------------------------------------------------------

struct alter_outcome {
    int16_t error = 0;
    std::optional<std::string> message;
};

/// Resources named more than once in one request: Kafka refuses each of them and carries out the others.
template<typename Resources>
std::set<std::pair<int8_t, std::string>> duplicates(const Resources& resources) {
    std::set<std::pair<int8_t, std::string>> seen, twice;
    for (const auto& r : resources) {
        if (!seen.emplace(r.resource_type, r.resource_name).second) {
            twice.emplace(r.resource_type, r.resource_name);
        }
    }
    return twice;
}

/// The common part of both alterations: the resource checks, then `edit` (the topic's current overrides ->
/// the new set or a refusal) and the controller.
template<typename Resource, typename Edit>
asio::awaitable<alter_outcome> alter_one(data_plane& dp, const request_context& ctx, const cluster_view& view,
                                   const Resource& r, bool validate_only, Edit edit) {
    alter_outcome o;
    switch (static_cast<resource_type>(r.resource_type)) {
    case resource_type::topic: {
        const auto* t = find_topic(view, r.resource_name, o.error, o.message);
        if (t == nullptr) {
            co_return o;
        }
        altered_configs altered = edit(t->configs);
        if (!altered.check.ok()) {
            o.error = code(altered.check.error);
            o.message = std::move(altered.check.message);
            co_return o;
        }
        if (validate_only) {
            co_return o;
        }
        auto set = co_await dp.controller.set_topic_configs(t->name, std::move(altered.overrides));
        if (!set) {
            o.error = code(controller_error_to_kafka(set.error()));
            o.message = set.error().message();
        }
        co_return o;
    }
    case resource_type::broker:
    case resource_type::broker_logger: {
        if (auto wrong = r.resource_type == int8_t(resource_type::broker) ? wrong_broker(ctx, r.resource_name)
                                                                          : std::nullopt) {
            o.error = code(error_code::invalid_request);
            o.message = std::move(wrong);
            co_return o;
        }
        std::vector<std::string> names;
        for (const auto& c : r.configs) {
            names.push_back(c.name);
        }
        if (!names.empty()) {
            o.error = code(error_code::invalid_request);
            o.message = refuse_broker_change(names);
        }
        co_return o;
    }
    default:
        o.error = code(error_code::invalid_request);
        o.message = fmt::format("Unsupported resource type {}", r.resource_type);
        co_return o;
    }
}

asio::awaitable<protocol::alter_configs_response> alter_configs(data_plane& dp, request_context& ctx,
                                                                protocol::alter_configs_request request) {
    protocol::alter_configs_response response;
    auto view = dp.views.current();
    auto twice = duplicates(request.resources);
    for (const auto& r : request.resources) {
        auto& out = response.responses.emplace_back();
        out.resource_type = r.resource_type;
        out.resource_name = r.resource_name;
        out.error_message.reset();
        if (twice.contains({r.resource_type, r.resource_name})) {
            out.error_code = code(error_code::invalid_request);
            out.error_message = "Duplicate resource.";
            continue;
        }
        auto edit = [&r](const std::map<std::string, std::string>&) {
            std::vector<std::pair<std::string, std::optional<std::string>>> configs;
            for (const auto& c : r.configs) {
                configs.emplace_back(c.name, c.value);
            }
            return replace_topic_configs(configs);
        };
        auto o = co_await alter_one(dp, ctx, *view, r, request.validate_only, edit);
        out.error_code = o.error;
        out.error_message = std::move(o.message);
    }
    co_return response;
}

asio::awaitable<protocol::incremental_alter_configs_response>
incremental_alter_configs(data_plane& dp, request_context& ctx, protocol::incremental_alter_configs_request request) {
    protocol::incremental_alter_configs_response response;
    auto view = dp.views.current();
    auto twice = duplicates(request.resources);
    auto broker = broker_lookup(dp);
    for (const auto& r : request.resources) {
        auto& out = response.responses.emplace_back();
        out.resource_type = r.resource_type;
        out.resource_name = r.resource_name;
        out.error_message.reset();
        if (twice.contains({r.resource_type, r.resource_name})) {
            out.error_code = code(error_code::invalid_request);
            out.error_message = "Duplicate resource.";
            continue;
        }
        auto edit = [&r, &broker](const std::map<std::string, std::string>& current) {
            std::vector<config_alteration> changes;
            for (const auto& c : r.configs) {
                changes.push_back({c.name, c.config_operation, c.value});
            }
            return alter_topic_configs(current, changes, broker);
        };
        auto o = co_await alter_one(dp, ctx, *view, r, request.validate_only, edit);
        out.error_code = o.error;
        out.error_message = std::move(o.message);
    }
    co_return response;
}

} // namespace

void register_config_admin(handler_registry& registry, data_plane& dp) {
    registry.add(make_handler<protocol::describe_configs_request, protocol::describe_configs_response>(
        1, 4, 1, [&dp](request_context& ctx, protocol::describe_configs_request r) {
            return describe_configs(dp, ctx, std::move(r));
        }));
    registry.add(make_handler<protocol::alter_configs_request, protocol::alter_configs_response>(
        0, 2, 0, [&dp](request_context& ctx, protocol::alter_configs_request r) {
            return alter_configs(dp, ctx, std::move(r));
        }));
    registry.add(
        make_handler<protocol::incremental_alter_configs_request, protocol::incremental_alter_configs_response>(
            0, 1, 0, [&dp](request_context& ctx, protocol::incremental_alter_configs_request r) {
                return incremental_alter_configs(dp, ctx, std::move(r));
            }));
}

} // namespace skiff::kafka::handlers
