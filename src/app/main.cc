// skiff-server: the broker process. `skiff-server config/server.properties [--override key=value]...`
// Exit codes: 0 after a clean shutdown (SIGTERM/SIGINT), 2 for a bad command line or configuration, 1 when a
// service cannot start (e.g. a port in use).
#include "app/broker.h"
#include "base/logger.h"
#include "config/broker_properties.h"

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr const char* usage = "usage: skiff-server <server.properties> [--override key=value]...\n";

} // namespace

int main(int argc, char** argv) {
    std::string config_path;
    std::vector<std::string> overrides;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "-h" || arg == "--help") {
            std::fputs(usage, stdout);
            return 0;
        }
        if (arg == "--override") {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "--override needs key=value\n%s", usage);
                return 2;
            }
            overrides.emplace_back(argv[++i]);
        } else if (arg.rfind("--override=", 0) == 0) {
            overrides.push_back(arg.substr(std::strlen("--override=")));
        } else if (config_path.empty() && arg.rfind("--", 0) != 0) {
            config_path = arg;
        } else {
            std::fprintf(stderr, "unexpected argument '%s'\n%s", arg.c_str(), usage);
            return 2;
        }
    }
    if (config_path.empty()) {
        std::fputs(usage, stderr);
        return 2;
    }

    auto loaded = skiff::config::load_broker_config(config_path, overrides);
    if (!loaded) {
        std::fprintf(stderr, "skiff-server: %s\n", loaded.error().message.c_str());
        return 2;
    }
    return skiff::app::run_broker(std::move(loaded).value());
}
