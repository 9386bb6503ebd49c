#include "handover/wire.h"

#include <charconv>
#include <limits>

namespace fulcrum::handover {

namespace {

bool printable(char c) { return c >= ' ' && c <= '~'; }

std::vector<std::string> splitSpaces(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    size_t start = i;
    while (i < s.size() && s[i] != ' ') ++i;
    if (i > start) {
      out.emplace_back(s.substr(start, i - start));
    }
  }
  return out;
}

template <class T>
bool parseNumber(std::string_view s, T& out, T max = std::numeric_limits<T>::max()) {
  T v{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v > max) {
    return false;
  }
  out = v;
  return true;
}

bool validName(std::string_view n) {
  if (n.empty() || n.size() > 64) return false;
  for (char c : n) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == '-';
    if (!ok) return false;
  }
  return true;
}

// An "error" from the peer, or a message that is not the one expected.
Error unexpected(const Message& m, std::string_view wanted) {
  if (m.verb == "error") {
    return Error{m.args.empty() ? "the peer reported an error" : m.args[0]};
  }
  return Error{"protocol error: expected \"" + std::string(wanted) + "\", got \"" + m.verb + "\""};
}

Result<pid_t> pidArg(const Message& m, size_t at, std::string_view verb) {
  pid_t pid = 0;
  if (m.args.size() <= at || !parseNumber<pid_t>(m.args[at], pid) || pid <= 0) {
    return Error{"protocol error: \"" + std::string(verb) + "\" without a valid pid"};
  }
  return pid;
}

Status checkVersion(const Message& m, std::string_view verb) {
  int v = 0;
  if (m.args.empty() || !parseNumber<int>(m.args[0], v)) {
    return Error{"protocol error: \"" + std::string(verb) + "\" without a protocol version"};
  }
  if (v != kProtocolVersion) {
    return Error{"the peer speaks handover protocol " + m.args[0] + ", this binary " +
                 std::to_string(kProtocolVersion)};
  }
  return {};
}

}  // namespace

std::string socketKey(SocketKind kind, std::string_view address) {
  std::string out = kind == SocketKind::Udp ? "udp " : "tcp ";
  out += address;
  return out;
}

Result<Message> parseMessage(std::string_view text) {
  if (text.empty()) {
    return Error{"protocol error: an empty message"};
  }
  if (text.size() > kMaxMessageBytes) {
    return Error{"protocol error: a message of " + std::to_string(text.size()) + " bytes (at most " +
                 std::to_string(kMaxMessageBytes) + ")"};
  }
  for (char c : text) {
    if (c != '\n' && !printable(c)) {
      return Error{"protocol error: a message with a control or non-ASCII byte"};
    }
  }
  Message m;
  size_t eol = text.find('\n');
  std::string_view first = text.substr(0, eol);
  size_t sp = first.find(' ');
  m.verb = std::string(first.substr(0, sp));
  if (m.verb.empty()) {
    return Error{"protocol error: a message without a verb"};
  }
  std::string_view rest = sp == std::string_view::npos ? std::string_view() : first.substr(sp + 1);
  if (m.verb == "error") {
    m.args.emplace_back(rest);
  } else {
    m.args = splitSpaces(rest);
  }
  while (eol != std::string_view::npos) {
    size_t start = eol + 1;
    eol = text.find('\n', start);
    std::string_view line = text.substr(start, eol == std::string_view::npos ? std::string_view::npos : eol - start);
    if (!line.empty()) {
      m.lines.emplace_back(line);
    }
  }
  return m;
}

std::string encodeTakeover(pid_t pid) {
  return "takeover " + std::to_string(kProtocolVersion) + " " + std::to_string(pid);
}

std::string encodeStatusRequest() { return "status " + std::to_string(kProtocolVersion); }

std::string encodeBegin(pid_t pid, size_t count) {
  return "begin " + std::to_string(kProtocolVersion) + " " + std::to_string(pid) + " " + std::to_string(count);
}

std::string encodeSockets(std::span<const SocketRecord> records) {
  std::string out = "sockets " + std::to_string(records.size());
  for (const auto& r : records) {
    out += '\n';
    out += r.kind == SocketKind::Udp ? "udp " : "tcp ";
    out += std::to_string(r.worker);
    out += ' ';
    out += r.address;
    out += ' ';
    out += r.listener;
  }
  return out;
}

std::string encodeEnd() { return "end"; }
std::string encodeReady(pid_t pid) { return "ready " + std::to_string(pid); }
std::string encodeDraining(uint64_t drainMs) { return "draining " + std::to_string(drainMs); }

std::string encodeStatus(pid_t pid, std::string_view version, std::string_view state) {
  return "running " + std::to_string(pid) + " " + std::string(version) + " " + std::string(state);
}

std::string encodeError(std::string_view text) {
  std::string out = "error ";
  for (char c : text) {
    out += printable(c) ? c : ' ';
  }
  return out.substr(0, kMaxMessageBytes);
}

Result<Begin> decodeBegin(const Message& m) {
  if (m.verb != "begin") {
    return unexpected(m, "begin");
  }
  if (auto st = checkVersion(m, "begin"); !st) {
    return Error{st.message()};
  }
  auto pid = pidArg(m, 1, "begin");
  if (!pid) {
    return pid.error();
  }
  Begin b;
  b.pid = *pid;
  // Far more than any config binds (listeners x workers), small enough to refuse garbage.
  if (m.args.size() != 3 || !parseNumber<size_t>(m.args[2], b.count, 1 << 20)) {
    return Error{"protocol error: \"begin\" without a valid socket count"};
  }
  return b;
}

Result<std::vector<SocketRecord>> decodeSockets(const Message& m, size_t fdCount) {
  if (m.verb != "sockets") {
    return unexpected(m, "sockets");
  }
  size_t announced = 0;
  if (m.args.size() != 1 || !parseNumber<size_t>(m.args[0], announced, kMaxFdsPerMessage) || announced == 0) {
    return Error{"protocol error: \"sockets\" without a count of 1.." + std::to_string(kMaxFdsPerMessage)};
  }
  if (m.lines.size() != announced) {
    return Error{"protocol error: \"sockets " + std::to_string(announced) + "\" with " +
                 std::to_string(m.lines.size()) + " records"};
  }
  if (fdCount != announced) {
    return Error{"descriptor count mismatch: a message of " + std::to_string(announced) + " sockets came with " +
                 std::to_string(fdCount) + " descriptors"};
  }
  std::vector<SocketRecord> out;
  for (const auto& line : m.lines) {
    auto f = splitSpaces(line);
    SocketRecord r;
    bool ok = f.size() == 4 && (f[0] == "tcp" || f[0] == "udp") && parseNumber<uint32_t>(f[1], r.worker, 4095) &&
              !f[2].empty() && validName(f[3]);
    if (!ok) {
      return Error{"protocol error: bad socket record \"" + line + "\""};
    }
    r.kind = f[0] == "udp" ? SocketKind::Udp : SocketKind::Tcp;
    r.address = f[2];
    r.listener = f[3];
    out.push_back(std::move(r));
  }
  return out;
}

Result<pid_t> decodeTakeover(const Message& m) {
  if (m.verb != "takeover") {
    return unexpected(m, "takeover");
  }
  if (auto st = checkVersion(m, "takeover"); !st) {
    return Error{st.message()};
  }
  return pidArg(m, 1, "takeover");
}

Result<pid_t> decodeReady(const Message& m) {
  if (m.verb != "ready") {
    return unexpected(m, "ready");
  }
  return pidArg(m, 0, "ready");
}

Result<uint64_t> decodeDraining(const Message& m) {
  if (m.verb != "draining") {
    return unexpected(m, "draining");
  }
  uint64_t ms = 0;
  if (m.args.size() != 1 || !parseNumber<uint64_t>(m.args[0], ms)) {
    return Error{"protocol error: \"draining\" without a duration"};
  }
  return ms;
}

bool isStatusRequest(const Message& m) { return m.verb == "status"; }

}  // namespace fulcrum::handover
