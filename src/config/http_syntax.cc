// The text rules of HTTP values in the config (see http_syntax.h).
#include "config/http_syntax.h"

#include <arpa/inet.h>

#include <algorithm>
#include <optional>

#include "common/ascii.h"
#include "config/yaml_reader.h"

namespace fulcrum::config::detail {

std::string lowered(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), lowerAscii);
  return out;
}

bool isHostName(std::string_view host) {
  if (host.empty() || host.size() > 253) {
    return false;
  }
  size_t start = 0;
  while (true) {
    size_t dot = host.find('.', start);
    std::string_view label = host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    bool ok = !label.empty() && label.size() <= 63 && std::all_of(label.begin(), label.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    });
    if (!ok) {
      return false;
    }
    if (dot == std::string_view::npos) {
      return true;
    }
    start = dot + 1;
  }
}

bool isVisible(char c) { return c > ' ' && c < 0x7f; }

bool hasControl(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

bool isMediaType(std::string_view text) {
  std::string_view main = text.substr(0, text.find(';'));
  while (!main.empty() && main.back() == ' ') {
    main.remove_suffix(1);
  }
  size_t slash = main.find('/');
  return slash != std::string_view::npos && isToken(main.substr(0, slash)) && isToken(main.substr(slash + 1)) &&
         !hasControl(text);
}

bool isHostAndPort(std::string_view text) {
  std::string_view host = text;
  std::optional<std::string_view> port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return false;
    }
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return false;
      }
      port = rest.substr(1);
    }
    in6_addr address{};
    if (inet_pton(AF_INET6, std::string(text.substr(1, close - 1)).c_str(), &address) != 1) {
      return false;
    }
  } else {
    size_t colon = text.rfind(':');
    if (colon != std::string_view::npos) {
      host = text.substr(0, colon);
      port = text.substr(colon + 1);
    }
    if (!isHostName(host)) {
      return false;
    }
  }
  if (port) {
    if (!isDigits(*port) || port->size() > 5) {
      return false;
    }
    int number = std::stoi(std::string(*port));
    return number >= 1 && number <= 65535;
  }
  return true;
}

}  // namespace fulcrum::config::detail
