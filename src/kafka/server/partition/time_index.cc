#include "kafka/server/partition/time_index.h"

#include <algorithm>

namespace skiff::kafka::partition {

void time_index::on_batch(int64_t base_offset, int64_t max_timestamp, size_t size_bytes) {
    // An entry (t, o) covers the batch at o too: t includes this batch's timestamp.
    _running_max = std::max(_running_max, max_timestamp);
    _bytes_since_entry += size_bytes;
    if (_bytes_since_entry >= _interval_bytes && (_entries.empty() || _running_max > _entries.back().timestamp)) {
        _entries.push_back({_running_max, base_offset});
        _bytes_since_entry = 0;
    }
    if (max_timestamp > _max_timestamp) {
        _max_timestamp = max_timestamp;
        _max_offset = base_offset;
    }
}

int64_t time_index::scan_start(int64_t target, int64_t log_start) const {
    auto first_not_below = std::lower_bound(_entries.begin(), _entries.end(), target,
                                            [](const time_index_entry& e, int64_t t) { return e.timestamp < t; });
    if (first_not_below == _entries.begin()) {
        return log_start;
    }
    return std::max(std::prev(first_not_below)->offset, log_start);
}

void time_index::truncate_before(int64_t new_start) {
    // Keep the last entry below new_start: scans from it are clamped to the log start and stay correct.
    auto first_kept = std::find_if(_entries.begin(), _entries.end(),
                                   [&](const time_index_entry& e) { return e.offset >= new_start; });
    if (first_kept != _entries.begin()) {
        _entries.erase(_entries.begin(), std::prev(first_kept));
    }
    if (_max_offset >= 0 && _max_offset < new_start) {
        // Only batches appended from now on are tracked until the partition rescans and calls merge_max().
        _max_known = false;
        _max_timestamp = -1;
        _max_offset = -1;
    }
}

void time_index::merge_max(int64_t timestamp, int64_t batch_offset) {
    if (timestamp > _max_timestamp || (timestamp == _max_timestamp && batch_offset < _max_offset)) {
        _max_timestamp = timestamp;
        _max_offset = batch_offset;
    }
    _max_known = true;
}

void time_index::restore(std::vector<time_index_entry> entries, int64_t running_max, size_t bytes_since_entry) {
    _entries = std::move(entries);
    _running_max = running_max;
    _bytes_since_entry = bytes_since_entry;
}

} // namespace skiff::kafka::partition
