#include "http/stream/request.h"

#include "common/ascii.h"

namespace fulcrum::http {

std::string_view queryParam(std::string_view query, std::string_view name, bool& found) {
  found = false;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      found = true;
      return eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    }
    if (amp == std::string_view::npos) {
      break;
    }
    query.remove_prefix(amp + 1);
  }
  return {};
}

std::string_view cookieValue(const Request& request, std::string_view name, bool& found) {
  found = false;
  for (const Header& h : request.headers) {
    if (!equalsIgnoreCase(h.name, "cookie")) {
      continue;
    }
    std::string_view list = h.value;
    while (!list.empty()) {
      size_t semi = list.find(';');
      std::string_view pair = list.substr(0, semi);
      while (!pair.empty() && pair.front() == ' ') {
        pair.remove_prefix(1);
      }
      size_t eq = pair.find('=');
      if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
        found = true;
        std::string_view v = pair.substr(eq + 1);
        if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
          v = v.substr(1, v.size() - 2);
        }
        return v;
      }
      if (semi == std::string_view::npos) {
        break;
      }
      list.remove_prefix(semi + 1);
    }
  }
  return {};
}

}  // namespace fulcrum::http
