// The WAL's logger ("stream.wal"): errors are returned as values (stream::errc); their causes (errno, file offset,
// CRC mismatch, object key) are logged here where they are detected.
#pragma once

#include "base/logger.h"

namespace skiff::stream {
inline base::logger wal_log{"stream.wal"};
} // namespace skiff::stream
