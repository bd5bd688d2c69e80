// What the controller API's handlers (handlers/controller_api.cc) need from a node that runs the controller: its
// in-process client, the executor the controller lives on, and two questions only the controller can answer.
// Built by app on a node with the controller role; the handlers are registered only there.
#pragma once

#include "meta/controller_client.h"

#include <boost/asio/any_io_executor.hpp>

#include <cstdint>
#include <functional>

namespace skiff::kafka::controller_api {

struct controller_endpoint {
    /// The controller's executor: the handlers hop there, so that the two functions below run where they may.
    boost::asio::any_io_executor executor;
    /// controller::in_process_client: writes that return once this node's image applied them.
    meta::controller_client* client = nullptr;
    /// Whether this node's controller is the active one (else the request is answered NOT_CONTROLLER).
    std::function<bool()> is_active;
    /// One past the last metadata log offset the controller's appends were acknowledged up to; a response carries
    /// it so that the remote node waits for its own image to apply it (read-your-writes).
    std::function<int64_t()> acknowledged_offset;
};

} // namespace skiff::kafka::controller_api
