// Small text utilities shared by the modules.
#pragma once

#include <string>
#include <string_view>

namespace tributary {

// Escapes & < > " ' for HTML text and attribute values (and Graphviz HTML-like labels).
std::string HtmlEscape(std::string_view s);

// Percent-encodes everything but letters, digits and - . _ ~ (URL query values).
std::string PercentEncode(std::string_view s);

}  // namespace tributary
