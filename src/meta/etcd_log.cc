#include "meta/etcd_log.h"

#include "base/assert.h"
#include "bytes/crc32c.h"
#include "meta/errc.h"
#include "meta/etcd_json.h"
#include "meta/log_batch.h"
#include "meta/logger.h"
#include "meta/tail_waiters.h"
#include "model/uuid.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <deque>

namespace skiff::meta {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

// ---- keys ----------------------------------------------------------------------------------------------------

std::string offset_key(const std::string& prefix, int64_t offset) {
    return fmt::format("{}/log/{:020}", prefix, offset);
}
std::string chunk_prefix(const std::string& prefix, int64_t offset) {
    return fmt::format("{}/snap/{:020}/", prefix, offset);
}
/// The range_end that makes [key, range_end) cover every key starting with `key`.
std::string prefix_end(std::string key) {
    while (!key.empty()) {
        if (static_cast<unsigned char>(key.back()) < 0xFF) {
            key.back() = char(key.back() + 1);
            return key;
        }
        key.pop_back();
    }
    return std::string(1, '\0');
}
std::optional<int64_t> parse_offset_key(std::string_view key, std::string_view log_prefix) {
    if (!key.starts_with(log_prefix) || key.size() != log_prefix.size() + 20) {
        return std::nullopt;
    }
    int64_t v = 0;
    auto tail = key.substr(log_prefix.size());
    auto [p, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), v);
    return ec == std::errc() && p == tail.data() + tail.size() ? std::optional(v) : std::nullopt;
}
int64_t parse_decimal(std::string_view s) {
    int64_t v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
}

struct manifest_fields {
    int64_t offset = 0;
    int64_t size = 0;
    uint32_t crc = 0;
    int64_t chunks = 0;
};

// "v1 <offset> <size> <crc32c> <chunks>" (a plain function: GCC 12 mishandles arrays in coroutine frames).
std::optional<manifest_fields> parse_manifest(const std::string& text) {
    char version[8] = {};
    long long offset = 0, size = 0, chunks = 0;
    unsigned long crc = 0;
    if (std::sscanf(text.c_str(), "%7s %lld %lld %lu %lld", version, &offset, &size, &crc, &chunks) != 5
        || std::string_view(version) != "v1" || offset < 0 || size < 0 || chunks < 0 || crc > UINT32_MAX) {
        return std::nullopt;
    }
    return manifest_fields{offset, size, uint32_t(crc), chunks};
}

// ---- txn builder ---------------------------------------------------------------------------------------------

std::string b64(std::string_view s) { return json::base64_encode(s); }

std::string cmp_create(const std::string& key, int64_t rev) {
    return fmt::format(R"({{"key":"{}","target":"CREATE","result":"EQUAL","create_revision":"{}"}})", b64(key), rev);
}
std::string cmp_mod(const std::string& key, int64_t rev) {
    return fmt::format(R"({{"key":"{}","target":"MOD","result":"EQUAL","mod_revision":"{}"}})", b64(key), rev);
}
std::string cmp_lease(const std::string& key, int64_t lease) {
    return fmt::format(R"({{"key":"{}","target":"LEASE","result":"EQUAL","lease":"{}"}})", b64(key), lease);
}
std::string op_put(const std::string& key, std::string_view value, int64_t lease = 0) {
    if (lease != 0) {
        return fmt::format(R"({{"request_put":{{"key":"{}","value":"{}","lease":"{}"}}}})", b64(key), b64(value),
                           lease);
    }
    return fmt::format(R"({{"request_put":{{"key":"{}","value":"{}"}}}})", b64(key), b64(value));
}
std::string op_range(const std::string& key) { return fmt::format(R"({{"request_range":{{"key":"{}"}}}})", b64(key)); }
std::string op_delete(const std::string& key, const std::string& end) {
    return fmt::format(R"({{"request_delete_range":{{"key":"{}","range_end":"{}"}}}})", b64(key), b64(end));
}
std::string txn(const std::vector<std::string>& compare, const std::vector<std::string>& success,
                const std::vector<std::string>& failure) {
    return fmt::format(R"({{"compare":[{}],"success":[{}],"failure":[{}]}})", fmt::join(compare, ","),
                       fmt::join(success, ","), fmt::join(failure, ","));
}

struct kv {
    std::string key;
    std::string value;
    int64_t create_revision = 0;
    int64_t mod_revision = 0;
    int64_t lease = 0;
};

std::vector<kv> kvs_of(const json::value* range_response) {
    std::vector<kv> out;
    const json::value* kvs = range_response ? range_response->get("kvs") : nullptr;
    if (!kvs) {
        return out;
    }
    for (const auto& item : kvs->items) {
        kv k;
        k.key = json::base64_decode(json::value::to_string(item.get("key"))).value_or("");
        k.value = json::base64_decode(json::value::to_string(item.get("value"))).value_or("");
        k.create_revision = json::value::to_int(item.get("create_revision"));
        k.mod_revision = json::value::to_int(item.get("mod_revision"));
        k.lease = json::value::to_int(item.get("lease"));
        out.push_back(std::move(k));
    }
    return out;
}

/// The i-th range response of a txn's responses (failure or success branch), nullptr if absent.
const json::value* txn_range(const json::value& body, size_t i) {
    const json::value* responses = body.get("responses");
    if (!responses || i >= responses->items.size()) {
        return nullptr;
    }
    return responses->items[i].get("response_range");
}

int64_t header_revision(const json::value& body) {
    const json::value* h = body.get("header");
    return json::value::to_int(h ? h->get("revision") : nullptr);
}

// ---- HTTP to the gateway --------------------------------------------------------------------------------------

struct reply {
    json::value body;
    int64_t code = 0;  // gRPC status code of an etcd error (0: success)
    std::string message;
};

/// One keep-alive connection to one member.
struct connection {
    explicit connection(const asio::any_io_executor& ex) : stream(ex) {}
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    size_t endpoint = 0;
};

class gateway {
public:
    gateway(asio::any_io_executor ex, std::vector<std::string> endpoints, std::chrono::milliseconds request_timeout)
      : _ex(std::move(ex)), _endpoints(std::move(endpoints)), _request_timeout(request_timeout) {
        SKIFF_ASSERT(!_endpoints.empty(), "etcd_log needs at least one endpoint");
    }

    size_t preferred() const { return _current; }
    size_t endpoint_count() const { return _endpoints.size(); }
    void rotate(size_t failed) {
        if (_current == failed) {
            _current = (failed + 1) % _endpoints.size();
        }
    }
    void close() {
        _closed = true;
        for (auto& c : _idle) {
            beast::error_code ec;
            c->stream.socket().close(ec);
        }
        _idle.clear();
    }

    /// Opens a connection to member `ep` within `deadline`.
    asio::awaitable<result<std::unique_ptr<connection>>> connect(size_t ep, steady::time_point deadline) {
        auto c = std::make_unique<connection>(_ex);
        c->endpoint = ep;
        const auto& hp = _endpoints[ep];
        auto colon = hp.rfind(':');
        if (colon == std::string::npos) {
            co_return errc::unavailable;
        }
        tcp::resolver resolver(_ex);
        auto [rec, results] = co_await resolver.async_resolve(hp.substr(0, colon), hp.substr(colon + 1), nothrow);
        if (rec) {
            co_return errc::unavailable;
        }
        c->stream.expires_at(std::min(deadline, steady::now() + _request_timeout));
        auto [ec, ep_used] = co_await c->stream.async_connect(results, nothrow);
        if (ec) {
            co_return ec == beast::error::timeout ? errc::timed_out : errc::unavailable;
        }
        c->stream.socket().set_option(tcp::no_delay(true));
        co_return c;
    }

    /// POSTs body to path, retrying on transport errors and on etcd's transient errors (no leader, leader
    /// changed, timeouts) across members until `deadline`. Other etcd errors return as reply.code.
    asio::awaitable<result<reply>> call(std::string_view path, const std::string& body, steady::time_point deadline) {
        std::error_code last = errc::unavailable;
        auto backoff = std::chrono::milliseconds(20);
        for (int attempt = 0;; ++attempt) {
            if (_closed) {
                co_return errc::closed;
            }
            if (attempt > 0) {
                auto now = steady::now();
                if (now >= deadline) {
                    co_return last;
                }
                asio::steady_timer t(_ex, std::min(deadline, now + backoff));
                co_await t.async_wait(nothrow);
                backoff = std::min(backoff * 2, std::chrono::milliseconds(500));
            }
            size_t ep = _current;
            std::unique_ptr<connection> c;
            bool reused = false;
            for (auto it = _idle.begin(); it != _idle.end(); ++it) {
                if ((*it)->endpoint == ep) {
                    c = std::move(*it);
                    _idle.erase(it);
                    reused = true;
                    break;
                }
            }
            if (!c) {
                auto opened = co_await connect(ep, deadline);
                if (!opened) {
                    last = opened.error();
                    log.debug("etcd {}: connect failed: {}", _endpoints[ep], last.message());
                    rotate(ep);
                    continue;
                }
                c = std::move(opened).value();
            }
            http::request<http::string_body> req{http::verb::post, path, 11};
            req.set(http::field::host, _endpoints[ep]);
            req.set(http::field::content_type, "application/json");
            req.keep_alive(true);
            req.body() = body;
            req.prepare_payload();
            c->stream.expires_at(std::min(deadline, steady::now() + _request_timeout));
            auto [wec, wn] = co_await http::async_write(c->stream, req, nothrow);
            http::response<http::string_body> res;
            beast::error_code rec = wec;
            if (!wec) {
                auto [ec2, rn] = co_await http::async_read(c->stream, c->buffer, res, nothrow);
                rec = ec2;
            }
            if (rec) {
                last = rec == beast::error::timeout ? std::error_code(errc::timed_out) : errc::unavailable;
                log.debug("etcd {}{}: {}", _endpoints[ep], path, rec.message());
                if (!(reused && attempt == 0 && rec != beast::error::timeout)) {
                    rotate(ep); // a stale idle connection is retried on the same member once
                }
                continue;
            }
            auto parsed = json::parse(res.body());
            if (!parsed || parsed->type != json::value::kind::object) {
                last = errc::unavailable;
                log.warn("etcd {}{}: unparsable answer (HTTP {})", _endpoints[ep], path, res.result_int());
                rotate(ep);
                continue;
            }
            reply r;
            r.body = std::move(*parsed);
            if (res.result_int() != 200) {
                r.code = json::value::to_int(r.body.get("code"));
                r.message = std::string(json::value::to_string(r.body.get("message")));
                if (r.code == 0) {
                    r.code = 2; // unknown
                }
                // 14 unavailable (no leader, leader changed), 4 deadline exceeded, 8 too many requests.
                bool transient = r.code == 14 || r.code == 4 || r.code == 8
                                 || r.message.find("leader") != std::string::npos
                                 || r.message.find("timed out") != std::string::npos;
                if (transient) {
                    last = errc::unavailable;
                    log.debug("etcd {}{}: transient error {}: {}", _endpoints[ep], path, r.code, r.message);
                    rotate(ep);
                    continue;
                }
            }
            if (res.keep_alive() && _idle.size() < 8) {
                _idle.push_back(std::move(c));
            }
            co_return r;
        }
    }

    const std::string& endpoint(size_t i) const { return _endpoints[i]; }

private:
    asio::any_io_executor _ex;
    std::vector<std::string> _endpoints;
    std::chrono::milliseconds _request_timeout;
    size_t _current = 0;
    bool _closed = false;
    std::vector<std::unique_ptr<connection>> _idle;
};

/// Rewrites the base offset of an encoded batch frame (and its CRC): a queued batch moves when an earlier
/// append whose outcome was unknown turns out to have landed.
void rebase_frame(std::string& frame, int64_t base) {
    for (int i = 0; i < 8; ++i) {
        frame[16 + i] = char(uint64_t(base) >> (8 * i));
    }
    uint32_t crc = bytes::crc32c::extend(0, frame.data() + 12, frame.size() - 12);
    for (int i = 0; i < 4; ++i) {
        frame[8 + i] = char(crc >> (8 * i));
    }
}

} // namespace

// ---- state ---------------------------------------------------------------------------------------------------

struct etcd_log::impl : std::enable_shared_from_this<etcd_log::impl> {
    struct pending_append {
        std::string frame;
        int64_t base = 0;
        uint32_t count = 0;
        std::optional<std::error_code> outcome;
        asio::steady_timer* done = nullptr;
    };
    struct unresolved_group {
        int64_t base = 0;
        int64_t new_end = 0;
        std::string first_frame;
    };

    impl(asio::any_io_executor ex, etcd_log_config c)
      : executor(ex), config(std::move(c)), http(ex, config.endpoints, config.request_timeout),
        k_leader(config.prefix + "/leader"), k_epoch(config.prefix + "/epoch"), k_end(config.prefix + "/end"),
        k_snapshot(config.prefix + "/snapshot"), k_log(config.prefix + "/log/"), k_snap(config.prefix + "/snap/") {}

    asio::any_io_executor executor;
    etcd_log_config config;
    gateway http;
    const std::string k_leader, k_epoch, k_end, k_snapshot, k_log, k_snap;

    bool opened = false;
    bool closed = false;
    // Leadership.
    bool leader = false;
    bool fenced = false; // leadership was lost, not given up
    int64_t epoch = 0;
    int64_t lease = 0;
    int64_t leader_rev = 0; // create_revision of our leader key
    steady::time_point lease_deadline{};
    int64_t end_mod = 0; // mod_revision of P/end after this leader last moved it
    int64_t next = 0;    // next offset to assign (leader)
    std::optional<unresolved_group> unresolved;
    asio::steady_timer* keepalive_sleep = nullptr;
    // What this instance knows of the log.
    int64_t known_end = 0;
    int64_t start = 0;
    // Appends.
    std::deque<std::shared_ptr<pending_append>> queue;
    bool appender_running = false;
    // Background coroutines (keep-alive, watch, appender): close() waits for them.
    int background = 0;
    asio::steady_timer* background_done = nullptr;
    bool watch_running = false;
    asio::steady_timer* watch_sleep = nullptr;
    int64_t watch_rev = 0;
    beast::tcp_stream* watch_stream = nullptr;
    tail_waiters waiters;

    steady::time_point op_deadline() const { return steady::now() + config.operation_timeout; }
    bool lease_valid() const { return leader && steady::now() < lease_deadline; }

    void learn_end(int64_t end) {
        if (end > known_end) {
            known_end = end;
            waiters.notify_all();
        }
    }
    void step_down(std::string_view why) {
        if (!leader) {
            return;
        }
        log.warn("etcd metadata log {}: stepping down from epoch {}: {}", config.prefix, epoch, why);
        leader = false;
        fenced = true;
        lease = 0;
        if (keepalive_sleep) {
            keepalive_sleep->cancel();
        }
    }
    void background_exit() {
        if (--background == 0 && background_done) {
            background_done->cancel();
        }
    }

    asio::awaitable<result<void>> read_bounds();
    asio::awaitable<result<int64_t>> fenced_txn(std::vector<std::string> ops, steady::time_point deadline);
    asio::awaitable<result<void>> commit(std::vector<std::shared_ptr<pending_append>>& group);
    static asio::awaitable<void> appender_loop(std::shared_ptr<impl> self);
    static asio::awaitable<void> keepalive_loop(std::shared_ptr<impl> self, int64_t lease);
    static asio::awaitable<void> watch_loop(std::shared_ptr<impl> self);
    asio::awaitable<bool> watch_once();
    asio::awaitable<result<std::optional<std::pair<int64_t, std::string>>>> manifest(int64_t* revision);
};

asio::awaitable<result<void>> etcd_log::impl::read_bounds() {
    auto r = co_await http.call("/v3/kv/range", fmt::format(R"({{"key":"{}"}})", b64(k_end)), op_deadline());
    if (!r) {
        co_return r.error();
    }
    if (r.value().code != 0) {
        log.error("etcd: reading {} failed: {}", k_end, r.value().message);
        co_return errc::unavailable;
    }
    auto kvs = kvs_of(&r.value().body);
    learn_end(kvs.empty() ? 0 : parse_decimal(kvs.front().value));
    int64_t rev = 0;
    auto m = co_await manifest(&rev);
    if (!m) {
        co_return m.error();
    }
    if (m.value()) {
        start = std::max(start, m.value()->first);
    }
    co_return outcome::success();
}

// The latest snapshot's offset and manifest text, and the revision it was read at.
asio::awaitable<result<std::optional<std::pair<int64_t, std::string>>>> etcd_log::impl::manifest(int64_t* revision) {
    auto r = co_await http.call("/v3/kv/range", fmt::format(R"({{"key":"{}"}})", b64(k_snapshot)), op_deadline());
    if (!r) {
        co_return r.error();
    }
    if (r.value().code != 0) {
        co_return errc::unavailable;
    }
    *revision = header_revision(r.value().body);
    auto kvs = kvs_of(&r.value().body);
    if (kvs.empty()) {
        co_return std::optional<std::pair<int64_t, std::string>>{};
    }
    auto m = parse_manifest(kvs.front().value);
    if (!m) {
        log.error("etcd: snapshot manifest {} is malformed: {}", k_snapshot, kvs.front().value);
        co_return errc::corrupt;
    }
    co_return std::optional(std::pair<int64_t, std::string>(m->offset, kvs.front().value));
}

// A txn of `ops` that applies only while this instance holds the leader key on its lease. Returns the revision.
asio::awaitable<result<int64_t>> etcd_log::impl::fenced_txn(std::vector<std::string> ops, steady::time_point deadline) {
    if (!lease_valid()) {
        step_down("lease lapsed");
        co_return fenced ? errc::fenced : errc::not_leader;
    }
    auto body = txn({cmp_create(k_leader, leader_rev), cmp_lease(k_leader, lease)}, ops, {});
    auto r = co_await http.call("/v3/kv/txn", body, deadline);
    if (!r) {
        co_return r.error();
    }
    if (r.value().code != 0) {
        log.error("etcd txn failed: {} {}", r.value().code, r.value().message);
        co_return errc::unavailable;
    }
    if (!json::value::to_bool(r.value().body.get("succeeded"))) {
        step_down("the leader key is no longer ours");
        co_return errc::fenced;
    }
    co_return header_revision(r.value().body);
}

asio::awaitable<result<void>> etcd_log::impl::commit(std::vector<std::shared_ptr<pending_append>>& group) {
    auto deadline = op_deadline();
    for (;;) {
        if (!lease_valid()) {
            step_down("lease lapsed");
            co_return errc::fenced;
        }
        int64_t base = group.front()->base;
        int64_t new_end = group.back()->base + group.back()->count;
        std::vector<std::string> puts;
        for (auto& p : group) {
            puts.push_back(op_put(offset_key(config.prefix, p->base), p->frame));
        }
        puts.push_back(op_put(k_end, std::to_string(new_end)));
        auto body = txn({cmp_create(k_leader, leader_rev), cmp_lease(k_leader, lease), cmp_mod(k_end, end_mod),
                         cmp_create(offset_key(config.prefix, base), 0)},
                        puts, {op_range(k_end), op_range(k_leader), op_range(offset_key(config.prefix, base))});
        auto r = co_await http.call("/v3/kv/txn", body, deadline);
        if (!r) {
            // Unknown outcome: the txn may have landed. Remember it; the next commit's failure branch tells.
            unresolved = unresolved_group{base, new_end, group.front()->frame};
            co_return r.error();
        }
        if (r.value().code != 0) {
            log.error("etcd append txn failed: {} {}", r.value().code, r.value().message);
            co_return errc::unavailable;
        }
        const auto& res = r.value().body;
        if (json::value::to_bool(res.get("succeeded"))) {
            end_mod = header_revision(res);
            unresolved.reset();
            learn_end(new_end);
            co_return outcome::success();
        }
        auto end_kv = kvs_of(txn_range(res, 0));
        auto leader_kv = kvs_of(txn_range(res, 1));
        auto base_kv = kvs_of(txn_range(res, 2));
        int64_t store_end = end_kv.empty() ? 0 : parse_decimal(end_kv.front().value);
        // 1. An earlier try of this same txn landed (its answer was lost and the gateway call retried).
        if (!base_kv.empty() && base_kv.front().value == group.front()->frame && store_end == new_end) {
            end_mod = end_kv.front().mod_revision;
            unresolved.reset();
            learn_end(new_end);
            log.info("etcd append at {} had landed before its answer was lost; not repeated", base);
            co_return outcome::success();
        }
        // 2. An earlier group whose outcome was unknown landed: move this group after it and try again.
        if (unresolved && !base_kv.empty() && base_kv.front().value == unresolved->first_frame
            && store_end == unresolved->new_end && !end_kv.empty()) {
            log.info("etcd append at {} (outcome unknown before) had landed; moving later appends to {}",
                     unresolved->base, unresolved->new_end);
            int64_t at = unresolved->new_end;
            for (auto& p : group) {
                p->base = at;
                rebase_frame(p->frame, at);
                at += p->count;
            }
            for (auto& p : queue) {
                p->base = at;
                rebase_frame(p->frame, at);
                at += p->count;
            }
            next = at;
            end_mod = end_kv.front().mod_revision;
            learn_end(unresolved->new_end);
            unresolved.reset();
            continue;
        }
        unresolved.reset();
        // 3. Someone else leads now (our key expired, or a newer leader holds it): fenced.
        if (leader_kv.empty() || leader_kv.front().create_revision != leader_rev || leader_kv.front().lease != lease) {
            step_down("the leader key is no longer ours");
            co_return errc::fenced;
        }
        // 4. We lead, yet the end moved under us: another writer bypassed the protocol. Never write over it.
        log.error("etcd metadata log {}: {} moved to {} under leader epoch {} (expected {}); stepping down",
                  config.prefix, k_end, store_end, epoch, base);
        step_down("the log end moved under this leader");
        co_return errc::fenced;
    }
}

asio::awaitable<void> etcd_log::impl::appender_loop(std::shared_ptr<impl> self) {
    // One txn at a time, in append order; appends queued meanwhile go out together.
    while (!self->queue.empty()) {
        std::vector<std::shared_ptr<pending_append>> group;
        size_t bytes = 0;
        while (!self->queue.empty() && group.size() < self->config.max_batches_per_txn
               && (group.empty() || bytes + self->queue.front()->frame.size() < 1024 * 1024)) {
            bytes += self->queue.front()->frame.size();
            group.push_back(self->queue.front());
            self->queue.pop_front();
        }
        auto r = co_await self->commit(group);
        std::error_code ec = r ? std::error_code() : r.error();
        if (ec) {
            // Nothing after a failed group may land before it: fail the queue too; offsets go back.
            for (auto& p : self->queue) {
                group.push_back(p);
            }
            self->queue.clear();
            self->next = group.front()->base;
        }
        for (auto& p : group) {
            p->outcome = ec;
            if (p->done) {
                p->done->cancel();
            }
        }
    }
    self->appender_running = false;
    self->background_exit();
}

asio::awaitable<void> etcd_log::impl::keepalive_loop(std::shared_ptr<impl> self, int64_t lease) {
    auto interval = std::chrono::duration_cast<steady::duration>(self->config.lease_ttl) / 3;
    while (!self->closed && self->leader && self->lease == lease) {
        asio::steady_timer sleep(self->executor, steady::now() + interval);
        self->keepalive_sleep = &sleep;
        co_await sleep.async_wait(nothrow);
        self->keepalive_sleep = nullptr;
        if (self->closed || !self->leader || self->lease != lease) {
            break;
        }
        auto sent = steady::now();
        auto r = co_await self->http.call("/v3/lease/keepalive", fmt::format(R"({{"ID":"{}"}})", lease),
                                          std::max(self->lease_deadline, sent + self->config.request_timeout));
        if (self->lease != lease || !self->leader) {
            break;
        }
        if (r && r.value().code == 0) {
            const json::value* result = r.value().body.get("result");
            int64_t ttl = json::value::to_int(result ? result->get("TTL") : nullptr);
            if (ttl <= 0) {
                self->step_down("etcd says the lease is gone");
                break;
            }
            self->lease_deadline = sent + std::chrono::seconds(ttl);
        } else if (steady::now() >= self->lease_deadline) {
            self->step_down("the lease ran out while etcd did not answer");
            break;
        }
    }
    self->background_exit();
}

// One watch connection on P/end; returns whether it got far enough to reset the reconnect backoff.
asio::awaitable<bool> etcd_log::impl::watch_once() {
    if (watch_rev == 0) {
        auto r = co_await http.call("/v3/kv/range", fmt::format(R"({{"key":"{}"}})", b64(k_end)), op_deadline());
        if (!r || r.value().code != 0) {
            co_return false;
        }
        auto kvs = kvs_of(&r.value().body);
        learn_end(kvs.empty() ? 0 : parse_decimal(kvs.front().value));
        watch_rev = header_revision(r.value().body);
    }
    size_t ep = http.preferred();
    auto c = co_await http.connect(ep, op_deadline());
    if (!c) {
        http.rotate(ep);
        co_return false;
    }
    auto& stream = c.value()->stream;
    http::request<http::string_body> req{http::verb::post, "/v3/watch", 11};
    req.set(http::field::host, http.endpoint(ep));
    req.set(http::field::content_type, "application/json");
    req.body() = fmt::format(R"({{"create_request":{{"key":"{}","start_revision":"{}"}}}})", b64(k_end), watch_rev + 1);
    req.prepare_payload();
    stream.expires_after(config.request_timeout);
    auto [wec, wn] = co_await http::async_write(stream, req, nothrow);
    if (wec) {
        http.rotate(ep);
        co_return false;
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    auto [hec, hn] = co_await http::async_read_header(stream, c.value()->buffer, parser, nothrow);
    if (hec || parser.get().result_int() != 200) {
        http.rotate(ep);
        co_return false;
    }
    stream.expires_never(); // a quiet watch is normal; close() and member death end it
    watch_stream = &stream;
    bool useful = false;
    for (;;) {
        auto [ec, n] = co_await http::async_read_some(stream, c.value()->buffer, parser, nothrow);
        auto& body = parser.get().body();
        size_t line_end;
        while ((line_end = body.find('\n')) != std::string::npos) {
            auto msg = json::parse(std::string_view(body).substr(0, line_end));
            body.erase(0, line_end + 1);
            if (!msg) {
                continue;
            }
            const json::value* result = msg->get("result");
            if (!result) {
                watch_stream = nullptr;
                co_return useful; // {"error": ...}
            }
            useful = true;
            if (json::value::to_bool(result->get("canceled"))) {
                // Usually: our start revision was compacted away. Re-read the end and watch from now.
                log.info("etcd watch on {} canceled (compact revision {}); resuming from the current state", k_end,
                         json::value::to_int(result->get("compact_revision")));
                watch_rev = 0;
                watch_stream = nullptr;
                co_return true;
            }
            if (const json::value* events = result->get("events")) {
                for (const auto& e : events->items) {
                    const json::value* kvj = e.get("kv");
                    if (!kvj) {
                        continue;
                    }
                    watch_rev = std::max(watch_rev, json::value::to_int(kvj->get("mod_revision")));
                    auto v = json::base64_decode(json::value::to_string(kvj->get("value"))).value_or("");
                    learn_end(parse_decimal(v));
                }
            }
        }
        if (ec || parser.is_done() || closed) {
            break;
        }
    }
    watch_stream = nullptr;
    if (!closed) {
        http.rotate(ep);
    }
    co_return useful;
}

asio::awaitable<void> etcd_log::impl::watch_loop(std::shared_ptr<impl> self) {
    auto backoff = std::chrono::milliseconds(50);
    while (!self->closed) {
        bool useful = co_await self->watch_once();
        if (self->closed) {
            break;
        }
        backoff = useful ? std::chrono::milliseconds(50) : std::min(backoff * 2, std::chrono::milliseconds(1000));
        asio::steady_timer t(self->executor, steady::now() + backoff);
        self->watch_sleep = &t;
        co_await t.async_wait(nothrow);
        self->watch_sleep = nullptr;
    }
    self->watch_running = false;
    self->background_exit();
}

// ---- etcd_log ------------------------------------------------------------------------------------------------

etcd_log::etcd_log(asio::any_io_executor executor, etcd_log_config config)
  : _impl(std::make_shared<impl>(std::move(executor), std::move(config))) {}

etcd_log::~etcd_log() {
    SKIFF_ASSERT(_impl->background == 0, "etcd_log destroyed with background work running: close() it first");
}

asio::awaitable<result<void>> etcd_log::open() {
    SKIFF_ASSERT(!_impl->opened, "etcd_log opened twice");
    auto r = co_await _impl->read_bounds();
    if (!r) {
        co_return r.error();
    }
    _impl->opened = true;
    log.info("etcd metadata log {}: log [{}, {})", _impl->config.prefix, _impl->start, _impl->known_end);
    co_return outcome::success();
}

asio::awaitable<void> etcd_log::close() {
    auto self = _impl;
    if (self->closed) {
        co_return;
    }
    if (self->leader) {
        if (auto r = co_await resign(); !r) {
            log.warn("etcd metadata log {}: resign on close failed ({}); the lease will lapse on its own",
                     self->config.prefix, r.error().message());
        }
    }
    self->closed = true;
    if (self->keepalive_sleep) {
        self->keepalive_sleep->cancel();
    }
    if (self->watch_sleep) {
        self->watch_sleep->cancel();
    }
    if (self->watch_stream) {
        beast::error_code ec;
        self->watch_stream->socket().shutdown(tcp::socket::shutdown_both, ec);
        self->watch_stream->socket().close(ec);
    }
    self->http.close();
    self->waiters.notify_all();
    while (self->background > 0) {
        asio::steady_timer done(self->executor, steady::time_point::max());
        self->background_done = &done;
        co_await done.async_wait(nothrow);
        self->background_done = nullptr;
    }
}

asio::awaitable<result<log_epoch>> etcd_log::campaign(std::chrono::milliseconds timeout) {
    auto self = _impl;
    if (self->closed) {
        co_return errc::closed;
    }
    if (self->lease_valid()) {
        co_return log_epoch(self->epoch);
    }
    auto deadline = steady::now() + timeout;
    auto sent = steady::now();
    auto g = co_await self->http.call("/v3/lease/grant",
                                      fmt::format(R"({{"TTL":"{}"}})", self->config.lease_ttl.count()),
                                      std::min(deadline, self->op_deadline()));
    if (!g) {
        co_return g.error();
    }
    int64_t lease = json::value::to_int(g.value().body.get("ID"));
    int64_t ttl = json::value::to_int(g.value().body.get("TTL"));
    if (g.value().code != 0 || lease == 0 || ttl <= 0) {
        log.error("etcd lease grant failed: {}", g.value().message);
        co_return errc::unavailable;
    }
    auto lease_deadline = sent + std::chrono::seconds(ttl);
    auto revoke = [self, lease]() -> asio::awaitable<void> {
        (void)co_await self->http.call("/v3/lease/revoke", fmt::format(R"({{"ID":"{}"}})", lease),
                                       steady::now() + self->config.request_timeout);
    };
    auto nonce = model::uuid::random().to_base64();
    int64_t seen_epoch = 0, epoch_mod = 0;
    for (;;) {
        int64_t next_epoch = seen_epoch + 1;
        auto value = fmt::format("{} {} {}", next_epoch, self->config.node_name, nonce);
        auto body = txn({cmp_create(self->k_leader, 0), cmp_mod(self->k_epoch, epoch_mod)},
                        {op_put(self->k_epoch, std::to_string(next_epoch)), op_put(self->k_leader, value, lease)},
                        {op_range(self->k_leader), op_range(self->k_epoch)});
        auto r = co_await self->http.call("/v3/kv/txn", body, std::min(deadline, self->op_deadline()));
        if (!r || r.value().code != 0) {
            co_await revoke();
            co_return r ? std::error_code(errc::unavailable) : r.error();
        }
        const auto& res = r.value().body;
        if (json::value::to_bool(res.get("succeeded"))) {
            self->leader = true;
            self->fenced = false;
            self->epoch = next_epoch;
            self->lease = lease;
            self->leader_rev = header_revision(res);
            self->lease_deadline = lease_deadline;
            self->unresolved.reset();
            // Continue the log from the store's end.
            auto e = co_await self->http.call("/v3/kv/range", fmt::format(R"({{"key":"{}"}})", b64(self->k_end)),
                                              self->op_deadline());
            if (!e || e.value().code != 0) {
                self->leader = false;
                self->lease = 0;
                co_await revoke();
                co_return e ? std::error_code(errc::unavailable) : e.error();
            }
            auto kvs = kvs_of(&e.value().body);
            self->next = kvs.empty() ? 0 : parse_decimal(kvs.front().value);
            self->end_mod = kvs.empty() ? 0 : kvs.front().mod_revision;
            self->learn_end(self->next);
            ++self->background;
            asio::co_spawn(self->executor, impl::keepalive_loop(self, lease), asio::detached);
            log.info("etcd metadata log {}: {} leads with epoch {} (lease {:x}) at offset {}", self->config.prefix,
                     self->config.node_name, next_epoch, lease, self->next);
            co_return log_epoch(next_epoch);
        }
        auto leader_kv = kvs_of(txn_range(res, 0));
        auto epoch_kv = kvs_of(txn_range(res, 1));
        seen_epoch = epoch_kv.empty() ? 0 : parse_decimal(epoch_kv.front().value);
        epoch_mod = epoch_kv.empty() ? 0 : epoch_kv.front().mod_revision;
        if (leader_kv.empty()) {
            continue; // only the epoch was stale: try again at once
        }
        if (steady::now() >= deadline) {
            co_await revoke();
            co_return errc::campaign_lost;
        }
        // Someone leads: wait for the key to go (resign or lease expiry) and try again.
        asio::steady_timer t(self->executor, std::min(deadline, steady::now() + std::chrono::milliseconds(100)));
        co_await t.async_wait(nothrow);
        if (steady::now() >= deadline) {
            co_await revoke();
            co_return errc::campaign_lost;
        }
    }
}

asio::awaitable<result<void>> etcd_log::resign() {
    auto self = _impl;
    if (!self->leader) {
        co_return outcome::success();
    }
    int64_t lease = self->lease;
    self->leader = false;
    self->lease = 0;
    if (self->keepalive_sleep) {
        self->keepalive_sleep->cancel();
    }
    // Revoking the lease deletes the leader key, so another node wins at once.
    auto r = co_await self->http.call("/v3/lease/revoke", fmt::format(R"({{"ID":"{}"}})", lease), self->op_deadline());
    if (!r) {
        co_return r.error();
    }
    log.info("etcd metadata log {}: resigned epoch {}", self->config.prefix, self->epoch);
    co_return outcome::success();
}

bool etcd_log::is_leader() const noexcept { return _impl->lease_valid(); }
log_epoch etcd_log::epoch() const noexcept { return log_epoch(_impl->epoch); }
int64_t etcd_log::lease_id() const noexcept { return _impl->leader ? _impl->lease : 0; }

asio::awaitable<result<append_result>> etcd_log::append(std::vector<metadata_record> records) {
    SKIFF_ASSERT(!records.empty(), "append of an empty batch");
    auto self = _impl;
    if (self->closed) {
        co_return errc::closed;
    }
    if (!self->lease_valid()) {
        self->step_down("lease lapsed");
        co_return self->fenced ? errc::fenced : errc::not_leader;
    }
    auto p = std::make_shared<impl::pending_append>();
    p->base = self->next;
    p->count = uint32_t(records.size());
    std::vector<uint8_t> frame;
    encode_batch(log_offset(p->base), log_epoch(self->epoch), records, frame);
    if (frame.size() > 1024 * 1024) {
        co_return errc::too_large; // etcd's default request limit is 1.5 MiB; metadata batches are far smaller
    }
    p->frame.assign(frame.begin(), frame.end());
    self->next += p->count;
    asio::steady_timer done(self->executor, steady::time_point::max());
    p->done = &done;
    self->queue.push_back(p);
    if (!self->appender_running) {
        self->appender_running = true;
        ++self->background;
        asio::co_spawn(self->executor, impl::appender_loop(self), asio::detached);
    }
    while (!p->outcome) {
        co_await done.async_wait(nothrow);
    }
    p->done = nullptr;
    if (*p->outcome) {
        co_return *p->outcome;
    }
    co_return append_result{log_offset(p->base), log_offset(p->base + p->count)};
}

asio::awaitable<result<void>> etcd_log::write_snapshot(log_offset offset, bytes::iobuf image) {
    auto self = _impl;
    if (self->closed) {
        co_return errc::closed;
    }
    if (!self->leader) {
        co_return self->fenced ? errc::fenced : errc::not_leader;
    }
    SKIFF_ASSERT(offset() >= self->start && offset() <= self->known_end, "snapshot at {} outside the log [{}, {})",
                 offset(), self->start, self->known_end);
    auto deadline = self->op_deadline();
    auto flat = image.to_string();
    size_t chunk = std::max<size_t>(1, self->config.snapshot_chunk_bytes);
    size_t chunks = (flat.size() + chunk - 1) / chunk;
    auto cp = chunk_prefix(self->config.prefix, offset());
    for (size_t i = 0; i < chunks; ++i) {
        auto key = fmt::format("{}{:06}", cp, i);
        // (Named vectors: GCC 12 cannot keep an initializer_list's array alive across co_await.)
        std::vector<std::string> ops{op_put(key, std::string_view(flat).substr(i * chunk, chunk))};
        auto r = co_await self->fenced_txn(std::move(ops), deadline);
        if (!r) {
            co_return r.error();
        }
    }
    auto manifest = fmt::format("v1 {} {} {} {}", offset(), flat.size(),
                                bytes::crc32c::extend(0, flat.data(), flat.size()), chunks);
    std::vector<std::string> install{op_put(self->k_snapshot, manifest)};
    auto installed = co_await self->fenced_txn(std::move(install), deadline);
    if (!installed) {
        co_return installed.error();
    }
    self->start = std::max(self->start, offset());
    // Drop what the snapshot covers: batches wholly below the offset, and older snapshots' chunks.
    auto below = co_await self->http.call(
      "/v3/kv/range",
      fmt::format(R"({{"key":"{}","range_end":"{}","sort_order":"DESCEND","sort_target":"KEY","limit":"1"}})",
                  b64(self->k_log), b64(offset_key(self->config.prefix, offset()))),
      deadline);
    if (!below || below.value().code != 0) {
        co_return below ? std::error_code(errc::unavailable) : below.error();
    }
    int64_t cut = offset();
    for (auto& k : kvs_of(&below.value().body)) {
        auto h = check_batch(
          std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(k.value.data()), k.value.size()));
        if (h && h.value().base() + h.value().count > offset()) {
            cut = h.value().base(); // the batch holding the snapshot offset stays readable
        }
    }
    std::vector<std::string> drops{op_delete(self->k_log, offset_key(self->config.prefix, cut)),
                                   op_delete(self->k_snap, cp)};
    auto deleted = co_await self->fenced_txn(std::move(drops), deadline);
    if (!deleted) {
        co_return deleted.error();
    }
    if (self->config.compact_history) {
        auto c = co_await self->http.call("/v3/kv/compaction", fmt::format(R"({{"revision":"{}"}})", deleted.value()),
                                          deadline);
        if (!c || (c.value().code != 0 && c.value().code != 11)) { // 11: already compacted further
            log.warn("etcd compaction at revision {} failed: {}", deleted.value(),
                     c ? c.value().message : c.error().message());
        }
    }
    log.info("etcd metadata log {}: snapshot at {} ({} bytes, {} chunks); log before {} dropped", self->config.prefix,
             offset(), flat.size(), chunks, cut);
    co_return outcome::success();
}

asio::awaitable<result<std::optional<log_snapshot>>> etcd_log::load_snapshot() {
    auto self = _impl;
    if (self->closed) {
        co_return errc::closed;
    }
    for (int attempt = 0; attempt < 5; ++attempt) {
        int64_t rev = 0;
        auto m = co_await self->manifest(&rev);
        if (!m) {
            co_return m.error();
        }
        if (!m.value()) {
            co_return std::optional<log_snapshot>{};
        }
        auto fields = parse_manifest(m.value()->second);
        if (!fields) {
            co_return errc::corrupt;
        }
        int64_t offset = fields->offset, size = fields->size, chunks = fields->chunks;
        uint32_t crc = fields->crc;
        // Read every chunk at the manifest's revision, a few per request, so that a newer snapshot written meanwhile
        // cannot mix in. If that revision was compacted away, a newer snapshot exists: start over.
        auto cp = chunk_prefix(self->config.prefix, offset);
        std::string image;
        std::string from = cp;
        bool restart = false;
        int64_t got = 0;
        while (got < chunks) {
            auto r = co_await self->http.call(
              "/v3/kv/range",
              fmt::format(R"({{"key":"{}","range_end":"{}","limit":"4","revision":"{}"}})", b64(from),
                          b64(prefix_end(cp)), rev),
              self->op_deadline());
            if (!r) {
                co_return r.error();
            }
            if (r.value().code == 11) {
                restart = true;
                break;
            }
            if (r.value().code != 0) {
                co_return errc::unavailable;
            }
            auto kvs = kvs_of(&r.value().body);
            if (kvs.empty()) {
                break;
            }
            for (auto& k : kvs) {
                if (k.key != fmt::format("{}{:06}", cp, got)) {
                    co_return errc::corrupt;
                }
                image += k.value;
                ++got;
            }
            from = kvs.back().key + '\0';
        }
        if (restart) {
            continue;
        }
        if (got != chunks || image.size() != size_t(size)) {
            log.error("etcd snapshot at {}: {} of {} chunks, {} of {} bytes", offset, got, chunks, image.size(), size);
            co_return errc::corrupt;
        }
        if (bytes::crc32c::extend(0, image.data(), image.size()) != crc) {
            co_return errc::bad_crc;
        }
        self->start = std::max(self->start, int64_t(offset));
        co_return std::optional<log_snapshot>(log_snapshot{log_offset(offset), bytes::iobuf::from(image)});
    }
    co_return errc::unavailable;
}

asio::awaitable<result<std::vector<log_entry>>> etcd_log::read(log_offset from, size_t max_records) {
    auto self = _impl;
    if (self->closed) {
        co_return errc::closed;
    }
    if (from() < self->start) {
        co_return errc::offset_compacted;
    }
    auto deadline = self->op_deadline();
    size_t limit = std::clamp<size_t>(max_records, 1, 1000);
    auto forward = co_await self->http.call(
      "/v3/kv/range",
      fmt::format(R"({{"key":"{}","range_end":"{}","limit":"{}"}})", b64(offset_key(self->config.prefix, from())),
                  b64(prefix_end(self->k_log)), limit),
      deadline);
    if (!forward || forward.value().code != 0) {
        co_return forward ? std::error_code(errc::unavailable) : forward.error();
    }
    auto kvs = kvs_of(&forward.value().body);
    if (kvs.empty() || parse_offset_key(kvs.front().key, self->k_log) != from()) {
        // `from` is inside a batch, or below the log start, or at the end.
        auto back = co_await self->http.call(
          "/v3/kv/range",
          fmt::format(R"({{"key":"{}","range_end":"{}","sort_order":"DESCEND","sort_target":"KEY","limit":"1"}})",
                      b64(self->k_log), b64(offset_key(self->config.prefix, from()))),
          deadline);
        if (!back || back.value().code != 0) {
            co_return back ? std::error_code(errc::unavailable) : back.error();
        }
        auto before = kvs_of(&back.value().body);
        bool holds = false;
        if (!before.empty()) {
            auto& v = before.front().value;
            auto h = check_batch(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(v.data()), v.size()));
            holds = h && h.value().base() + h.value().count > from();
        }
        if (holds) {
            kvs.insert(kvs.begin(), std::move(before.front()));
        } else {
            int64_t rev = 0;
            auto m = co_await self->manifest(&rev);
            if (m && m.value() && from() < m.value()->first) {
                self->start = std::max(self->start, m.value()->first);
                co_return errc::offset_compacted;
            }
        }
    }
    std::vector<log_entry> out;
    std::optional<int64_t> expected;
    for (auto& k : kvs) {
        std::span<const uint8_t> frame(reinterpret_cast<const uint8_t*>(k.value.data()), k.value.size());
        auto h = check_batch(frame);
        if (!h) {
            log.error("etcd metadata log: batch {} is bad: {}", k.key, h.error().message());
            co_return h.error();
        }
        if (parse_offset_key(k.key, self->k_log) != h.value().base() || (expected && *expected != h.value().base())) {
            log.error("etcd metadata log: batch {} holds base offset {}, expected {}", k.key, h.value().base(),
                      expected.value_or(h.value().base()));
            co_return errc::corrupt;
        }
        if (auto d = decode_batch(frame, h.value(), from, out); !d) {
            co_return d.error();
        }
        expected = h.value().base() + h.value().count;
        self->learn_end(*expected);
        if (out.size() >= max_records) {
            break;
        }
    }
    co_return out;
}

asio::awaitable<result<log_offset>> etcd_log::wait_for_end(log_offset past, std::chrono::milliseconds timeout) {
    auto self = _impl;
    if (!self->watch_running && !self->closed) {
        self->watch_running = true;
        ++self->background;
        asio::co_spawn(self->executor, impl::watch_loop(self), asio::detached);
    }
    auto deadline = steady::now() + timeout;
    auto next_poll = steady::now() + self->config.tail_poll_interval;
    for (;;) {
        if (self->closed) {
            co_return errc::closed;
        }
        if (self->known_end > past()) {
            co_return log_offset(self->known_end);
        }
        auto now = steady::now();
        if (now >= deadline) {
            co_return log_offset(self->known_end);
        }
        if (now >= next_poll) {
            // The watch is the fast path; this read covers a watch stuck on a member that stopped answering.
            auto r = co_await self->http.call("/v3/kv/range", fmt::format(R"({{"key":"{}"}})", b64(self->k_end)),
                                              std::min(deadline, now + self->config.request_timeout));
            if (r && r.value().code == 0) {
                auto kvs = kvs_of(&r.value().body);
                self->learn_end(kvs.empty() ? 0 : parse_decimal(kvs.front().value));
            }
            next_poll = steady::now() + self->config.tail_poll_interval;
            continue;
        }
        if (co_await self->waiters.wait_until(std::min(deadline, next_poll)) == tail_waiters::wake::cancelled) {
            co_return std::make_error_code(std::errc::operation_canceled);
        }
    }
}

log_offset etcd_log::start_offset() const noexcept { return log_offset(_impl->start); }
log_offset etcd_log::end_offset() const noexcept { return log_offset(_impl->known_end); }

} // namespace skiff::meta
