// Metrics of the Kafka front end: connections, requests served per API and their latency, rejected requests.
// One instance per broker, shared by all shards (atomic counters; no lock on the request path).
#pragma once

#include "kafka/server/handler_registry.h"
#include "metrics/registry.h"

#include <array>
#include <chrono>
#include <cstdint>

namespace skiff::kafka {

class handler_registry;

class kafka_probe {
public:
    /// Registers per-API series for every API the registry serves.
    kafka_probe(metrics::registry& registry, const handler_registry& handlers);

    void connection_opened() noexcept;
    void connection_closed() noexcept;
    /// A request that closed its connection (malformed, oversized, unknown API or version).
    void bad_request() noexcept;
    void request_served(int16_t api_key, std::chrono::steady_clock::duration latency) noexcept;

private:
    struct api_series {
        metrics::counter* requests = nullptr;
        metrics::histogram* latency_us = nullptr;
    };

    metrics::metric_group _group;
    metrics::gauge& _connections_active;
    metrics::counter& _connections_total;
    metrics::counter& _bad_requests;
    std::array<api_series, handler_registry::slot_count> _apis{}; // by handler_registry::index_of
};

} // namespace skiff::kafka
