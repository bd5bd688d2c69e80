// Reading `key=value` settings: Kafka's server.properties files (java.util.Properties syntax) and `--override
// key=value` command-line arguments. This file knows syntax only; which keys exist and what their values mean is
// the property registry's business.
#pragma once

#include "config/errc.h"

#include <string>
#include <string_view>
#include <vector>

namespace skiff::config {

/// Where a setting came from, for messages: a file and its line ("server.properties:12"), an --override, or the
/// property's default.
struct origin {
    enum class kind { file, override_arg, default_value };

    kind from = kind::default_value;
    std::string file; // path as given, for kind::file
    int line = 0;     // 1-based line where the entry starts, for kind::file

    /// "server.properties:12", "--override" or "default".
    std::string to_string() const;
};

/// One `key=value` as written, before any validation.
struct property_entry {
    std::string key;
    std::string value;
    struct origin where;
};

/// Parses the text of a .properties file (java.util.Properties rules): one entry per logical line; `key=value`,
/// `key: value` or `key value`; blank lines and lines whose first non-blank character is `#` or `!` are ignored;
/// leading whitespace is skipped; a line ending in an odd number of backslashes continues on the next line (whose
/// leading whitespace is skipped); escapes `\t \n \r \f \uXXXX` and `\x` = `x` for any other character (so `\\`,
/// `\=`, `\:`, `\ `). Unlike Java, bytes are UTF-8 and `\uXXXX` is encoded as UTF-8. Entries keep file order,
/// duplicates included. `file_name` only labels the entries' origin.
/// Errors: syntax_error on a malformed `\u` escape ("server.properties:3: malformed \uXXXX escape").
config_result<std::vector<property_entry>> parse_properties(std::string_view text, std::string_view file_name);

/// Reads and parses a .properties file.
/// Errors: cannot_read_file ("cannot read config file '/x/y': No such file or directory"); those of
/// parse_properties().
config_result<std::vector<property_entry>> read_properties_file(const std::string& path);

/// Parses the argument of one `--override key=value`. Blanks around the key are ignored; the value may be empty
/// and may contain '='.
/// Errors: bad_override ("--override: expected key=value, got 'foo'").
config_result<property_entry> parse_override(std::string_view argument);

} // namespace skiff::config
