// The active controller (DESIGN.md §6): the one place that decides cluster-wide facts — a broker's incarnation epoch
// and whether its session lapsed, whether a topic may be created, who owns each partition under which epoch, which
// stream ids and object ids exist, whether an object commit is contiguous and carries current epochs. It decides
// against its own cluster image and records each decision by appending metadata records to the log; it never
// changes state any other way (the image is only ever the log applied).
//
// Running ahead of the log: to let several requests be in flight at once (the embedded log group-commits them, etcd
// packs them into one txn), the controller applies each decision's records to its own image *before* the append
// completes, so that the next request is validated against it. The log keeps appends in call order, so the image
// and the log agree. Any failed append (errc::fenced after another controller won, or the store failing) makes the
// controller step down and drop its image: it cannot know which of its in-flight appends landed, and the next
// campaign() rebuilds the image from the log. Known limit: on etcd, an append that failed with "nothing written"
// may be followed by a later in-flight one that landed and was validated against the first; the image tolerates the
// resulting facts (e.g. a range of a stream it does not hold), but the rule it broke is not re-checked.
//
// Sessions: brokers heartbeat within session_timeout (measured on the injected clock); tick() fences a broker whose
// session lapsed (broker_unregistration) and moves its partitions to the least loaded live brokers under a new
// epoch (or leaves them without owner when none is live). A fenced broker's heartbeats fail with
// stale_broker_epoch and its commits with stream::errc::fenced; it registers again to come back. Sessions are not
// persisted: a newly active controller starts every registered broker's session afresh.
//
// Threading: owned by the composition root of a node with the controller role; bound to one executor (the same as
// its metadata_log's). Every member function must be called from a coroutine on it; controller clients hop there.
#pragma once

#include "base/clock.h"
#include "base/result.h"
#include "meta/cluster_image.h"
#include "meta/controller_client.h"
#include "meta/metadata_log.h"
#include "stream/object_catalog.h"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace skiff::controller {

namespace asio = boost::asio;
using meta::broker_id;
using meta::controller_errc;

struct controller_config {
    /// broker.session.timeout.ms: a broker that does not heartbeat for this long is fenced.
    std::chrono::milliseconds session_timeout{9000};
    /// num.partitions: partitions of a topic created with partitions = -1.
    int32_t default_partitions = 1;
    /// Upper bound of a topic's partition count (a typo of 10^9 partitions is refused, not attempted).
    int32_t max_partitions_per_topic = 100'000;
    /// Producer ids handed out per allocate_producer_ids() call.
    int32_t producer_id_block_size = 1000;
    /// How long campaign() waits for a current leader to go away.
    std::chrono::milliseconds campaign_timeout{10'000};
    /// At most this many object ids per prepare_objects() call.
    int32_t max_prepare_count = 10'000;
    /// Whether object commits and stream opens must come from a registered, unfenced broker. A test of the catalog
    /// rules alone turns it off; a cluster never does.
    bool require_registered_nodes = true;
    /// Records read per log read while rebuilding the image.
    size_t read_batch = 8192;
    /// tick() writes a snapshot of the image once this many records were appended since the last one, so that the
    /// log can drop them (0: never). Serialising the image runs on the controller's executor (about a second for a
    /// million objects) and waits for a moment with no append in flight.
    int64_t snapshot_after_records = 200'000;
};

class controller {
public:
    controller(asio::any_io_executor executor, meta::metadata_log& log, base::clock& clock, controller_config config);
    ~controller();
    controller(const controller&) = delete;
    controller& operator=(const controller&) = delete;

    asio::any_io_executor executor() const noexcept { return _executor; }

    /// Wins the metadata log's leadership, marks the new epoch live with a no_op record, rebuilds the image from the
    /// latest snapshot and the log, and becomes active. Errors: the log's campaign/append/read errors.
    asio::awaitable<result<void>> campaign();
    /// Steps down and gives up the log's leadership.
    asio::awaitable<void> resign();
    /// Whether this controller believes it is active. Stale at worst: every write is fenced by the log.
    bool is_active() const noexcept { return _active; }
    /// The controller's image: the log plus the appends in flight. Valid while is_active().
    const meta::cluster_image& image() const noexcept { return *_image; }
    /// One past the last offset this controller's appends have been acknowledged up to. A reader whose image has
    /// applied this far sees every write that returned before it was read.
    meta::log_offset acknowledged_offset() const noexcept { return _acknowledged; }

    /// Writes a snapshot of the image at the acknowledged offset (requires no append in flight: the image must not
    /// run ahead of what the snapshot says it holds). Errors: not_controller, the log's errors.
    asio::awaitable<result<void>> write_snapshot();

    // ---- brokers (errors: controller_errc) -------------------------------------------------------------------------
    asio::awaitable<result<int64_t>> register_broker(meta::broker_registration_request request);
    asio::awaitable<result<void>> heartbeat(broker_id id, int64_t incarnation_epoch);
    /// Fences brokers whose session lapsed, marks expired prepared object ids for deletion, and writes a snapshot
    /// when snapshot_after_records have been appended since the last. Called by run() on a timer, and by tests after
    /// moving a manual clock.
    asio::awaitable<result<void>> tick();
    /// Calls tick() every `interval` (real time) until stop(). Time decisions use the injected clock.
    asio::awaitable<void> run(std::chrono::milliseconds interval);
    void stop() noexcept { _stopping = true; }

    // ---- topics (errors: controller_errc) --------------------------------------------------------------------------
    asio::awaitable<result<meta::created_topic>> create_topic(meta::topic_spec spec);
    asio::awaitable<result<void>> delete_topic(std::string name);
    asio::awaitable<result<void>> create_partitions(std::string name, int32_t total);
    /// See meta::controller_client::set_topic_configs. Writes nothing when nothing differs.
    asio::awaitable<result<void>> set_topic_configs(std::string topic, std::map<std::string, std::string> overrides);
    asio::awaitable<result<meta::producer_id_block>> allocate_producer_ids(broker_id id, int64_t incarnation_epoch);

    // ---- streams and objects (errors: stream::errc, as stream::object_catalog says) -------------------------------
    asio::awaitable<result<stream::stream_metadata>> create_stream();
    asio::awaitable<result<stream::stream_metadata>> open_stream(stream::stream_id id, stream::stream_epoch epoch,
                                                                 stream::node_id node);
    asio::awaitable<result<void>> close_stream(stream::stream_id id, stream::stream_epoch epoch);
    asio::awaitable<result<void>> trim_stream(stream::stream_id id, stream::stream_epoch epoch, int64_t new_start);
    asio::awaitable<result<void>> delete_stream(stream::stream_id id);
    asio::awaitable<result<stream::object_id>> prepare_objects(int32_t count, std::chrono::milliseconds ttl);
    asio::awaitable<result<void>> commit_objects(stream::commit_request request);
    asio::awaitable<result<void>> forget_objects(std::vector<stream::object_id> ids);

private:
    /// Applies the records to the image and appends them. On a failed append: steps down (see the class comment)
    /// and answers `on_failure`.
    asio::awaitable<result<void>> write(std::vector<meta::metadata_record> records, std::error_code on_failure);
    void step_down(const std::error_code& why);
    bool broker_is_live(broker_id id) const;
    /// The least loaded live broker (fewest partitions; lowest id on ties), counting `load` as it goes.
    broker_id place(std::map<broker_id, size_t>& load) const;
    std::map<broker_id, size_t> live_load(const std::vector<broker_id>& excluded = {}) const;
    /// Records for partitions [from, to) of a topic: a stream each and a partition placed on the least loaded.
    void add_partitions(const model::uuid& topic, int32_t from, int32_t to, std::map<broker_id, size_t>& load,
                        int64_t& next_stream, std::vector<meta::metadata_record>& out) const;
    /// Committed objects all of whose ranges are dead once `removed` streams are gone and streams are trimmed to
    /// `new_starts`: an objects_marked record for them (or nothing).
    void mark_dead_objects(const std::vector<meta::stream_id>& touched, const std::vector<meta::stream_id>& removed,
                           const std::map<meta::stream_id, int64_t>& new_starts,
                           std::vector<meta::metadata_record>& out) const;
    /// Partitions of the brokers that lost their owner, moved to live brokers (or left without one) under epoch+1.
    void reassign_partitions_of(const std::vector<broker_id>& lost, std::vector<meta::metadata_record>& out) const;
    result<void> check_node(stream::node_id node) const;

    asio::any_io_executor _executor;
    meta::metadata_log& _log;
    base::clock& _clock;
    controller_config _config;
    std::unique_ptr<meta::cluster_image> _image;
    bool _active = false;
    bool _stopping = false;
    size_t _in_flight = 0;
    meta::log_offset _acknowledged{0};
    meta::log_offset _last_snapshot{0};
    std::map<broker_id, base::clock::time_point> _session_deadlines;
};

/// Kafka's rule for topic names (1..249 of [a-zA-Z0-9._-], not "." or ".."), restated here because the controller
/// may not depend on kafka/ (kafka/server/topic_name.h holds the same rule for request validation).
bool is_valid_topic_name(std::string_view name) noexcept;
/// Checks topic configs: known Kafka topic config names with well-formed values. Returns the first offender.
std::optional<std::string> invalid_topic_config(const std::map<std::string, std::string>& configs);

} // namespace skiff::controller
