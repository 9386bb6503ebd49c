#pragma once
// PRIVATE to src/config: the text rules of HTTP values in the config (host names, header
// values, media types), shared by the readers of listeners[].http, routes and pools[].http.
#include <string>
#include <string_view>

namespace fulcrum::config::detail {

// How messages describe an HTTP token (isToken, yaml_reader.h).
inline constexpr const char* kTokenChars = "letters, digits and !#$%&'*+-.^_`|~";

// `text` in ASCII lower case.
std::string lowered(std::string_view text);

// Dot-separated labels of 1..63 letters, digits and '-'; 253 characters at most.
bool isHostName(std::string_view host);

// Printable ASCII other than space.
bool isVisible(char c);

// A control character that cannot be in a header value: anything below 0x20 but tab, and DEL.
bool hasControl(std::string_view text);

// "type/subtype" optionally followed by "; parameters".
bool isMediaType(std::string_view text);

// "host", "host:port", "[v6]" or "[v6]:port".
bool isHostAndPort(std::string_view text);

}  // namespace fulcrum::config::detail
