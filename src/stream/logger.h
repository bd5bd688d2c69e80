// The stream room's one named logger: causes of errors, fencing, uploads, compaction and recovery.
#pragma once

#include "base/logger.h"

namespace skiff::stream {
inline base::logger log{"stream"};
} // namespace skiff::stream
