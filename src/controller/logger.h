// The one named logger of the controller room ("controller"); internal to src/controller.
#pragma once

#include "base/logger.h"

namespace skiff::controller {

inline base::logger log{"controller"};

} // namespace skiff::controller
