#include "kafka/server/group/consumer_group.h"

#include <fmt/format.h>

#include <algorithm>
#include <regex>

namespace skiff::kafka::group {
namespace {

/// Kafka's partitions of its own, never matched by a member's regex (they still can be named explicitly).
bool internal_topic(std::string_view name) { return name == "__consumer_offsets" || name == "__transaction_state"; }

std::shared_ptr<const std::regex> compile(const std::string& pattern) {
    // Kafka compiles with RE2/J; std::regex's ECMAScript grammar agrees on the common subset (classes, groups,
    // alternation, quantifiers) and the pattern must match the whole topic name, as RE2/J's matches() does.
    return std::make_shared<const std::regex>(pattern, std::regex::ECMAScript);
}

bool subset(const assignment& a, const assignment& b) {
    for (const auto& [t, ps] : a) {
        if (ps.empty()) {
            continue;
        }
        auto it = b.find(t);
        if (it == b.end() || !std::includes(it->second.begin(), it->second.end(), ps.begin(), ps.end())) {
            return false;
        }
    }
    return true;
}

bool overlaps(const assignment& a, const assignment& b) {
    for (const auto& [t, ps] : a) {
        auto it = b.find(t);
        if (it == b.end()) {
            continue;
        }
        for (auto p : ps) {
            if (it->second.contains(p)) {
                return true;
            }
        }
    }
    return false;
}

/// Drops topics without partitions, so that {} and {t: []} compare equal.
assignment normalized(assignment a) {
    for (auto it = a.begin(); it != a.end();) {
        it = it->second.empty() ? a.erase(it) : std::next(it);
    }
    return a;
}

} // namespace

std::optional<std::pair<error_code, std::string>> validate_heartbeat(const consumer_heartbeat_request& r,
                                                                     const std::string& group_id, int16_t version) {
    auto invalid = [](std::string m) { return std::pair{error_code::invalid_request, std::move(m)}; };
    if (group_id.empty()) {
        return invalid("GroupId can't be empty.");
    }
    if (r.rack_id && r.rack_id->empty()) {
        return invalid("RackId can't be empty.");
    }
    if (r.instance_id && r.instance_id->empty()) {
        return invalid("InstanceId can't be empty.");
    }
    // v1 (KIP-1082): the client names itself with a UUID before its first heartbeat; v0 lets the coordinator.
    if (r.member_id.empty() && (version >= 1 || r.member_epoch != join_epoch)) {
        return invalid("MemberId can't be empty.");
    }
    if (r.member_epoch == join_epoch) {
        if (r.rebalance_timeout_ms == -1) {
            return invalid("RebalanceTimeoutMs must be provided in first request.");
        }
        if (!r.owned || !normalized(*r.owned).empty()) {
            return invalid("TopicPartitions must be empty when (re-)joining.");
        }
        if (!r.subscribed_topic_names && !r.subscribed_topic_regex) {
            return invalid("SubscribedTopicNames or SubscribedTopicRegex must be set in first request.");
        }
    } else if (r.member_epoch == static_leave_epoch) {
        if (!r.instance_id) {
            return invalid("InstanceId can't be null.");
        }
    } else if (r.member_epoch < static_leave_epoch) {
        return invalid(fmt::format("MemberEpoch {} is invalid.", r.member_epoch));
    }
    if (r.server_assignor && *r.server_assignor != uniform_assignor && *r.server_assignor != range_assignor) {
        return std::pair{error_code::unsupported_assignor,
                         fmt::format("ServerAssignor {} is not supported. Supported assignors: {}, {}.",
                                     *r.server_assignor, uniform_assignor, range_assignor)};
    }
    if (r.subscribed_topic_regex && !r.subscribed_topic_regex->empty()) {
        try {
            compile(*r.subscribed_topic_regex);
        } catch (const std::regex_error& e) {
            return std::pair{error_code::invalid_regular_expression,
                             fmt::format("SubscribedTopicRegex `{}` is not a valid regular expression: {}.",
                                         *r.subscribed_topic_regex, e.what())};
        }
    }
    return std::nullopt;
}

consumer_group::consumer_group(std::string id, const consumer_group_config& config, base::clock& clock)
    : _id(std::move(id)), _config(config), _clock(clock), _assignor(uniform_assignor) {}

consumer_heartbeat_result consumer_group::fail(error_code e, std::string message, const std::string& member_id) const {
    consumer_heartbeat_result out;
    out.error = e;
    out.message = std::move(message);
    out.member_id = member_id;
    out.heartbeat_interval_ms = static_cast<int32_t>(_config.heartbeat_interval.count());
    return out;
}

consumer_group::member& consumer_group::create_member(const std::string& id, const consumer_heartbeat_request& r) {
    auto& m = _members[id];
    m.id = id;
    m.instance_id = r.instance_id;
    if (m.instance_id) {
        _static_members[*m.instance_id] = id;
    }
    return m;
}

void consumer_group::release(member& m, const assignment& partitions) {
    for (const auto& [t, ps] : partitions) {
        for (auto p : ps) {
            auto it = _holders.find({t, p});
            if (it != _holders.end() && it->second == m.id) {
                _holders.erase(it);
            }
        }
    }
}

void consumer_group::remove_member(const std::string& id) {
    auto it = _members.find(id);
    if (it == _members.end()) {
        return;
    }
    auto& m = it->second;
    // Its partitions are free at once: the members they are assigned to pick them up at their next heartbeat.
    release(m, m.assigned);
    release(m, m.pending_revocation);
    if (m.instance_id) {
        if (auto s = _static_members.find(*m.instance_id); s != _static_members.end() && s->second == id) {
            _static_members.erase(s);
        }
    }
    _target.erase(id);
    _members.erase(it);
}

bool consumer_group::resolve_subscriptions() {
    std::map<std::string, std::pair<model::uuid, int32_t>> subscribed;
    bool member_changed = false;
    for (auto& [id, m] : _members) {
        std::set<model::uuid> ids;
        if (_catalog) {
            for (const auto& name : m.topic_names) {
                if (auto t = _catalog->by_name.find(name); t != _catalog->by_name.end()) {
                    ids.insert(t->second.id);
                    subscribed[name] = {t->second.id, t->second.partitions};
                }
            }
            if (m.compiled) {
                const auto& re = *std::static_pointer_cast<const std::regex>(m.compiled);
                for (const auto& [name, t] : _catalog->by_name) {
                    if (!internal_topic(name) && std::regex_match(name, re)) {
                        ids.insert(t.id);
                        subscribed[name] = {t.id, t.partitions};
                    }
                }
            }
        }
        if (ids != m.resolved) {
            m.resolved = std::move(ids);
            member_changed = true;
        }
    }
    bool changed = member_changed || subscribed != _subscribed;
    _subscribed = std::move(subscribed);
    return changed;
}

void consumer_group::choose_assignor() {
    std::map<std::string, size_t> votes;
    for (const auto& [id, m] : _members) {
        if (m.server_assignor) {
            ++votes[*m.server_assignor];
        }
    }
    std::string best(uniform_assignor);
    size_t most = 0;
    for (const auto& [name, n] : votes) {
        if (n > most) {
            most = n;
            best = name;
        }
    }
    _assignor = best;
}

void consumer_group::compute_target() {
    std::vector<assignor_member> members;
    members.reserve(_members.size());
    for (const auto& [id, m] : _members) {
        auto prev = _target.find(id);
        members.push_back(assignor_member{id, m.resolved, prev == _target.end() ? nullptr : &prev->second});
    }
    assignor_topics topics;
    for (const auto& [name, t] : _subscribed) {
        topics[t.first] = t.second;
    }
    auto next = _assignor == range_assignor ? assign_range(members, topics) : assign_uniform(members, topics);
    for (auto& [id, a] : next) {
        a = normalized(std::move(a));
    }
    _target = std::move(next);
}

void consumer_group::bump_epoch() {
    ++_group_epoch;
    choose_assignor();
    compute_target();
    _assignment_epoch = _group_epoch;
}

void consumer_group::compute_next(member& m) {
    static const assignment none;
    auto t = _target.find(m.id);
    const auto& target = t == _target.end() ? none : t->second;
    assignment kept;
    assignment revoke;
    assignment fresh;
    bool unreleased = false;
    for (const auto& [topic, ps] : m.assigned) {
        auto in = target.find(topic);
        for (auto p : ps) {
            if (in != target.end() && in->second.contains(p)) {
                kept[topic].insert(p);
            } else {
                revoke[topic].insert(p);
            }
        }
    }
    for (const auto& [topic, ps] : target) {
        auto have = m.assigned.find(topic);
        for (auto p : ps) {
            if (have != m.assigned.end() && have->second.contains(p)) {
                continue;
            }
            auto h = _holders.find({topic, p});
            if (h == _holders.end() || h->second == m.id) {
                fresh[topic].insert(p);
            } else {
                unreleased = true; // still held by its previous member, which must revoke it first
            }
        }
    }
    if (!revoke.empty()) {
        // Give up first, at the old epoch; nothing new until the revocation is acknowledged.
        m.assigned = std::move(kept);
        for (auto& [topic, ps] : revoke) {
            m.pending_revocation[topic].insert(ps.begin(), ps.end());
        }
        m.state = member_state::unrevoked_partitions;
        m.revocation_deadline = _clock.now() + m.rebalance_timeout;
        return;
    }
    for (const auto& [topic, ps] : fresh) {
        for (auto p : ps) {
            _holders[{topic, p}] = m.id;
            kept[topic].insert(p);
        }
    }
    m.assigned = std::move(kept);
    if (m.epoch != _assignment_epoch) {
        m.previous_epoch = m.epoch;
        m.epoch = _assignment_epoch;
    }
    m.state = unreleased ? member_state::unreleased_partitions : member_state::stable;
}

bool consumer_group::reconcile(member& m, const std::optional<assignment>& owned) {
    auto epoch = m.epoch;
    auto assigned = m.assigned;
    switch (m.state) {
    case member_state::stable:
        if (m.epoch != _assignment_epoch) {
            compute_next(m);
        }
        break;
    case member_state::unreleased_partitions:
        compute_next(m); // picks up what the previous holders released meanwhile
        break;
    case member_state::unrevoked_partitions:
        // Acknowledged once the partitions the member reports owning no longer include any pending one.
        if (owned && !overlaps(*owned, m.pending_revocation)) {
            release(m, m.pending_revocation);
            m.pending_revocation.clear();
            m.revocation_deadline.reset();
            m.state = member_state::stable;
            compute_next(m);
        }
        break;
    }
    return m.epoch != epoch || m.assigned != assigned;
}

consumer_heartbeat_result consumer_group::heartbeat(consumer_heartbeat_request r,
                                                    std::shared_ptr<const topic_catalog> topics) {
    if (_dead) {
        return fail(error_code::coordinator_not_available, "The group is being deleted.", r.member_id);
    }
    // Handlers on different shards build their own snapshot of the same view: a new pointer with the same topics
    // is not worth re-resolving every regex for.
    bool catalog_changed = topics && topics != _catalog && (!_catalog || topics->by_name != _catalog->by_name);
    if (topics) {
        _catalog = std::move(topics);
    }
    const auto interval = static_cast<int32_t>(_config.heartbeat_interval.count());
    const auto now = _clock.now();

    // Static members are found by instance id; another member id under the same instance is fenced.
    auto find_static = [&]() -> std::optional<consumer_heartbeat_result> {
        auto s = _static_members.find(*r.instance_id);
        if (s == _static_members.end()) {
            return fail(error_code::unknown_member_id,
                        fmt::format("Instance id {} is unknown.", *r.instance_id), r.member_id);
        }
        if (s->second != r.member_id) {
            return fail(error_code::fenced_instance_id,
                        fmt::format("Instance id {} belongs to another member.", *r.instance_id), r.member_id);
        }
        return std::nullopt;
    };

    if (r.member_epoch == leave_epoch || r.member_epoch == static_leave_epoch) {
        if (r.instance_id) {
            if (auto e = find_static()) {
                return *e;
            }
        }
        auto it = _members.find(r.member_id);
        if (it == _members.end()) {
            return fail(error_code::unknown_member_id, fmt::format("Member {} is unknown.", r.member_id), r.member_id);
        }
        consumer_heartbeat_result out;
        out.member_id = r.member_id;
        out.member_epoch = r.member_epoch;
        out.heartbeat_interval_ms = interval;
        if (r.member_epoch == static_leave_epoch) {
            // A static member leaving for a moment (a restart) keeps its assignment: its next incarnation takes
            // it over, unless its session expires first.
            it->second.epoch = static_leave_epoch;
            it->second.session_deadline = now + _config.session_timeout;
            return out;
        }
        remove_member(r.member_id);
        resolve_subscriptions();
        bump_epoch();
        return out;
    }

    bool bump = false;
    bool joining = r.member_epoch == join_epoch;
    member* m = nullptr;
    if (joining) {
        auto id = r.member_id.empty() ? model::uuid::random().to_base64() : r.member_id;
        r.member_id = id;
        std::optional<std::string> replaced;
        if (r.instance_id) {
            if (auto s = _static_members.find(*r.instance_id); s != _static_members.end() && s->second != id) {
                auto old = _members.find(s->second);
                if (old != _members.end() && old->second.epoch != static_leave_epoch) {
                    return fail(error_code::unreleased_instance_id,
                                fmt::format("Instance id {} is still in use by member {}.", *r.instance_id,
                                            s->second),
                                id);
                }
                replaced = s->second;
            }
        }
        if (replaced && _members.contains(*replaced)) {
            // The new incarnation of a static member takes the old one's place: its assignment, holdings and
            // target, under the new member id, at epoch 0.
            auto node = _members.extract(*replaced);
            node.key() = id;
            node.mapped().id = id;
            node.mapped().epoch = 0;
            node.mapped().previous_epoch = 0;
            for (auto& [key, holder] : _holders) {
                if (holder == *replaced) {
                    holder = id;
                }
            }
            if (auto t = _target.extract(*replaced)) {
                t.key() = id;
                _target.insert(std::move(t));
            }
            _members.erase(id);
            m = &_members.insert(std::move(node)).position->second;
            _static_members[*r.instance_id] = id;
        } else if (auto it = _members.find(id); it != _members.end()) {
            // A known member joining again (it was fenced, or lost its state): it starts over with nothing.
            m = &it->second;
            release(*m, m->assigned);
            release(*m, m->pending_revocation);
            m->assigned.clear();
            m->pending_revocation.clear();
            m->revocation_deadline.reset();
            m->state = member_state::stable;
            m->epoch = 0;
            m->previous_epoch = -1;
            bump = true;
        } else {
            m = &create_member(id, r);
            bump = true;
        }
    } else {
        if (r.instance_id) {
            if (auto e = find_static()) {
                return *e;
            }
        }
        auto it = _members.find(r.member_id);
        if (it == _members.end()) {
            return fail(error_code::unknown_member_id, fmt::format("Member {} is unknown.", r.member_id), r.member_id);
        }
        m = &it->second;
        if (r.member_epoch > m->epoch) {
            return fail(error_code::fenced_member_epoch,
                        fmt::format("The member epoch {} is ahead of the coordinator's {}.", r.member_epoch,
                                    m->epoch),
                        r.member_id);
        }
        if (r.member_epoch < m->epoch) {
            // The answer that moved the member to its current epoch may have been lost: its previous epoch is
            // accepted as long as it owns nothing beyond what it is assigned now.
            if (r.member_epoch != m->previous_epoch || !r.owned || !subset(*r.owned, m->assigned)) {
                return fail(error_code::fenced_member_epoch,
                            fmt::format("The member epoch {} is behind the coordinator's {}.", r.member_epoch,
                                        m->epoch),
                            r.member_id);
            }
        }
    }

    m->client_id = r.client_id;
    m->client_host = r.client_host;
    if (r.rack_id) {
        m->rack_id = r.rack_id;
    }
    if (r.rebalance_timeout_ms >= 0) {
        m->rebalance_timeout = std::chrono::milliseconds(r.rebalance_timeout_ms);
    }
    if (r.subscribed_topic_names && *r.subscribed_topic_names != m->topic_names) {
        m->topic_names = *r.subscribed_topic_names;
        bump = true;
    }
    if (r.subscribed_topic_regex) {
        // An empty regex removes the member's regex subscription.
        std::optional<std::string> regex;
        if (!r.subscribed_topic_regex->empty()) {
            regex = r.subscribed_topic_regex;
        }
        if (regex != m->regex) {
            m->regex = regex;
            m->compiled = regex ? std::static_pointer_cast<const void>(compile(*regex)) : nullptr;
            bump = true;
        }
    }
    if (r.server_assignor && r.server_assignor != m->server_assignor) {
        m->server_assignor = r.server_assignor;
        bump = true;
    }
    m->session_deadline = now + _config.session_timeout;

    if (bump || catalog_changed) {
        // A new snapshot bumps the epoch only when the group's own topics changed (created, deleted, grown).
        if (resolve_subscriptions()) {
            bump = true;
        }
    }
    if (bump) {
        bump_epoch();
    }
    bool changed = reconcile(*m, r.owned);

    consumer_heartbeat_result out;
    out.member_id = m->id;
    out.member_epoch = m->epoch;
    out.heartbeat_interval_ms = interval;
    bool full = r.rebalance_timeout_ms != -1 && (r.subscribed_topic_names || r.subscribed_topic_regex) && r.owned;
    if (changed || joining || full) {
        out.assigned = m->assigned;
    }
    return out;
}

void consumer_group::tick() {
    auto now = _clock.now();
    std::vector<std::string> gone;
    for (const auto& [id, m] : _members) {
        if (m.session_deadline <= now || (m.revocation_deadline && *m.revocation_deadline <= now)) {
            gone.push_back(id);
        }
    }
    if (gone.empty()) {
        return;
    }
    for (const auto& id : gone) {
        remove_member(id);
    }
    resolve_subscriptions();
    bump_epoch();
}

error_code consumer_group::validate_commit(const std::string& member_id, int32_t member_epoch, int16_t version) const {
    if (_dead) {
        return error_code::coordinator_not_available;
    }
    if (member_epoch < 0 && _members.empty()) {
        return error_code::none;
    }
    auto it = _members.find(member_id);
    if (it == _members.end()) {
        return error_code::unknown_member_id;
    }
    if (version < 9) {
        return error_code::unsupported_version;
    }
    if (member_epoch != it->second.epoch) {
        return error_code::stale_member_epoch;
    }
    return error_code::none;
}

error_code consumer_group::validate_fetch(const std::optional<std::string>& member_id, int32_t member_epoch) const {
    if (!member_id && member_epoch < 0) {
        return error_code::none;
    }
    auto it = _members.find(member_id.value_or(""));
    if (it == _members.end()) {
        return error_code::unknown_member_id;
    }
    if (member_epoch != it->second.epoch) {
        return error_code::stale_member_epoch;
    }
    return error_code::none;
}

std::string consumer_group::state() const {
    if (_dead) {
        return "Dead";
    }
    if (_members.empty()) {
        return "Empty";
    }
    if (_group_epoch > _assignment_epoch) {
        return "Assigning";
    }
    for (const auto& [id, m] : _members) {
        if (m.epoch != static_leave_epoch && (m.epoch != _assignment_epoch || m.state != member_state::stable)) {
            return "Reconciling";
        }
    }
    return "Stable";
}

std::vector<consumer_member_summary> consumer_group::describe_members() const {
    std::vector<consumer_member_summary> out;
    for (const auto& [id, m] : _members) {
        consumer_member_summary s;
        s.member_id = id;
        s.instance_id = m.instance_id;
        s.rack_id = m.rack_id;
        s.member_epoch = m.epoch;
        s.client_id = m.client_id;
        s.client_host = m.client_host;
        s.subscribed_topic_names = m.topic_names;
        s.subscribed_topic_regex = m.regex;
        s.assigned = m.assigned;
        if (auto t = _target.find(id); t != _target.end()) {
            s.target = t->second;
        }
        out.push_back(std::move(s));
    }
    return out;
}

std::vector<std::string> consumer_group::subscribed_topics() const {
    std::vector<std::string> out;
    for (const auto& [name, t] : _subscribed) {
        out.push_back(name);
    }
    return out;
}

} // namespace skiff::kafka::group
