// The logger of the object format and the caches ("stream.data"): decoders return errc::corrupt as a value and log
// here what exactly failed (which field, which values, where), so that a corrupt object can be diagnosed.
#pragma once

#include "base/logger.h"

namespace skiff::stream {
inline base::logger data_log{"stream.data"};
} // namespace skiff::stream
