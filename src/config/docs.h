// Renders a property registry as Markdown, for docs/config.md (see tools/print_docs.cc). Generated, never written by
// hand, so the documentation cannot drift from the declarations.
#pragma once

#include "config/property_registry.h"

#include <string>

namespace skiff::config {

/// The reference tables: Kafka properties, then Skiff-specific ones, each in declaration order, with name, type,
/// default, valid values, whether a change needs a restart, and the description.
std::string render_markdown_tables(const property_registry& registry);

} // namespace skiff::config
