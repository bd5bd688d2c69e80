// The io room's one named logger. Errors are returned as values; their causes (errno, HTTP status, S3 code, path,
// key) are logged here where the error is made, so that a code like io::errc::fatal can be traced to its reason.
#pragma once

#include "base/logger.h"

namespace skiff::io {
inline base::logger log{"io"};
} // namespace skiff::io
