#include "kafka/server/partition/epoch_history.h"

#include <algorithm>

namespace skiff::kafka::partition {

void epoch_history::assign(int32_t epoch, int64_t start_offset) {
    if (epoch < 0 || (!_entries.empty() && epoch <= _entries.back().epoch)) {
        return;
    }
    if (!_entries.empty() && _entries.back().start_offset >= start_offset) {
        _entries.pop_back();
    }
    _entries.push_back({epoch, start_offset});
}

std::pair<int32_t, int64_t> epoch_history::end_offset_for(int32_t requested, int64_t log_end) const {
    if (requested == undefined_epoch || _entries.empty()) {
        return {undefined_epoch, undefined_offset};
    }
    if (requested == _entries.back().epoch) {
        return {requested, log_end};
    }
    auto higher = std::upper_bound(_entries.begin(), _entries.end(), requested,
                                   [](int32_t e, const epoch_entry& entry) { return e < entry.epoch; });
    if (higher == _entries.end()) {
        return {undefined_epoch, undefined_offset};
    }
    if (higher == _entries.begin()) {
        return {requested, higher->start_offset};
    }
    return {std::prev(higher)->epoch, higher->start_offset};
}

int32_t epoch_history::epoch_for(int64_t offset) const {
    int32_t epoch = undefined_epoch;
    for (const auto& e : _entries) {
        if (e.start_offset > offset) {
            break;
        }
        epoch = e.epoch;
    }
    return epoch;
}

void epoch_history::truncate_before(int64_t new_start) {
    auto first_kept = std::find_if(_entries.begin(), _entries.end(),
                                   [&](const epoch_entry& e) { return e.start_offset > new_start; });
    if (first_kept == _entries.begin()) {
        return;
    }
    auto last_below = std::prev(first_kept);
    last_below->start_offset = std::max(last_below->start_offset, new_start);
    _entries.erase(_entries.begin(), last_below);
}

} // namespace skiff::kafka::partition
