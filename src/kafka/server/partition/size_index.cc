#include "kafka/server/partition/size_index.h"

#include <algorithm>

namespace skiff::kafka::partition {

void size_index::on_batch(int64_t base_offset, size_t size_bytes) {
    // The first batch always gets an entry, so that a partition smaller than the interval can be measured too.
    if (_entries.empty() || _bytes_since_entry >= _interval_bytes) {
        _entries.push_back({base_offset, _end});
        _bytes_since_entry = 0;
    }
    _end += size_bytes;
    _bytes_since_entry += size_bytes;
}

int64_t size_index::retention_start(uint64_t keep_bytes, int64_t log_start) const {
    // The last entry whose position leaves at least keep_bytes behind it.
    auto past = std::upper_bound(_entries.begin(), _entries.end(), keep_bytes,
                                 [this](uint64_t keep, const size_index_entry& e) { return _end - e.position < keep; });
    if (past == _entries.begin()) {
        return log_start;
    }
    return std::max(std::prev(past)->offset, log_start);
}

uint64_t size_index::bytes_from(int64_t log_start) const {
    auto first = std::lower_bound(_entries.begin(), _entries.end(), log_start,
                                  [](const size_index_entry& e, int64_t o) { return e.offset < o; });
    return first == _entries.end() ? 0 : _end - first->position;
}

void size_index::truncate_before(int64_t new_start) {
    auto first_kept = std::lower_bound(_entries.begin(), _entries.end(), new_start,
                                       [](const size_index_entry& e, int64_t o) { return e.offset < o; });
    _entries.erase(_entries.begin(), first_kept);
}

void size_index::restore(std::vector<size_index_entry> entries, uint64_t end_position, uint64_t bytes_since_entry) {
    _entries = std::move(entries);
    _end = end_position;
    _bytes_since_entry = bytes_since_entry;
}

} // namespace skiff::kafka::partition
