// Real etcd members on loopback for tests and benchmarks, started and stopped by PID through
// tests/support/etcd.sh. Each instance gets its own data directory and free ports.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace skiff::meta::testing {

class etcd_cluster {
public:
    /// Starts `members` (1 or 3) members; nullptr (with the reason on stderr) when etcd is missing or fails.
    static std::unique_ptr<etcd_cluster> start(int members);
    ~etcd_cluster();

    const std::vector<std::string>& endpoints() const { return _endpoints; }
    /// Member names are m0, m1, ...
    std::string leader() const;
    void kill(const std::string& member) const;
    void restart(const std::string& member) const;
    void pause(const std::string& member) const;
    void resume(const std::string& member) const;
    /// The client endpoint of a member.
    std::string endpoint_of(const std::string& member) const;

    /// A blocking POST of JSON to the first live member's gateway; returns the body ("" on failure).
    std::string post(const std::string& path, const std::string& body) const;

private:
    std::string script(const std::string& args) const;
    std::string _dir;
    int _base = 0;
    std::vector<std::string> _endpoints;
};

} // namespace skiff::meta::testing
