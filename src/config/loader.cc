#include "config/loader.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <tuple>
#include <utility>

#include "config/duration.h"

namespace fulcrum::config {

std::string Diagnostic::str() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": error: " + message;
}

namespace {

using namespace std::chrono_literals;

constexpr size_t kMaxNameLength = 64;
constexpr Millis kMinTimeout = 1ms;
constexpr Millis kMaxTimeout = 24h;

// 1-based position in the file; line 0 means "unknown".
struct Pos {
  int line = 0;
  int column = 0;
};

Pos toPos(const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0 || mark.column < 0) {
    return {};
  }
  return {mark.line + 1, mark.column + 1};
}

std::string quote(std::string_view text) {
  constexpr size_t kMax = 60;
  std::string out = "\"";
  for (char c : text.substr(0, kMax)) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  if (text.size() > kMax) {
    out += "...";
  }
  return out + "\"";
}

// "got ..." wording for type errors.
std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Scalar:
      return quote(node.Scalar());
    default:
      return "an empty value";
  }
}

std::string joined(const std::vector<std::string_view>& words) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    out += (i == 0 ? "" : ", ");
    out += words[i];
  }
  return out;
}

size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The closest accepted word to a typo, if it is close enough to be a plausible intent.
std::optional<std::string_view> suggest(std::string_view typo, const std::vector<std::string_view>& words) {
  std::optional<std::string_view> best;
  size_t bestDistance = std::max<size_t>(2, typo.size() / 3) + 1;
  for (auto word : words) {
    size_t d = editDistance(typo, word);
    if (d < bestDistance) {
      best = word;
      bestDistance = d;
    }
  }
  return best;
}

bool isValidName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

bool isDigits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Parses "a.b.c.d:port", "[v6]:port", "*:port" or "hostname:port" (resolved now, first result).
bool parseSocketAddress(std::string_view text, SocketAddress& out, std::string& error) {
  const std::string expected =
      "expected host:port such as 127.0.0.1:8080, [::1]:8080, *:8080 or localhost:8080";
  std::string_view host;
  std::string_view port;
  bool bracketed = false;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      error = expected + ", got " + quote(text);
      return false;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    bracketed = true;
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      error = expected + ", got " + quote(text) + " (the port is missing)";
      return false;
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      error = "IPv6 addresses must be written in brackets, e.g. [::1]:8080; got " + quote(text);
      return false;
    }
  }
  if (host.empty()) {
    error = expected + ", got " + quote(text) + " (the host is missing; use * for all IPv4 addresses)";
    return false;
  }
  if (!isDigits(port) || port.size() > 5 || std::stoi(std::string(port)) < 1 ||
      std::stoi(std::string(port)) > 65535) {
    error = "expected a port between 1 and 65535 in " + quote(text) + ", got " + quote(port);
    return false;
  }
  auto portNumber = static_cast<uint16_t>(std::stoi(std::string(port)));

  SocketAddress result;
  result.text = std::string(text);
  if (bracketed) {
    // getaddrinfo rather than inet_pton so that scoped addresses such as fe80::1%eth0 work.
    addrinfo hints{};
    hints.ai_family = AF_INET6;
    hints.ai_flags = AI_NUMERICHOST;
    addrinfo* info = nullptr;
    if (getaddrinfo(std::string(host).c_str(), nullptr, &hints, &info) != 0 || info == nullptr) {
      error = "invalid IPv6 address " + quote(host) + " in " + quote(text) + "; expected e.g. [::1]:8080";
      return false;
    }
    std::memcpy(&result.storage, info->ai_addr, info->ai_addrlen);
    result.length = static_cast<socklen_t>(info->ai_addrlen);
    freeaddrinfo(info);
    reinterpret_cast<sockaddr_in6*>(&result.storage)->sin6_port = htons(portNumber);
    out = std::move(result);
    return true;
  }
  in_addr v4{};
  bool looksNumeric = host.find_first_not_of("0123456789.") == std::string_view::npos;
  if (host == "*" || (looksNumeric && inet_pton(AF_INET, std::string(host).c_str(), &v4) == 1)) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&result.storage);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(portNumber);
    sin->sin_addr = host == "*" ? in_addr{htonl(INADDR_ANY)} : v4;
    result.length = sizeof(sockaddr_in);
    out = std::move(result);
    return true;
  }
  if (looksNumeric) {
    // getaddrinfo would accept shorthand like "10.1" as 10.0.0.1; that is almost always a typo.
    error = "invalid IPv4 address " + quote(host) + " in " + quote(text) +
            "; expected four numbers 0-255 "
            "such as 127.0.0.1";
    return false;
  }
  bool hostnameChars = std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
  });
  if (!hostnameChars || host.size() > 253) {
    error = "invalid host " + quote(host) + " in " + quote(text) +
            "; expected an IPv4 address, a bracketed IPv6 address, * or a hostname";
    return false;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;  // one entry per address instead of one per socket type
  addrinfo* info = nullptr;
  int rc = getaddrinfo(std::string(host).c_str(), nullptr, &hints, &info);
  if (rc != 0 || info == nullptr) {
    error = "cannot resolve host " + quote(host) + ": " + gai_strerror(rc) +
            "; expected an IP address or a resolvable hostname";
    return false;
  }
  std::memcpy(&result.storage, info->ai_addr, info->ai_addrlen);
  result.length = static_cast<socklen_t>(info->ai_addrlen);
  freeaddrinfo(info);
  if (result.storage.ss_family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&result.storage)->sin_port = htons(portNumber);
  } else {
    reinterpret_cast<sockaddr_in6*>(&result.storage)->sin6_port = htons(portNumber);
  }
  out = std::move(result);
  return true;
}

// "10.0.0.0/8", "2001:db8::/32"; a plain address means a single host (/32 or /128).
bool parseCidr(std::string_view text, Cidr& out, std::string& error) {
  const std::string expected = "expected an address or CIDR range such as 10.0.0.0/8, 127.0.0.1 or ::1/128";
  size_t slash = text.find('/');
  std::string address(text.substr(0, slash));
  Cidr result;
  result.text = std::string(text);
  if (address.find(':') != std::string::npos) {
    result.family = AF_INET6;
    if (inet_pton(AF_INET6, address.c_str(), result.bytes) != 1) {
      error = expected + ", got " + quote(text);
      return false;
    }
  } else {
    result.family = AF_INET;
    if (inet_pton(AF_INET, address.c_str(), result.bytes) != 1) {
      error = expected + ", got " + quote(text);
      return false;
    }
  }
  int maxPrefix = result.family == AF_INET ? 32 : 128;
  result.prefix = maxPrefix;
  if (slash != std::string_view::npos) {
    std::string_view prefix = text.substr(slash + 1);
    if (!isDigits(prefix) || prefix.size() > 3 || std::stoi(std::string(prefix)) > maxPrefix) {
      error = "expected a prefix length between 0 and " + std::to_string(maxPrefix) + " in " + quote(text);
      return false;
    }
    result.prefix = std::stoi(std::string(prefix));
  }
  // Host bits set (10.1.2.3/8) usually means the writer meant something narrower: refuse to guess
  // in a list that grants trust.
  int bytes = maxPrefix / 8;
  for (int bit = result.prefix; bit < maxPrefix; ++bit) {
    if (result.bytes[bit / 8] & (0x80 >> (bit % 8))) {
      Cidr network = result;
      for (int b = result.prefix; b < bytes * 8; ++b) {
        network.bytes[b / 8] &= static_cast<uint8_t>(~(0x80 >> (b % 8)));
      }
      char buf[INET6_ADDRSTRLEN] = {};
      inet_ntop(result.family, network.bytes, buf, sizeof(buf));
      error = "range " + quote(text) + " has bits set beyond its /" + std::to_string(result.prefix) +
              " prefix; expected the network address, e.g. " + buf + "/" + std::to_string(result.prefix);
      return false;
    }
  }
  out = std::move(result);
  return true;
}

bool sameEndpoint(const SocketAddress& a, const SocketAddress& b) {
  if (a.family() != b.family()) {
    return false;
  }
  if (a.family() == AF_INET) {
    const auto* x = reinterpret_cast<const sockaddr_in*>(&a.storage);
    const auto* y = reinterpret_cast<const sockaddr_in*>(&b.storage);
    return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  const auto* x = reinterpret_cast<const sockaddr_in6*>(&a.storage);
  const auto* y = reinterpret_cast<const sockaddr_in6*>(&b.storage);
  return x->sin6_port == y->sin6_port && x->sin6_scope_id == y->sin6_scope_id &&
         std::memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(in6_addr)) == 0;
}

// One key of a YAML map, with the positions where its errors are reported.
struct Entry {
  std::string key;
  std::string path;  // e.g. "listeners[0].bind": prefixes every message about this value
  YAML::Node value;
  Pos keyPos;
  Pos pos;  // the value's position, or the key's when the value is empty
};

struct MapView {
  std::string path;
  Pos pos;
  std::vector<Entry> entries;

  const Entry* find(std::string_view key) const {
    for (const auto& e : entries) {
      if (e.key == key) {
        return &e;
      }
    }
    return nullptr;
  }
};

struct Item {
  YAML::Node node;
  Pos pos;
  std::string path;
};

const std::vector<std::string_view> kTopKeys = {"workers", "log_level", "timeouts", "listeners", "pools"};
const std::vector<std::string_view> kTimeoutKeys = {"connect", "idle", "queue", "drain", "handshake"};
const std::vector<std::string_view> kListenerKeys = {
    "name", "bind", "protocol", "pool", "proxy_protocol", "trusted_proxies", "backlog", "udp"};
const std::vector<std::string_view> kUdpKeys = {"flow_idle", "max_flows"};
const std::vector<std::string_view> kPoolKeys = {
    "name",     "algorithm", "retries",    "queue_size",      "send_proxy_protocol", "servers",
    "hash_key", "vnodes",    "slow_start", "panic_threshold", "health_check",        "outlier_detection"};
const std::vector<std::string_view> kServerKeys = {"address", "weight", "max_connections", "backup", "drain",
                                                   "agent"};
const std::vector<std::string_view> kAgentKeys = {"port", "interval", "timeout"};
const std::vector<std::string_view> kHealthCheckKeys = {"type", "interval", "jitter", "timeout",
                                                        "rise", "fall",     "port",   "http"};
const std::vector<std::string_view> kHttpCheckKeys = {"method", "path", "host", "expect_status", "body_contains"};
const std::vector<std::string_view> kOutlierKeys = {"max_fails",
                                                    "fail_timeout",
                                                    "ejection_time",
                                                    "max_ejection_time",
                                                    "max_ejection_percent",
                                                    "error_rate",
                                                    "error_rate_window",
                                                    "error_rate_min_requests"};
// In the order of config::Algorithm.
const std::vector<std::string_view> kAlgorithms = {
    "round_robin",        "weighted_round_robin", "least_connections", "least_response_time", "random",
    "random_two_choices", "ip_hash",              "consistent_hash",   "maglev"};
// In the order of config::CheckType.
const std::vector<std::string_view> kCheckTypes = {"none", "tcp", "http"};
const std::vector<std::string_view> kCheckMethods = {"GET", "HEAD", "OPTIONS", "POST"};
const std::vector<std::string_view> kLogLevels = {"debug", "info", "warn", "error"};
constexpr Millis kMinCheckInterval = 100ms;
constexpr Millis kMaxCheckDuration = 1h;
constexpr size_t kMaxBodyContains = 1024;

bool hashesOnKey(Algorithm a) {
  return a == Algorithm::IpHash || a == Algorithm::ConsistentHash || a == Algorithm::Maglev;
}

std::string hashKeyText(const HashKey& key) {
  switch (key.source) {
    case HashKeySource::ClientAddress:
      return "client_address";
    case HashKeySource::Header:
      return "header:" + key.name;
    case HashKeySource::Cookie:
      return "cookie:" + key.name;
    case HashKeySource::Path:
      return "path";
  }
  return "?";
}

// An HTTP token (RFC 9110): header and cookie names.
bool isToken(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

class Loader {
 public:
  Loader(std::string_view text, std::string source) : text_(text), source_(std::move(source)) {}

  LoadResult run() {
    try {
      std::vector<YAML::Node> docs;
      if (parse(docs)) {
        readDocuments(docs);
      }
    } catch (const std::exception& e) {
      // The readers do not throw by design; this is a last guard so nothing escapes the loader.
      error({1, 1}, std::string("internal error while reading the config: ") + e.what());
    }
    return finish();
  }

 private:
  void error(Pos at, std::string message) {
    errors_.push_back(Diagnostic{source_, at.line, at.column, std::move(message)});
  }

  // YAML is UTF-8 text. yaml-cpp 0.7 can loop forever on some invalid byte sequences
  // (found by fuzz/config), so such input is refused before it reaches the parser.
  bool checkText() {
    int line = 1, column = 1;
    size_t i = 0;
    while (i < text_.size()) {
      auto c = static_cast<unsigned char>(text_[i]);
      size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
      bool ok = len != 0 && i + len <= text_.size();
      for (size_t k = 1; ok && k < len; ++k) {
        ok = (static_cast<unsigned char>(text_[i + k]) & 0xc0) == 0x80;
      }
      if (ok && len == 1 && c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
        error({line, column}, "control character " + std::to_string(c) + " in the file; expected printable text");
        return false;
      }
      if (!ok) {
        error({line, column}, "invalid UTF-8 byte sequence; expected a UTF-8 text file");
        return false;
      }
      if (c == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
      i += len;
    }
    return true;
  }

  // The line of a '---' that starts a second document (one after some content), if any.
  std::optional<int> secondDocumentLine() const {
    bool content = false;
    int line = 0;
    size_t start = 0;
    while (start <= text_.size()) {
      size_t end = text_.find('\n', start);
      std::string_view row = text_.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
      ++line;
      bool marker = row.substr(0, 3) == "---" && (row.size() == 3 || row[3] == ' ' || row[3] == '\r' || row[3] == '\t');
      if (marker && content) {
        return line;
      }
      size_t first = row.find_first_not_of(" \t\r");
      if (!marker && first != std::string_view::npos && row[first] != '#' && row[first] != '%') {
        content = true;
      }
      if (end == std::string_view::npos) {
        break;
      }
      start = end + 1;
    }
    return std::nullopt;
  }

  bool parse(std::vector<YAML::Node>& docs) {
    if (!checkText()) {
      return false;
    }
    try {
      // One document only: yaml-cpp 0.7's LoadAll() never ends on some inputs (a stray ','
      // at the top level yields endless empty documents; found by fuzz/config).
      docs.push_back(YAML::Load(std::string(text_)));
      if (auto second = secondDocumentLine()) {
        error({*second, 1}, "expected a single YAML document, found a second one (remove the '---' separator)");
      }
      return true;
    } catch (const YAML::ParserException& e) {
      Pos at = toPos(e.mark);
      if (at.line == 0) {
        at = {1, 1};
      }
      // yaml-cpp's messages for a few common slips are cryptic ("illegal map value"); name the slip.
      std::string_view row = lineText(at.line);
      size_t bracket = unquotedBracketedAddress(row);
      if (std::optional<Pos> tab = tabIndentBefore(at.line)) {
        error(*tab,
              "tab character in indentation; expected spaces (YAML does not allow tabs for indentation)");
      } else if (bracket != std::string_view::npos) {
        error({at.line, static_cast<int>(bracket) + 1},
              "invalid YAML: an IPv6 address must be quoted, e.g. \"[::1]:8080\" (an unquoted '[' starts a "
              "list)");
      } else if (e.msg == YAML::ErrorMsg::UNKNOWN_ANCHOR && static_cast<size_t>(at.column) < row.size() &&
                 row.substr(at.column - 1, 2) == "*:") {
        error(at,
              "invalid YAML: an address starting with * must be quoted, e.g. \"*:8080\" (an unquoted '*' "
              "starts an alias)");
      } else {
        error(at, "invalid YAML: " + e.msg + syntaxHint(e.msg));
      }
    } catch (const std::exception& e) {
      error({1, 1}, std::string("invalid YAML: ") + e.what());
    }
    return false;
  }

  static std::string syntaxHint(const std::string& msg) {
    if (msg == YAML::ErrorMsg::END_OF_SEQ_FLOW) {
      return "; expected ']' to close the list";
    }
    if (msg == YAML::ErrorMsg::END_OF_MAP_FLOW) {
      return "; expected '}' to close the map";
    }
    if (msg == YAML::ErrorMsg::MAP_VALUE || msg == YAML::ErrorMsg::MAP_KEY ||
        msg == YAML::ErrorMsg::END_OF_MAP || msg == YAML::ErrorMsg::END_OF_SEQ ||
        msg == YAML::ErrorMsg::BLOCK_ENTRY) {
      return "; expected consistent indentation and a space after each ':'";
    }
    if (msg == YAML::ErrorMsg::UNKNOWN_ANCHOR) {
      return "; expected an anchor (&name) defined before this alias";
    }
    return "; expected valid YAML";
  }

  std::string_view lineText(int line) const {
    size_t start = 0;
    for (int current = 1; current < line; ++current) {
      start = text_.find('\n', start);
      if (start == std::string_view::npos) {
        return {};
      }
      ++start;
    }
    size_t end = text_.find('\n', start);
    return text_.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
  }

  // Offset of a '[' that starts an unquoted "[v6]:port" value in `row`, or npos.
  static size_t unquotedBracketedAddress(std::string_view row) {
    for (size_t close = row.find("]:"); close != std::string_view::npos; close = row.find("]:", close + 1)) {
      size_t open = row.rfind('[', close);
      if (open == std::string_view::npos || close + 2 >= row.size() || row[close + 2] < '0' ||
          row[close + 2] > '9') {
        continue;
      }
      bool startsValue = open == 0 || row[open - 1] == ' ' || row[open - 1] == '\t';
      if (startsValue && row.substr(open + 1, close - open - 1).find(':') != std::string_view::npos) {
        return open;
      }
    }
    return std::string_view::npos;
  }

  // The first line at or before `line` whose indentation contains a tab.
  std::optional<Pos> tabIndentBefore(int line) const {
    int current = 1;
    size_t i = 0;
    while (i < text_.size() && current <= line) {
      size_t end = text_.find('\n', i);
      if (end == std::string_view::npos) {
        end = text_.size();
      }
      std::string_view row = text_.substr(i, end - i);
      size_t firstNonBlank = row.find_first_not_of(" \t");
      bool content = firstNonBlank != std::string_view::npos && row[firstNonBlank] != '#';
      size_t tab = row.find('\t');
      if (content && tab != std::string_view::npos && tab < firstNonBlank) {
        return Pos{current, static_cast<int>(tab) + 1};
      }
      i = end + 1;
      ++current;
    }
    return std::nullopt;
  }

  // Converts a byte offset into the source to a position.
  Pos offsetToPos(size_t offset) const {
    Pos pos{1, 1};
    for (size_t i = 0; i < offset && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++pos.line;
        pos.column = 1;
      } else {
        ++pos.column;
      }
    }
    return pos;
  }

  // yaml-cpp marks an empty list item ("-" alone) at the token after it; find the '-' itself.
  Pos emptyItemPos(const YAML::Node& item, Pos fallback) const {
    YAML::Mark mark = item.Mark();
    if (mark.is_null() || mark.pos < 0) {
      return fallback;
    }
    size_t i = std::min(static_cast<size_t>(mark.pos), text_.size());
    while (i > 0) {
      --i;
      char c = text_[i];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        continue;
      }
      // Skip a comment at the end of this line, if `c` is inside one.
      size_t lineStart = text_.rfind('\n', i);
      lineStart = lineStart == std::string_view::npos ? 0 : lineStart + 1;
      size_t hash = std::string_view::npos;
      for (size_t j = lineStart; j <= i; ++j) {
        if (text_[j] == '#' && (j == lineStart || text_[j - 1] == ' ' || text_[j - 1] == '\t')) {
          hash = j;
          break;
        }
      }
      if (hash != std::string_view::npos) {
        i = hash;
        continue;
      }
      return c == '-' ? offsetToPos(i) : fallback;
    }
    return fallback;
  }

  void readDocuments(const std::vector<YAML::Node>& docs) {
    if (docs.empty() || (docs.size() == 1 && docs[0].IsNull())) {
      bool blank = true;
      for (size_t start = 0; start < text_.size() && blank;) {
        size_t end = std::min(text_.find('\n', start), text_.size());
        std::string_view row = text_.substr(start, end - start);
        size_t first = row.find_first_not_of(" \t\r");
        blank = first == std::string_view::npos || row[first] == '#' || row.substr(first, 3) == "---";
        start = end + 1;
      }
      error({1, 1}, blank ? "the config is empty; expected a map with at least 'listeners' and 'pools'"
                          : "no YAML value could be read; expected a map with at least 'listeners' and 'pools'");
      return;
    }
    if (docs.size() > 1) {
      Pos at = toPos(docs[1].Mark());
      error(at.line == 0 ? Pos{1, 1} : at,
            "expected a single YAML document, found a second one (remove the '---' separator)");
    }
    readTop(docs[0]);
  }

  // --- generic readers: each reports its own errors and returns false / nullopt on failure ---

  std::optional<MapView> readMap(const YAML::Node& node, Pos at, const std::string& path,
                                 const std::vector<std::string_view>& accepted) {
    if (!node.IsMap()) {
      if (path.empty()) {
        error(at, "expected a map at the top level (with keys such as listeners and pools), got " +
                      describe(node));
      } else {
        error(at, path + ": expected a map, got " + describe(node));
      }
      return std::nullopt;
    }
    MapView map;
    map.path = path;
    map.pos = at;
    std::string prefix = path.empty() ? "" : path + ": ";
    for (auto it = node.begin(); it != node.end(); ++it) {
      // Copies: it-> yields a temporary pair, so references into it would dangle.
      YAML::Node keyNode = it->first;
      YAML::Node valueNode = it->second;
      Pos keyPos = toPos(keyNode.Mark());
      if (!keyNode.IsScalar()) {
        error(keyPos, prefix + "expected a plain string as a key, got " + describe(keyNode));
        continue;
      }
      Entry entry;
      entry.key = keyNode.Scalar();
      entry.path = path.empty() ? entry.key : path + "." + entry.key;
      entry.value = valueNode;
      entry.keyPos = keyPos;
      entry.pos = toPos(entry.value.Mark());
      // An empty value ("key:" at the end of a line) is marked at the next token, which may be on
      // a later line: report it at the key instead.
      if (entry.value.IsNull() || entry.pos.line == 0) {
        if (entry.pos.line != keyPos.line) {
          entry.pos = keyPos;
        }
      }
      if (const Entry* first = map.find(entry.key)) {
        error(keyPos, prefix + "duplicate key " + quote(entry.key) + " (first given at line " +
                          std::to_string(first->keyPos.line) + "); expected each key once");
        continue;
      }
      if (std::find(accepted.begin(), accepted.end(), entry.key) == accepted.end()) {
        std::string message = prefix + "unknown key " + quote(entry.key);
        if (auto guess = suggest(entry.key, accepted)) {
          message += " (did you mean " + quote(*guess) + "?)";
        }
        error(keyPos, message + "; expected one of: " + joined(accepted));
        continue;
      }
      map.entries.push_back(std::move(entry));
    }
    return map;
  }

  // Optional sections written as "timeouts:" with nothing under them count as empty.
  std::optional<MapView> readSection(const Entry& e, const std::vector<std::string_view>& accepted) {
    if (e.value.IsNull()) {
      return MapView{e.path, e.pos, {}};
    }
    return readMap(e.value, e.pos, e.path, accepted);
  }

  bool requireKey(const MapView& map, std::string_view key, std::string_view hint) {
    if (map.find(key) != nullptr) {
      return true;
    }
    error(map.pos, (map.path.empty() ? "" : map.path + ": ") + "missing required key " + quote(key) +
                       (hint.empty() ? "" : " (" + std::string(hint) + ")"));
    return false;
  }

  std::optional<std::vector<Item>> readList(const Entry& e, std::string_view itemWhat, bool allowEmpty) {
    if (!e.value.IsSequence()) {
      error(e.pos, e.path + ": expected a list of " + std::string(itemWhat) + ", got " + describe(e.value));
      return std::nullopt;
    }
    if (e.value.size() == 0 && !allowEmpty) {
      error(e.pos, e.path + ": expected at least one entry in the list of " + std::string(itemWhat) +
                       ", got an empty list");
      return std::nullopt;
    }
    std::vector<Item> items;
    Pos listPos = e.pos;
    for (size_t i = 0; i < e.value.size(); ++i) {
      YAML::Node node = e.value[i];
      Pos pos = toPos(node.Mark());
      if (node.IsNull() || pos.line == 0) {
        pos = emptyItemPos(node, listPos);
      }
      items.push_back(Item{node, pos, e.path + "[" + std::to_string(i) + "]"});
    }
    return items;
  }

  bool readScalar(const Entry& e, std::string_view expected, std::string& out) {
    if (!e.value.IsScalar()) {
      error(e.pos, e.path + ": expected " + std::string(expected) + ", got " + describe(e.value));
      return false;
    }
    out = e.value.Scalar();
    return true;
  }

  bool readString(const Entry& e, std::string& out) { return readScalar(e, "a string", out); }

  bool readName(const Entry& e, std::string& out) {
    std::string text;
    if (!readScalar(e, "a name", text)) {
      return false;
    }
    if (!isValidName(text)) {
      error(e.pos, e.path + ": invalid name " + quote(text) +
                       "; expected 1 to 64 characters from A-Z, a-z, 0-9, '_', '.' and '-'");
      return false;
    }
    out = std::move(text);
    return true;
  }

  bool readBool(const Entry& e, bool& out) {
    std::string text;
    if (e.value.IsScalar()) {
      text = e.value.Scalar();
      if (text == "true" || text == "True" || text == "TRUE") {
        out = true;
        return true;
      }
      if (text == "false" || text == "False" || text == "FALSE") {
        out = false;
        return true;
      }
    }
    error(e.pos, e.path + ": expected a boolean (true/false), got " + describe(e.value));
    return false;
  }

  bool readUint(const Entry& e, int64_t lo, int64_t hi, uint32_t& out) {
    std::string range = std::to_string(lo) + ".." + std::to_string(hi);
    std::string text = e.value.IsScalar() ? e.value.Scalar() : "";
    std::string_view digits = text;
    bool negative = !digits.empty() && digits.front() == '-';
    if (negative || (!digits.empty() && digits.front() == '+')) {
      digits.remove_prefix(1);
    }
    if (!e.value.IsScalar() || !isDigits(digits)) {
      error(e.pos, e.path + ": expected an integer in " + range + ", got " + describe(e.value));
      return false;
    }
    // Anything longer than 12 digits is out of every range here; avoid overflow while parsing.
    int64_t value = digits.size() > 12 ? INT64_MAX : std::stoll(std::string(digits));
    if (negative) {
      value = -value;
    }
    if (value < lo || value > hi) {
      error(e.pos, e.path + ": must be between " + std::to_string(lo) + " and " + std::to_string(hi) +
                       ", got " + text);
      return false;
    }
    out = static_cast<uint32_t>(value);
    return true;
  }

  bool readDuration(const Entry& e, Millis& out) { return readDuration(e, kMinTimeout, kMaxTimeout, out); }

  bool readDuration(const Entry& e, Millis lo, Millis hi, Millis& out) {
    std::string text;
    if (!readScalar(e, "a duration such as 250ms, 5s, 2m or 1h", text)) {
      return false;
    }
    Millis value{};
    std::string why;
    if (!parseDuration(text, value, why)) {
      error(e.pos, e.path + ": " + why);
      return false;
    }
    if (value < lo || value > hi) {
      error(e.pos, e.path + ": must be between " + formatDuration(lo) + " and " + formatDuration(hi) +
                       ", got " + text);
      return false;
    }
    out = value;
    return true;
  }

  // Returns the index of the value in `choices`, or nullopt after reporting an error.
  // With `hint`, a close misspelling gets a "did you mean" (for long lists of long names).
  std::optional<size_t> readChoice(const Entry& e, const std::vector<std::string_view>& choices,
                                   bool hint = false) {
    std::string text;
    if (!readScalar(e, "one of: " + joined(choices), text)) {
      return std::nullopt;
    }
    for (size_t i = 0; i < choices.size(); ++i) {
      if (text == choices[i]) {
        return i;
      }
    }
    std::string message = e.path + ": unknown value " + quote(text);
    std::optional<std::string_view> guess;
    if (hint) {
      auto sameLetters = [&](std::string_view word) {
        return std::equal(text.begin(), text.end(), word.begin(), word.end(),
                          [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) ==
                                                      std::tolower(static_cast<unsigned char>(b)); });
      };
      auto it = std::find_if(choices.begin(), choices.end(), sameLetters);
      guess = it != choices.end() ? std::optional<std::string_view>(*it) : suggest(text, choices);
    }
    if (guess) {
      message += " (did you mean " + quote(*guess) + "?)";
    }
    error(e.pos, message + "; expected one of: " + joined(choices));
    return std::nullopt;
  }

  bool readPort(const Entry& e, int64_t lo, uint16_t& out) {
    uint32_t value = 0;
    if (!readUint(e, lo, 65535, value)) {
      return false;
    }
    out = static_cast<uint16_t>(value);
    return true;
  }

  bool readAddress(const Entry& e, SocketAddress& out) {
    if (!e.value.IsScalar()) {
      // Usually an unquoted [::1]:8080, which YAML reads as a list or a map.
      error(e.pos, e.path +
                       ": expected host:port such as 127.0.0.1:8080 or \"[::1]:8080\" (quote IPv6 "
                       "addresses), got " +
                       describe(e.value));
      return false;
    }
    std::string text = e.value.Scalar();
    std::string why;
    if (!parseSocketAddress(text, out, why)) {
      error(e.pos, e.path + ": " + why);
      return false;
    }
    return true;
  }

  // --- the schema ---

  void readTop(const YAML::Node& root) {
    Pos rootPos = toPos(root.Mark());
    auto top = readMap(root, rootPos.line == 0 ? Pos{1, 1} : rootPos, "", kTopKeys);
    if (!top) {
      return;
    }
    if (const Entry* e = top->find("workers")) {
      readUint(*e, 0, 1024, config_.workers);
    }
    if (const Entry* e = top->find("log_level")) {
      if (auto i = readChoice(*e, kLogLevels)) {
        config_.log_level = std::string(kLogLevels[*i]);
      }
    }
    if (const Entry* e = top->find("timeouts")) {
      readTimeouts(*e);
    }
    if (requireKey(*top, "pools", "at least one pool of servers")) {
      readPools(*top->find("pools"));
    }
    if (requireKey(*top, "listeners", "at least one listener")) {
      readListeners(*top->find("listeners"));
    }
    checkPoolReferences();
    checkHashKeys();
  }

  void readTimeouts(const Entry& e) {
    auto map = readSection(e, kTimeoutKeys);
    if (!map) {
      return;
    }
    Timeouts& t = config_.timeouts;
    std::pair<std::string_view, Millis*> fields[] = {{"connect", &t.connect},
                                                     {"idle", &t.idle},
                                                     {"queue", &t.queue},
                                                     {"drain", &t.drain},
                                                     {"handshake", &t.handshake}};
    for (auto& [key, target] : fields) {
      if (const Entry* field = map->find(key)) {
        readDuration(*field, *target);
      }
    }
  }

  // Where each listener's cross-checked values came from, for dangling-reference errors.
  struct ListenerRefs {
    std::string path;
    Pos poolPos;
    bool poolRead = false;
    bool protocolRead = false;
  };

  // A pool whose hash key needs an L7 listener, checked against the listeners that use it.
  struct HashKeyRef {
    size_t pool;  // index into config_.pools
    std::string path;
    Pos pos;
  };

  struct Named {
    std::string name;
    Pos pos;
  };

  void readListeners(const Entry& e) {
    auto items = readList(e, "listeners", false);
    if (!items) {
      return;
    }
    std::vector<Named> names;
    struct Bound {
      SocketAddress address;
      Protocol protocol;
      std::string listener;
      Pos pos;
    };
    std::vector<Bound> binds;
    for (const Item& item : *items) {
      auto map = readMap(item.node, item.pos, item.path, kListenerKeys);
      if (!map) {
        continue;
      }
      Listener l;
      ListenerRefs refs;
      bool haveName =
          requireKey(*map, "name", "a unique listener name") && readName(*map->find("name"), l.name);
      if (haveName) {
        const Entry* nameEntry = map->find("name");
        auto dup = std::find_if(names.begin(), names.end(), [&](const Named& n) { return n.name == l.name; });
        if (dup != names.end()) {
          error(nameEntry->pos, nameEntry->path + ": duplicate listener name " + quote(l.name) +
                                    " (first used at line " + std::to_string(dup->pos.line) +
                                    "); expected unique names");
        } else {
          names.push_back({l.name, nameEntry->pos});
        }
      }
      bool haveBind = requireKey(*map, "bind", "host:port to listen on, e.g. 127.0.0.1:8080") &&
                      readAddress(*map->find("bind"), l.bind);
      bool haveProtocol = true;
      if (const Entry* p = map->find("protocol")) {
        haveProtocol = readProtocol(*p, l.protocol);
      }
      refs.protocolRead = haveProtocol;
      if (requireKey(*map, "pool", "the name of the pool that serves this listener")) {
        const Entry* p = map->find("pool");
        refs.path = p->path;
        refs.poolPos = p->pos;
        refs.poolRead = readString(*p, l.pool);
      }
      bool proxyKnown = true;
      if (const Entry* p = map->find("proxy_protocol")) {
        proxyKnown = readBool(*p, l.accept_proxy);
        if (proxyKnown && l.accept_proxy && haveProtocol && l.protocol == Protocol::Udp) {
          error(p->pos, p->path +
                            ": PROXY protocol is only supported on tcp listeners; expected false "
                            "(or no proxy_protocol key) for protocol udp");
        }
      }
      if (const Entry* p = map->find("trusted_proxies")) {
        readTrustedProxies(*p, l.trusted_proxies);
        if (proxyKnown && !l.accept_proxy && p->value.IsSequence() && p->value.size() > 0) {
          error(p->keyPos, p->path +
                               ": only meaningful with proxy_protocol: true; expected proxy_protocol: "
                               "true on this listener, or no trusted_proxies");
        }
      }
      if (const Entry* p = map->find("backlog")) {
        readUint(*p, 1, 65535, l.backlog);
      }
      if (const Entry* p = map->find("udp")) {
        if (haveProtocol && l.protocol != Protocol::Udp) {
          error(p->keyPos, p->path +
                               ": only valid with protocol: udp; expected no udp section on a tcp "
                               "listener");
        }
        readUdp(*p, l);
      }
      if (haveBind && haveProtocol) {
        auto dup = std::find_if(binds.begin(), binds.end(), [&](const Bound& b) {
          return b.protocol == l.protocol && sameEndpoint(b.address, l.bind);
        });
        const Entry* bindEntry = map->find("bind");
        if (dup != binds.end()) {
          error(bindEntry->pos, bindEntry->path + ": duplicate bind " + l.bind.text + "/" +
                                    (l.protocol == Protocol::Tcp ? "tcp" : "udp") +
                                    ", already used by listener " + quote(dup->listener) + " at line " +
                                    std::to_string(dup->pos.line) +
                                    "; expected each address and protocol once");
        } else {
          binds.push_back({l.bind, l.protocol, l.name, bindEntry->pos});
        }
      }
      config_.listeners.push_back(std::move(l));
      listenerRefs_.push_back(refs);
    }
  }

  bool readProtocol(const Entry& e, Protocol& out) {
    std::string text;
    if (!readScalar(e, "tcp or udp", text)) {
      return false;
    }
    if (text == "tcp") {
      out = Protocol::Tcp;
      return true;
    }
    if (text == "udp") {
      out = Protocol::Udp;
      return true;
    }
    if (text == "http") {
      error(e.pos, e.path + ": protocol http is not supported yet; expected tcp or udp");
    } else {
      error(e.pos, e.path + ": unknown protocol " + quote(text) + "; expected tcp or udp");
    }
    return false;
  }

  void readTrustedProxies(const Entry& e, std::vector<Cidr>& out) {
    auto items = readList(e, "addresses or CIDR ranges", true);
    if (!items) {
      return;
    }
    for (const Item& item : *items) {
      if (!item.node.IsScalar()) {
        error(item.pos, item.path + ": expected an address or CIDR range such as 10.0.0.0/8, got " +
                            describe(item.node));
        continue;
      }
      Cidr cidr;
      std::string why;
      if (!parseCidr(item.node.Scalar(), cidr, why)) {
        error(item.pos, item.path + ": " + why);
        continue;
      }
      out.push_back(std::move(cidr));
    }
  }

  void readUdp(const Entry& e, Listener& l) {
    auto map = readSection(e, kUdpKeys);
    if (!map) {
      return;
    }
    if (const Entry* p = map->find("flow_idle")) {
      readDuration(*p, l.udp_flow_idle);
    }
    if (const Entry* p = map->find("max_flows")) {
      readUint(*p, 1, 1'000'000, l.udp_max_flows);
    }
  }

  void readPools(const Entry& e) {
    auto items = readList(e, "pools", false);
    if (!items) {
      return;
    }
    poolsComplete_ = true;
    for (const Item& item : *items) {
      auto map = readMap(item.node, item.pos, item.path, kPoolKeys);
      if (!map) {
        poolsComplete_ = false;
        continue;
      }
      Pool pool;
      if (requireKey(*map, "name", "a unique pool name") && readName(*map->find("name"), pool.name)) {
        const Entry* nameEntry = map->find("name");
        auto dup = std::find_if(poolNames_.begin(), poolNames_.end(),
                                [&](const Named& n) { return n.name == pool.name; });
        if (dup != poolNames_.end()) {
          error(nameEntry->pos, nameEntry->path + ": duplicate pool name " + quote(pool.name) +
                                    " (first used at line " + std::to_string(dup->pos.line) +
                                    "); expected unique names");
        } else {
          poolNames_.push_back({pool.name, nameEntry->pos});
        }
      } else {
        poolsComplete_ = false;
      }
      bool algorithmKnown = true;
      if (const Entry* p = map->find("algorithm")) {
        auto i = readChoice(*p, kAlgorithms, true);
        algorithmKnown = i.has_value();
        if (i) {
          pool.algorithm = static_cast<Algorithm>(*i);
        }
      }
      readBalancing(*map, pool, algorithmKnown);
      if (const Entry* p = map->find("retries")) {
        readUint(*p, 0, 10, pool.retries);
      }
      if (const Entry* p = map->find("queue_size")) {
        readUint(*p, 0, 100'000, pool.queue_size);
      }
      if (const Entry* p = map->find("send_proxy_protocol")) {
        if (auto i = readChoice(*p, {"none", "v1", "v2"})) {
          const ProxyProtocolVersion versions[] = {ProxyProtocolVersion::None, ProxyProtocolVersion::V1,
                                                   ProxyProtocolVersion::V2};
          pool.send_proxy = versions[*i];
        }
      }
      if (const Entry* p = map->find("health_check")) {
        readHealthCheck(*p, pool.health_check);
      } else {
        HealthCheck& h = pool.health_check;
        h.jitter = h.interval / 10;
      }
      if (const Entry* p = map->find("outlier_detection")) {
        readOutlierDetection(*p, pool.outlier_detection);
      }
      if (requireKey(*map, "servers", "at least one server address")) {
        readServers(*map->find("servers"), pool);
      }
      config_.pools.push_back(std::move(pool));
    }
  }

  // hash_key, vnodes, slow_start and panic_threshold. `algorithmKnown` is false when the pool's
  // algorithm could not be read: the algorithm-specific keys are then not blamed on it.
  void readBalancing(const MapView& map, Pool& pool, bool algorithmKnown) {
    std::string algorithm(kAlgorithms[static_cast<size_t>(pool.algorithm)]);
    if (const Entry* p = map.find("hash_key")) {
      if (readHashKey(*p, pool.hash_key) && algorithmKnown) {
        if (!hashesOnKey(pool.algorithm)) {
          error(p->keyPos, p->path + ": only meaningful with algorithm ip_hash, consistent_hash or maglev; "
                                     "expected no hash_key with algorithm " + algorithm);
        } else if (pool.algorithm == Algorithm::IpHash &&
                   pool.hash_key.source != HashKeySource::ClientAddress) {
          error(p->pos, p->path + ": ip_hash hashes the client address only; expected client_address, got " +
                            hashKeyText(pool.hash_key) + " (use consistent_hash or maglev for other keys)");
        } else if (pool.hash_key.source != HashKeySource::ClientAddress) {
          hashKeyRefs_.push_back({config_.pools.size(), p->path, p->pos});
        }
      }
    }
    if (const Entry* p = map.find("vnodes")) {
      if (readUint(*p, 1, 10'000, pool.vnodes) && algorithmKnown && pool.algorithm != Algorithm::ConsistentHash) {
        error(p->keyPos, p->path + ": only meaningful with algorithm consistent_hash; expected no vnodes "
                                   "with algorithm " + algorithm);
      }
    }
    if (const Entry* p = map.find("slow_start")) {
      readDuration(*p, 0ms, kMaxCheckDuration, pool.slow_start);
    }
    if (const Entry* p = map.find("panic_threshold")) {
      readUint(*p, 0, 100, pool.panic_threshold);
    }
  }

  // "client_address", "path", "header:NAME" or "cookie:NAME".
  bool readHashKey(const Entry& e, HashKey& out) {
    const std::string expected = "client_address, path, header:NAME or cookie:NAME";
    std::string text;
    if (e.value.IsMap() && e.value.size() == 1 && e.value.begin()->first.IsScalar()) {
      std::string kind = e.value.begin()->first.Scalar();
      if (kind == "header" || kind == "cookie") {
        // "header: X-User" (a space after the colon) is a YAML map.
        error(e.pos, e.path + ": expected " + kind + ":NAME without a space after the colon, e.g. " +
                         (kind == "header" ? "header:X-User" : "cookie:session") + ", got a map");
        return false;
      }
    }
    if (!readScalar(e, expected, text)) {
      return false;
    }
    if (text == "client_address") {
      out = HashKey{HashKeySource::ClientAddress, ""};
      return true;
    }
    if (text == "path") {
      out = HashKey{HashKeySource::Path, ""};
      return true;
    }
    size_t colon = text.find(':');
    std::string_view kind = std::string_view(text).substr(0, colon);
    if (colon != std::string::npos && (kind == "header" || kind == "cookie")) {
      std::string name = text.substr(colon + 1);
      if (!isToken(name)) {
        error(e.pos, e.path + ": invalid " + std::string(kind) + " name " + quote(name) + " in " + quote(text) +
                         "; expected a name of letters, digits and !#$%&'*+-.^_`|~ such as " +
                         (kind == "header" ? "header:X-User" : "cookie:session"));
        return false;
      }
      out = HashKey{kind == "header" ? HashKeySource::Header : HashKeySource::Cookie, std::move(name)};
      return true;
    }
    error(e.pos, e.path + ": unknown hash key " + quote(text) + "; expected " + expected);
    return false;
  }

  // The interval/timeout pair shared by health and agent checks: timeout must fit in the interval.
  void checkTimeoutFits(const Entry* timeoutEntry, const Entry* intervalEntry, bool intervalRead,
                        Millis timeout, Millis interval) {
    if (timeout <= interval || !intervalRead) {
      return;
    }
    if (timeoutEntry != nullptr) {
      error(timeoutEntry->pos, timeoutEntry->path + ": " + formatDuration(timeout) + " is longer than interval " +
                                   formatDuration(interval) + "; expected a timeout <= interval");
    } else {
      error(intervalEntry->pos, intervalEntry->path + ": " + formatDuration(interval) +
                                    " is shorter than the default timeout " + formatDuration(timeout) +
                                    "; expected an interval >= timeout, or set a shorter timeout");
    }
  }

  void readHealthCheck(const Entry& e, HealthCheck& h) {
    auto map = readSection(e, kHealthCheckKeys);
    if (!map) {
      return;
    }
    const Entry* http = map->find("http");
    bool typeKnown = true;
    if (const Entry* p = map->find("type")) {
      auto i = readChoice(*p, kCheckTypes);
      typeKnown = i.has_value();
      if (i) {
        h.type = static_cast<CheckType>(*i);
      }
    } else {
      // A health_check section without a type means a check is wanted: http if configured, else tcp.
      h.type = http != nullptr ? CheckType::Http : CheckType::Tcp;
    }
    const Entry* interval = map->find("interval");
    bool intervalRead =
        interval == nullptr || readDuration(*interval, kMinCheckInterval, kMaxCheckDuration, h.interval);
    const Entry* timeout = map->find("timeout");
    bool timeoutRead = timeout == nullptr || readDuration(*timeout, kMinTimeout, kMaxCheckDuration, h.timeout);
    if (timeoutRead) {
      checkTimeoutFits(timeout, interval, intervalRead, h.timeout, h.interval);
    }
    h.jitter = h.interval / 10;
    if (const Entry* p = map->find("jitter")) {
      if (readDuration(*p, 0ms, kMaxCheckDuration, h.jitter) && intervalRead && h.jitter > h.interval) {
        error(p->pos, p->path + ": " + formatDuration(h.jitter) + " is longer than interval " +
                          formatDuration(h.interval) + "; expected a jitter between 0ms and the interval");
      }
    }
    if (const Entry* p = map->find("rise")) {
      readUint(*p, 1, 100, h.rise);
    }
    if (const Entry* p = map->find("fall")) {
      readUint(*p, 1, 100, h.fall);
    }
    if (const Entry* p = map->find("port")) {
      readPort(*p, 0, h.port);
    }
    if (http != nullptr) {
      if (typeKnown && h.type == CheckType::Tcp) {
        error(http->keyPos, http->path + ": only valid with type: http; expected no http section with type tcp");
      }
      readHttpCheck(*http, h);
    }
  }

  void readHttpCheck(const Entry& e, HealthCheck& h) {
    auto map = readSection(e, kHttpCheckKeys);
    if (!map) {
      return;
    }
    if (const Entry* p = map->find("method")) {
      if (auto i = readChoice(*p, kCheckMethods, true)) {
        h.method = std::string(kCheckMethods[*i]);
      }
    }
    if (const Entry* p = map->find("path")) {
      std::string text;
      if (readScalar(*p, "a request path such as /healthz", text)) {
        auto bad = std::find_if(text.begin(), text.end(), [](char c) { return c <= ' ' || c >= 0x7f; });
        if (text.empty() || text.front() != '/') {
          error(p->pos, p->path + ": expected a path starting with '/', such as /healthz, got " + quote(text));
        } else if (bad != text.end()) {
          error(p->pos, p->path + ": invalid character in " + quote(text) +
                            "; expected printable ASCII without spaces (percent-encode others, e.g. %20)");
        } else {
          h.path = std::move(text);
        }
      }
    }
    if (const Entry* p = map->find("host")) {
      std::string text;
      if (readScalar(*p, "a Host header value such as example.com", text)) {
        bool ok = !text.empty() && text.size() <= 255 && std::all_of(text.begin(), text.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 std::string_view("-._:[]").find(c) != std::string_view::npos;
        });
        if (!ok) {
          error(p->pos, p->path + ": invalid Host header " + quote(text) +
                            "; expected a host name or address with an optional port, such as example.com or "
                            "example.com:8080");
        } else {
          h.host = std::move(text);
        }
      }
    }
    if (const Entry* p = map->find("expect_status")) {
      readExpectStatus(*p, h.expect_status);
    }
    if (const Entry* p = map->find("body_contains")) {
      std::string text;
      if (readString(*p, text)) {
        if (text.size() > kMaxBodyContains) {
          error(p->pos, p->path + ": " + std::to_string(text.size()) + " bytes is too long; expected at most " +
                            std::to_string(kMaxBodyContains) + " bytes");
        } else {
          h.body_contains = std::move(text);
        }
      }
    }
  }

  // One status code or range: 204, "200-399".
  bool parseStatusRange(const YAML::Node& node, Pos pos, const std::string& path, std::pair<int, int>& out) {
    const std::string expected = "a status code or range within 100..599, such as 200 or \"200-399\"";
    if (!node.IsScalar()) {
      error(pos, path + ": expected " + expected + ", got " + describe(node));
      return false;
    }
    std::string_view text = node.Scalar();
    size_t dash = text.find('-');
    std::string_view lo = text.substr(0, dash);
    std::string_view hi = dash == std::string_view::npos ? lo : text.substr(dash + 1);
    if (!isDigits(lo) || !isDigits(hi) || lo.size() > 3 || hi.size() > 3) {
      error(pos, path + ": expected " + expected + ", got " + describe(node));
      return false;
    }
    int low = std::stoi(std::string(lo));
    int high = std::stoi(std::string(hi));
    if (low < 100 || high > 599 || low > 599 || high < 100) {
      error(pos, path + ": status codes must be between 100 and 599, got " + quote(text));
      return false;
    }
    if (low > high) {
      error(pos, path + ": empty status range " + quote(text) + "; expected low-high with low <= high");
      return false;
    }
    out = {low, high};
    return true;
  }

  void readExpectStatus(const Entry& e, std::vector<std::pair<int, int>>& out) {
    std::vector<std::pair<int, int>> ranges;
    bool ok = true;
    if (e.value.IsSequence()) {
      auto items = readList(e, "status codes or ranges", false);
      if (!items) {
        return;
      }
      for (const Item& item : *items) {
        std::pair<int, int> range;
        if (parseStatusRange(item.node, item.pos, item.path, range)) {
          ranges.push_back(range);
        } else {
          ok = false;
        }
      }
    } else {
      std::pair<int, int> range;
      ok = parseStatusRange(e.value, e.pos, e.path, range);
      ranges.push_back(range);
    }
    if (ok) {
      out = std::move(ranges);
    }
  }

  void readOutlierDetection(const Entry& e, OutlierDetection& o) {
    auto map = readSection(e, kOutlierKeys);
    if (!map) {
      return;
    }
    o.enabled = true;
    if (const Entry* p = map->find("max_fails")) {
      readUint(*p, 1, 1000, o.max_fails);
    }
    if (const Entry* p = map->find("fail_timeout")) {
      readDuration(*p, kMinTimeout, kMaxCheckDuration, o.fail_timeout);
    }
    const Entry* ejection = map->find("ejection_time");
    bool ejectionRead = ejection == nullptr || readDuration(*ejection, o.ejection_time);
    const Entry* maxEjection = map->find("max_ejection_time");
    bool maxRead = maxEjection == nullptr || readDuration(*maxEjection, o.max_ejection_time);
    if (ejectionRead && maxRead && o.max_ejection_time < o.ejection_time) {
      if (maxEjection != nullptr) {
        error(maxEjection->pos, maxEjection->path + ": " + formatDuration(o.max_ejection_time) +
                                    " is shorter than ejection_time " + formatDuration(o.ejection_time) +
                                    "; expected max_ejection_time >= ejection_time");
      } else {
        error(ejection->pos, ejection->path + ": " + formatDuration(o.ejection_time) +
                                 " is longer than max_ejection_time (" + formatDuration(o.max_ejection_time) +
                                 " by default); expected ejection_time <= max_ejection_time, or set a larger "
                                 "max_ejection_time");
      }
    }
    if (const Entry* p = map->find("max_ejection_percent")) {
      readUint(*p, 0, 100, o.max_ejection_percent);
    }
    if (const Entry* p = map->find("error_rate")) {
      readUint(*p, 0, 100, o.error_rate_percent);
    }
    if (const Entry* p = map->find("error_rate_window")) {
      readDuration(*p, kMinTimeout, kMaxCheckDuration, o.error_rate_window);
    }
    if (const Entry* p = map->find("error_rate_min_requests")) {
      readUint(*p, 1, 1'000'000, o.error_rate_min_requests);
    }
  }

  void readWeight(const Entry& e, uint32_t& out) {
    if (e.value.IsScalar()) {
      std::string_view text = e.value.Scalar();
      std::string_view digits = text.substr(!text.empty() && text.front() == '-' ? 1 : 0);
      if (isDigits(digits) && (text.front() == '-' || digits.find_first_not_of('0') == std::string_view::npos)) {
        error(e.pos, e.path + ": expected a weight between 1 and 256; use drain: true to stop new connections "
                              "(got " + std::string(text) + ")");
        return;
      }
    }
    readUint(e, 1, 256, out);
  }

  void readAgent(const Entry& e, AgentCheck& a) {
    auto map = readSection(e, kAgentKeys);
    if (!map) {
      return;
    }
    if (requireKey(*map, "port", "the agent's TCP port, 1..65535")) {
      readPort(*map->find("port"), 1, a.port);
    }
    const Entry* interval = map->find("interval");
    bool intervalRead =
        interval == nullptr || readDuration(*interval, kMinCheckInterval, kMaxCheckDuration, a.interval);
    const Entry* timeout = map->find("timeout");
    if (timeout == nullptr || readDuration(*timeout, kMinTimeout, kMaxCheckDuration, a.timeout)) {
      checkTimeoutFits(timeout, interval, intervalRead, a.timeout, a.interval);
    }
  }

  void readServers(const Entry& e, Pool& pool) {
    auto items = readList(e, "servers", false);
    if (!items) {
      return;
    }
    std::vector<Pos> addressPos;  // parallel to pool.servers
    for (const Item& item : *items) {
      auto map = readMap(item.node, item.pos, item.path, kServerKeys);
      if (!map) {
        continue;
      }
      Server server;
      bool haveAddress = requireKey(*map, "address", "host:port of the server, e.g. 127.0.0.1:9001") &&
                         readAddress(*map->find("address"), server.address);
      if (const Entry* p = map->find("weight")) {
        readWeight(*p, server.weight);
      }
      if (const Entry* p = map->find("max_connections")) {
        readUint(*p, 0, 1'000'000, server.max_connections);
      }
      if (const Entry* p = map->find("backup")) {
        readBool(*p, server.backup);
      }
      if (const Entry* p = map->find("drain")) {
        readBool(*p, server.drain);
      }
      if (const Entry* p = map->find("agent")) {
        readAgent(*p, server.agent);
      }
      if (!haveAddress) {
        continue;
      }
      const Entry* a = map->find("address");
      bool duplicate = false;
      for (size_t i = 0; i < pool.servers.size(); ++i) {
        if (sameEndpoint(pool.servers[i].address, server.address)) {
          error(a->pos, a->path + ": duplicate server " + server.address.text +
                            " in this pool (first at line " + std::to_string(addressPos[i].line) +
                            "); expected each address once per pool");
          duplicate = true;
          break;
        }
      }
      if (!duplicate) {
        pool.servers.push_back(std::move(server));
        addressPos.push_back(a->pos);
      }
    }
  }

  void checkPoolReferences() {
    // When a pool entry is broken its name may be unknown; a "dangling" report would then be noise.
    if (!poolsComplete_) {
      return;
    }
    std::vector<std::string_view> defined;
    for (const auto& n : poolNames_) {
      defined.push_back(n.name);
    }
    for (size_t i = 0; i < config_.listeners.size(); ++i) {
      const Listener& l = config_.listeners[i];
      const ListenerRefs& refs = listenerRefs_[i];
      if (!refs.poolRead || config_.findPool(l.pool) != nullptr) {
        continue;
      }
      std::string message = refs.path + ": pool " + quote(l.pool) + " is not defined";
      if (auto guess = suggest(l.pool, defined)) {
        message += " (did you mean " + quote(*guess) + "?)";
      }
      error(refs.poolPos, message + "; expected one of the pools: " + joined(defined));
    }
  }

  // Header, cookie and path keys need an HTTP listener; today every listener is L4 (tcp or udp).
  void checkHashKeys() {
    for (const HashKeyRef& ref : hashKeyRefs_) {
      const Pool& pool = config_.pools[ref.pool];
      for (size_t i = 0; i < config_.listeners.size(); ++i) {
        const Listener& l = config_.listeners[i];
        if (!listenerRefs_[i].poolRead || !listenerRefs_[i].protocolRead || l.pool != pool.name) {
          continue;
        }
        std::string who = l.name.empty() ? "listeners[" + std::to_string(i) + "]" : l.name;
        error(ref.pos, ref.path + ": listener " + who + " (" + (l.protocol == Protocol::Tcp ? "tcp" : "udp") +
                           ") cannot provide " + hashKeyText(pool.hash_key) +
                           "; L4 listeners hash on client_address (expected hash_key: client_address)");
      }
    }
  }

  LoadResult finish() {
    LoadResult result;
    std::stable_sort(errors_.begin(), errors_.end(), [](const Diagnostic& a, const Diagnostic& b) {
      return std::tie(a.line, a.column) < std::tie(b.line, b.column);
    });
    result.errors = std::move(errors_);
    if (result.errors.empty()) {
      config_.source = source_;
      result.config = std::make_shared<const Config>(std::move(config_));
    }
    return result;
  }

  std::string_view text_;
  std::string source_;
  std::vector<Diagnostic> errors_;
  Config config_;
  std::vector<ListenerRefs> listenerRefs_;  // parallel to config_.listeners
  std::vector<Named> poolNames_;
  std::vector<HashKeyRef> hashKeyRefs_;
  bool poolsComplete_ = false;  // every pool entry was a map with a valid name
};

}  // namespace

LoadResult loadString(std::string_view yaml, const std::string& sourceName) {
  return Loader(yaml, sourceName).run();
}

LoadResult loadFile(const std::string& path) {
  std::string text;
  int savedErrno = 0;
  FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    savedErrno = errno;
  } else {
    char buffer[16384];
    size_t n;
    errno = 0;
    while ((n = std::fread(buffer, 1, sizeof(buffer), file)) > 0) {
      text.append(buffer, n);
    }
    if (std::ferror(file)) {
      savedErrno = errno != 0 ? errno : EIO;  // e.g. EISDIR when the path is a directory
    }
    std::fclose(file);
  }
  if (savedErrno != 0) {
    LoadResult result;
    result.errors.push_back(
        Diagnostic{path, 0, 0, std::string("cannot read config file: ") + std::strerror(savedErrno)});
    return result;
  }
  return loadString(text, path);
}

}  // namespace fulcrum::config
