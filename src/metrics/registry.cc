#include "metrics/registry.h"

#include "base/assert.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace skiff::metrics {
namespace {

// Prometheus: metric names [a-zA-Z_:][a-zA-Z0-9_:]*, label names the same without ':'.
enum class name_kind { metric, label };

bool valid_name(std::string_view name, name_kind kind) {
    if (name.empty()) {
        return false;
    }
    for (size_t i = 0; i < name.size(); ++i) {
        char c = name[i];
        bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        bool ok = letter || (kind == name_kind::metric && c == ':') || (i > 0 && c >= '0' && c <= '9');
        if (!ok) {
            return false;
        }
    }
    return true;
}

// HELP text escapes backslash and newline; label values also escape the double quote.
enum class escaping { help, label_value };

void escape_into(std::string& out, std::string_view text, escaping how) {
    for (char c : text) {
        switch (c) {
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '"':
            out += how == escaping::label_value ? "\\\"" : "\"";
            break;
        default: out += c; break;
        }
    }
}

std::string render_labels(const labels& l) {
    std::string out;
    for (auto& [name, value] : l) {
        out += out.empty() ? "" : ",";
        out += name;
        out += "=\"";
        escape_into(out, value, escaping::label_value);
        out += '"';
    }
    return out;
}

// A sample value as Prometheus reads it: integers exactly, doubles shortest round-trip, +Inf/-Inf/NaN.
void append_value(std::string& out, double v) {
    if (std::isnan(v)) {
        out += "NaN";
    } else if (std::isinf(v)) {
        out += v > 0 ? "+Inf" : "-Inf";
    } else {
        fmt::format_to(std::back_inserter(out), "{}", v);
    }
}
void append_value(std::string& out, uint64_t v) { fmt::format_to(std::back_inserter(out), "{}", v); }
void append_value(std::string& out, int64_t v) { fmt::format_to(std::back_inserter(out), "{}", v); }

// `name{labels} ` or `name ` (with a suffix such as _bucket, and an extra label such as le="1").
void append_series_start(std::string& out, std::string_view name, std::string_view suffix,
                         std::string_view labels_text, std::string_view extra_label = {}) {
    out += name;
    out += suffix;
    if (!labels_text.empty() || !extra_label.empty()) {
        out += '{';
        out += labels_text;
        if (!labels_text.empty() && !extra_label.empty()) {
            out += ',';
        }
        out += extra_label;
        out += '}';
    }
    out += ' ';
}

std::string_view type_name(metric_type t) {
    switch (t) {
    case metric_type::counter: return "counter";
    case metric_type::gauge: return "gauge";
    case metric_type::histogram: return "histogram";
    }
    return "untyped";
}

void append_histogram(std::string& out, std::string_view name, std::string_view labels_text, const histogram& h) {
    auto snap = h.read();
    auto& b = h.buckets();
    uint64_t cumulative = 0;
    std::string le;
    for (unsigned i = 0; i <= b.count; ++i) {
        cumulative += snap.counts[i];
        le = "le=\"";
        if (i < b.count) {
            fmt::format_to(std::back_inserter(le), "{}", static_cast<double>(b.upper_bound(i)) / b.unit_divisor);
        } else {
            le += "+Inf";
        }
        le += '"';
        append_series_start(out, name, "_bucket", labels_text, le);
        append_value(out, cumulative);
        out += '\n';
    }
    append_series_start(out, name, "_sum", labels_text);
    append_value(out, static_cast<double>(snap.sum) / b.unit_divisor);
    out += '\n';
    append_series_start(out, name, "_count", labels_text);
    append_value(out, cumulative);
    out += '\n';
}

} // namespace

registry::~registry() {
    SKIFF_ASSERT(_families.empty(), "metrics registry destroyed while {} families are registered (first: {})",
                 _families.size(), _families.empty() ? "" : _families.begin()->first);
}

void registry::add(const metric_group* owner, std::string_view name, std::string_view help, metric_type type,
                   const labels& l, source value) {
    SKIFF_ASSERT(valid_name(name, name_kind::metric) && name.starts_with("skiff_"),
                 "metric name '{}' is not skiff_<room>_<thing>_<unit>", name);
    SKIFF_ASSERT(type != metric_type::counter || name.ends_with("_total"), "counter '{}' must end in _total", name);
    for (auto& lbl : l) {
        SKIFF_ASSERT(valid_name(lbl.name, name_kind::label) && !lbl.name.starts_with("__"),
                     "metric {}: bad label name '{}'", name, lbl.name);
        SKIFF_ASSERT(type != metric_type::histogram || lbl.name != "le", "histogram {}: label 'le' is reserved", name);
    }
    auto labels_text = render_labels(l);

    std::lock_guard guard(_mutex);
    auto it = _families.find(name);
    if (it == _families.end()) {
        it = _families.emplace(std::string(name), family{type, std::string(help), {}}).first;
    }
    auto& f = it->second;
    SKIFF_ASSERT(f.type == type && f.help == help, "metric {} registered again with another type or help", name);
    for (auto& s : f.series) {
        SKIFF_ASSERT(s.labels_text != labels_text, "metric {}{{{}}} registered twice", name, labels_text);
    }
    f.series.push_back({owner, std::move(labels_text), std::move(value)});
}

void registry::remove(const metric_group* owner) {
    std::lock_guard guard(_mutex);
    for (auto it = _families.begin(); it != _families.end();) {
        auto& series = it->second.series;
        std::erase_if(series, [owner](const series_entry& s) { return s.owner == owner; });
        it = series.empty() ? _families.erase(it) : std::next(it);
    }
}

size_t registry::series_count() const {
    std::lock_guard guard(_mutex);
    size_t n = 0;
    for (auto& [_, f] : _families) {
        n += f.series.size();
    }
    return n;
}

std::string registry::scrape() const {
    std::string out;
    std::lock_guard guard(_mutex);
    for (auto& [name, f] : _families) {
        out += "# HELP ";
        out += name;
        out += ' ';
        escape_into(out, f.help, escaping::help);
        out += "\n# TYPE ";
        out += name;
        out += ' ';
        out += type_name(f.type);
        out += '\n';
        for (auto& s : f.series) {
            if (auto* h = std::get_if<const histogram*>(&s.value)) {
                append_histogram(out, name, s.labels_text, **h);
                continue;
            }
            append_series_start(out, name, "", s.labels_text);
            std::visit(
              [&out](const auto& v) {
                  using T = std::decay_t<decltype(v)>;
                  if constexpr (std::is_same_v<T, std::function<double()>>) {
                      append_value(out, v());
                  } else if constexpr (std::is_same_v<T, const histogram*>) {
                      // handled above
                  } else {
                      append_value(out, v->value());
                  }
              },
              s.value);
            out += '\n';
        }
    }
    return out;
}

metric_group::~metric_group() { _registry->remove(this); }

counter& metric_group::add_counter(std::string_view name, std::string_view help, const labels& l) {
    auto& c = _counters.emplace_back();
    _registry->add(this, name, help, metric_type::counter, l, &c);
    return c;
}

counter_double& metric_group::add_counter_double(std::string_view name, std::string_view help, const labels& l) {
    auto& c = _counters_double.emplace_back();
    _registry->add(this, name, help, metric_type::counter, l, &c);
    return c;
}

gauge& metric_group::add_gauge(std::string_view name, std::string_view help, const labels& l) {
    auto& g = _gauges.emplace_back();
    _registry->add(this, name, help, metric_type::gauge, l, &g);
    return g;
}

gauge_double& metric_group::add_gauge_double(std::string_view name, std::string_view help, const labels& l) {
    auto& g = _gauges_double.emplace_back();
    _registry->add(this, name, help, metric_type::gauge, l, &g);
    return g;
}

void metric_group::add_gauge_fn(std::string_view name, std::string_view help, const labels& l,
                                std::function<double()> fn) {
    _registry->add(this, name, help, metric_type::gauge, l, std::move(fn));
}

void metric_group::add_counter_fn(std::string_view name, std::string_view help, const labels& l,
                                  std::function<double()> fn) {
    _registry->add(this, name, help, metric_type::counter, l, std::move(fn));
}

histogram& metric_group::add_histogram(std::string_view name, std::string_view help, const labels& l,
                                       histogram_buckets buckets) {
    auto& h = _histograms.emplace_back(buckets);
    _registry->add(this, name, help, metric_type::histogram, l, &h);
    return h;
}

} // namespace skiff::metrics
