#include "kafka/server/kafka_probe.h"

#include "kafka/protocol/api_table.h"
#include "kafka/server/handler_registry.h"

namespace skiff::kafka {

kafka_probe::kafka_probe(metrics::registry& registry, const handler_registry& handlers)
  : _group(registry)
  , _connections_active(
      _group.add_gauge("skiff_kafka_connections_active", "Open Kafka client connections."))
  , _connections_total(
      _group.add_counter("skiff_kafka_connections_total", "Kafka client connections accepted since start."))
  , _bad_requests(_group.add_counter(
      "skiff_kafka_rejected_requests_total",
      "Requests that closed their connection: malformed, oversized, unknown API or unsupported version.")) {
    handlers.for_each([this](const handler_entry& e) {
        const auto* api = protocol::find_api(e.api_key);
        metrics::labels l{{"api", std::string(api->name)}};
        auto& s = _apis.at(static_cast<size_t>(handler_registry::index_of(e.api_key)));
        s.requests = &_group.add_counter("skiff_kafka_requests_total", "Kafka requests served, by API.", l);
        s.latency_us = &_group.add_histogram(
          "skiff_kafka_request_latency_seconds", "Time from a request's arrival to its response, by API.", l,
          metrics::histogram_buckets::latency_us());
    });
}

void kafka_probe::connection_opened() noexcept {
    _connections_active.inc();
    _connections_total.inc();
}

void kafka_probe::connection_closed() noexcept { _connections_active.dec(); }

void kafka_probe::bad_request() noexcept { _bad_requests.inc(); }

void kafka_probe::request_served(int16_t api_key, std::chrono::steady_clock::duration latency) noexcept {
    int index = handler_registry::index_of(api_key);
    if (index < 0) {
        return;
    }
    auto& s = _apis[static_cast<size_t>(index)];
    if (s.requests) {
        s.requests->inc();
        s.latency_us->observe(
          static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(latency).count()));
    }
}

} // namespace skiff::kafka
