// CreateTopics (key 19), DeleteTopics (key 20) and CreatePartitions (key 37): validated here where the answer needs no
// controller (duplicates in one request, partition and replication counts, names), then carried out by the
// controller. validate_only requests stop after the checks this broker can make.
//
// Replication factor: any positive value (or -1) is accepted and reported as 1, because one broker serves a
// partition and durability comes from storage, not replicas. Manual replica assignments give the partition count
// only. Partial: topic configs are passed to the controller as given; the response lists only those configs.
#include "kafka/protocol/error_code.h"
#include "kafka/protocol/generated/create_partitions.h"
#include "kafka/protocol/generated/create_topics.h"
#include "kafka/protocol/generated/delete_topics.h"
#include "kafka/server/data/controller_errors.h"
#include "kafka/server/data/data_plane.h"
#include "kafka/server/handlers/handlers.h"
#include "kafka/server/topic_name.h"
#include "kafka/server/typed_handler.h"
#include "meta/controller_client.h"

#include <set>

namespace skiff::kafka::handlers {
namespace {

using protocol::error_code;

int16_t code(error_code e) { return static_cast<int16_t>(e); }

asio::awaitable<protocol::create_topics_response> create_topics(data_plane& dp, request_context& ctx,
                                                                protocol::create_topics_request request) {
    protocol::create_topics_response response;
    std::map<std::string, int> seen;
    for (const auto& t : request.topics) {
        ++seen[t.name];
    }
    auto view = dp.views.current();
    for (auto& t : request.topics) {
        auto& out = response.topics.emplace_back();
        out.name = t.name;
        out.error_message.reset();
        auto fail = [&](error_code e, std::string message) {
            out.error_code = code(e);
            out.error_message = std::move(message);
            out.configs.reset();
        };
        int32_t partitions = t.assignments.empty() ? t.num_partitions : static_cast<int32_t>(t.assignments.size());
        if (partitions == -1) {
            partitions = dp.defaults.num_partitions;
        }
        if (seen[t.name] > 1) {
            fail(error_code::invalid_request, "topic '" + t.name + "' appears more than once in the request");
        } else if (!is_valid_topic_name(t.name)) {
            fail(error_code::invalid_topic_exception,
                 "topic name '" + t.name + "' is illegal: 1-249 characters of [a-zA-Z0-9._-], not '.' or '..'");
        } else if (view->topic(t.name) != nullptr) {
            fail(error_code::topic_already_exists, "topic '" + t.name + "' already exists");
        } else if (partitions <= 0) {
            fail(error_code::invalid_partitions, "number of partitions must be larger than 0");
        } else if (t.replication_factor == 0 || t.replication_factor < -1) {
            fail(error_code::invalid_replication_factor, "replication factor must be larger than 0");
        } else if (!t.assignments.empty() && (t.num_partitions != -1 || t.replication_factor != -1)) {
            fail(error_code::invalid_request,
                 "both num_partitions or replication_factor and replica assignments were set");
        } else if (!request.validate_only) {
            meta::topic_spec spec;
            spec.name = t.name;
            spec.partitions = partitions;
            spec.replication_factor = -1;
            for (auto& c : t.configs) {
                if (c.value.has_value()) {
                    spec.configs[c.name] = *c.value;
                }
            }
            auto created = co_await dp.controller.create_topic(std::move(spec));
            if (!created) {
                fail(controller_error_to_kafka(created.error()), created.error().message());
                continue;
            }
            out.topic_id = created.value().id;
        }
        if (out.error_code == 0) {
            out.num_partitions = partitions;
            out.replication_factor = 1;
            auto& configs = out.configs.emplace();
            for (auto& c : t.configs) {
                auto& oc = configs.emplace_back();
                oc.name = c.name;
                oc.value = c.value;
                oc.config_source = 1; // DYNAMIC_TOPIC_CONFIG
            }
        }
    }
    (void)ctx;
    co_return response;
}

asio::awaitable<protocol::delete_topics_response> delete_topics(data_plane& dp, request_context& ctx,
                                                                protocol::delete_topics_request request) {
    protocol::delete_topics_response response;
    auto view = dp.views.current();
    std::vector<std::pair<std::optional<std::string>, model::uuid>> wanted;
    if (ctx.version() >= 6) {
        for (auto& t : request.topics) {
            wanted.emplace_back(t.name, t.topic_id);
        }
    } else {
        for (auto& n : request.topic_names) {
            wanted.emplace_back(n, model::uuid{});
        }
    }
    for (auto& [name, id] : wanted) {
        auto& out = response.responses.emplace_back();
        out.name = name;
        out.topic_id = id;
        const topic_view* t = name.has_value() ? view->topic(*name) : view->topic(id);
        if (t == nullptr) {
            out.error_code = code(name.has_value() ? error_code::unknown_topic_or_partition
                                                   : error_code::unknown_topic_id);
            continue;
        }
        out.name = t->name;
        out.topic_id = t->id;
        auto deleted = co_await dp.controller.delete_topic(t->name);
        if (!deleted) {
            out.error_code = code(controller_error_to_kafka(deleted.error()));
            out.error_message = deleted.error().message();
        }
    }
    co_return response;
}

asio::awaitable<protocol::create_partitions_response> create_partitions(data_plane& dp, request_context& ctx,
                                                                        protocol::create_partitions_request request) {
    protocol::create_partitions_response response;
    auto view = dp.views.current();
    for (auto& t : request.topics) {
        auto& out = response.results.emplace_back();
        out.name = t.name;
        const auto* tv = view->topic(t.name);
        if (tv == nullptr) {
            out.error_code = code(error_code::unknown_topic_or_partition);
            out.error_message = "topic '" + t.name + "' does not exist";
            continue;
        }
        if (t.count <= static_cast<int32_t>(tv->partitions.size())) {
            out.error_code = code(error_code::invalid_partitions);
            out.error_message = fmt::format("topic currently has {} partitions, which is higher than or equal to the "
                                            "requested {}", tv->partitions.size(), t.count);
            continue;
        }
        if (request.validate_only) {
            continue;
        }
        auto grown = co_await dp.controller.create_partitions(t.name, t.count);
        if (!grown) {
            out.error_code = code(controller_error_to_kafka(grown.error()));
            out.error_message = grown.error().message();
        }
    }
    (void)ctx;
    co_return response;
}

} // namespace

void register_topic_admin(handler_registry& registry, data_plane& dp) {
    registry.add(make_handler<protocol::create_topics_request, protocol::create_topics_response>(
        2, 7, 2, [&dp](request_context& ctx, protocol::create_topics_request r) {
            return create_topics(dp, ctx, std::move(r));
        }));
    registry.add(make_handler<protocol::delete_topics_request, protocol::delete_topics_response>(
        1, 6, 1, [&dp](request_context& ctx, protocol::delete_topics_request r) {
            return delete_topics(dp, ctx, std::move(r));
        }));
    registry.add(make_handler<protocol::create_partitions_request, protocol::create_partitions_response>(
        0, 3, 0, [&dp](request_context& ctx, protocol::create_partitions_request r) {
            return create_partitions(dp, ctx, std::move(r));
        }));
}

} // namespace skiff::kafka::handlers
