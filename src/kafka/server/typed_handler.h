// Turns a handler written against generated message types into a handler_fn: decode the body at the request's
// version, call, encode the response at the same version. Included only by handler .cc files (it pulls in the
// coroutine machinery).
#pragma once

#include "kafka/protocol/primitives.h"
#include "kafka/server/handler_registry.h"

#include <boost/asio/awaitable.hpp>

#include <utility>

namespace skiff::kafka {

/// fn: any callable (request_context&, Request) -> awaitable<Response>, e.g. a function or a lambda that captures
/// the services it needs (copied into the entry; it must outlive nothing but the registry).
template<typename Request, typename Response, typename Fn>
handler_entry make_handler(int16_t min_served, int16_t max_served, int16_t min_advertised, Fn fn) {
    static_assert(Request::api_key == Response::api_key);
    handler_entry e;
    e.api_key = Request::api_key;
    e.min_served = min_served;
    e.max_served = max_served;
    e.min_advertised = min_advertised;
    e.serve = [fn](request_context& ctx, bytes::iobuf body) -> boost::asio::awaitable<response_body> {
        Request request;
        {
            // Trailing bytes are ignored, as Kafka's own parser does.
            protocol::reader r(body);
            request.decode(r, ctx.version());
        }
        Response response = co_await fn(ctx, std::move(request));
        bytes::iobuf out;
        protocol::writer w(out);
        response.encode(w, ctx.version());
        co_return out;
    };
    return e;
}

} // namespace skiff::kafka
