#include "net/proxy_protocol.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <string_view>
#include <type_traits>
#include <utility>

namespace fulcrum::net {

namespace {

constexpr uint8_t kV2Signature[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                      0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
constexpr size_t kV2FixedLength = 16;
constexpr uint8_t kV2Version = 0x2;
constexpr uint8_t kV2Local = 0x0;
constexpr uint8_t kV2Proxy = 0x1;
constexpr uint8_t kV2Unspec = 0x00;
constexpr uint8_t kV2Tcp4 = 0x11;
constexpr uint8_t kV2Udp4 = 0x12;
constexpr uint8_t kV2Tcp6 = 0x21;
constexpr uint8_t kV2Udp6 = 0x22;
constexpr uint8_t kV2UnixStream = 0x31;
constexpr uint8_t kV2UnixDgram = 0x32;
constexpr size_t kV2Inet4Length = 12;   // 2 x 4-byte address + 2 ports
constexpr size_t kV2Inet6Length = 36;   // 2 x 16-byte address + 2 ports
constexpr size_t kV2UnixLength = 216;   // 2 x 108-byte path
constexpr size_t kMaxIpv6Text = 45;     // INET6_ADDRSTRLEN - 1, e.g. ffff:...:255.255.255.255

ParseResult invalid(std::string why) {
  ParseResult r;
  r.status = ParseStatus::Invalid;
  r.error = std::move(why);
  return r;
}

ParseResult needMore() { return ParseResult{}; }

bool isDigit(char c) { return c >= '0' && c <= '9'; }

bool isIpv6Char(char c) {
  return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
}

// The token checks below accept a proper prefix of a valid token when !complete, so that
// parsing can say NeedMore for it and Invalid for anything else.

// Dotted quad, octets 0..255 without leading zeros.
bool checkIpv4(std::string_view tok, bool complete, uint8_t out[4]) {
  size_t octets = 0;  // octets already followed by a dot
  size_t i = 0;
  while (true) {
    size_t j = i;
    unsigned value = 0;
    while (j < tok.size() && isDigit(tok[j])) {
      if (j - i == 3) {
        return false;
      }
      value = value * 10 + static_cast<unsigned>(tok[j] - '0');
      ++j;
    }
    size_t digits = j - i;
    if (value > 255 || (digits > 1 && tok[i] == '0')) {
      return false;
    }
    if (j == tok.size()) {
      if (!complete) {
        return true;
      }
      if (digits == 0 || octets != 3) {
        return false;
      }
      out[3] = static_cast<uint8_t>(value);
      return true;
    }
    if (tok[j] != '.' || digits == 0 || octets == 3) {
      return false;
    }
    out[octets++] = static_cast<uint8_t>(value);
    i = j + 1;
  }
}

// Canonical-ish IPv6 as inet_pton reads it (hex groups, one "::", optional dotted IPv4 tail).
bool checkIpv6(std::string_view tok, bool complete, in6_addr* out) {
  if (tok.size() > kMaxIpv6Text || !std::all_of(tok.begin(), tok.end(), isIpv6Char)) {
    return false;
  }
  if (!complete) {
    return true;
  }
  char buf[kMaxIpv6Text + 1];
  std::memcpy(buf, tok.data(), tok.size());
  buf[tok.size()] = '\0';
  return inet_pton(AF_INET6, buf, out) == 1;
}

// Decimal 0..65535 without leading zeros.
bool checkPort(std::string_view tok, bool complete, uint16_t* out) {
  if (tok.size() > 5 || (tok.size() > 1 && tok[0] == '0') || (complete && tok.empty())) {
    return false;
  }
  uint32_t value = 0;
  for (char c : tok) {
    if (!isDigit(c)) {
      return false;
    }
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  if (value > 65535) {
    return false;
  }
  *out = static_cast<uint16_t>(value);
  return true;
}

template <class T>
void store(sockaddr_storage& storage, const T& addr) {
  static_assert(sizeof(T) <= sizeof(sockaddr_storage));
  std::memcpy(&storage, &addr, sizeof(T));
}

// Recursive-descent over the bytes received so far. Running out of bytes means NeedMore,
// unless the 107-byte limit is what cut the input.
class V1Parser {
 public:
  explicit V1Parser(std::span<const uint8_t> data)
      : s_(reinterpret_cast<const char*>(data.data()), std::min(data.size(), kProxyV1MaxLength)),
        capped_(data.size() >= kProxyV1MaxLength) {}

  ParseResult run() {
    if (Step st = literal("PROXY "); st != Step::Ok) {
      return fail(st, "not a PROXY protocol header");
    }
    static constexpr std::string_view kProtocols[] = {"TCP4 ", "TCP6 ", "UNKNOWN"};
    std::string_view rest = s_.substr(pos_);
    int protocol = -1;
    bool prefix = false;
    for (int i = 0; i < 3; ++i) {
      std::string_view p = kProtocols[i];
      size_t n = std::min(rest.size(), p.size());
      if (rest.substr(0, n) == p.substr(0, n)) {
        if (n == p.size()) {
          protocol = i;
        } else {
          prefix = true;
        }
      }
    }
    if (protocol < 0) {
      return fail(prefix ? Step::More : Step::Bad, "v1: protocol must be TCP4, TCP6 or UNKNOWN");
    }
    pos_ += kProtocols[protocol].size();
    if (protocol == 2) {
      return unknown();
    }
    return protocol == 0 ? addresses<sockaddr_in>() : addresses<sockaddr_in6>();
  }

 private:
  enum class Step { Ok, More, Bad };

  ParseResult fail(Step st, std::string_view what) {
    if (st == Step::Bad) {
      return invalid(std::string(what));
    }
    if (capped_) {
      return invalid("v1: no CRLF within 107 bytes");
    }
    return needMore();
  }

  ParseResult done(bool local) {
    ParseResult r;
    r.status = ParseStatus::Done;
    r.consumed = pos_;
    r.header.local = local;
    return r;
  }

  Step literal(std::string_view lit) {
    for (char c : lit) {
      if (pos_ == s_.size()) {
        return Step::More;
      }
      if (s_[pos_] != c) {
        return Step::Bad;
      }
      ++pos_;
    }
    return Step::Ok;
  }

  // A token up to (not including) `delim`; `check(token, complete)` validates it.
  template <class Check>
  Step token(char delim, Check check) {
    size_t end = s_.find(delim, pos_);
    if (end == std::string_view::npos) {
      return check(s_.substr(pos_), false) ? Step::More : Step::Bad;
    }
    if (!check(s_.substr(pos_, end - pos_), true)) {
      return Step::Bad;
    }
    pos_ = end;
    return Step::Ok;
  }

  // "UNKNOWN" then CRLF, or a space and anything but CR/LF up to the CRLF (ignored).
  ParseResult unknown() {
    if (pos_ < s_.size() && s_[pos_] == ' ') {
      for (++pos_; pos_ < s_.size(); ++pos_) {
        if (s_[pos_] == '\n') {
          return invalid("v1: LF without CR");
        }
        if (s_[pos_] == '\r') {
          break;
        }
      }
    }
    if (Step st = literal("\r\n"); st != Step::Ok) {
      return fail(st, "v1: expected CRLF after UNKNOWN");
    }
    return done(true);
  }

  template <class Sockaddr>
  ParseResult addresses() {
    constexpr bool kV4 = std::is_same_v<Sockaddr, sockaddr_in>;
    Sockaddr src{};
    Sockaddr dst{};
    auto address = [](Sockaddr& sa) {
      return [&sa](std::string_view tok, bool complete) {
        if constexpr (kV4) {
          uint8_t bytes[4];
          if (!checkIpv4(tok, complete, bytes)) {
            return false;
          }
          std::memcpy(&sa.sin_addr, bytes, 4);
          return true;
        } else {
          return checkIpv6(tok, complete, &sa.sin6_addr);
        }
      };
    };
    uint16_t srcPort = 0;
    uint16_t dstPort = 0;
    auto port = [](uint16_t& p) {
      return [&p](std::string_view tok, bool complete) { return checkPort(tok, complete, &p); };
    };
    const char* family = kV4 ? "IPv4" : "IPv6";
    Step st;
    if ((st = token(' ', address(src))) != Step::Ok) {
      return fail(st, std::string("v1: bad ") + family + " source address");
    }
    if ((st = literal(" ")) != Step::Ok) {
      return fail(st, "v1: expected one space");
    }
    if ((st = token(' ', address(dst))) != Step::Ok) {
      return fail(st, std::string("v1: bad ") + family + " destination address");
    }
    if ((st = literal(" ")) != Step::Ok) {
      return fail(st, "v1: expected one space");
    }
    if ((st = token(' ', port(srcPort))) != Step::Ok) {
      return fail(st, "v1: bad source port");
    }
    if ((st = literal(" ")) != Step::Ok) {
      return fail(st, "v1: expected one space");
    }
    if ((st = token('\r', port(dstPort))) != Step::Ok) {
      return fail(st, "v1: bad destination port");
    }
    if ((st = literal("\r\n")) != Step::Ok) {
      return fail(st, "v1: expected CRLF");
    }
    ParseResult r = done(false);
    if constexpr (kV4) {
      src.sin_family = dst.sin_family = AF_INET;
      src.sin_port = htons(srcPort);
      dst.sin_port = htons(dstPort);
    } else {
      src.sin6_family = dst.sin6_family = AF_INET6;
      src.sin6_port = htons(srcPort);
      dst.sin6_port = htons(dstPort);
    }
    store(r.header.source, src);
    store(r.header.destination, dst);
    return r;
  }

  std::string_view s_;
  bool capped_;
  size_t pos_ = 0;
};

ParseResult parseV2(std::span<const uint8_t> d) {
  if (std::memcmp(d.data(), kV2Signature, std::min(d.size(), sizeof(kV2Signature))) != 0) {
    return invalid("v2: bad signature");
  }
  if (d.size() <= 12) {
    return needMore();
  }
  if ((d[12] >> 4) != kV2Version) {
    return invalid("v2: unsupported version " + std::to_string(d[12] >> 4));
  }
  uint8_t command = d[12] & 0x0F;
  if (command != kV2Local && command != kV2Proxy) {
    return invalid("v2: unknown command " + std::to_string(command));
  }
  if (d.size() <= 13) {
    return needMore();
  }
  // LOCAL ignores the family byte; PROXY must carry one of the spec's combinations.
  uint8_t family = d[13];
  size_t addressLength = 0;
  if (command == kV2Proxy) {
    switch (family) {
      case kV2Unspec:
        break;
      case kV2Tcp4:
      case kV2Udp4:
        addressLength = kV2Inet4Length;
        break;
      case kV2Tcp6:
      case kV2Udp6:
        addressLength = kV2Inet6Length;
        break;
      case kV2UnixStream:
      case kV2UnixDgram:
        addressLength = kV2UnixLength;
        break;
      default:
        return invalid("v2: unknown family/transport byte " + std::to_string(family));
    }
  }
  if (d.size() < kV2FixedLength) {
    return needMore();
  }
  size_t length = (static_cast<size_t>(d[14]) << 8) | d[15];
  if (length > kProxyV2MaxPayload) {
    return invalid("v2: length " + std::to_string(length) + " exceeds our limit of " +
                   std::to_string(kProxyV2MaxPayload));
  }
  if (length < addressLength) {
    return invalid("v2: length " + std::to_string(length) + " too short for the addresses");
  }
  if (d.size() < kV2FixedLength + length) {
    return needMore();
  }

  ParseResult r;
  r.status = ParseStatus::Done;
  r.consumed = kV2FixedLength + length;
  const uint8_t* a = d.data() + kV2FixedLength;
  if (command == kV2Local || (family != kV2Tcp4 && family != kV2Udp4 && family != kV2Tcp6 &&
                              family != kV2Udp6)) {
    // UNIX addresses are useless to an IP load balancer: fall back to UNSPEC as the spec allows.
    r.header.local = true;
  } else if (addressLength == kV2Inet4Length) {
    sockaddr_in src{};
    sockaddr_in dst{};
    src.sin_family = dst.sin_family = AF_INET;
    std::memcpy(&src.sin_addr, a, 4);
    std::memcpy(&dst.sin_addr, a + 4, 4);
    std::memcpy(&src.sin_port, a + 8, 2);
    std::memcpy(&dst.sin_port, a + 10, 2);
    store(r.header.source, src);
    store(r.header.destination, dst);
  } else {
    sockaddr_in6 src{};
    sockaddr_in6 dst{};
    src.sin6_family = dst.sin6_family = AF_INET6;
    std::memcpy(&src.sin6_addr, a, 16);
    std::memcpy(&dst.sin6_addr, a + 16, 16);
    std::memcpy(&src.sin6_port, a + 32, 2);
    std::memcpy(&dst.sin6_port, a + 34, 2);
    store(r.header.source, src);
    store(r.header.destination, dst);
  }
  return r;
}

// An endpoint as the encoders send it: IPv4-mapped addresses unmapped.
struct Endpoint {
  int family = AF_UNSPEC;
  uint8_t addr[16]{};  // 4 bytes used for AF_INET
  uint16_t port = 0;   // network order
};

bool readEndpoint(const sockaddr* sa, Endpoint& e) {
  if (sa == nullptr) {
    return false;
  }
  if (sa->sa_family == AF_INET) {
    sockaddr_in in;
    std::memcpy(&in, sa, sizeof(in));
    e.family = AF_INET;
    std::memcpy(e.addr, &in.sin_addr, 4);
    e.port = in.sin_port;
    return true;
  }
  if (sa->sa_family == AF_INET6) {
    sockaddr_in6 in6;
    std::memcpy(&in6, sa, sizeof(in6));
    e.port = in6.sin6_port;
    if (IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr)) {
      e.family = AF_INET;
      std::memcpy(e.addr, in6.sin6_addr.s6_addr + 12, 4);
    } else {
      e.family = AF_INET6;
      std::memcpy(e.addr, in6.sin6_addr.s6_addr, 16);
    }
    return true;
  }
  return false;
}

void mapToIpv6(Endpoint& e) {
  if (e.family != AF_INET) {
    return;
  }
  uint8_t v4[4];
  std::memcpy(v4, e.addr, 4);
  std::memset(e.addr, 0, 10);
  e.addr[10] = 0xff;
  e.addr[11] = 0xff;
  std::memcpy(e.addr + 12, v4, 4);
  e.family = AF_INET6;
}

// Both endpoints in one family, or false when either is missing or not IP.
bool readPair(const sockaddr* src, const sockaddr* dst, Endpoint& s, Endpoint& d) {
  if (!readEndpoint(src, s) || !readEndpoint(dst, d)) {
    return false;
  }
  if (s.family != d.family) {
    mapToIpv6(s);
    mapToIpv6(d);
  }
  return true;
}

std::string addressText(const Endpoint& e) {
  char buf[INET6_ADDRSTRLEN];
  if (inet_ntop(e.family, e.addr, buf, sizeof(buf)) == nullptr) {
    return {};  // cannot happen for AF_INET/AF_INET6 with this buffer size
  }
  return buf;
}

}  // namespace

ParseResult parseProxyHeader(std::span<const uint8_t> data) {
  if (data.empty()) {
    return needMore();
  }
  if (data[0] == kV2Signature[0]) {
    return parseV2(data);
  }
  return V1Parser(data).run();
}

std::string encodeProxyV1(const sockaddr* src, const sockaddr* dst) {
  Endpoint s;
  Endpoint d;
  if (!readPair(src, dst, s, d)) {
    return "PROXY UNKNOWN\r\n";
  }
  std::string out = s.family == AF_INET ? "PROXY TCP4 " : "PROXY TCP6 ";
  out += addressText(s);
  out += ' ';
  out += addressText(d);
  out += ' ';
  out += std::to_string(ntohs(s.port));
  out += ' ';
  out += std::to_string(ntohs(d.port));
  out += "\r\n";
  return out;
}

std::vector<uint8_t> encodeProxyV2(const sockaddr* src, const sockaddr* dst) {
  std::vector<uint8_t> out(std::begin(kV2Signature), std::end(kV2Signature));
  out.push_back(static_cast<uint8_t>(kV2Version << 4 | kV2Proxy));
  Endpoint s;
  Endpoint d;
  if (!readPair(src, dst, s, d)) {
    out.insert(out.end(), {kV2Unspec, 0, 0});
    return out;
  }
  bool v4 = s.family == AF_INET;
  size_t addrSize = v4 ? 4 : 16;
  size_t length = v4 ? kV2Inet4Length : kV2Inet6Length;
  out.push_back(v4 ? kV2Tcp4 : kV2Tcp6);
  out.push_back(static_cast<uint8_t>(length >> 8));
  out.push_back(static_cast<uint8_t>(length & 0xff));
  out.insert(out.end(), s.addr, s.addr + addrSize);
  out.insert(out.end(), d.addr, d.addr + addrSize);
  auto pushPort = [&out](uint16_t networkOrder) {
    const auto* p = reinterpret_cast<const uint8_t*>(&networkOrder);
    out.insert(out.end(), p, p + 2);
  };
  pushPort(s.port);
  pushPort(d.port);
  return out;
}

}  // namespace fulcrum::net
