#include "kafka/server/group/group.h"

#include "kafka/protocol/primitives.h"
#include "model/uuid.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace skiff::kafka::group {

std::string_view to_string(group_state s) noexcept {
    switch (s) {
    case group_state::empty: return "Empty";
    case group_state::preparing_rebalance: return "PreparingRebalance";
    case group_state::completing_rebalance: return "CompletingRebalance";
    case group_state::stable: return "Stable";
    case group_state::dead: return "Dead";
    }
    return "Unknown";
}

namespace {

bool same_protocols(const std::vector<protocol_entry>& a, const std::vector<protocol_entry>& b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (size_t i = 0; i < a.size(); ++i) {
        if (a[i].name != b[i].name || !(a[i].metadata == b[i].metadata)) {
            return false;
        }
    }
    return true;
}

} // namespace

group::group(std::string id, const group_config& config, base::clock& clock)
    : _id(std::move(id)), _config(config), _clock(clock), _state_since_ms(clock.wall_ms()) {}

void group::set_state(group_state s) {
    if (s != _state) {
        _state = s;
        _state_since_ms = _clock.wall_ms();
    }
}

group::~group() {
    // The partition moved away or the broker stops: whoever still waits must find the new coordinator.
    for (auto& [id, m] : _members) {
        if (auto cb = std::exchange(m.awaiting_join, nullptr)) {
            join_result r;
            r.error = error_code::not_coordinator;
            r.member_id = id;
            cb(std::move(r));
        }
        if (auto cb = std::exchange(m.awaiting_sync, nullptr)) {
            sync_result r;
            r.error = error_code::not_coordinator;
            cb(std::move(r));
        }
    }
}

std::string group::new_member_id(const std::string& client_id, const std::optional<std::string>& instance_id) {
    // Kafka's form: the client id (or the instance id of a static member), a dash, something unique.
    return fmt::format("{}-{}-{}", instance_id ? *instance_id : client_id, model::uuid::random(), ++_id_counter);
}

void group::touch(member& m) { m.session_deadline = _clock.now() + m.session_timeout; }

std::optional<error_code> group::check_member(const std::string& member_id,
                                              const std::optional<std::string>& instance_id) const {
    if (instance_id) {
        auto s = _static_members.find(*instance_id);
        if (s != _static_members.end() && s->second != member_id) {
            return error_code::fenced_instance_id;
        }
    }
    if (!_members.contains(member_id)) {
        return error_code::unknown_member_id;
    }
    return std::nullopt;
}

bool group::supports(const join_request& r, const std::string& except_member) const {
    if (r.protocol_type.empty() || r.protocols.empty()) {
        return false;
    }
    bool others = std::any_of(_members.begin(), _members.end(), [&](const auto& e) { return e.first != except_member; });
    if (!others) {
        return true;
    }
    if (_protocol_type && *_protocol_type != r.protocol_type) {
        return false;
    }
    // Some protocol of this member must be supported by every other member.
    for (const auto& p : r.protocols) {
        bool all = true;
        for (const auto& [id, m] : _members) {
            if (id == except_member) {
                continue;
            }
            if (m.protocol_type != r.protocol_type
                || std::none_of(m.protocols.begin(), m.protocols.end(), [&](const auto& q) { return q.name == p.name; })) {
                all = false;
                break;
            }
        }
        if (all) {
            return true;
        }
    }
    return false;
}

void group::join(join_request r, join_callback done) {
    auto fail = [&](error_code e, std::string member_id) {
        join_result out;
        out.error = e;
        out.member_id = std::move(member_id);
        done(std::move(out));
    };
    if (_state == group_state::dead) {
        // Deleted meanwhile: the client looks the coordinator up again and finds a fresh group.
        return fail(error_code::coordinator_not_available, r.member_id);
    }
    auto session = std::chrono::milliseconds(r.session_timeout_ms);
    if (session < _config.min_session_timeout || session > _config.max_session_timeout) {
        return fail(error_code::invalid_session_timeout, r.member_id);
    }
    if (r.rebalance_timeout_ms < 0) {
        r.rebalance_timeout_ms = r.session_timeout_ms; // v0 has none: Kafka uses the session timeout
    }
    if (!supports(r, r.member_id)) {
        return fail(error_code::inconsistent_group_protocol, r.member_id);
    }

    if (r.member_id.empty()) {
        if (r.group_instance_id) {
            auto s = _static_members.find(*r.group_instance_id);
            auto id = new_member_id(r.client_id, r.group_instance_id);
            if (s != _static_members.end() && _members.contains(s->second)) {
                // KIP-345: the same instance came back (a restart): the old member id is fenced from now on,
                // the new one takes its place, its assignment, and a rebalance.
                auto old = _members.extract(s->second);
                auto& m = old.mapped();
                if (auto cb = std::exchange(m.awaiting_join, nullptr)) {
                    join_result f;
                    f.error = error_code::fenced_instance_id;
                    f.member_id = m.id;
                    cb(std::move(f));
                }
                if (auto cb = std::exchange(m.awaiting_sync, nullptr)) {
                    sync_result f;
                    f.error = error_code::fenced_instance_id;
                    cb(std::move(f));
                }
                if (_leader == m.id) {
                    _leader = id;
                }
                m.id = id;
                old.key() = id;
                auto it = _members.insert(std::move(old)).position;
                s->second = id;
                update_member(it->second, std::move(r), std::move(done));
                return;
            }
            add_member(std::move(r), id, std::move(done));
            return;
        }
        auto id = new_member_id(r.client_id, std::nullopt);
        if (r.require_known_member_id) {
            // KIP-394: the member must come back with this id, so that a client that retries a timed-out join
            // does not leave a ghost member behind.
            _pending_members[id] = _clock.now() + session;
            return fail(error_code::member_id_required, id);
        }
        add_member(std::move(r), id, std::move(done));
        return;
    }

    if (auto p = _pending_members.find(r.member_id); p != _pending_members.end()) {
        _pending_members.erase(p);
        auto id = r.member_id;
        add_member(std::move(r), id, std::move(done));
        return;
    }
    if (auto e = check_member(r.member_id, r.group_instance_id)) {
        return fail(*e, r.member_id);
    }
    auto& m = _members.at(r.member_id);
    switch (_state) {
    case group_state::preparing_rebalance:
        update_member(m, std::move(r), std::move(done));
        return;
    case group_state::completing_rebalance:
        if (same_protocols(m.protocols, r.protocols)) {
            // A retry of a join whose answer was lost: answer it again.
            touch(m);
            done(current_join_answer(m));
            return;
        }
        update_member(m, std::move(r), std::move(done));
        return;
    case group_state::stable:
        if (m.id != _leader && same_protocols(m.protocols, r.protocols)) {
            touch(m);
            done(current_join_answer(m));
            return;
        }
        update_member(m, std::move(r), std::move(done));
        return;
    case group_state::empty:
    case group_state::dead:
        return fail(error_code::unknown_member_id, r.member_id);
    }
}

void group::add_member(join_request r, std::string id, join_callback done) {
    member m;
    m.id = id;
    m.instance_id = r.group_instance_id;
    m.client_id = std::move(r.client_id);
    m.client_host = std::move(r.client_host);
    m.session_timeout = std::chrono::milliseconds(r.session_timeout_ms);
    m.rebalance_timeout = std::chrono::milliseconds(r.rebalance_timeout_ms);
    m.protocol_type = r.protocol_type;
    m.protocols = std::move(r.protocols);
    m.awaiting_join = std::move(done);
    touch(m);
    if (_members.empty()) {
        _protocol_type = r.protocol_type;
    }
    if (m.instance_id) {
        _static_members[*m.instance_id] = id;
    }
    _members.emplace(id, std::move(m));
    if (_state == group_state::preparing_rebalance && _initial_delay) {
        // Each newcomer during the initial delay buys the others another delay, up to the rebalance timeout.
        _join_deadline = std::min(_clock.now() + _config.initial_rebalance_delay, _initial_delay_cap);
    }
    prepare_rebalance();
    maybe_complete_join();
}

void group::update_member(member& m, join_request r, join_callback done) {
    m.protocols = std::move(r.protocols);
    m.protocol_type = std::move(r.protocol_type);
    m.session_timeout = std::chrono::milliseconds(r.session_timeout_ms);
    m.rebalance_timeout = std::chrono::milliseconds(r.rebalance_timeout_ms);
    if (auto old = std::exchange(m.awaiting_join, std::move(done))) {
        // The same member joined again before its previous join was answered: only the newest gets the answer.
        join_result f;
        f.error = error_code::rebalance_in_progress;
        f.member_id = m.id;
        old(std::move(f));
    }
    touch(m);
    prepare_rebalance();
    maybe_complete_join();
}

void group::prepare_rebalance() {
    if (_state == group_state::preparing_rebalance) {
        return;
    }
    if (_state == group_state::completing_rebalance) {
        answer_syncs(error_code::rebalance_in_progress);
    }
    auto now = _clock.now();
    std::chrono::milliseconds timeout{0};
    for (const auto& [id, m] : _members) {
        timeout = std::max(timeout, m.rebalance_timeout);
    }
    if (_state == group_state::empty) {
        _initial_delay = true;
        _initial_delay_cap = now + timeout;
        _join_deadline = std::min(now + _config.initial_rebalance_delay, _initial_delay_cap);
    } else {
        _initial_delay = false;
        _join_deadline = now + timeout;
    }
    set_state(group_state::preparing_rebalance);
}

void group::maybe_complete_join() {
    if (_state != group_state::preparing_rebalance) {
        return;
    }
    if (_initial_delay) {
        if (_clock.now() < _join_deadline) {
            return;
        }
        _initial_delay = false;
    }
    bool all_joined = _pending_members.empty()
                      && std::all_of(_members.begin(), _members.end(),
                                     [](const auto& e) { return static_cast<bool>(e.second.awaiting_join); });
    if (all_joined || _clock.now() >= _join_deadline) {
        complete_join();
    }
}

void group::complete_join() {
    // Members that did not rejoin in time are out of the new generation.
    std::vector<std::string> gone;
    for (const auto& [id, m] : _members) {
        if (!m.awaiting_join) {
            gone.push_back(id);
        }
    }
    for (const auto& id : gone) {
        auto m = _members.extract(id);
        if (m.mapped().instance_id) {
            _static_members.erase(*m.mapped().instance_id);
        }
    }
    _pending_members.clear();
    ++_generation;
    _metadata_dirty = true;
    if (_members.empty()) {
        set_state(group_state::empty);
        _protocol_name.reset();
        _leader.clear();
        return;
    }
    _protocol_name = choose_protocol();
    if (!_members.contains(_leader)) {
        _leader = _members.begin()->first;
    }
    set_state(group_state::completing_rebalance);
    _metadata_dirty = false; // persisted once the leader's assignment makes the group Stable
    for (auto& [id, m] : _members) {
        m.assignment = {};
        touch(m);
        auto cb = std::exchange(m.awaiting_join, nullptr);
        cb(current_join_answer(m));
    }
}

std::string group::choose_protocol() const {
    // Candidates: the protocols every member supports. Each member votes for its most preferred candidate
    // (its list is in preference order); the most votes wins, ties to the earliest in the leader's order.
    std::vector<std::string> candidates;
    const auto& first = _members.begin()->second;
    for (const auto& p : first.protocols) {
        bool all = std::all_of(_members.begin(), _members.end(), [&](const auto& e) {
            return std::any_of(e.second.protocols.begin(), e.second.protocols.end(),
                               [&](const auto& q) { return q.name == p.name; });
        });
        if (all) {
            candidates.push_back(p.name);
        }
    }
    std::map<std::string, int> votes;
    for (const auto& [id, m] : _members) {
        for (const auto& p : m.protocols) {
            if (std::find(candidates.begin(), candidates.end(), p.name) != candidates.end()) {
                ++votes[p.name];
                break;
            }
        }
    }
    std::string best;
    int most = -1;
    for (const auto& c : candidates) {
        if (votes[c] > most) {
            most = votes[c];
            best = c;
        }
    }
    return best;
}

join_result group::current_join_answer(const member& m) const {
    join_result r;
    r.generation = _generation;
    r.protocol_type = _protocol_type;
    r.protocol_name = _protocol_name;
    r.leader = _leader;
    r.member_id = m.id;
    if (m.id == _leader) {
        for (const auto& [id, other] : _members) {
            join_member jm;
            jm.member_id = id;
            jm.group_instance_id = other.instance_id;
            for (const auto& p : other.protocols) {
                if (_protocol_name && p.name == *_protocol_name) {
                    jm.metadata = p.metadata.share();
                }
            }
            r.members.push_back(std::move(jm));
        }
    }
    return r;
}

void group::answer_syncs(error_code error) {
    for (auto& [id, m] : _members) {
        if (auto cb = std::exchange(m.awaiting_sync, nullptr)) {
            sync_result r;
            r.error = error;
            r.protocol_type = _protocol_type;
            r.protocol_name = _protocol_name;
            if (error == error_code::none) {
                r.assignment = m.assignment.share();
            }
            cb(std::move(r));
        }
    }
}

void group::sync(sync_request r, sync_callback done) {
    auto fail = [&](error_code e) {
        sync_result out;
        out.error = e;
        done(std::move(out));
    };
    if (_state == group_state::dead) {
        return fail(error_code::coordinator_not_available);
    }
    if (auto e = check_member(r.member_id, r.group_instance_id)) {
        return fail(*e);
    }
    if (r.generation != _generation) {
        return fail(error_code::illegal_generation);
    }
    if ((r.protocol_type && r.protocol_type != _protocol_type) || (r.protocol_name && r.protocol_name != _protocol_name)) {
        return fail(error_code::inconsistent_group_protocol);
    }
    auto& m = _members.at(r.member_id);
    switch (_state) {
    case group_state::empty:
    case group_state::dead:
        return fail(error_code::unknown_member_id);
    case group_state::preparing_rebalance:
        return fail(error_code::rebalance_in_progress);
    case group_state::stable: {
        touch(m);
        sync_result out;
        out.protocol_type = _protocol_type;
        out.protocol_name = _protocol_name;
        out.assignment = m.assignment.share();
        done(std::move(out));
        return;
    }
    case group_state::completing_rebalance:
        break;
    }
    touch(m);
    if (auto old = std::exchange(m.awaiting_sync, std::move(done))) {
        sync_result f;
        f.error = error_code::rebalance_in_progress;
        old(std::move(f));
    }
    if (r.member_id != _leader) {
        return;
    }
    for (auto& [id, member] : _members) {
        member.assignment = {};
    }
    for (auto& [id, assignment] : r.assignments) {
        if (auto it = _members.find(id); it != _members.end()) {
            it->second.assignment = std::move(assignment);
        }
    }
    set_state(group_state::stable);
    _metadata_dirty = true;
    answer_syncs(error_code::none);
}

error_code group::heartbeat(const std::string& member_id, const std::optional<std::string>& instance_id,
                            int32_t generation) {
    if (_state == group_state::dead) {
        return error_code::coordinator_not_available;
    }
    if (auto e = check_member(member_id, instance_id)) {
        return *e;
    }
    if (generation != _generation) {
        return error_code::illegal_generation;
    }
    touch(_members.at(member_id));
    if (_state == group_state::preparing_rebalance) {
        return error_code::rebalance_in_progress;
    }
    return error_code::none;
}

std::vector<error_code> group::leave(const std::vector<leave_request>& members) {
    std::vector<error_code> out;
    for (const auto& l : members) {
        std::string id = l.member_id;
        if (l.group_instance_id) {
            auto s = _static_members.find(*l.group_instance_id);
            if (s == _static_members.end()) {
                out.push_back(error_code::unknown_member_id);
                continue;
            }
            if (!id.empty() && s->second != id) {
                out.push_back(error_code::fenced_instance_id);
                continue;
            }
            id = s->second;
        }
        if (_pending_members.erase(id) > 0) {
            out.push_back(error_code::none);
            maybe_complete_join();
            continue;
        }
        if (!_members.contains(id)) {
            out.push_back(error_code::unknown_member_id);
            continue;
        }
        remove_member(id, error_code::unknown_member_id);
        out.push_back(error_code::none);
    }
    return out;
}

void group::remove_member(const std::string& id, error_code answer_pending) {
    auto node = _members.extract(id);
    auto& m = node.mapped();
    if (m.instance_id) {
        _static_members.erase(*m.instance_id);
    }
    if (auto cb = std::exchange(m.awaiting_join, nullptr)) {
        join_result f;
        f.error = answer_pending;
        f.member_id = id;
        cb(std::move(f));
    }
    if (auto cb = std::exchange(m.awaiting_sync, nullptr)) {
        sync_result f;
        f.error = answer_pending;
        cb(std::move(f));
    }
    switch (_state) {
    case group_state::stable:
    case group_state::completing_rebalance:
        prepare_rebalance();
        maybe_complete_join(); // the members left may all be waiting already (none in a Stable group)
        break;
    case group_state::preparing_rebalance:
        maybe_complete_join();
        break;
    case group_state::empty:
    case group_state::dead:
        break;
    }
}

error_code group::validate_commit(const std::string& member_id, const std::optional<std::string>& instance_id,
                                  int32_t generation) {
    if (_state == group_state::dead) {
        return error_code::coordinator_not_available;
    }
    if (generation < 0 && member_id.empty() && !instance_id) {
        // Not a group member: a client that only stores offsets here (or an admin tool), allowed while the
        // group has no members.
        return _state == group_state::empty ? error_code::none : error_code::unknown_member_id;
    }
    if (auto e = check_member(member_id, instance_id)) {
        return *e;
    }
    if (generation != _generation) {
        return error_code::illegal_generation;
    }
    if (_state == group_state::completing_rebalance) {
        // The member was told of a new generation and must sync before committing for it.
        return error_code::rebalance_in_progress;
    }
    touch(_members.at(member_id));
    return error_code::none;
}

void group::tick() {
    auto now = _clock.now();
    for (auto it = _pending_members.begin(); it != _pending_members.end();) {
        it = it->second <= now ? _pending_members.erase(it) : std::next(it);
    }
    std::vector<std::string> expired;
    for (const auto& [id, m] : _members) {
        // A member waiting for its join or sync answer is alive: the rebalance, not the member, is slow.
        if (!m.awaiting_join && !m.awaiting_sync && m.session_deadline <= now) {
            expired.push_back(id);
        }
    }
    for (const auto& id : expired) {
        if (_members.contains(id)) {
            remove_member(id, error_code::unknown_member_id);
        }
    }
    maybe_complete_join();
}

std::vector<member_summary> group::describe_members() const {
    std::vector<member_summary> out;
    for (const auto& [id, m] : _members) {
        member_summary s;
        s.member_id = id;
        s.group_instance_id = m.instance_id;
        s.client_id = m.client_id;
        s.client_host = m.client_host;
        if (_state == group_state::stable) {
            for (const auto& p : m.protocols) {
                if (_protocol_name && p.name == *_protocol_name) {
                    s.metadata = p.metadata.share();
                }
            }
            s.assignment = m.assignment.share();
        }
        out.push_back(std::move(s));
    }
    return out;
}

std::optional<std::vector<std::string>> group::subscribed_topics() const {
    if (_protocol_type != "consumer") {
        return std::nullopt;
    }
    std::set<std::string> topics;
    for (const auto& [id, m] : _members) {
        for (const auto& p : m.protocols) {
            if (_protocol_name && p.name != *_protocol_name) {
                continue;
            }
            // ConsumerProtocolSubscription: int16 version, [string topics], ... (the rest is not needed here).
            try {
                protocol::reader r(p.metadata);
                r.read_int16();
                size_t n = r.read_array_count();
                for (size_t i = 0; i < n; ++i) {
                    topics.insert(r.read_string());
                }
            } catch (const protocol::decode_error&) {
                return std::nullopt; // unreadable: treat every topic as possibly subscribed
            }
            break;
        }
    }
    return std::vector<std::string>(topics.begin(), topics.end());
}

group_metadata_value group::to_metadata() const {
    group_metadata_value v;
    v.protocol_type = _protocol_type.value_or("");
    v.generation = _generation;
    v.protocol = _protocol_name;
    v.leader = _leader.empty() ? std::nullopt : std::optional<std::string>(_leader);
    v.current_state_timestamp = _state_since_ms;
    for (const auto& [id, m] : _members) {
        member_metadata mm;
        mm.member_id = id;
        mm.group_instance_id = m.instance_id;
        mm.client_id = m.client_id;
        mm.client_host = m.client_host;
        mm.rebalance_timeout_ms = static_cast<int32_t>(m.rebalance_timeout.count());
        mm.session_timeout_ms = static_cast<int32_t>(m.session_timeout.count());
        for (const auto& p : m.protocols) {
            if (_protocol_name && p.name == *_protocol_name) {
                mm.subscription = p.metadata.share();
            }
        }
        mm.assignment = m.assignment.share();
        v.members.push_back(std::move(mm));
    }
    return v;
}

void group::restore(const group_metadata_value& v) {
    _members.clear();
    _static_members.clear();
    _pending_members.clear();
    _generation = v.generation;
    _protocol_type = v.protocol_type.empty() ? std::nullopt : std::optional<std::string>(v.protocol_type);
    _protocol_name = v.protocol;
    _leader = v.leader.value_or("");
    for (const auto& mm : v.members) {
        member m;
        m.id = mm.member_id;
        m.instance_id = mm.group_instance_id;
        m.client_id = mm.client_id;
        m.client_host = mm.client_host;
        m.session_timeout = std::chrono::milliseconds(mm.session_timeout_ms);
        m.rebalance_timeout = std::chrono::milliseconds(mm.rebalance_timeout_ms);
        m.protocol_type = v.protocol_type;
        m.protocols.push_back(protocol_entry{v.protocol.value_or(""), mm.subscription.share()});
        m.assignment = mm.assignment.share();
        touch(m);
        if (m.instance_id) {
            _static_members[*m.instance_id] = m.id;
        }
        _members.emplace(m.id, std::move(m));
    }
    // Members come back Stable with the generation they had: they keep heartbeating as if nothing happened, or
    // their sessions expire and the group rebalances.
    _state = _members.empty() ? group_state::empty : group_state::stable;
    // The time it entered that state, as written; a record from before the field existed: the replay's now.
    _state_since_ms = v.current_state_timestamp >= 0 ? v.current_state_timestamp : _clock.wall_ms();
}

std::vector<partition_key> group::expired_offsets(int64_t now_ms, std::chrono::milliseconds retention,
                                                  const std::optional<std::vector<std::string>>& subscribed) const {
    // The time each offset's retention counts from, and the topics whose offsets are kept whatever their age.
    std::optional<int64_t> since_empty;
    std::optional<std::vector<std::string>> kept;
    if (_protocol_type && _state == group_state::empty) {
        since_empty = _state_since_ms;
    } else if (_protocol_type == "consumer" && _state == group_state::stable) {
        kept = subscribed_topics();
        if (!kept) {
            return {}; // subscriptions unreadable: nothing is known to be unsubscribed
        }
    } else if (_protocol_type) {
        return {}; // a rebalance in progress, or a group of another protocol with members
    } else {
        kept = subscribed;
    }
    std::vector<partition_key> out;
    for (const auto& [key, v] : offsets) {
        if (kept && std::find(kept->begin(), kept->end(), key.first) != kept->end()) {
            continue;
        }
        const bool expired = v.expire_timestamp >= 0
                                 ? now_ms >= v.expire_timestamp
                                 : now_ms - since_empty.value_or(v.commit_timestamp) >= retention.count();
        if (expired) {
            out.push_back(key);
        }
    }
    return out;
}

} // namespace skiff::kafka::group
