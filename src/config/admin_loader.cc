#include "config/admin_loader.h"

#include <fstream>
#include <sstream>

#include "config/address.h"
#include "config/schema.h"

namespace fulcrum::config::detail {

namespace {
const std::vector<std::string_view> kAdminKeys = {"enabled",   "bind",         "token",
                                                  "token_file", "state_file", "audit_log", "control_socket",
                                                  "head_timeout", "max_connections_per_client", "tls"};
const std::vector<std::string_view> kAccessLogKeys = {"path", "format"};
constexpr size_t kMinTokenLength = 16;

bool validToken(std::string_view t) {
  for (char c : t) {
    if (c <= ' ' || c > '~') return false;
  }
  return t.size() >= kMinTokenLength && t.size() <= 4096;
}
}  // namespace

void readAdmin(YamlReader& r, const Entry* e, Admin& out) {
  std::string why;
  parseSocketAddress("127.0.0.1:9900", out.bind, why);
  if (e == nullptr) {
    return;
  }
  auto map = r.readSection(*e, kAdminKeys);
  if (!map) {
    return;
  }
  if (const Entry* p = map->find("enabled")) {
    r.readBool(*p, out.enabled);
  }
  const Entry* bind = map->find("bind");
  if (bind) {
    r.readAddress(*bind, out.bind);
  }
  const Entry* token = map->find("token");
  const Entry* tokenFile = map->find("token_file");
  if (token && tokenFile) {
    r.error(tokenFile->keyPos, tokenFile->path + ": give token or token_file, not both");
  } else if (token) {
    if (r.readString(*token, out.token) && !validToken(out.token)) {
      r.error(token->pos, token->path + ": expected at least " + std::to_string(kMinTokenLength) +
                              " printable characters without spaces");
      out.token.clear();
    }
  } else if (tokenFile) {
    std::string path;
    if (r.readString(*tokenFile, path)) {
      std::ifstream in(path);
      std::stringstream ss;
      ss << in.rdbuf();
      std::string t = ss.str();
      while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
      if (!in) {
        r.error(tokenFile->pos, tokenFile->path + ": cannot read " + path);
      } else if (!validToken(t)) {
        r.error(tokenFile->pos, tokenFile->path + ": the token in " + path + " must be at least " +
                                    std::to_string(kMinTokenLength) + " printable characters without spaces");
      } else {
        out.token = t;
      }
    }
  }
  if (const Entry* p = map->find("state_file")) {
    r.readString(*p, out.state_file);
  }
  if (const Entry* p = map->find("audit_log")) {
    r.readString(*p, out.audit_log);
  }
  if (const Entry* p = map->find("control_socket")) {
    // sockaddr_un holds 107 bytes and a NUL; a longer path could never be bound.
    if (r.readString(*p, out.control_socket) && (out.control_socket.empty() || out.control_socket.size() > 107)) {
      r.error(p->pos, p->path + ": expected a path of 1 to 107 bytes (a Unix socket's limit)");
      out.control_socket.clear();
    }
  }
  if (const Entry* p = map->find("head_timeout")) {
    r.readDuration(*p, Millis(100), Millis(60000), out.head_timeout);
  }
  if (const Entry* p = map->find("max_connections_per_client")) {
    r.readUint(*p, 1, 1024, out.max_connections_per_client);
  }
  if (const Entry* p = map->find("tls")) {
    ListenerRefs refs;
    readListenerTls(r, *p, out.tls, Protocol::Http, refs);
    if (!refs.acmePath.empty()) {
      r.error(refs.acmePos, refs.acmePath + ": ACME certificates are for listeners; expected certificates "
                                            "(the admin API's own, or one ACME obtained for a listener)");
      out.tls.acme.clear();
    }
  }
  // Reachable from other hosts: the token proves who asks, TLS keeps it (and the answers) secret.
  if (out.enabled && !config::isLoopback(out.bind) && (out.token.empty() || !out.tls.enabled())) {
    const Entry* at = bind ? bind : e;
    std::string missing = out.token.empty() && !out.tls.enabled() ? "set admin.token (or token_file) and admin.tls"
                          : out.token.empty()                      ? "set admin.token (or token_file)"
                                                                   : "set admin.tls (certificates: a token sent in clear "
                                                                     "text is anyone's)";
    r.error(at->pos, at->path + ": the admin API on " + out.bind.text + " is reachable from other hosts: " + missing +
                         ", or bind it to 127.0.0.1");
  }
}

bool parseLogFormat(std::string_view text, std::vector<LogSegment>& out, std::string& error) {
  out.clear();
  LogSegment seg;
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == '\n' || c == '\r') {
      error = "a format is one line: no newline";
      return false;
    }
    if (c != '$') {
      seg.literal += c;
      ++i;
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '$') {
      seg.literal += '$';
      i += 2;
      continue;
    }
    if (i + 1 >= text.size() || text[i + 1] != '{') {
      error = "expected ${field} or $$ at offset " + std::to_string(i);
      return false;
    }
    size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      error = "unclosed ${ at offset " + std::to_string(i);
      return false;
    }
    std::string_view name = text.substr(i + 2, close - i - 2);
    int field = -1;
    std::vector<std::string_view> names;
    for (size_t f = 0; f < std::size(kLogFieldNames); ++f) {
      names.push_back(kLogFieldNames[f]);
      if (name == kLogFieldNames[f]) field = static_cast<int>(f);
    }
    if (field < 0) {
      error = "unknown field ${" + std::string(name) + "}; expected one of " + joined(names);
      return false;
    }
    seg.field = field;
    out.push_back(std::move(seg));
    seg = LogSegment{};
    i = close + 1;
  }
  if (!seg.literal.empty() || out.empty()) {
    out.push_back(std::move(seg));
  }
  return true;
}

void readAccessLog(YamlReader& r, const Entry& e, AccessLog& out) {
  auto map = r.readSection(e, kAccessLogKeys);
  if (!map) {
    return;
  }
  out.enabled = true;
  if (r.requireKey(*map, "path", "a file for the access log, or \"-\" for standard output")) {
    const Entry* p = map->find("path");
    if (r.readString(*p, out.path) && out.path.empty()) {
      r.error(p->pos, p->path + ": empty; expected a file path, or \"-\" for standard output");
    }
  }
  if (const Entry* f = map->find("format")) {
    std::string text;
    if (r.readString(*f, text) && text != "json") {
      out.json = false;
      std::string why;
      if (!parseLogFormat(text, out.format, why)) {
        r.error(f->pos, f->path + ": " + why);
      }
    }
  }
}

}  // namespace fulcrum::config::detail
