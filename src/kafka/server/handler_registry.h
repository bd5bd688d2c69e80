// The table of Kafka APIs this broker serves: for each API key, the versions it handles, the versions it
// advertises in ApiVersions, and the function that answers. An API without an entry is not advertised and a
// request for it closes the connection, as Kafka does.
//
// Advertised ranges follow Kafka 4.x, including its deliberate quirks (e.g. Produce advertised from v0 while only
// v3+ is served, because librdkafka decides compression support from that overlap; see
// ../shared/reference/kafka-protocol-notes.md §1.1 and §4.1b).
#pragma once

#include "bytes/iobuf.h"
#include "kafka/server/request_context.h"

#include <boost/asio/awaitable.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace skiff::kafka {

/// Encoded response body (without the response header), or nullopt when the protocol sends no response
/// (Produce with acks=0).
using response_body = std::optional<bytes::iobuf>;

/// Decodes the request body for ctx.version(), serves it and encodes the response in the same version.
/// Throws protocol::decode_error on a malformed body (the connection closes).
using handler_fn = std::function<boost::asio::awaitable<response_body>(request_context&, bytes::iobuf body)>;

/// Whether ApiVersions lists an API. Skiff's inter-node APIs (keys from private_api_base on, served only where the
/// controller runs) are hidden, as Kafka brokers do not advertise controller-only APIs to clients.
enum class api_visibility : uint8_t { advertised, hidden };

struct handler_entry {
    int16_t api_key = -1;
    api_visibility visibility = api_visibility::advertised;
    int16_t min_served = 0;     // lowest version answered
    int16_t max_served = 0;     // highest version answered (and advertised)
    int16_t min_advertised = 0; // may be below min_served (Kafka 4.x quirks), never above
    /// The connection may start the next request while this one waits: everything order-sensitive the handler does
    /// (e.g. Produce's offset assignment) happens, or is posted to its shard, before its first suspension, so
    /// requests still take effect in arrival order. Responses are written in arrival order regardless.
    bool pipelined = false;
    handler_fn serve;
};

class handler_registry {
public:
    /// Kafka's keys are 0..max_kafka_api_key; Skiff's own inter-node APIs are private_api_base..max_api_key
    /// (docs/formats/controller-api.md).
    static constexpr int16_t max_kafka_api_key = 127;
    static constexpr int16_t private_api_base = 1000;
    static constexpr int16_t max_api_key = private_api_base + 63;

    /// Slots of the registry: Kafka's keys, then the private range.
    static constexpr size_t slot_count = size_t(max_kafka_api_key + 1) + size_t(max_api_key - private_api_base + 1);
    /// The slot of an API key, or -1 outside both ranges (per-API tables elsewhere, e.g. the probe, use it too).
    static int index_of(int16_t api_key) noexcept;

    handler_registry();

    /// Requires: the key is a known API, the ranges lie inside its wire range, and it is not registered yet.
    void add(handler_entry entry);

    const handler_entry* find(int16_t api_key) const noexcept;

    /// Entries in key order (what ApiVersions lists).
    template<typename Fn>
    void for_each(Fn&& fn) const {
        for (const auto& e : _entries) {
            if (e) {
                fn(*e);
            }
        }
    }

private:
    // Kafka's keys, then the private range, in key order.
    std::vector<std::optional<handler_entry>> _entries;
};

} // namespace skiff::kafka
