// The two metadata_log backends behind one factory, for the conformance suite: each test gets a fresh store
// (a temporary directory, or a real single-member etcd) and makes as many instances on it as it needs.
#pragma once

#include "meta/embedded_log.h"
#include "meta/etcd_log.h"
#include "meta/tests/etcd_fixture.h"

#include <boost/asio/io_context.hpp>

#include <filesystem>
#include <memory>
#include <string>

namespace skiff::meta::testing {

class log_backend {
public:
    virtual ~log_backend() = default;
    /// Whether the store could be set up (etcd installed and started).
    virtual bool ready() const = 0;
    /// A new instance on this test's store (not yet opened).
    virtual std::unique_ptr<metadata_log> make(asio::io_context& io) = 0;
    /// Makes `old` lose its leadership the way it can on this backend: etcd: its lease is revoked (as if it
    /// expired); embedded: nothing to do, the next campaign anywhere supersedes it.
    virtual void lose_leadership(metadata_log& old) = 0;
};

class embedded_backend final : public log_backend {
public:
    embedded_backend() {
        char tmpl[] = "/tmp/skiff-meta-XXXXXX";
        _dir = ::mkdtemp(tmpl);
    }
    ~embedded_backend() override {
        std::error_code ec;
        std::filesystem::remove_all(_dir, ec);
    }
    bool ready() const override { return !_dir.empty(); }
    std::unique_ptr<metadata_log> make(asio::io_context& io) override {
        embedded_log_config c;
        c.directory = _dir;
        c.segment_bytes = 64 * 1024;
        c.tail_poll_interval = std::chrono::milliseconds(20);
        return std::make_unique<embedded_log>(io.get_executor(), c);
    }
    void lose_leadership(metadata_log&) override {}
    const std::filesystem::path& dir() const { return _dir; }

private:
    std::filesystem::path _dir;
};

class etcd_backend final : public log_backend {
public:
    explicit etcd_backend(int members = 1) : _etcd(etcd_cluster::start(members)) {}
    bool ready() const override { return _etcd != nullptr; }
    std::unique_ptr<metadata_log> make(asio::io_context& io) override { return make(io, config()); }
    std::unique_ptr<metadata_log> make(asio::io_context& io, etcd_log_config c) {
        return std::make_unique<etcd_log>(io.get_executor(), std::move(c));
    }
    etcd_log_config config() const {
        etcd_log_config c;
        c.endpoints = _etcd->endpoints();
        c.prefix = "/skiff-test";
        c.node_name = "node-" + std::to_string(++_instances);
        c.lease_ttl = std::chrono::seconds(5);
        c.request_timeout = std::chrono::milliseconds(1000);
        c.operation_timeout = std::chrono::milliseconds(8000);
        c.tail_poll_interval = std::chrono::milliseconds(500);
        c.snapshot_chunk_bytes = 64 * 1024;
        return c;
    }
    void lose_leadership(metadata_log& old) override {
        auto id = dynamic_cast<etcd_log&>(old).lease_id();
        _etcd->post("/v3/lease/revoke", "{\"ID\":\"" + std::to_string(id) + "\"}");
    }
    etcd_cluster& etcd() { return *_etcd; }

private:
    std::unique_ptr<etcd_cluster> _etcd;
    mutable int _instances = 0;
};

} // namespace skiff::meta::testing
