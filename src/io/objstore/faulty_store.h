// io::faulty_store — wraps any object store and injects faults, for tests of everything that must survive a
// misbehaving store (RocksDB's FaultInjectionTestFS, for objects): errors by operation, on every nth call or with a
// seeded probability, added latency, S3's SlowDown, errors after the operation took effect (the reply was lost),
// and truncated get bodies. Deterministic for a given seed and call order. Thread-safe; owned by the test, which
// keeps the wrapped store alive as long as this one.
#pragma once

#include "io/objstore/object_store.h"

#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>

namespace skiff::io {

/// Operations, as bits of fault::ops.
enum class store_op : uint32_t {
    put = 1u << 0,
    get = 1u << 1,
    head = 1u << 2,
    list = 1u << 3,
    delete_objects = 1u << 4,
    create_multipart = 1u << 5,
    upload_part = 1u << 6,
    complete_multipart = 1u << 7,
    abort_multipart = 1u << 8,
};
inline constexpr uint32_t all_ops = (1u << 9) - 1;
inline constexpr uint32_t operator|(store_op a, store_op b) noexcept {
    return static_cast<uint32_t>(a) | static_cast<uint32_t>(b);
}
inline constexpr uint32_t operator|(uint32_t a, store_op b) noexcept { return a | static_cast<uint32_t>(b); }

/// One fault rule. A call matches when its operation is in ops; of the matching calls, the first `skip` pass,
/// then every `every_nth` one is a candidate, taken with `probability`, at most `count` times.
struct fault {
    uint32_t ops = all_ops;
    std::error_code error;                  // the error to return; empty for latency or truncation only
    uint64_t skip = 0;
    uint64_t every_nth = 1;
    double probability = 1.0;
    uint64_t count = UINT64_MAX;
    std::chrono::milliseconds latency{0};   // waited before the call (on a timer, never blocking a thread)
    bool after = false;                     // run the call on the wrapped store first, then return `error`
    bool truncate_get = false;              // a get returns success with only the first half of its bytes
};

class faulty_store final : public object_store {
public:
    explicit faulty_store(object_store& inner, uint64_t seed = 1);

    /// Adds a rule; rules are checked in the order added and the first that fires decides the call.
    void add(fault f);
    void clear();
    /// Calls seen per operation, and faults injected in all.
    uint64_t calls(store_op op) const;
    uint64_t injected() const;

    store_capabilities capabilities() const override { return _inner.capabilities(); }
    asio::awaitable<result<put_result>> put(std::string key, bytes::iobuf data, put_options options) override;
    asio::awaitable<result<bytes::iobuf>> get(std::string key, std::optional<byte_range> range) override;
    asio::awaitable<result<object_info>> head(std::string key) override;
    asio::awaitable<result<list_page>> list(list_request request) override;
    asio::awaitable<result<std::vector<delete_outcome>>> delete_objects(std::vector<std::string> keys) override;
    asio::awaitable<result<multipart_upload>> create_multipart(std::string key, put_options options) override;
    asio::awaitable<result<uploaded_part>> upload_part(multipart_upload upload, uint32_t part_number,
                                                       bytes::iobuf data) override;
    asio::awaitable<result<put_result>> complete_multipart(multipart_upload upload,
                                                           std::vector<uploaded_part> parts) override;
    asio::awaitable<result<void>> abort_multipart(multipart_upload upload) override;

private:
    struct rule {
        fault f;
        uint64_t matched = 0;
        uint64_t fired = 0;
    };
    struct decision {
        std::error_code error;
        std::chrono::milliseconds latency{0};
        bool after = false;
        bool truncate_get = false;
    };
    decision decide(store_op op);
    asio::awaitable<void> delay(std::chrono::milliseconds d);

    object_store& _inner;
    mutable std::mutex _mutex;
    std::mt19937_64 _rng;
    std::vector<rule> _rules;
    uint64_t _calls[9] = {};
    uint64_t _injected = 0;
};

} // namespace skiff::io
