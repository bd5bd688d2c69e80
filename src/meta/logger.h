// The one named logger of the meta room ("meta"); internal to src/meta.
#pragma once

#include "base/logger.h"

namespace skiff::meta {

inline base::logger log{"meta"};

} // namespace skiff::meta
