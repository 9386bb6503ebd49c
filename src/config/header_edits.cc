// routes[].request_headers and response_headers: headers added, set and removed, with the names
// Fulcrum keeps to itself (framing, hop-by-hop, Host on requests).
#include "config/schema.h"

#include <algorithm>
#include <string>
#include <utility>

#include "common/ascii.h"
#include "config/http_syntax.h"

namespace fulcrum::config::detail {
namespace {

const std::vector<std::string_view> kHeaderEditKeys = {"add", "set", "remove"};
// Framing and hop-by-hop headers: only Fulcrum itself writes them (lower case).
const std::vector<std::string_view> kReservedHeaders = {
    "connection", "content-length", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"};

bool checkHeaderName(YamlReader& r, Pos pos, const std::string& path, const std::string& name, bool request) {
  if (!isToken(name)) {
    r.error(pos, path + ": invalid header name " + quote(name) + "; expected " + kTokenChars);
    return false;
  }
  std::string lower = lowered(name);
  if (std::find(kReservedHeaders.begin(), kReservedHeaders.end(), lower) != kReservedHeaders.end()) {
    r.error(pos, path + ": " + name +
                     " is a framing or hop-by-hop header that Fulcrum manages itself; expected another "
                     "header name");
    return false;
  }
  if (request && lower == "host") {
    r.error(pos, path +
                     ": the Host header cannot be edited here; expected host_rewrite on the route to "
                     "change the Host sent to the server");
    return false;
  }
  return true;
}

// NAME: VALUE pairs. `unique`: a name only once, ignoring case (set replaces, so twice is a conflict).
void readHeaderValues(YamlReader& r, const Entry& e, std::vector<HeaderValue>& out, bool request, bool unique) {
  auto map = r.readFreeMap(e);
  if (!map) {
    return;
  }
  std::vector<Named> seen;
  for (const Entry& h : map->entries) {
    if (!checkHeaderName(r, h.keyPos, e.path, h.key, request)) {
      continue;
    }
    if (unique) {
      auto dup =
          std::find_if(seen.begin(), seen.end(), [&](const Named& n) { return equalsIgnoreCase(n.name, h.key); });
      if (dup != seen.end()) {
        r.error(h.keyPos, e.path + ": header " + quote(h.key) + " is already set as " + quote(dup->name) + " at line " +
                              std::to_string(dup->pos.line) + " (header names ignore case); expected each header once");
        continue;
      }
      seen.push_back({h.key, h.keyPos});
    }
    std::string value;
    if (!r.readScalar(h, "a header value (write \"\" for an empty one)", value)) {
      continue;
    }
    if (hasControl(value)) {
      r.error(h.pos, h.path + ": control character in " + quote(value) +
                         "; expected a header value without CR, LF, NUL or other control characters");
      continue;
    }
    out.push_back({h.key, std::move(value)});
  }
}

}  // namespace

void readHeaderEdits(YamlReader& r, const Entry& e, HeaderEdits& out, bool request) {
  auto map = r.readSection(e, kHeaderEditKeys);
  if (!map) {
    return;
  }
  if (const Entry* p = map->find("add")) {
    readHeaderValues(r, *p, out.add, request, false);
  }
  if (const Entry* p = map->find("set")) {
    readHeaderValues(r, *p, out.set, request, true);
  }
  if (const Entry* p = map->find("remove")) {
    auto items = r.readList(*p, "header names", true);
    if (!items) {
      return;
    }
    for (const Item& item : *items) {
      if (!item.node.IsScalar()) {
        r.error(item.pos, item.path + ": expected a header name such as X-Debug, got " + describe(item.node));
        continue;
      }
      std::string name = item.node.Scalar();
      if (checkHeaderName(r, item.pos, item.path, name, request)) {
        out.remove.push_back(std::move(name));
      }
    }
  }
}

}  // namespace fulcrum::config::detail
