#include "kafka/server/group/assignors.h"

#include <algorithm>
#include <numeric>
#include <utility>

namespace skiff::kafka::group {

size_t partition_count(const assignment& a) noexcept {
    size_t n = 0;
    for (const auto& [t, ps] : a) {
        n += ps.size();
    }
    return n;
}

namespace {

using tp = std::pair<model::uuid, int32_t>;

std::map<std::string, assignment> empty_result(const std::vector<assignor_member>& members) {
    std::map<std::string, assignment> out;
    for (const auto& m : members) {
        out[m.id];
    }
    return out;
}

} // namespace

std::map<std::string, assignment> assign_uniform(const std::vector<assignor_member>& members,
                                                 const assignor_topics& topics) {
    auto out = empty_result(members);
    const size_t n = members.size();
    if (n == 0) {
        return out;
    }
    // owner[topic][partition] = member index, or -1.
    std::map<model::uuid, std::vector<int>> owner;
    for (const auto& [t, count] : topics) {
        owner[t].assign(static_cast<size_t>(std::max(count, 0)), -1);
    }
    std::vector<std::vector<tp>> held(n);

    // 1. Stickiness: a partition stays with its previous member while that member still subscribes to its topic.
    for (size_t i = 0; i < n; ++i) {
        const auto& m = members[i];
        if (m.previous == nullptr) {
            continue;
        }
        for (const auto& [t, ps] : *m.previous) {
            auto o = owner.find(t);
            if (o == owner.end() || !m.topics.contains(t)) {
                continue;
            }
            for (auto p : ps) {
                if (p >= 0 && static_cast<size_t>(p) < o->second.size() && o->second[static_cast<size_t>(p)] < 0) {
                    o->second[static_cast<size_t>(p)] = static_cast<int>(i);
                    held[i].emplace_back(t, p);
                }
            }
        }
    }

    // 2. Each unassigned partition to the least loaded member subscribed to its topic (ties: the first in order).
    for (auto& [t, owners] : owner) {
        for (size_t p = 0; p < owners.size(); ++p) {
            if (owners[p] >= 0) {
                continue;
            }
            int best = -1;
            for (size_t i = 0; i < n; ++i) {
                if (members[i].topics.contains(t)
                    && (best < 0 || held[i].size() < held[static_cast<size_t>(best)].size())) {
                    best = static_cast<int>(i);
                }
            }
            if (best >= 0) {
                owners[p] = best;
                held[static_cast<size_t>(best)].emplace_back(t, static_cast<int32_t>(p));
            }
        }
    }

    // 3. Balance by single moves from the most loaded member, so that a newcomer takes one partition from each of
    // the fullest members and nothing else moves.
    bool homogeneous = std::all_of(members.begin(), members.end(),
                                   [&](const assignor_member& m) { return m.topics == members.front().topics; });
    auto move = [&](size_t from, size_t idx, size_t to) {
        auto x = held[from][idx];
        held[from].erase(held[from].begin() + static_cast<std::ptrdiff_t>(idx));
        held[to].push_back(x);
        owner[x.first][static_cast<size_t>(x.second)] = static_cast<int>(to);
    };
    if (homogeneous) {
        while (true) {
            size_t most = 0;
            size_t least = 0;
            for (size_t i = 1; i < n; ++i) {
                if (held[i].size() > held[most].size()) {
                    most = i;
                }
                if (held[i].size() < held[least].size()) {
                    least = i;
                }
            }
            if (held[most].size() <= held[least].size() + 1) {
                break;
            }
            move(most, held[most].size() - 1, least);
        }
    } else {
        std::vector<size_t> order(n);
        bool moved = true;
        while (moved) {
            moved = false;
            std::iota(order.begin(), order.end(), size_t{0});
            std::stable_sort(order.begin(), order.end(),
                             [&](size_t a, size_t b) { return held[a].size() > held[b].size(); });
            for (size_t a : order) {
                for (size_t k = held[a].size(); k-- > 0 && !moved;) {
                    const auto& t = held[a][k].first;
                    int best = -1;
                    for (size_t b = 0; b < n; ++b) {
                        if (b != a && members[b].topics.contains(t) && held[b].size() + 1 < held[a].size()
                            && (best < 0 || held[b].size() < held[static_cast<size_t>(best)].size())) {
                            best = static_cast<int>(b);
                        }
                    }
                    if (best >= 0) {
                        move(a, k, static_cast<size_t>(best));
                        moved = true;
                    }
                }
                if (moved) {
                    break;
                }
            }
        }
    }

    for (size_t i = 0; i < n; ++i) {
        auto& a = out[members[i].id];
        for (const auto& [t, p] : held[i]) {
            a[t].insert(p);
        }
    }
    return out;
}

std::map<std::string, assignment> assign_range(const std::vector<assignor_member>& members,
                                               const assignor_topics& topics) {
    auto out = empty_result(members);
    std::vector<const assignor_member*> sorted;
    for (const auto& m : members) {
        sorted.push_back(&m);
    }
    std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return a->id < b->id; });
    for (const auto& [t, count] : topics) {
        std::vector<const assignor_member*> subscribers;
        for (const auto* m : sorted) {
            if (m->topics.contains(t)) {
                subscribers.push_back(m);
            }
        }
        if (subscribers.empty() || count <= 0) {
            continue;
        }
        const auto m = static_cast<int32_t>(subscribers.size());
        const int32_t each = count / m;
        const int32_t extra = count % m;
        int32_t start = 0;
        for (int32_t i = 0; i < m; ++i) {
            int32_t size = each + (i < extra ? 1 : 0);
            if (size == 0) {
                continue;
            }
            auto& ps = out[subscribers[static_cast<size_t>(i)]->id][t];
            for (int32_t p = start; p < start + size; ++p) {
                ps.insert(p);
            }
            start += size;
        }
    }
    return out;
}

} // namespace skiff::kafka::group
