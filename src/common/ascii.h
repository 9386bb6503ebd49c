#pragma once
// ASCII case, as HTTP names and tokens use it (header and cookie-attribute names, methods'
// neighbours): the config loader and the HTTP codec both compare names with it, so it lives
// below both. Not for text in other scripts: bytes above 0x7f compare as they are.
#include <string_view>

namespace fulcrum {

constexpr char lowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }

// ASCII case-insensitive equality.
constexpr bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (lowerAscii(a[i]) != lowerAscii(b[i])) {
      return false;
    }
  }
  return true;
}

}  // namespace fulcrum
