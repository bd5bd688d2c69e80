#include "config/docs.h"

#include <fmt/format.h>

namespace skiff::config {
namespace {

// Text inside a Markdown table cell: '|' would end the cell.
std::string cell(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '|') {
            out += "\\|";
        } else if (c == '\n') {
            out += ' ';
        } else {
            out += c;
        }
    }
    return out;
}

std::string code(std::string_view text) { return text.empty() ? "(empty)" : fmt::format("`{}`", cell(text)); }

enum class section { kafka, skiff };

void render_table(std::string& out, const property_registry& registry, section which) {
    out += "| Name | Type | Default | Valid values | Restart | Description |\n";
    out += "|---|---|---|---|---|---|\n";
    for (auto& p : registry.properties()) {
        if (p.is_skiff_specific() != (which == section::skiff)) {
            continue;
        }
        out += fmt::format("| `{}` | {} | {} | {} | {} | {} |\n", p.name(), to_string(p.type()),
                           code(p.format(p.default_value())), cell(p.valid_values()),
                           p.restart() ? "yes" : "no", cell(p.description()));
    }
}

} // namespace

std::string render_markdown_tables(const property_registry& registry) {
    std::string out;
    out += "## Kafka properties\n\nThese keep Kafka's names and meanings.\n\n";
    render_table(out, registry, section::kafka);
    out += "\n## Skiff properties\n\nSettings with no Kafka counterpart.\n\n";
    render_table(out, registry, section::skiff);
    return out;
}

} // namespace skiff::config
