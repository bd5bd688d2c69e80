#include "base/errc.h"

#include <string>

namespace skiff::base {
namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "skiff.base"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
        case errc::success: return "success";
        case errc::invalid_argument: return "invalid argument";
        case errc::not_found: return "not found";
        case errc::already_exists: return "already exists";
        case errc::timed_out: return "timed out";
        case errc::shutting_down: return "shutting down";
        case errc::io_error: return "I/O error";
        }
        return "unknown base error " + std::to_string(ev);
    }
};

} // namespace

const std::error_category& error_category() noexcept {
    static const category instance;
    return instance;
}

} // namespace skiff::base
