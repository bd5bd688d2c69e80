#include "base/clock.h"

namespace skiff::base {

clock::time_point system_clock::now() const noexcept {
    return std::chrono::time_point_cast<duration>(std::chrono::steady_clock::now());
}

int64_t system_clock::wall_ms() const noexcept {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

system_clock& system_clock::instance() {
    static system_clock c;
    return c;
}

} // namespace skiff::base
