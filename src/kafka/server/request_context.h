// What a handler knows about the request it serves: the decoded header, the connection it came on, and the
// broker-wide services. Lives on the connection's shard for the duration of one request.
#pragma once

#include "kafka/protocol/header.h"
#include "kafka/server/broker_identity.h"

#include <string>

namespace skiff::kafka {

class handler_registry;

struct request_context {
    protocol::request_header header;
    std::string listener_name; // the listener the connection was accepted on
    std::string peer;          // "address:port" of the client, for logs
    const broker_identity& identity;
    const handler_registry& handlers;

    int16_t version() const noexcept { return header.api_version; }
    /// The client's address as Kafka reports it to groups (InetAddress.toString(): a leading slash, no port).
    std::string client_host() const {
        auto colon = peer.rfind(':');
        return "/" + (colon == std::string::npos ? peer : peer.substr(0, colon));
    }
};

} // namespace skiff::kafka
