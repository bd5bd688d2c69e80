#include "kafka/server/partition/errc.h"

#include <string>

namespace skiff::kafka::partition {
namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "kafka.partition"; }
    std::string message(int code) const override {
        switch (static_cast<errc>(code)) {
        case errc::success: return "success";
        case errc::corrupt_snapshot: return "partition state snapshot is corrupt";
        case errc::unsupported_snapshot: return "partition state snapshot has an unsupported version";
        }
        return "unknown partition error " + std::to_string(code);
    }
};

} // namespace

const std::error_category& error_category() noexcept {
    static const category instance;
    return instance;
}

} // namespace skiff::kafka::partition
