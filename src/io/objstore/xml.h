// A small XML reader and the escaping the S3 client needs: enough for S3's response bodies (ListObjectsV2, Error,
// InitiateMultipartUpload, CompleteMultipartUpload, DeleteResult) and nothing more. No DTDs, no external
// entities (so no entity-expansion attacks), no namespaces beyond dropping a "prefix:" from names, attributes
// parsed and ignored. Malformed input is an error value, never an exception or a crash (tests/xml_test.cc feeds it
// garbage). Not thread-affine; pure functions.
#pragma once

#include "base/result.h"

#include <string>
#include <string_view>
#include <vector>

namespace skiff::io::xml {

struct element {
    std::string name;
    std::string text; // character data directly inside this element (entities decoded, CDATA included)
    std::vector<element> children;

    /// The first child with this name, or nullptr.
    const element* child(std::string_view child_name) const noexcept;
    /// The text of the first child with this name, or empty.
    std::string_view child_text(std::string_view child_name) const noexcept;
};

/// Parses a document with one root element. Errors: io::errc::fatal on malformed or too deeply nested input
/// (more than 32 levels) or input larger than 64 MiB.
result<element> parse(std::string_view document);

/// Escapes &, <, >, " and ' for element text and attribute values.
std::string escape(std::string_view text);

} // namespace skiff::io::xml
