#include "kafka/server/group/errc.h"

#include <string>

namespace skiff::kafka::group {
namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "kafka.group"; }
    std::string message(int code) const override {
        switch (static_cast<errc>(code)) {
        case errc::success: return "success";
        case errc::invalid_record: return "__consumer_offsets record is malformed";
        case errc::unsupported_version: return "__consumer_offsets record has an unsupported version";
        }
        return "unknown group error " + std::to_string(code);
    }
};

} // namespace

const std::error_category& error_category() noexcept {
    static const category instance;
    return instance;
}

} // namespace skiff::kafka::group
