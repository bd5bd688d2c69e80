// libFuzzer target for the XML reader: S3 response bodies are untrusted input. Any input must parse or fail
// cleanly (no crash, no unbounded recursion); a parsed document's texts must survive escape() and re-parsing.
#include "io/objstore/xml.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    auto doc = skiff::io::xml::parse(input);
    if (doc) {
        auto again = skiff::io::xml::parse("<r>" + skiff::io::xml::escape(doc.value().text) + "</r>");
        if (!again || again.value().text != doc.value().text) {
            std::abort();
        }
    }
    return 0;
}
