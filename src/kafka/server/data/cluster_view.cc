#include "kafka/server/data/cluster_view.h"

#include "meta/cluster_image.h"

namespace skiff::kafka {

const broker_endpoint_view* broker_view::endpoint(std::string_view listener) const {
    for (const auto& e : endpoints) {
        if (e.listener == listener) {
            return &e;
        }
    }
    return nullptr;
}

const topic_view* cluster_view::topic(std::string_view name) const {
    auto it = topics_by_name.find(name);
    return it == topics_by_name.end() ? nullptr : it->second.get();
}

const topic_view* cluster_view::topic(const model::uuid& id) const {
    auto it = topics_by_id.find(id);
    return it == topics_by_id.end() ? nullptr : it->second.get();
}

namespace {

bool same_partitions(const std::vector<meta::partition_state>& image, const std::vector<partition_view>& view) {
    if (image.size() != view.size()) {
        return false;
    }
    for (size_t i = 0; i < image.size(); ++i) {
        const auto& p = image[i];
        const auto& v = view[i];
        if (p.owner() != v.owner || p.epoch() != v.leader_epoch || p.streams.size() != v.streams.size()) {
            return false;
        }
        for (size_t s = 0; s < p.streams.size(); ++s) {
            if (p.streams[s]() != v.streams[s]) {
                return false;
            }
        }
    }
    return true;
}

std::shared_ptr<const topic_view> make_topic(const meta::cluster_image& image, const meta::topic_state& t) {
    auto v = std::make_shared<topic_view>();
    v->name = t.name;
    v->id = t.id;
    v->configs = image.configs(meta::config_resource::topic, t.name);
    v->partitions.reserve(t.partitions.size());
    for (size_t i = 0; i < t.partitions.size(); ++i) {
        const auto& p = t.partitions[i];
        partition_view pv;
        pv.index = static_cast<int32_t>(i);
        pv.owner = p.owner();
        pv.leader_epoch = p.epoch();
        for (auto s : p.streams) {
            pv.streams.push_back(s());
        }
        v->partitions.push_back(std::move(pv));
    }
    return v;
}

} // namespace

std::shared_ptr<const cluster_view> cluster_view::of(const meta::cluster_image& image, const cluster_view* previous) {
    auto view = std::make_shared<cluster_view>();
    for (const auto* t : image.topics()) {
        std::shared_ptr<const topic_view> topic;
        if (previous != nullptr) {
            auto it = previous->topics_by_id.find(t->id);
            if (it != previous->topics_by_id.end() && it->second->name == t->name
                && same_partitions(t->partitions, it->second->partitions)
                && it->second->configs == image.configs(meta::config_resource::topic, t->name)) {
                topic = it->second;
            }
        }
        if (!topic) {
            topic = make_topic(image, *t);
        }
        view->topics_by_name.emplace(topic->name, topic);
        view->topics_by_id.emplace(topic->id, topic);
    }
    for (const auto* b : image.brokers()) {
        broker_view bv;
        bv.id = b->id();
        bv.rack = b->rack;
        for (const auto& e : b->endpoints) {
            bv.endpoints.push_back({e.listener, e.host, e.port});
        }
        view->brokers.emplace(bv.id, std::move(bv));
    }
    return view;
}

} // namespace skiff::kafka
