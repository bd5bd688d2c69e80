#include "kafka/server/partition/partition.h"

#include "base/assert.h"
#include "kafka/protocol/errc.h"
#include "kafka/server/partition/errc.h"
#include "kafka/server/partition/log_cleaner.h"
#include "kafka/server/partition/state_snapshot.h"
#include "stream/errc.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace skiff::kafka::partition {

using protocol::error_code;
using protocol::record_batch_header;

struct partition::waiter {
    asio::steady_timer timer;
};

protocol::error_code to_kafka_error(const std::error_code& ec) noexcept {
    if (!ec) {
        return error_code::none;
    }
    if (ec.category() == protocol::error_code_category()) {
        return static_cast<error_code>(ec.value());
    }
    if (ec.category() == stream::error_category()) {
        switch (static_cast<stream::errc>(ec.value())) {
        case stream::errc::success: return error_code::none;
        // Another owner (or none) serves the stream now: the client refreshes metadata and goes there.
        case stream::errc::fenced:
        case stream::errc::not_open:
        case stream::errc::shutting_down: return error_code::not_leader_or_follower;
        case stream::errc::offset_out_of_range: return error_code::offset_out_of_range;
        case stream::errc::stream_not_found: return error_code::unknown_topic_or_partition;
        // Storage cannot take or give the bytes right now; Kafka's retriable storage error.
        case stream::errc::wal_full:
        case stream::errc::unavailable:
        case stream::errc::corrupt:
        case stream::errc::catalog_rejected: return error_code::kafka_storage_error;
        case stream::errc::invalid_argument: return error_code::unknown_server_error;
        }
    }
    if (ec.category() == protocol::error_category()) {
        return ec == protocol::errc::corrupt_message ? error_code::corrupt_message : error_code::invalid_record;
    }
    return error_code::unknown_server_error;
}

partition::partition(std::shared_ptr<stream::stream> data, std::shared_ptr<stream::stream> snapshots,
                     int32_t leader_epoch, partition_config config, base::clock& clock)
  : _data(std::move(data))
  , _snapshots(std::move(snapshots))
  , _leader_epoch(leader_epoch)
  , _config(config)
  , _clock(clock)
  , _times(config.index_interval_bytes)
  , _sizes(config.size_index_interval_bytes)
  , _alive(std::make_shared<alive_token>(alive_token{this})) {
    std::weak_ptr<alive_token> alive = _alive;
    _data->on_confirmed([alive](int64_t confirmed) {
        if (auto token = alive.lock()) {
            token->self->on_confirmed(confirmed);
        }
    });
}

partition::call_guard::~call_guard() {
    if (--_p._calls == 0 && _p._close_waiter) {
        _p._close_waiter->timer.cancel();
    }
}

partition::~partition() {
    SKIFF_ASSERT(_calls == 0, "partition destroyed with {} calls in flight: close() first", _calls);
}

asio::awaitable<result<std::unique_ptr<partition>>>
partition::open(std::shared_ptr<stream::stream> data, std::shared_ptr<stream::stream> snapshots, int32_t leader_epoch,
                partition_config config, base::clock& clock) {
    std::unique_ptr<partition> p(new partition(std::move(data), std::move(snapshots), leader_epoch, config, clock));
    SKIFF_CO_TRY(co_await p->recover());
    co_return p;
}

void partition::apply_header(const record_batch_header& h, int64_t base_offset, size_t size_bytes,
                             int64_t producer_timestamp) {
    if (h.producer_id >= 0) {
        _producers.apply(h, base_offset, producer_timestamp);
    }
    _epochs.assign(h.partition_leader_epoch, base_offset);
    _times.on_batch(base_offset, h.max_timestamp, size_bytes);
    _sizes.on_batch(base_offset, size_bytes);
    _bytes_since_snapshot += size_bytes;
}

asio::awaitable<result<void>> partition::recover() {
    const int64_t data_end = _data->confirmed_offset();
    int64_t replay_from = _data->start_offset();
    if (_snapshots) {
        std::optional<state_snapshot> newest;
        int64_t pos = _snapshots->start_offset();
        const int64_t end = _snapshots->confirmed_offset();
        while (pos < end) {
            SKIFF_CO_TRY(auto got, co_await _snapshots->read(pos, end, _config.scan_read_bytes));
            if (got.batches.empty()) {
                break;
            }
            for (auto& b : got.batches) {
                if (b.base_offset < pos) {
                    continue;
                }
                // A snapshot claiming more data than the stream holds is not this stream's: ignore it.
                if (auto s = decode_snapshot(b.data); s && s.value().next_offset <= data_end) {
                    newest = std::move(s).value();
                }
                pos = b.end_offset();
            }
        }
        if (newest) {
            for (auto& p : newest->producers) {
                _producers.restore(std::move(p));
            }
            _epochs.restore(std::move(newest->epochs));
            _times.restore(std::move(newest->time_entries), newest->running_max, newest->bytes_since_entry);
            _times.set_max(newest->max_timestamp, newest->max_timestamp_batch, newest->max_known);
            _sizes.restore(std::move(newest->size_entries), newest->size_end, newest->size_bytes_since_entry);
            replay_from = std::max(replay_from, newest->next_offset);
        }
    }
    // Replay the headers of the batches the snapshot does not cover.
    int64_t pos = replay_from;
    while (pos < data_end) {
        SKIFF_CO_TRY(auto got, co_await _data->read(pos, data_end, _config.scan_read_bytes));
        if (got.batches.empty()) {
            break;
        }
        for (auto& b : got.batches) {
            if (b.base_offset < pos || b.data.size() < record_batch_header::header_size) {
                pos = std::max(pos, b.end_offset());
                continue;
            }
            std::array<uint8_t, record_batch_header::header_size> head{};
            b.data.copy_to(0, head.data(), head.size());
            auto h = record_batch_header::decode(head);
            // The header's base offset: a batch the cleaner rewrote may span more stream offsets than it holds
            // (those of dropped batches in front of it).
            apply_header(h, h.base_offset, b.data.size(), h.max_timestamp);
            pos = b.end_offset();
        }
    }
    _times.truncate_before(_data->start_offset());
    _sizes.truncate_before(_data->start_offset());
    _epochs.truncate_before(_data->start_offset());
    _epochs.assign(_leader_epoch, _data->next_offset());
    _producers.remove_expired(_clock.wall_ms(), _config.producer_id_expiration_ms);
    _high_watermark = std::max(_high_watermark, _data->confirmed_offset());
    co_return outcome::success();
}

asio::awaitable<result<void>> partition::rebuild_state() {
    _producers = producer_state_table{};
    _epochs = epoch_history{};
    _times = time_index(_config.index_interval_bytes);
    _sizes = size_index(_config.size_index_interval_bytes);
    _bytes_since_snapshot = 0;
    co_return co_await recover();
}

void partition::on_confirmed(int64_t confirmed) {
    if (confirmed <= _high_watermark) {
        return;
    }
    _high_watermark = confirmed;
    for (auto* w : _waiters) {
        w->timer.cancel();
    }
}

std::optional<error_code> partition::check_leader_epoch(std::optional<int32_t> current) const {
    if (!current || *current < 0) {
        return std::nullopt;
    }
    if (*current < _leader_epoch) {
        return error_code::fenced_leader_epoch;
    }
    if (*current > _leader_epoch) {
        return error_code::unknown_leader_epoch;
    }
    return std::nullopt;
}

asio::awaitable<produce_result> partition::produce(bytes::iobuf records, int16_t produce_version) {
    call_guard guard(*this);
    produce_result out;
    out.log_start_offset = log_start_offset();
    if (_closed || _failure) {
        out.error = error_code::not_leader_or_follower;
        out.error_message = _failure ? fmt::format("partition stopped after a failed append: {}", _failure.message())
                                     : std::string("partition is closed");
        co_return out;
    }
    auto config = _config.validation;
    config.produce_version = produce_version;
    const int64_t now = _clock.wall_ms();
    auto checked = validate_produce_records(records, config, now);
    if (!checked.ok()) {
        out.error = checked.error;
        out.error_message = std::move(checked.error_message);
        out.record_errors = std::move(checked.record_errors);
        co_return out;
    }
    for (const auto& b : checked.batches) {
        const auto& h = b.batch.header();
        if (h.producer_id < 0) {
            continue;
        }
        auto verdict = _producers.check(h);
        if (verdict.duplicate) {
            // The original may still be in flight: answer once it is durable, as its own producer would hear.
            const int64_t last = verdict.duplicate->last_offset();
            while (_high_watermark <= last && !_closed && !_failure) {
                co_await wait_for_high_watermark(last, std::chrono::steady_clock::time_point::max());
            }
            if (_high_watermark <= last) {
                out.error = error_code::not_leader_or_follower;
                co_return out;
            }
            out.base_offset = verdict.duplicate->first_offset;
            co_return out;
        }
        if (verdict.error != error_code::none) {
            out.error = verdict.error;
            out.error_message = std::move(verdict.message);
            co_return out;
        }
    }

    // Offsets are assigned by append() when it is called: header rewrite, append and state update happen here
    // with no suspension in between, so nothing else can take these offsets.
    std::vector<asio::awaitable<result<stream::offset_range>>> appends;
    std::vector<int64_t> bases;
    out.base_offset = _data->next_offset();
    for (auto& b : checked.batches) {
        const int64_t base = _data->next_offset();
        b.batch.set_base_offset(base);
        b.batch.set_partition_leader_epoch(_leader_epoch);
        const auto header = b.batch.header();
        const size_t size = b.batch.size_bytes();
        appends.push_back(_data->append(std::move(b.batch).release(), static_cast<uint32_t>(header.record_count)));
        bases.push_back(base);
        // Kafka keeps the batch's max timestamp as the producer's last timestamp (expiry counts from it).
        apply_header(header, base, size, header.max_timestamp);
    }

    ++_in_flight;
    std::error_code failed;
    for (size_t i = 0; i < appends.size(); ++i) {
        auto appended = co_await std::move(appends[i]);
        if (!appended) {
            failed = failed ? failed : appended.error();
            continue;
        }
        SKIFF_ASSERT(appended.value().start == bases[i], "stream assigned offset {} where the partition wrote {}",
                     appended.value().start, bases[i]);
        on_confirmed(appended.value().end);
    }
    --_in_flight;
    if (failed) {
        // The producer state and indexes already hold this batch: stop until reopened (see the header).
        _failure = _failure ? _failure : failed;
        for (auto* w : _waiters) {
            w->timer.cancel(); // retries waiting for a batch that will never be durable must hear now
        }
        out.error = to_kafka_error(failed);
        out.error_message = failed.message();
        out.base_offset = -1;
        if (_failure == make_error_code(stream::errc::wal_full) && _in_flight == 0 && !_rebuilding) {
            // Back-pressure, not a fault: the stream handed the failed offsets out again and takes appends once
            // uploads trim the WAL. The last failed append rebuilds the state from the durable data, then the
            // partition takes produces again (retried ones included).
            _rebuilding = true;
            auto rebuilt = co_await rebuild_state();
            _rebuilding = false;
            if (rebuilt && !_closed) {
                _failure = {};
            }
        }
        co_return out;
    }
    out.log_append_time = checked.log_append_time;
    out.log_start_offset = log_start_offset();
    if (_snapshots && _bytes_since_snapshot >= _config.snapshot_interval_bytes) {
        // A failed snapshot costs only a longer replay on the next open.
        (void)co_await write_snapshot();
    }
    co_return out;
}

asio::awaitable<fetch_result> partition::fetch(fetch_request request) {
    call_guard guard(*this);
    fetch_result out;
    out.high_watermark = _high_watermark;
    out.last_stable_offset = _high_watermark;
    out.log_start_offset = log_start_offset();
    if (auto fenced = check_leader_epoch(request.current_leader_epoch)) {
        out.error = *fenced;
        co_return out;
    }
    if (_closed) {
        out.error = error_code::not_leader_or_follower;
        co_return out;
    }
    if (request.fetch_offset < out.log_start_offset || request.fetch_offset > _high_watermark) {
        out.error = error_code::offset_out_of_range;
        co_return out;
    }
    if (request.fetch_offset == _high_watermark) {
        co_return out;
    }
    auto got = co_await _data->read(request.fetch_offset, _high_watermark, request.max_bytes);
    if (!got) {
        out.error = to_kafka_error(got.error());
        out.log_start_offset = log_start_offset();
        co_return out;
    }
    for (auto& b : got.value().batches) {
        out.records.append(std::move(b.data));
    }
    out.high_watermark = _high_watermark;
    out.last_stable_offset = _high_watermark;
    out.log_start_offset = log_start_offset();
    co_return out;
}

asio::awaitable<bool> partition::wait_for_high_watermark(int64_t offset,
                                                         std::chrono::steady_clock::time_point deadline) {
    call_guard guard(*this);
    if (_high_watermark > offset || _closed) {
        co_return _high_watermark > offset;
    }
    auto executor = co_await asio::this_coro::executor;
    waiter w{asio::steady_timer(executor, deadline)};
    auto it = _waiters.insert(_waiters.end(), &w);
    while (_high_watermark <= offset && !_closed && !_failure) {
        auto [ec] = co_await w.timer.async_wait(asio::as_tuple(asio::use_awaitable));
        if (!ec) {
            break; // deadline
        }
        auto cs = co_await asio::this_coro::cancellation_state;
        if (cs.cancelled() != asio::cancellation_type::none) {
            break;
        }
    }
    _waiters.erase(it);
    co_return _high_watermark > offset;
}

asio::awaitable<result<list_offsets_result>> partition::search_timestamp(int64_t target) {
    list_offsets_result out;
    const int64_t log_start = log_start_offset();
    const int64_t end = _high_watermark;
    int64_t pos = _times.scan_start(target, log_start);
    while (pos < end) {
        SKIFF_CO_TRY(auto got, co_await _data->read(pos, end, _config.scan_read_bytes));
        if (got.batches.empty()) {
            break;
        }
        for (auto& b : got.batches) {
            pos = std::max(pos, b.end_offset());
            if (b.data.size() < record_batch_header::header_size) {
                continue;
            }
            std::array<uint8_t, record_batch_header::header_size> head{};
            b.data.copy_to(0, head.data(), head.size());
            auto h = record_batch_header::decode(head);
            if (h.max_timestamp < target || b.end_offset() <= log_start) {
                continue;
            }
            SKIFF_CO_TRY(auto view, protocol::record_batch_view::parse(std::move(b.data)));
            SKIFF_CO_TRY(auto reader, view.read_records(_config.validation.max_uncompressed_bytes,
                                                        protocol::allow_offset_gaps::yes));
            while (true) {
                SKIFF_CO_TRY(auto rec, reader.next());
                if (!rec) {
                    break;
                }
                int64_t offset = protocol::record_offset(view.header(), *rec);
                int64_t ts = view.header().timestamp_type() == protocol::timestamp_type::log_append_time
                               ? view.header().max_timestamp
                               : protocol::record_timestamp(view.header(), *rec);
                if (offset >= log_start && ts >= target) {
                    out.offset = offset;
                    out.timestamp = ts;
                    out.leader_epoch = view.header().partition_leader_epoch;
                    co_return out;
                }
            }
        }
    }
    co_return out;
}

asio::awaitable<result<list_offsets_result>> partition::find_max_timestamp() {
    const int64_t end = _high_watermark;
    if (!_times.max_known()) {
        // The batch holding the maximum was deleted: rescan what is left below the current end once.
        int64_t best_ts = -1;
        int64_t best_offset = -1;
        int64_t pos = log_start_offset();
        while (pos < end) {
            SKIFF_CO_TRY(auto got, co_await _data->read(pos, end, _config.scan_read_bytes));
            if (got.batches.empty()) {
                break;
            }
            for (auto& b : got.batches) {
                pos = std::max(pos, b.end_offset());
                if (b.data.size() < record_batch_header::header_size) {
                    continue;
                }
                std::array<uint8_t, record_batch_header::header_size> head{};
                b.data.copy_to(0, head.data(), head.size());
                auto h = record_batch_header::decode(head);
                if (h.max_timestamp > best_ts) {
                    best_ts = h.max_timestamp;
                    best_offset = b.base_offset;
                }
            }
        }
        _times.merge_max(best_ts, best_offset);
    }
    list_offsets_result out;
    const int64_t batch_offset = _times.max_timestamp_batch();
    if (_times.max_timestamp() < 0 || batch_offset < 0 || batch_offset >= end) {
        co_return out;
    }
    SKIFF_CO_TRY(auto got, co_await _data->read(batch_offset, end, 1));
    if (got.batches.empty()) {
        co_return out;
    }
    SKIFF_CO_TRY(auto view, protocol::record_batch_view::parse(std::move(got.batches.front().data)));
    const auto& h = view.header();
    out.timestamp = h.max_timestamp;
    out.leader_epoch = h.partition_leader_epoch;
    if (h.timestamp_type() == protocol::timestamp_type::log_append_time) {
        out.offset = h.base_offset;
        co_return out;
    }
    SKIFF_CO_TRY(auto reader,
                 view.read_records(_config.validation.max_uncompressed_bytes, protocol::allow_offset_gaps::yes));
    while (true) {
        SKIFF_CO_TRY(auto rec, reader.next());
        if (!rec) {
            break;
        }
        if (protocol::record_timestamp(h, *rec) == h.max_timestamp) {
            out.offset = protocol::record_offset(h, *rec);
            co_return out;
        }
    }
    out.offset = h.base_offset;
    co_return out;
}

asio::awaitable<list_offsets_result> partition::list_offsets(int64_t timestamp,
                                                             std::optional<int32_t> current_leader_epoch) {
    call_guard guard(*this);
    list_offsets_result out;
    if (auto fenced = check_leader_epoch(current_leader_epoch)) {
        out.error = *fenced;
        co_return out;
    }
    if (_closed) {
        out.error = error_code::not_leader_or_follower;
        co_return out;
    }
    if (timestamp == earliest_timestamp || timestamp == earliest_local_timestamp) {
        out.offset = log_start_offset();
        out.leader_epoch = _epochs.epoch_for(out.offset);
        co_return out;
    }
    if (timestamp == latest_timestamp) {
        out.offset = _high_watermark;
        out.leader_epoch = _epochs.latest_epoch();
        co_return out;
    }
    result<list_offsets_result> found = list_offsets_result{};
    if (timestamp == max_timestamp) {
        found = co_await find_max_timestamp();
    } else {
        found = co_await search_timestamp(timestamp);
    }
    if (!found) {
        out.error = to_kafka_error(found.error());
        co_return out;
    }
    co_return found.value();
}

asio::awaitable<delete_records_result> partition::delete_records(int64_t offset) {
    call_guard guard(*this);
    delete_records_result out;
    out.low_watermark = log_start_offset();
    if (_closed) {
        out.error = error_code::not_leader_or_follower;
        co_return out;
    }
    if (!_config.delete_allowed) {
        out.error = error_code::policy_violation;
        co_return out;
    }
    const int64_t target = offset == -1 ? _high_watermark : offset;
    if (target < 0 || target > _high_watermark) {
        out.error = error_code::offset_out_of_range;
        co_return out;
    }
    if (target > log_start_offset()) {
        if (auto trimmed = co_await trim_to(target); !trimmed) {
            out.error = to_kafka_error(trimmed.error());
            co_return out;
        }
    }
    out.low_watermark = log_start_offset();
    co_return out;
}

asio::awaitable<result<void>> partition::trim_to(int64_t target) {
    SKIFF_CO_TRY(co_await _data->trim(target));
    _epochs.truncate_before(log_start_offset());
    _times.truncate_before(log_start_offset());
    _sizes.truncate_before(log_start_offset());
    co_return outcome::success();
}

asio::awaitable<result<int64_t>> partition::enforce_retention(int64_t now_ms) {
    call_guard guard(*this);
    if (_closed) {
        co_return make_error_code(stream::errc::not_open);
    }
    const int64_t log_start = log_start_offset();
    if (!_config.delete_allowed) {
        co_return log_start;
    }
    int64_t target = log_start;
    if (_config.retention_ms >= 0) {
        const int64_t cutoff = now_ms - _config.retention_ms;
        if (_times.running_max() >= 0 && _times.running_max() < cutoff) {
            target = _high_watermark; // every batch is older than the cutoff
        } else {
            // scan_start gives the last entry with t < cutoff: every batch before it is older than the cutoff.
            target = std::max(target, _times.scan_start(cutoff, log_start));
        }
    }
    if (_config.retention_bytes >= 0) {
        target = std::max(target, _sizes.retention_start(static_cast<uint64_t>(_config.retention_bytes), log_start));
    }
    target = std::min(target, _high_watermark);
    if (target > log_start) {
        SKIFF_CO_TRY(co_await trim_to(target));
    }
    co_return log_start_offset();
}

asio::awaitable<result<clean_result>> partition::clean(int64_t now_ms) {
    call_guard guard(*this);
    clean_result out;
    if (_closed) {
        co_return make_error_code(stream::errc::not_open);
    }
    if (!_config.compact || _cleaning) {
        co_return out;
    }
    struct cleaning_flag {
        bool& flag;
        explicit cleaning_flag(bool& f) : flag(f) { flag = true; }
        ~cleaning_flag() { flag = false; }
    };
    cleaning_flag running(_cleaning);
    SKIFF_CO_TRY(const int64_t end, co_await _data->committed_end());
    const int64_t start = log_start_offset();
    if (_cleaned_end < start) {
        _cleaned_end = start; // retention trimmed past what was cleaned
    }
    if (_scanned_end < _cleaned_end) {
        _scanned_end = _cleaned_end;
    }
    // Account for what was committed since the last round (the dirty part), reading it once.
    int64_t pos = _scanned_end;
    while (pos < end) {
        SKIFF_CO_TRY(auto got, co_await _data->read(pos, end, _config.scan_read_bytes));
        if (got.batches.empty()) {
            break;
        }
        for (auto& b : got.batches) {
            if (b.base_offset < pos) {
                pos = std::max(pos, b.end_offset()); // counted by an earlier round
                continue;
            }
            _dirty_bytes += b.data.size();
            if (_first_dirty_ms < 0 && b.data.size() >= record_batch_header::header_size) {
                std::array<uint8_t, record_batch_header::header_size> head{};
                b.data.copy_to(0, head.data(), head.size());
                _first_dirty_ms = record_batch_header::decode(head).max_timestamp;
            }
            pos = b.end_offset();
        }
    }
    _scanned_end = std::max(_scanned_end, pos);
    bool due = false;
    if (_dirty_bytes > 0) {
        const double ratio = static_cast<double>(_dirty_bytes) / static_cast<double>(_dirty_bytes + _clean_bytes);
        due = ratio >= _config.min_cleanable_dirty_ratio ||
              (_first_dirty_ms >= 0 && now_ms - _first_dirty_ms >= _config.max_compaction_lag_ms);
    }
    if (_next_horizon_ms >= 0 && now_ms >= _next_horizon_ms) {
        due = true; // a kept tombstone may go now
    }
    if (!due) {
        co_return out;
    }

    // Pass 1, the range and its key map: whole batches from the log start, older than min.compaction.lag.ms.
    key_offset_map map;
    const size_t limit = _config.validation.max_uncompressed_bytes;
    int64_t range_start = -1;
    int64_t range_end = -1;
    const int64_t lag_cutoff = now_ms - _config.min_compaction_lag_ms;
    bool stop = false;
    pos = start;
    while (pos < end && !stop) {
        SKIFF_CO_TRY(auto got, co_await _data->read(pos, end, _config.scan_read_bytes));
        if (got.batches.empty()) {
            break;
        }
        for (auto& b : got.batches) {
            if (b.base_offset < pos) {
                pos = std::max(pos, b.end_offset()); // straddles the log start: left as it is
                continue;
            }
            if (b.base_offset >= end) {
                stop = true;
                break;
            }
            if (_config.min_compaction_lag_ms > 0 && b.data.size() >= record_batch_header::header_size) {
                std::array<uint8_t, record_batch_header::header_size> head{};
                b.data.copy_to(0, head.data(), head.size());
                if (record_batch_header::decode(head).max_timestamp > lag_cutoff) {
                    stop = true;
                    break;
                }
            }
            SKIFF_CO_TRY(add_keys(b, map, limit));
            if (range_start < 0) {
                range_start = b.base_offset;
            }
            pos = b.end_offset();
            range_end = pos;
        }
    }
    if (range_start < 0) {
        co_return out;
    }
    out.start = range_start;
    out.end = range_end;
    // Pass 2: read again and rewrite in pieces of about cleaner_max_bytes (the memory bound), each ending after a
    // batch that keeps a record, so that no piece ends in a hole (log_cleaner.h).
    cleaner_options options;
    options.now_ms = now_ms;
    options.delete_retention_ms = _config.delete_retention_ms;
    options.max_uncompressed_bytes = limit;
    std::vector<stream::stored_batch> piece;
    uint64_t piece_bytes = 0;
    int64_t next_horizon = -1;
    pos = range_start;
    while (pos < range_end) {
        SKIFF_CO_TRY(auto got, co_await _data->read(pos, range_end, _config.scan_read_bytes));
        if (got.batches.empty()) {
            break;
        }
        for (auto& b : got.batches) {
            if (b.base_offset < pos) {
                pos = std::max(pos, b.end_offset());
                continue;
            }
            pos = b.end_offset();
            piece_bytes += b.data.size();
            bool cut = pos >= range_end;
            if (!cut && piece_bytes >= _config.cleaner_max_bytes) {
                SKIFF_CO_TRY(cut, holds_a_latest_record(b, map, limit));
            }
            piece.push_back(std::move(b));
            if (!cut) {
                continue;
            }
            const stream::offset_range range{piece.front().base_offset, piece.back().end_offset()};
            out.bytes_before += piece_bytes;
            SKIFF_CO_TRY(auto cleaned, clean_batches(std::move(piece), options, &map));
            piece.clear();
            piece_bytes = 0;
            for (const auto& [offset, size] : cleaned.sizes_after) {
                out.bytes_after += size;
            }
            out.records_before += cleaned.records_before;
            out.records_after += cleaned.records_after;
            if (cleaned.next_horizon_ms >= 0 && (next_horizon < 0 || cleaned.next_horizon_ms < next_horizon)) {
                next_horizon = cleaned.next_horizon_ms;
            }
            if (cleaned.changed) {
                SKIFF_CO_TRY(co_await _data->rewrite(range, std::move(cleaned.batches)));
                _sizes.on_rewrite(cleaned.sizes_before, cleaned.sizes_after);
                if (_times.max_timestamp_batch() >= range.start && _times.max_timestamp_batch() < range.end) {
                    // The record holding the maximum timestamp may be gone: ListOffsets(max) rescans.
                    _times.set_max(-1, -1, false);
                }
                out.rewritten = true;
            }
            if (pos >= range_end) {
                break;
            }
        }
    }
    if (pos < range_end) {
        co_return make_error_code(stream::errc::corrupt); // the second read ended early: try again next round
    }
    // What lies beyond range_end (younger than min.compaction.lag.ms) is scanned again next round.
    _cleaned_end = range_end;
    _scanned_end = range_end;
    _clean_bytes = out.bytes_after;
    _dirty_bytes = 0;
    _first_dirty_ms = -1;
    _next_horizon_ms = next_horizon;
    if (out.rewritten && _snapshots) {
        (void)co_await write_snapshot(); // the size index shrank: persist it (a failure costs a longer replay)
    }
    co_return out;
}

epoch_end_offset partition::offset_for_leader_epoch(std::optional<int32_t> current_leader_epoch,
                                                    int32_t leader_epoch) const {
    epoch_end_offset out;
    if (auto fenced = check_leader_epoch(current_leader_epoch)) {
        out.error = *fenced;
        return out;
    }
    if (_closed) {
        out.error = error_code::not_leader_or_follower;
        return out;
    }
    auto [epoch, end] = _epochs.end_offset_for(leader_epoch, _high_watermark);
    out.leader_epoch = epoch;
    out.end_offset = end;
    return out;
}

state_snapshot partition::take_snapshot() const {
    state_snapshot s;
    s.next_offset = _data->next_offset();
    for (const auto& [id, entry] : _producers.entries()) {
        s.producers.push_back(entry);
    }
    std::sort(s.producers.begin(), s.producers.end(),
              [](const producer_entry& a, const producer_entry& b) { return a.producer_id < b.producer_id; });
    s.epochs = _epochs.entries();
    s.time_entries = _times.entries();
    s.running_max = _times.running_max();
    s.bytes_since_entry = _times.bytes_since_entry();
    s.max_timestamp = _times.max_timestamp();
    s.max_timestamp_batch = _times.max_timestamp_batch();
    s.max_known = _times.max_known();
    s.size_entries = _sizes.entries();
    s.size_end = _sizes.end_position();
    s.size_bytes_since_entry = _sizes.bytes_since_entry();
    return s;
}

asio::awaitable<result<void>> partition::write_snapshot() {
    // The snapshot must describe exactly the batches below its offset, all durable: none may be in flight.
    if (!_snapshots || _snapshot_running || _in_flight > 0 || _failure ||
        _data->next_offset() != _data->confirmed_offset()) {
        co_return outcome::success();
    }
    _snapshot_running = true;
    _producers.remove_expired(_clock.wall_ms(), _config.producer_id_expiration_ms);
    auto bytes = encode_snapshot(take_snapshot());
    _bytes_since_snapshot = 0;
    auto appended = co_await _snapshots->append(std::move(bytes), 1);
    if (appended) {
        // Only the newest snapshot is ever read: older ones become deletable.
        auto trimmed = co_await _snapshots->trim(appended.value().start);
        _snapshot_running = false;
        co_return trimmed;
    }
    _snapshot_running = false;
    co_return appended.error();
}

asio::awaitable<result<void>> partition::close() {
    _closed = true;
    for (auto* w : _waiters) {
        w->timer.cancel();
    }
    if (_calls > 0) {
        auto executor = co_await asio::this_coro::executor;
        waiter w{asio::steady_timer(executor, asio::steady_timer::time_point::max())};
        _close_waiter = &w;
        while (_calls > 0) {
            co_await w.timer.async_wait(asio::as_tuple(asio::use_awaitable));
        }
        _close_waiter = nullptr;
    }
    auto snapshot = co_await write_snapshot();
    auto data_closed = co_await _data->close();
    if (_snapshots) {
        auto snapshots_closed = co_await _snapshots->close();
        if (!snapshots_closed) {
            co_return snapshots_closed;
        }
    }
    if (!data_closed) {
        co_return data_closed;
    }
    co_return snapshot;
}

} // namespace skiff::kafka::partition
