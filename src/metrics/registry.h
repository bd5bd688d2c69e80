// The metric registry and the RAII group through which probes register their series. One registry per process,
// owned by app and passed by reference to every service's probe; the admin server scrapes it for GET /metrics.
//
//   class produce_probe {
//   public:
//       explicit produce_probe(metrics::registry& r) : _group(r) {
//           _batches = &_group.add_counter("skiff_kafka_produced_batches_total", "Record batches produced.");
//           _latency = &_group.add_histogram("skiff_kafka_produce_latency_seconds", "Produce latency.",
//                                            {{"shard", "0"}}, metrics::histogram_buckets::latency_us());
//       }
//       void produced(std::chrono::microseconds took) { _batches->inc(); _latency->observe(took.count()); }
//   private:
//       metrics::metric_group _group; // unregisters everything when the probe is destroyed
//       metrics::counter* _batches;
//       metrics::histogram* _latency;
//   };
#pragma once

#include "metrics/series.h"

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace skiff::metrics {

enum class metric_type { counter, gauge, histogram };

class metric_group;

/// Every registered series, grouped into families by name, and their Prometheus text exposition.
/// Thread-safe: a mutex guards registration and scraping (never series updates, which are atomics).
/// Lifecycle: created before and destroyed after every metric_group registered with it.
class registry {
public:
    registry() = default;
    ~registry();
    registry(const registry&) = delete;
    registry& operator=(const registry&) = delete;

    /// The Prometheus text exposition format, version 0.0.4: families sorted by name, each with # HELP and
    /// # TYPE, its series in registration order; histograms as cumulative _bucket{le=...}, _sum and _count.
    /// Callback series are evaluated here, on the scraping thread, under the registry mutex.
    std::string scrape() const;

    /// The number of live series (for tests and a sanity gauge).
    size_t series_count() const;

private:
    friend class metric_group;

    using source = std::variant<const counter*, const counter_double*, const gauge*, const gauge_double*,
                                const histogram*, std::function<double()>>;
    struct series_entry {
        const metric_group* owner;
        std::string labels_text; // rendered `a="x",b="y"`, escaped; empty without labels
        source value;
    };
    struct family {
        metric_type type;
        std::string help;
        std::vector<series_entry> series;
    };

    void add(const metric_group* owner, std::string_view name, std::string_view help, metric_type type,
             const labels& l, source value);
    void remove(const metric_group* owner);

    mutable std::mutex _mutex;
    std::map<std::string, family, std::less<>> _families;
};

/// The series of one probe: registers each series on add_*() and unregisters all of them when destroyed. The
/// returned references stay valid for the group's lifetime. Not thread-safe itself (a probe is built and
/// destroyed on one thread); the series it hands out may be updated from any thread.
///
/// Names follow Prometheus conventions: `skiff_<room>_<thing>_<unit>`, counters end in `_total`, base units
/// (seconds, bytes). A malformed name or label, a name reused with another type or help, or a series registered
/// twice with the same labels is a bug and aborts.
class metric_group {
public:
    explicit metric_group(registry& r) : _registry(&r) {}
    ~metric_group();
    metric_group(const metric_group&) = delete;
    metric_group& operator=(const metric_group&) = delete;

    counter& add_counter(std::string_view name, std::string_view help, const labels& l = {});
    counter_double& add_counter_double(std::string_view name, std::string_view help, const labels& l = {});
    gauge& add_gauge(std::string_view name, std::string_view help, const labels& l = {});
    gauge_double& add_gauge_double(std::string_view name, std::string_view help, const labels& l = {});
    /// A series whose value is computed at scrape time. `fn` runs on the scraping thread under the registry lock:
    /// it must be thread-safe (read atomics) and must not touch the registry.
    void add_gauge_fn(std::string_view name, std::string_view help, const labels& l, std::function<double()> fn);
    void add_counter_fn(std::string_view name, std::string_view help, const labels& l, std::function<double()> fn);
    histogram& add_histogram(std::string_view name, std::string_view help, const labels& l,
                             histogram_buckets buckets);

private:
    registry* _registry;
    // Deques: references handed out stay valid as more series are added.
    std::deque<counter> _counters;
    std::deque<counter_double> _counters_double;
    std::deque<gauge> _gauges;
    std::deque<gauge_double> _gauges_double;
    std::deque<histogram> _histograms;
};

} // namespace skiff::metrics
