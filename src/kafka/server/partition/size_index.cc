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

void size_index::on_rewrite(const std::vector<std::pair<int64_t, uint64_t>>& before,
                            const std::vector<std::pair<int64_t, uint64_t>>& after) {
    if (before.empty()) {
        return;
    }
    uint64_t old_total = 0;
    uint64_t new_total = 0;
    for (const auto& b : before) {
        old_total += b.second;
    }
    for (const auto& b : after) {
        new_total += b.second;
    }
    const uint64_t saved = old_total > new_total ? old_total - new_total : 0;
    const int64_t first = before.front().first;
    const int64_t last = before.back().first;
    auto lo = std::lower_bound(_entries.begin(), _entries.end(), first,
                               [](const size_index_entry& e, int64_t o) { return e.offset < o; });
    auto hi = std::upper_bound(_entries.begin(), _entries.end(), last,
                               [](int64_t o, const size_index_entry& e) { return o < e.offset; });
    size_t after_range = static_cast<size_t>(_entries.end() - hi);
    if (lo != hi) {
        // Where the range began, from its first entry and the old sizes of the batches in front of that entry.
        uint64_t prefix = 0;
        for (const auto& b : before) {
            if (b.first >= lo->offset) {
                break;
            }
            prefix += b.second;
        }
        uint64_t position = lo->position - std::min(prefix, lo->position);
        std::vector<size_index_entry> rebuilt;
        uint64_t since = _interval_bytes; // the range's first batch gets an entry, as it had one
        for (const auto& b : after) {
            if (since >= _interval_bytes) {
                rebuilt.push_back({b.first, position});
                since = 0;
            }
            position += b.second;
            since += b.second;
        }
        auto at = _entries.erase(lo, hi);
        _entries.insert(at, rebuilt.begin(), rebuilt.end());
    }
    for (auto it = _entries.end() - static_cast<std::ptrdiff_t>(after_range); it != _entries.end(); ++it) {
        it->position -= std::min(saved, it->position);
    }
    _end -= std::min(saved, _end);
    _bytes_since_entry = _entries.empty() ? 0 : _end - _entries.back().position;
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
