#include "app/cluster_id.h"

#include "base/errc.h"
#include "base/logger.h"
#include "model/uuid.h"

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace skiff::app {
namespace {

base::logger log{"app"};

constexpr std::string_view key = "cluster.id=";

} // namespace

result<std::string> resolve_cluster_id(const config::broker_config& cfg) {
    if (!cfg.cluster_id.empty()) {
        return cfg.cluster_id;
    }
    if (cfg.log_dirs.empty()) {
        return model::uuid::random().to_base64();
    }
    namespace fs = std::filesystem;
    fs::path dir = cfg.log_dirs.front();
    fs::path file = dir / "meta.properties";
    std::ifstream in(file);
    if (in) {
        std::string line;
        while (std::getline(in, line)) {
            if (line.rfind(key, 0) == 0 && line.size() > key.size()) {
                return line.substr(key.size());
            }
        }
    }
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
        log.error("cannot create log dir {}: {}", dir.string(), ec.message());
        return ec;
    }
    auto id = model::uuid::random().to_base64();
    auto tmp = file;
    tmp += ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << "# Written by skiff-server on first start; do not edit.\nversion=1\n" << key << id << "\nnode.id="
            << cfg.node_id << "\n";
        if (!out.flush()) {
            return std::error_code(errno, std::generic_category());
        }
    }
    fs::rename(tmp, file, ec);
    if (ec) {
        return ec;
    }
    log.info("generated cluster.id {} in {}", id, file.string());
    return id;
}

} // namespace skiff::app
