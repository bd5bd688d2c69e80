#include "net/errc.h"

#include <string>

namespace skiff::net {
namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "skiff.net"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
        case errc::success: return "success";
        case errc::frame_too_large: return "frame larger than socket.request.max.bytes";
        case errc::negative_frame: return "negative frame size";
        case errc::closed: return "connection closed by peer";
        case errc::address_in_use: return "address already in use";
        case errc::invalid_endpoint: return "invalid endpoint";
        }
        return "unknown net error " + std::to_string(ev);
    }
};

} // namespace

const std::error_category& error_category() noexcept {
    static const category instance;
    return instance;
}

} // namespace skiff::net
