// routes[].match: hosts, path (exact, prefix or RE2), methods, and header, query and cookie
// conditions.
#include "config/schema.h"

#include <re2/re2.h>

#include <algorithm>
#include <string>
#include <utility>

#include "config/http_syntax.h"

namespace fulcrum::config::detail {
namespace {

const std::vector<std::string_view> kMatchKeys = {"host",   "path",    "path_prefix", "path_regex",
                                                  "method", "headers", "query",       "cookies", "client_certificate"};
const std::vector<std::string_view> kClientCertificateKeys = {"present", "absent", "subject", "subject_regex"};
const std::vector<std::string_view> kPathKeys = {"path", "path_prefix", "path_regex"};
const std::vector<std::string_view> kValueMatchKeys = {"name", "present", "exact", "regex", "absent"};

bool checkRegex(YamlReader& r, const Entry& e, const std::string& pattern) {
  if (pattern.empty()) {
    r.error(e.pos, e.path + ": expected a non-empty RE2 regular expression, got an empty string");
    return false;
  }
  RE2::Options options;
  options.set_log_errors(false);
  RE2 re(pattern, options);
  if (!re.ok()) {
    r.error(e.pos,
            e.path + ": invalid regular expression " + quote(pattern) + ": " + re.error() + "; expected RE2 syntax");
    return false;
  }
  return true;
}

void readHosts(YamlReader& r, const Entry& e, std::vector<std::string>& out) {
  auto items = r.readOneOrList(e, "host names");
  if (!items) {
    return;
  }
  for (const Item& item : *items) {
    if (!item.node.IsScalar()) {
      r.error(item.pos, item.path + ": expected a host name such as api.example.com, got " + describe(item.node));
      continue;
    }
    std::string host = lowered(item.node.Scalar());
    std::string_view name = host;
    if (name.substr(0, 2) == "*.") {
      name.remove_prefix(2);
    }
    if (host.find(':') != std::string::npos && host.front() != '[') {
      r.error(item.pos, item.path + ": " + quote(item.node.Scalar()) +
                            " has a port; expected a host without one, such as api.example.com (the "
                            "request's port is ignored)");
    } else if (name.find('*') != std::string_view::npos) {
      r.error(item.pos, item.path + ": invalid wildcard in " + quote(item.node.Scalar()) +
                            "; expected an exact host or a leading \"*.\", such as *.example.com");
    } else if (!isHostName(name)) {
      r.error(item.pos, item.path + ": invalid host " + quote(item.node.Scalar()) +
                            "; expected a host name of letters, digits, '-' and '.' such as api.example.com, "
                            "or *.example.com for its subdomains");
    } else {
      out.push_back(std::move(host));
    }
  }
}

void readPathMatch(YamlReader& r, const Entry& e, RouteMatch& out) {
  std::string text;
  if (e.key == "path_regex") {
    if (r.readScalar(e, "an RE2 regular expression such as ^/v[0-9]+/", text) && checkRegex(r, e, text)) {
      out.path_kind = PathMatchKind::Regex;
      out.path = std::move(text);
    }
    return;
  }
  if (!r.readScalar(e, "a path starting with '/', such as /api/", text)) {
    return;
  }
  if (text.empty() || text.front() != '/') {
    r.error(e.pos, e.path + ": expected a path starting with '/', such as /api/, got " + quote(text));
  } else if (!std::all_of(text.begin(), text.end(), isVisible)) {
    r.error(e.pos, e.path + ": invalid character in " + quote(text) +
                       "; expected printable ASCII without spaces (percent-encode others, e.g. %20)");
  } else if (text.find_first_of("?#") != std::string::npos) {
    r.error(e.pos, e.path + ": " + quote(text) +
                       " has a query or fragment; expected a path only (the query is matched with query:)");
  } else {
    out.path_kind = e.key == "path" ? PathMatchKind::Exact : PathMatchKind::Prefix;
    out.path = std::move(text);
  }
}

void readMethods(YamlReader& r, const Entry& e, std::vector<std::string>& out) {
  auto items = r.readOneOrList(e, "methods such as GET");
  if (!items) {
    return;
  }
  for (const Item& item : *items) {
    if (!item.node.IsScalar()) {
      r.error(item.pos, item.path + ": expected a method such as GET, got " + describe(item.node));
      continue;
    }
    const std::string& text = item.node.Scalar();
    if (!isToken(text)) {
      r.error(item.pos, item.path + ": invalid method " + quote(text) + "; expected a method such as GET or POST");
    } else if (std::any_of(text.begin(), text.end(), [](char c) { return c >= 'a' && c <= 'z'; })) {
      std::string upper = text;
      std::transform(upper.begin(), upper.end(), upper.begin(),
                     [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; });
      r.error(item.pos,
              item.path + ": methods are case-sensitive; expected upper case " + quote(upper) + ", got " + quote(text));
    } else {
      out.push_back(text);
    }
  }
}

void checkMatchName(YamlReader& r, const Entry& e, const std::string& what, const std::string& name) {
  if (what == "query parameter") {
    bool ok = !name.empty() && std::all_of(name.begin(), name.end(),
                                           [](char c) { return isVisible(c) && c != '&' && c != '=' && c != '#'; });
    if (!ok) {
      r.error(e.pos, e.path + ": invalid query parameter name " + quote(name) +
                         "; expected printable ASCII without spaces, '&', '=' or '#', as written in the URL");
    }
  } else if (!isToken(name)) {
    r.error(e.pos, e.path + ": invalid " + what + " name " + quote(name) + "; expected " + kTokenChars);
  }
}

void readCondition(YamlReader& r, const Entry& e, ValueMatch& out) {
  if (e.key == "present" || e.key == "absent") {
    bool flag = false;
    if (!r.readBool(e, flag)) {
      return;
    }
    if (!flag) {
      std::string other = e.key == "present" ? "absent" : "present";
      r.error(e.pos, e.path + ": " + e.key + ": false is not a condition; expected " + e.key + ": true, or " + other +
                         ": true");
      return;
    }
    out.kind = e.key == "present" ? ValueMatchKind::Present : ValueMatchKind::Absent;
    return;
  }
  std::string text;
  if (e.key == "exact") {
    if (!r.readString(e, text)) {
      return;
    }
    if (hasControl(text)) {
      r.error(e.pos, e.path + ": control character in " + quote(text) +
                         "; expected a value without CR, LF, NUL or other control characters");
      return;
    }
    out.kind = ValueMatchKind::Exact;
    out.value = std::move(text);
    return;
  }
  if (r.readScalar(e, "an RE2 regular expression", text) && checkRegex(r, e, text)) {
    out.kind = ValueMatchKind::Regex;
    out.value = std::move(text);
  }
}

// headers, query and cookies: a list of {name, and one of present/exact/regex/absent}.
void readValueMatches(YamlReader& r, const Entry& e, std::vector<ValueMatch>& out, const std::string& what,
                      const std::string& example) {
  auto items = r.readList(e, "conditions such as " + example, true);
  if (!items) {
    return;
  }
  for (const Item& item : *items) {
    auto map = r.readMap(item.node, item.pos, item.path, kValueMatchKeys);
    if (!map) {
      continue;
    }
    ValueMatch match;
    if (r.requireKey(*map, "name", "the " + what + " name")) {
      const Entry* p = map->find("name");
      if (r.readScalar(*p, "a " + what + " name", match.name)) {
        checkMatchName(r, *p, what, match.name);
      }
    }
    const Entry* condition = nullptr;
    for (const Entry& entry : map->entries) {
      if (entry.key == "name") {
        continue;
      }
      if (condition != nullptr) {
        r.error(entry.keyPos, entry.path + ": this condition already has " + condition->key + " (line " +
                                  std::to_string(condition->keyPos.line) +
                                  "); expected only one of present, exact, regex and absent");
        continue;
      }
      condition = &entry;
    }
    if (condition == nullptr) {
      if (map->rejected == 0) {  // else a rejected key may have been meant as the condition
        r.error(map->pos, map->path +
                              ": missing the condition; expected one of present: true, exact: VALUE, "
                              "regex: PATTERN or absent: true");
      }
    } else {
      readCondition(r, *condition, match);
    }
    out.push_back(std::move(match));
  }
}

// client_certificate: one of present: true, absent: true, subject: EXACT, subject_regex: RE2.
void readClientCertificateMatch(YamlReader& r, const Entry& e, std::vector<ValueMatch>& out) {
  auto map = r.readMap(e.value, e.pos, e.path, kClientCertificateKeys);
  if (!map) {
    return;
  }
  if (map->entries.size() != 1) {
    if (map->rejected == 0) {
      r.error(map->pos, map->path + ": expected exactly one of present: true, absent: true, subject: "
                                    "\"CN=...\" or subject_regex: PATTERN");
    }
    return;
  }
  const Entry& c = map->entries.front();
  ValueMatch match;
  match.name = "subject";
  if (c.key == "present" || c.key == "absent") {
    readCondition(r, c, match);
  } else if (c.key == "subject") {
    Entry exact = c;
    exact.key = "exact";
    readCondition(r, exact, match);
  } else {
    Entry regex = c;
    regex.key = "regex";
    readCondition(r, regex, match);
  }
  out.push_back(std::move(match));
}

}  // namespace

void readMatch(YamlReader& r, const Entry& e, RouteMatch& out) {
  auto map = r.readSection(e, kMatchKeys);
  if (!map) {
    return;
  }
  if (const Entry* p = map->find("host")) {
    readHosts(r, *p, out.hosts);
  }
  const Entry* path = nullptr;
  for (const Entry& entry : map->entries) {
    if (std::find(kPathKeys.begin(), kPathKeys.end(), entry.key) == kPathKeys.end()) {
      continue;
    }
    if (path != nullptr) {
      r.error(entry.keyPos, entry.path + ": this match already has " + path->key + " (line " +
                                std::to_string(path->keyPos.line) +
                                "); expected at most one of path, path_prefix and path_regex");
      continue;
    }
    path = &entry;
    readPathMatch(r, entry, out);
  }
  if (const Entry* p = map->find("method")) {
    readMethods(r, *p, out.methods);
  }
  if (const Entry* p = map->find("headers")) {
    readValueMatches(r, *p, out.headers, "header", "{name: X-Canary, exact: \"1\"}");
  }
  if (const Entry* p = map->find("query")) {
    readValueMatches(r, *p, out.query, "query parameter", "{name: debug, present: true}");
  }
  if (const Entry* p = map->find("cookies")) {
    readValueMatches(r, *p, out.cookies, "cookie", "{name: session, regex: \"^a\"}");
  }
  if (const Entry* p = map->find("client_certificate")) {
    readClientCertificateMatch(r, *p, out.client_certificate);
  }
}

}  // namespace fulcrum::config::detail
