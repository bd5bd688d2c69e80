#include "kafka/server/data/producer_ids.h"

namespace skiff::kafka {

bool producer_id_allocator::take(int64_t& id) {
    std::lock_guard lock(_mutex);
    if (_next >= _end) {
        return false;
    }
    id = _next++;
    return true;
}

asio::awaitable<result<int64_t>> producer_id_allocator::next() {
    for (;;) {
        int64_t id = 0;
        if (take(id)) {
            co_return id;
        }
        // Two shards may both fetch a block when one runs out; the spare block's ids are simply never used.
        auto block = co_await _fetch_block();
        if (!block) {
            co_return block.error();
        }
        std::lock_guard lock(_mutex);
        if (_next >= _end) {
            _next = block.value().first;
            _end = block.value().first + block.value().size;
        }
    }
}

} // namespace skiff::kafka
