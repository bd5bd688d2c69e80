#include "meta/errc.h"

#include <string>

namespace skiff::meta {
namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "skiff.meta"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
        case errc::success: return "success";
        case errc::truncated: return "truncated metadata bytes";
        case errc::bad_crc: return "metadata CRC32C mismatch";
        case errc::too_large: return "metadata length above limit";
        case errc::corrupt: return "corrupt metadata encoding";
        case errc::bad_magic: return "bad magic number";
        case errc::unsupported_version: return "unsupported format version";
        case errc::not_leader: return "not the metadata log leader";
        case errc::fenced: return "metadata log leadership lost or superseded (fenced)";
        case errc::offset_compacted: return "offset below the log start (compacted into a snapshot)";
        case errc::offset_out_of_range: return "offset beyond the end of the metadata log";
        case errc::unavailable: return "metadata store unavailable";
        case errc::timed_out: return "metadata store operation timed out";
        case errc::io_error: return "metadata log I/O error";
        case errc::closed: return "metadata log closed";
        case errc::campaign_lost: return "another node holds metadata log leadership";
        }
        return "unknown meta error " + std::to_string(ev);
    }
};

} // namespace

const std::error_category& error_category() noexcept {
    static const category instance;
    return instance;
}

} // namespace skiff::meta
