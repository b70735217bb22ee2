// Small text utilities shared by the modules.
#pragma once

#include <string>
#include <string_view>

namespace tributary {

// Escapes & < > " ' for HTML text and attribute values (and Graphviz HTML-like labels).
std::string HtmlEscape(std::string_view s);

// Percent-encodes everything but letters, digits and - . _ ~ (URL query values).
std::string PercentEncode(std::string_view s);

// Replaces every byte that is not part of a well-formed UTF-8 sequence with '?', so that the
// text can always be embedded in JSON (nlohmann's dump() throws on invalid UTF-8).
std::string ScrubUtf8(std::string_view s);

// True when `s` holds nothing but JSON whitespace (space, tab, CR, LF).
bool IsBlank(std::string_view s);

// Appends '/' and `token`, escaped as a JSON pointer reference token (RFC 6901), to `path`.
void AppendPointerToken(std::string* path, std::string_view token);

}  // namespace tributary
