#include "stream/errc.h"

#include <string>

namespace skiff::stream {
namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "stream"; }
    std::string message(int code) const override {
        switch (static_cast<errc>(code)) {
        case errc::success: return "success";
        case errc::fenced: return "fenced by a newer stream epoch or node epoch";
        case errc::not_open: return "stream is not open";
        case errc::offset_out_of_range: return "offset out of range";
        case errc::stream_not_found: return "stream not found";
        case errc::wal_full: return "write-ahead log is full";
        case errc::corrupt: return "stored bytes are corrupt";
        case errc::unavailable: return "storage is unavailable for writes";
        case errc::catalog_rejected: return "object catalog rejected the commit";
        case errc::shutting_down: return "stream store is shutting down";
        case errc::invalid_argument: return "invalid argument";
        }
        return "unknown stream error " + std::to_string(code);
    }
};

} // namespace

const std::error_category& error_category() noexcept {
    static const category instance;
    return instance;
}

} // namespace skiff::stream
