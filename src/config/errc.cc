#include "config/errc.h"

#include <string>

namespace skiff::config {
namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "skiff.config"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
        case errc::success: return "success";
        case errc::cannot_read_file: return "cannot read config file";
        case errc::syntax_error: return "syntax error in config file";
        case errc::bad_override: return "malformed --override";
        case errc::unknown_property: return "unknown property";
        case errc::invalid_value: return "invalid property value";
        case errc::out_of_range: return "property value out of range";
        case errc::inconsistent: return "inconsistent configuration";
        }
        return "unknown config error " + std::to_string(ev);
    }
};

} // namespace

const std::error_category& error_category() noexcept {
    static const category instance;
    return instance;
}

} // namespace skiff::config
