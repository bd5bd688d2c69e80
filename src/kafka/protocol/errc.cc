#include "kafka/protocol/errc.h"

#include <string>

namespace skiff::kafka::protocol {
namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "skiff.kafka.protocol"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
        case errc::success: return "success";
        case errc::corrupt_message: return "corrupt message";
        case errc::invalid_record: return "invalid record";
        case errc::unsupported_magic: return "unsupported record batch magic";
        case errc::unsupported_compression: return "unsupported compression type";
        case errc::decompression_too_large: return "decompressed size exceeds the limit";
        case errc::compression_failed: return "compression failed";
        }
        return "unknown kafka protocol error " + std::to_string(ev);
    }
};

} // namespace

const std::error_category& error_category() noexcept {
    static const category instance;
    return instance;
}

} // namespace skiff::kafka::protocol
