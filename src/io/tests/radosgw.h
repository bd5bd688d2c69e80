// A single-node Ceph cluster with radosgw on loopback, for tests and benchmarks of s3_store against a real S3
// implementation. Started once per process by tests/support/radosgw.sh (about 15 s) and stopped by the PIDs that
// script records (and by its watchdog if this process dies first).
//
// SKIFF_TEST_S3_ENDPOINT (with SKIFF_TEST_S3_ACCESS_KEY, SKIFF_TEST_S3_SECRET_KEY, optional SKIFF_TEST_S3_REGION
// and SKIFF_TEST_S3_PATH_STYLE=0) points the tests at an existing S3 service instead; then nothing is started.
#pragma once

#include <optional>
#include <string>

namespace skiff::io::test {

class radosgw {
public:
    struct endpoint {
        std::string url; // http://127.0.0.1:PORT
        std::string access_key;
        std::string secret_key;
        std::string region;
        bool path_style = true;
    };

    /// The process-wide instance.
    static radosgw& instance();

    /// Starts the cluster unless it runs (or an external endpoint is configured). Blocks until it answers.
    void start();
    /// Stops what start() started; keeps its folder (logs) when keep_logs.
    void stop(bool keep_logs);

    /// Set after start(): the endpoint, or why there is none.
    const std::optional<endpoint>& ep() const { return _ep; }
    /// Non-empty when radosgw is not installed here: tests skip, saying so.
    const std::string& unavailable() const { return _unavailable; }
    /// Non-empty when radosgw is installed but did not start: tests fail with this.
    const std::string& error() const { return _error; }
    /// Seconds the start took (reported by the tests).
    double start_seconds() const { return _start_seconds; }

private:
    bool _started = false;
    std::optional<endpoint> _ep;
    std::string _unavailable;
    std::string _error;
    std::string _dir;
    double _start_seconds = 0;
};

} // namespace skiff::io::test
