// fulcrum-testbackend: a real backend process for Fulcrum's integration tests
// and demo. Linux only; a single thread driving non-blocking sockets through
// level-triggered epoll. Self-contained (libc, libxxhash).
//
// Usage:
//   fulcrum-testbackend --id NAME [--tcp HOST:PORT]... [--udp HOST:PORT]...
//                       [--mode cmd|http|echo] [--expect-proxy]
//                       [--ready-file PATH]
//
// HOST:PORT is an IPv4 literal ("127.0.0.1:0") or a bracketed IPv6 literal
// ("[::1]:0"); port 0 picks a free port. Once every socket is bound (and
// listening) the actual addresses are written, one line per socket in command
// line order (all --tcp first, then all --udp), as "tcp 127.0.0.1:41234" /
// "udp [::1]:5353", to PATH.tmp which is then renamed to PATH. The same lines,
// prefixed with "ready ", go to stdout. SIGTERM/SIGINT exit with status 0.
//
// See README.md next to this file for the TCP command protocol (--mode cmd),
// the HTTP and echo modes, the PROXY protocol handling and UDP.
//
// Deterministic stream (reply to "SOURCE <n> <seed>"), exact definition:
//   state = seed (uint64)
//   for i = 0, 1, 2, ...:
//     state += 0x9E3779B97F4A7C15            (all arithmetic mod 2^64)
//     z = state
//     z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
//     z = (z ^ (z >> 27)) * 0x94D049BB133111EB
//     w_i = z ^ (z >> 31)
//   stream = LE64(w_0) || LE64(w_1) || ...   (8 bytes per word, little-endian)
//   the reply is the first n bytes of the stream.
// (This is splitmix64; e.g. seed 0 gives w_0 = 0xE220A8397B1DCDAF, so the
// stream starts af cd 1d 7b 39 a8 20 e2.)

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace {

constexpr size_t kReadChunk = 256 * 1024;       // one recv() at most
constexpr size_t kSourceChunk = 256 * 1024;     // generated per step; multiple of 8
constexpr size_t kMaxPendingOut = 1024 * 1024;  // stop reading above this
constexpr size_t kMaxCommandLine = 1024;        // bytes before '\n'
constexpr size_t kMaxHttpHead = 64 * 1024;
constexpr size_t kMaxBufferedWhileSleeping = 64 * 1024;
constexpr size_t kProxyV1MaxLen = 107;          // including CRLF
constexpr size_t kWriteBudget = 16 * 1024 * 1024;  // per event, for fairness
constexpr size_t kUdpMax = 65536;
constexpr int kMaxReadsPerEvent = 8;
constexpr int kMaxAcceptsPerEvent = 256;
constexpr int kMaxDatagramsPerEvent = 64;
constexpr int kListenBacklog = 4096;
constexpr uint64_t kMaxSleepMs = 1000ULL * 1000 * 1000 * 1000;

constexpr uint64_t kSignalToken = 1;
constexpr uint64_t kListenerTokenBase = 16;
constexpr uint64_t kConnTokenBase = 1ULL << 32;

constexpr std::string_view kUnknownCommand = "ERR unknown command\n";

// ---------------------------------------------------------------------------
// Small helpers.

int64_t nowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

// Rate-limited stderr logging: at most kBurst lines per second; the number of
// dropped lines is reported with the next line that gets through.
void logLine(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void logLine(const char* fmt, ...) {
  constexpr int kBurst = 10;
  static int64_t windowStart = 0;
  static int inWindow = 0;
  static uint64_t suppressed = 0;
  int64_t now = nowNs();
  if (now - windowStart >= 1000000000LL) {
    windowStart = now;
    inWindow = 0;
  }
  if (inWindow >= kBurst) {
    ++suppressed;
    return;
  }
  ++inWindow;
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  if (suppressed > 0) {
    fprintf(stderr, "fulcrum-testbackend: %s (%llu similar lines suppressed)\n", buf,
            static_cast<unsigned long long>(suppressed));
    suppressed = 0;
  } else {
    fprintf(stderr, "fulcrum-testbackend: %s\n", buf);
  }
}

// Decimal unsigned 64-bit integer, digits only.
bool parseU64(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 20) {
    return false;
  }
  uint64_t v = 0;
  for (char ch : s) {
    if (ch < '0' || ch > '9') {
      return false;
    }
    uint64_t d = static_cast<uint64_t>(ch - '0');
    if (v > (UINT64_MAX - d) / 10) {
      return false;
    }
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

// Decimal, or hexadecimal with a 0x/0X prefix.
bool parseU64Seed(std::string_view s, uint64_t* out) {
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s.remove_prefix(2);
    if (s.empty() || s.size() > 16) {
      return false;
    }
    uint64_t v = 0;
    for (char ch : s) {
      int d;
      if (ch >= '0' && ch <= '9') {
        d = ch - '0';
      } else if (ch >= 'a' && ch <= 'f') {
        d = ch - 'a' + 10;
      } else if (ch >= 'A' && ch <= 'F') {
        d = ch - 'A' + 10;
      } else {
        return false;
      }
      v = (v << 4) | static_cast<uint64_t>(d);
    }
    *out = v;
    return true;
  }
  return parseU64(s, out);
}

bool parsePort(std::string_view s, uint16_t* out) {
  uint64_t v = 0;
  if (s.size() > 5 || !parseU64(s, &v) || v > 65535) {
    return false;
  }
  *out = static_cast<uint16_t>(v);
  return true;
}

// Splits on runs of spaces/tabs.
std::vector<std::string_view> splitWords(std::string_view s) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) {
      ++i;
    }
    size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') {
      ++i;
    }
    if (i > start) {
      words.push_back(s.substr(start, i - start));
    }
  }
  return words;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') {
      x = static_cast<char>(x - 'A' + 'a');
    }
    if (y >= 'A' && y <= 'Z') {
      y = static_cast<char>(y - 'A' + 'a');
    }
    if (x != y) {
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------
// Deterministic stream (see the definition at the top of the file).

inline uint64_t splitmixNext(uint64_t& state) {
  state += 0x9E3779B97F4A7C15ULL;
  uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

inline uint64_t toLittleEndian(uint64_t v) {
  if constexpr (std::endian::native == std::endian::big) {
    return __builtin_bswap64(v);
  } else {
    return v;
  }
}

// Writes the next n bytes of the stream. Callers keep n a multiple of 8 except
// for the very last piece of a stream, so word boundaries stay aligned.
void generateStream(uint64_t& state, char* out, size_t n) {
  size_t words = n / 8;
  for (size_t i = 0; i < words; ++i) {
    uint64_t w = toLittleEndian(splitmixNext(state));
    std::memcpy(out + i * 8, &w, 8);
  }
  size_t tail = n % 8;
  if (tail != 0) {
    uint64_t w = toLittleEndian(splitmixNext(state));
    std::memcpy(out + words * 8, &w, tail);
  }
}

// ---------------------------------------------------------------------------
// Addresses.

struct Endpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
};

bool parseEndpoint(std::string_view s, Endpoint* ep) {
  std::string host;
  std::string_view port;
  if (!s.empty() && s[0] == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') {
      return false;
    }
    host = std::string(s.substr(1, close - 1));
    port = s.substr(close + 2);
    auto* sa = reinterpret_cast<sockaddr_in6*>(&ep->addr);
    *sa = sockaddr_in6{};
    sa->sin6_family = AF_INET6;
    if (inet_pton(AF_INET6, host.c_str(), &sa->sin6_addr) != 1) {
      return false;
    }
    uint16_t p = 0;
    if (!parsePort(port, &p)) {
      return false;
    }
    sa->sin6_port = htons(p);
    ep->len = sizeof(sockaddr_in6);
    return true;
  }
  size_t colon = s.rfind(':');
  if (colon == std::string_view::npos) {
    return false;
  }
  host = std::string(s.substr(0, colon));
  port = s.substr(colon + 1);
  auto* sa = reinterpret_cast<sockaddr_in*>(&ep->addr);
  *sa = sockaddr_in{};
  sa->sin_family = AF_INET;
  if (inet_pton(AF_INET, host.c_str(), &sa->sin_addr) != 1) {
    return false;
  }
  uint16_t p = 0;
  if (!parsePort(port, &p)) {
    return false;
  }
  sa->sin_port = htons(p);
  ep->len = sizeof(sockaddr_in);
  return true;
}

std::string formatAddress(const sockaddr_storage& ss) {
  char ip[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET6) {
    const auto* sa = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &sa->sin6_addr, ip, sizeof(ip));
    return "[" + std::string(ip) + "]:" + std::to_string(ntohs(sa->sin6_port));
  }
  const auto* sa = reinterpret_cast<const sockaddr_in*>(&ss);
  inet_ntop(AF_INET, &sa->sin_addr, ip, sizeof(ip));
  return std::string(ip) + ":" + std::to_string(ntohs(sa->sin_port));
}

// ---------------------------------------------------------------------------
// PROXY protocol (v1 text and v2 binary), receiving side.

struct ProxyInfo {
  enum class Kind : uint8_t { kNone, kLocal, kUnknown, kAddresses };
  Kind kind = Kind::kNone;
  uint16_t srcPort = 0;
  uint16_t dstPort = 0;
  std::string src;
  std::string dst;

  std::string describe() const {
    switch (kind) {
      case Kind::kNone:
        return "PROXY NONE\n";
      case Kind::kLocal:
        return "PROXY LOCAL\n";
      case Kind::kUnknown:
        return "PROXY UNKNOWN\n";
      case Kind::kAddresses:
        break;
    }
    return "PROXY " + src + " " + std::to_string(srcPort) + " " + dst + " " +
           std::to_string(dstPort) + "\n";
  }
};

enum class ParseStatus { kNeedMore, kInvalid, kDone };

constexpr char kProxyV2SigBytes[12] = {'\r', '\n', '\r', '\n', '\0', '\r',
                                       '\n', 'Q',  'U',  'I',  'T',  '\n'};
constexpr std::string_view kProxyV2Sig(kProxyV2SigBytes, 12);
constexpr std::string_view kProxyV1Prefix = "PROXY ";

bool isPrefixCompatible(std::string_view in, std::string_view magic) {
  size_t n = std::min(in.size(), magic.size());
  return in.substr(0, n) == magic.substr(0, n);
}

std::string formatIp(int family, const void* raw) {
  char ip[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, raw, ip, sizeof(ip));
  return ip;
}

uint16_t readBe16(std::string_view s, size_t off) {
  return static_cast<uint16_t>((static_cast<uint8_t>(s[off]) << 8) | static_cast<uint8_t>(s[off + 1]));
}

ParseStatus parseProxyV2(std::string_view in, ProxyInfo* info, size_t* consumed) {
  if (in.size() < 16) {
    return ParseStatus::kNeedMore;
  }
  uint8_t verCmd = static_cast<uint8_t>(in[12]);
  uint8_t family = static_cast<uint8_t>(in[13]);
  size_t len = readBe16(in, 14);
  if ((verCmd & 0xF0) != 0x20) {
    return ParseStatus::kInvalid;
  }
  uint8_t command = verCmd & 0x0F;
  if (command > 1) {
    return ParseStatus::kInvalid;
  }
  if (in.size() < 16 + len) {
    return ParseStatus::kNeedMore;
  }
  std::string_view body = in.substr(16, len);
  *consumed = 16 + len;
  if (command == 0) {  // LOCAL: the receiver ignores the address block.
    info->kind = ProxyInfo::Kind::kLocal;
    return ParseStatus::kDone;
  }
  size_t addrLen = 0;
  if (family == 0x11) {
    addrLen = 12;
  } else if (family == 0x21) {
    addrLen = 36;
  } else if (family == 0x00) {
    info->kind = ProxyInfo::Kind::kUnknown;
    return ParseStatus::kDone;
  } else {
    return ParseStatus::kInvalid;
  }
  if (len < addrLen) {
    return ParseStatus::kInvalid;
  }
  // TLVs: type(1) length(2, big-endian) value; they must tile the rest exactly.
  size_t off = addrLen;
  while (off < len) {
    if (len - off < 3) {
      return ParseStatus::kInvalid;
    }
    size_t tlvLen = readBe16(body, off + 1);
    off += 3 + tlvLen;
    if (off > len) {
      return ParseStatus::kInvalid;
    }
  }
  if (family == 0x11) {
    info->src = formatIp(AF_INET, body.data());
    info->dst = formatIp(AF_INET, body.data() + 4);
    info->srcPort = readBe16(body, 8);
    info->dstPort = readBe16(body, 10);
  } else {
    info->src = formatIp(AF_INET6, body.data());
    info->dst = formatIp(AF_INET6, body.data() + 16);
    info->srcPort = readBe16(body, 32);
    info->dstPort = readBe16(body, 34);
  }
  info->kind = ProxyInfo::Kind::kAddresses;
  return ParseStatus::kDone;
}

ParseStatus parseProxyV1(std::string_view in, ProxyInfo* info, size_t* consumed) {
  size_t limit = std::min(in.size(), kProxyV1MaxLen);
  size_t nl = in.substr(0, limit).find('\n');
  if (nl == std::string_view::npos) {
    return in.size() >= kProxyV1MaxLen ? ParseStatus::kInvalid : ParseStatus::kNeedMore;
  }
  if (nl < kProxyV1Prefix.size() + 1 || in[nl - 1] != '\r') {
    return ParseStatus::kInvalid;
  }
  std::string_view line = in.substr(kProxyV1Prefix.size(), nl - 1 - kProxyV1Prefix.size());
  *consumed = nl + 1;
  // Fields are separated by exactly one space.
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (true) {
    size_t sp = line.find(' ', start);
    fields.push_back(line.substr(start, sp == std::string_view::npos ? std::string_view::npos : sp - start));
    if (sp == std::string_view::npos) {
      break;
    }
    start = sp + 1;
  }
  if (fields[0] == "UNKNOWN") {
    info->kind = ProxyInfo::Kind::kUnknown;
    return ParseStatus::kDone;
  }
  if (fields.size() != 5) {
    return ParseStatus::kInvalid;
  }
  int family = 0;
  if (fields[0] == "TCP4") {
    family = AF_INET;
  } else if (fields[0] == "TCP6") {
    family = AF_INET6;
  } else {
    return ParseStatus::kInvalid;
  }
  unsigned char srcRaw[16];
  unsigned char dstRaw[16];
  if (inet_pton(family, std::string(fields[1]).c_str(), srcRaw) != 1 ||
      inet_pton(family, std::string(fields[2]).c_str(), dstRaw) != 1) {
    return ParseStatus::kInvalid;
  }
  if (!parsePort(fields[3], &info->srcPort) || !parsePort(fields[4], &info->dstPort)) {
    return ParseStatus::kInvalid;
  }
  info->src = formatIp(family, srcRaw);
  info->dst = formatIp(family, dstRaw);
  info->kind = ProxyInfo::Kind::kAddresses;
  return ParseStatus::kDone;
}

ParseStatus parseProxyHeader(std::string_view in, ProxyInfo* info, size_t* consumed) {
  if (in.empty()) {
    return ParseStatus::kNeedMore;
  }
  if (isPrefixCompatible(in, kProxyV2Sig)) {
    return parseProxyV2(in, info, consumed);
  }
  if (isPrefixCompatible(in, kProxyV1Prefix)) {
    return parseProxyV1(in, info, consumed);
  }
  return ParseStatus::kInvalid;
}

// ---------------------------------------------------------------------------
// Output buffer: a contiguous byte queue that is not zero-initialised on growth.

class ByteQueue {
 public:
  ByteQueue() = default;
  ByteQueue(const ByteQueue&) = delete;
  ByteQueue& operator=(const ByteQueue&) = delete;
  ~ByteQueue() { std::free(data_); }

  size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }
  const char* data() const { return data_ + begin_; }

  // Returns room for n more bytes at the tail; commit() what was written.
  char* reserveTail(size_t n) {
    if (cap_ - end_ >= n) {
      return data_ + end_;
    }
    size_t used = size();
    if (begin_ >= used && cap_ - used >= n) {  // Compact: at least half is dead.
      std::memmove(data_, data_ + begin_, used);
      begin_ = 0;
      end_ = used;
      return data_ + end_;
    }
    size_t newCap = std::max({cap_ * 2, used + n, size_t{4096}});
    char* fresh = static_cast<char*>(std::malloc(newCap));
    if (fresh == nullptr) {
      std::abort();
    }
    if (used > 0) {
      std::memcpy(fresh, data_ + begin_, used);
    }
    std::free(data_);
    data_ = fresh;
    cap_ = newCap;
    begin_ = 0;
    end_ = used;
    return data_ + end_;
  }
  void commit(size_t n) { end_ += n; }
  void append(const char* p, size_t n) {
    std::memcpy(reserveTail(n), p, n);
    commit(n);
  }
  void consume(size_t n) {
    begin_ += n;
    if (begin_ == end_) {
      begin_ = 0;
      end_ = 0;
      if (cap_ > kKeepCapacity) {  // Don't let idle connections hoard memory.
        std::free(data_);
        data_ = nullptr;
        cap_ = 0;
      }
    }
  }

 private:
  static constexpr size_t kKeepCapacity = 256 * 1024;
  char* data_ = nullptr;
  size_t cap_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
};

// ---------------------------------------------------------------------------
// Options.

enum class Mode { kCmd, kHttp, kEcho, kAgent };

struct Options {
  std::string id;
  std::vector<Endpoint> tcp;
  std::vector<Endpoint> udp;
  Mode mode = Mode::kCmd;
  bool expectProxy = false;
  std::string readyFile;
  // http mode: the status of each response is read from this file when it exists
  // (tests change it to make a health check fail); 200 otherwise.
  std::string statusFile;
  // agent mode: each connection gets this file's first line (default "up") and a close.
  std::string agentFile;
  // http mode: body length in bytes (the greeting repeated and cut); 0 = the greeting once.
  uint64_t httpBodySize = 0;
};

// First line of a file, or fallback if it cannot be read.
std::string firstLineOf(const std::string& path, const std::string& fallback) {
  if (path.empty()) {
    return fallback;
  }
  FILE* f = fopen(path.c_str(), "r");
  if (!f) {
    return fallback;
  }
  char buf[256] = {0};
  if (!fgets(buf, sizeof buf, f)) {
    buf[0] = 0;
  }
  fclose(f);
  std::string line(buf);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
    line.pop_back();
  }
  return line.empty() ? fallback : line;
}

void printUsage(FILE* out) {
  fprintf(out,
          "usage: fulcrum-testbackend --id NAME [--tcp HOST:PORT]... [--udp HOST:PORT]...\n"
          "                           [--mode cmd|http|echo] [--expect-proxy]\n"
          "                           [--ready-file PATH] [--status-file PATH] [--agent-file PATH]\n"
          "                           [--http-body-size BYTES]\n"
          "--mode agent: answer each connection with the --agent-file's first line (default \"up\").\n"
          "HOST:PORT is IPv4 (127.0.0.1:0) or [IPv6]:port ([::1]:0); port 0 picks a free port.\n");
}

// Returns -1 on success, otherwise the exit code to use.
int parseOptions(int argc, char** argv, Options* opts) {
  bool haveId = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string_view value;
    bool hasInlineValue = false;
    if (arg.starts_with("--")) {
      size_t eq = arg.find('=');
      if (eq != std::string_view::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        hasInlineValue = true;
      }
    }
    auto takeValue = [&](std::string_view* v) -> bool {
      if (hasInlineValue) {
        *v = value;
        return true;
      }
      if (i + 1 >= argc) {
        fprintf(stderr, "fulcrum-testbackend: %s needs a value\n", argv[i]);
        return false;
      }
      *v = argv[++i];
      return true;
    };
    std::string_view v;
    if (arg == "--help" || arg == "-h") {
      printUsage(stdout);
      return 0;
    } else if (arg == "--expect-proxy" && !hasInlineValue) {
      opts->expectProxy = true;
    } else if (arg == "--id") {
      if (!takeValue(&v)) {
        return 2;
      }
      if (v.empty()) {
        fprintf(stderr, "fulcrum-testbackend: --id must not be empty\n");
        return 2;
      }
      opts->id = std::string(v);
      haveId = true;
    } else if (arg == "--tcp" || arg == "--udp") {
      if (!takeValue(&v)) {
        return 2;
      }
      Endpoint ep;
      if (!parseEndpoint(v, &ep)) {
        fprintf(stderr, "fulcrum-testbackend: bad address '%.*s' (want IPv4:PORT or [IPv6]:PORT)\n",
                static_cast<int>(v.size()), v.data());
        return 2;
      }
      (arg == "--tcp" ? opts->tcp : opts->udp).push_back(ep);
    } else if (arg == "--mode") {
      if (!takeValue(&v)) {
        return 2;
      }
      if (v == "cmd") {
        opts->mode = Mode::kCmd;
      } else if (v == "http") {
        opts->mode = Mode::kHttp;
      } else if (v == "agent") {
        opts->mode = Mode::kAgent;
      } else if (v == "echo") {
        opts->mode = Mode::kEcho;
      } else {
        fprintf(stderr, "fulcrum-testbackend: bad --mode '%.*s' (cmd|http|echo)\n",
                static_cast<int>(v.size()), v.data());
        return 2;
      }
    } else if (arg == "--status-file" || arg == "--agent-file") {
      std::string_view v;
      if (!takeValue(&v)) {
        return 2;
      }
      (arg == "--status-file" ? opts->statusFile : opts->agentFile) = std::string(v);
    } else if (arg == "--http-body-size") {
      if (!takeValue(&v)) {
        return 2;
      }
      if (!parseU64(v, &opts->httpBodySize) || opts->httpBodySize == 0 ||
          opts->httpBodySize > (64u << 20)) {
        fprintf(stderr, "fulcrum-testbackend: bad --http-body-size '%.*s' (1..67108864)\n",
                static_cast<int>(v.size()), v.data());
        return 2;
      }
    } else if (arg == "--ready-file") {
      if (!takeValue(&v)) {
        return 2;
      }
      opts->readyFile = std::string(v);
    } else {
      fprintf(stderr, "fulcrum-testbackend: unknown argument '%s'\n", argv[i]);
      printUsage(stderr);
      return 2;
    }
  }
  if (!haveId) {
    fprintf(stderr, "fulcrum-testbackend: --id is required\n");
    printUsage(stderr);
    return 2;
  }
  if (opts->tcp.empty() && opts->udp.empty()) {
    fprintf(stderr, "fulcrum-testbackend: give at least one --tcp or --udp address\n");
    return 2;
  }
  return -1;
}

// ---------------------------------------------------------------------------
// Connections.

enum class State : uint8_t {
  kProxyHeader,  // buffering: waiting for the PROXY header
  kCommand,      // buffering: waiting for a command line
  kSleeping,     // buffering: SLEEP timer pending, input is queued
  kHttp,         // buffering: waiting for a request head
  kEcho,         // streaming: echo everything
  kSink,         // streaming: hash `remaining` more bytes
  kSource,       // streaming: sending the stream; input is discarded
  kHalfClose,    // streaming: count until EOF
  kHold,         // streaming: discard until EOF
  kDraining,     // streaming: discard until EOF (after SOURCE, ERR, HTTP close)
  kHttpBody,     // streaming: skip `remaining` body bytes
};

bool isBuffering(State s) {
  return s == State::kProxyHeader || s == State::kCommand || s == State::kSleeping ||
         s == State::kHttp;
}

const char* stateName(State s) {
  switch (s) {
    case State::kProxyHeader:
      return "proxy-header";
    case State::kCommand:
      return "command";
    case State::kSleeping:
      return "sleep";
    case State::kHttp:
      return "http";
    case State::kEcho:
      return "echo";
    case State::kSink:
      return "sink";
    case State::kSource:
      return "source";
    case State::kHalfClose:
      return "halfclose";
    case State::kHold:
      return "hold";
    case State::kDraining:
      return "draining";
    case State::kHttpBody:
      return "http-body";
  }
  return "?";
}

struct XxhStateDeleter {
  void operator()(XXH3_state_t* s) const { XXH3_freeState(s); }
};

struct Conn {
  uint64_t token = 0;
  int fd = -1;
  State state = State::kCommand;
  State modeState = State::kCommand;  // state to enter after the PROXY header
  bool eof = false;                   // peer's FIN seen
  bool dead = false;                  // fd closed, awaiting destruction
  bool shutdownWhenFlushed = false;
  bool closeWhenFlushed = false;
  bool shutDone = false;
  uint32_t events = 0;  // current epoll interest
  std::string in;       // buffered input for the buffering states
  size_t inOff = 0;     // consumed prefix of `in`
  ByteQueue out;
  uint64_t remaining = 0;  // SINK / SOURCE / HTTP body bytes left
  uint64_t total = 0;      // SINK n
  uint64_t counter = 0;    // HALFCLOSE count
  uint64_t streamState = 0;
  uint64_t timerSeq = 0;
  std::unique_ptr<XXH3_state_t, XxhStateDeleter> hash;
  ProxyInfo proxy;

  std::string_view pendingIn() const { return std::string_view(in).substr(inOff); }
};

struct Timer {
  int64_t dueNs;
  uint64_t token;
  uint64_t seq;
  bool operator>(const Timer& o) const { return dueNs > o.dueNs; }
};

class Server {
 public:
  Server(Options opts, int signalFd) : opts_(std::move(opts)), signalFd_(signalFd) {}
  ~Server() {
    for (auto& [token, conn] : conns_) {
      if (conn->fd >= 0) {
        ::close(conn->fd);
      }
    }
    for (auto& l : listeners_) {
      ::close(l.fd);
    }
    if (epollFd_ >= 0) {
      ::close(epollFd_);
    }
  }

  bool init();
  bool announceReady();
  void run();

 private:
  struct Listener {
    int fd = -1;
    bool tcp = true;
    bool paused = false;
    std::string bound;
  };

  bool openListener(const Endpoint& ep, bool tcp);
  void onAccept(Listener& l, uint64_t token);
  void onDatagrams(Listener& l);
  void onConnEvent(Conn& c, uint32_t ev);
  void onReadable(Conn& c);
  void feed(Conn& c, const char* p, size_t n);
  bool stepBuffered(Conn& c);
  size_t stepStream(Conn& c, std::string_view data);
  bool stepProxyHeader(Conn& c);
  bool stepCommand(Conn& c);
  bool stepHttp(Conn& c);
  void runCommand(Conn& c, std::string_view line);
  void handleEof(Conn& c);
  void onWake(Conn& c);
  void sendData(Conn& c, std::string_view data);
  void flushOut(Conn& c);
  void finishIo(Conn& c);
  void startDraining(Conn& c);
  void connError(Conn& c, const char* what, int err);
  void closeConn(Conn& c);
  bool wantRead(const Conn& c) const;
  bool wantWrite(const Conn& c) const;
  void updateInterest(Conn& c);
  void setListenerInterest(Listener& l, uint64_t token, bool enabled);
  int computeTimeoutMs() const;
  void runTimers();
  void reap();

  Options opts_;
  int signalFd_;
  int epollFd_ = -1;
  bool running_ = true;
  std::vector<Listener> listeners_;
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> conns_;
  std::vector<uint64_t> graveyard_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
  uint64_t nextToken_ = kConnTokenBase;
  uint64_t nextTimerSeq_ = 1;
  std::unique_ptr<char[]> readBuf_{new char[kReadChunk]};
  std::unique_ptr<char[]> udpBuf_{new char[kUdpMax]};
  std::string udpPrefix_;
  std::string httpBody_;
  size_t statusTurn_ = 0;
};

bool Server::init() {
  udpPrefix_ = opts_.id + " ";
  httpBody_ = "hello from " + opts_.id + "\n";
  if (opts_.httpBodySize > 0) {
    std::string greeting = httpBody_;
    while (httpBody_.size() < opts_.httpBodySize) {
      httpBody_ += greeting;
    }
    httpBody_.resize(opts_.httpBodySize);
  }
  epollFd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epollFd_ < 0) {
    fprintf(stderr, "fulcrum-testbackend: epoll_create1: %s\n", strerror(errno));
    return false;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kSignalToken;
  if (epoll_ctl(epollFd_, EPOLL_CTL_ADD, signalFd_, &ev) != 0) {
    fprintf(stderr, "fulcrum-testbackend: epoll_ctl(signalfd): %s\n", strerror(errno));
    return false;
  }
  for (const auto& ep : opts_.tcp) {
    if (!openListener(ep, true)) {
      return false;
    }
  }
  for (const auto& ep : opts_.udp) {
    if (!openListener(ep, false)) {
      return false;
    }
  }
  return true;
}

bool Server::openListener(const Endpoint& ep, bool tcp) {
  const char* kind = tcp ? "tcp" : "udp";
  std::string want = formatAddress(ep.addr);
  int fd = socket(ep.addr.ss_family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    fprintf(stderr, "fulcrum-testbackend: socket(%s %s): %s\n", kind, want.c_str(), strerror(errno));
    return false;
  }
  int one = 1;
  if (tcp) {
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  }
  if (ep.addr.ss_family == AF_INET6) {
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  }
  if (!tcp) {
    int size = 4 * 1024 * 1024;  // best effort, capped by net.core.rmem_max
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  }
  if (bind(fd, reinterpret_cast<const sockaddr*>(&ep.addr), ep.len) != 0) {
    fprintf(stderr, "fulcrum-testbackend: bind(%s %s): %s\n", kind, want.c_str(), strerror(errno));
    ::close(fd);
    return false;
  }
  if (tcp && listen(fd, kListenBacklog) != 0) {
    fprintf(stderr, "fulcrum-testbackend: listen(%s): %s\n", want.c_str(), strerror(errno));
    ::close(fd);
    return false;
  }
  sockaddr_storage bound{};
  socklen_t boundLen = sizeof(bound);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &boundLen) != 0) {
    fprintf(stderr, "fulcrum-testbackend: getsockname: %s\n", strerror(errno));
    ::close(fd);
    return false;
  }
  Listener l;
  l.fd = fd;
  l.tcp = tcp;
  l.bound = std::string(kind) + " " + formatAddress(bound);
  uint64_t token = kListenerTokenBase + listeners_.size();
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = token;
  if (epoll_ctl(epollFd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    fprintf(stderr, "fulcrum-testbackend: epoll_ctl: %s\n", strerror(errno));
    ::close(fd);
    return false;
  }
  listeners_.push_back(std::move(l));
  return true;
}

bool Server::announceReady() {
  std::string text;
  for (const auto& l : listeners_) {
    text += l.bound + "\n";
  }
  if (!opts_.readyFile.empty()) {
    std::string tmp = opts_.readyFile + ".tmp";
    FILE* f = fopen(tmp.c_str(), "w");
    if (f == nullptr) {
      fprintf(stderr, "fulcrum-testbackend: cannot write %s: %s\n", tmp.c_str(), strerror(errno));
      return false;
    }
    bool ok = fwrite(text.data(), 1, text.size(), f) == text.size();
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp.c_str(), opts_.readyFile.c_str()) != 0) {
      fprintf(stderr, "fulcrum-testbackend: cannot write %s: %s\n", opts_.readyFile.c_str(),
              strerror(errno));
      return false;
    }
  }
  for (const auto& l : listeners_) {
    printf("ready %s\n", l.bound.c_str());
  }
  fflush(stdout);
  return true;
}

void Server::run() {
  constexpr int kMaxEvents = 512;
  epoll_event events[kMaxEvents];
  while (running_) {
    int n = epoll_wait(epollFd_, events, kMaxEvents, computeTimeoutMs());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      logLine("epoll_wait: %s", strerror(errno));
      return;
    }
    for (int i = 0; i < n && running_; ++i) {
      uint64_t token = events[i].data.u64;
      uint32_t ev = events[i].events;
      if (token == kSignalToken) {
        signalfd_siginfo si;
        while (read(signalFd_, &si, sizeof(si)) == static_cast<ssize_t>(sizeof(si))) {
          if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
            running_ = false;
          }
        }
      } else if (token < kConnTokenBase) {
        size_t idx = token - kListenerTokenBase;
        if (idx < listeners_.size()) {
          if (listeners_[idx].tcp) {
            onAccept(listeners_[idx], token);
          } else {
            onDatagrams(listeners_[idx]);
          }
        }
      } else {
        auto it = conns_.find(token);
        if (it != conns_.end() && !it->second->dead) {
          onConnEvent(*it->second, ev);
        }
      }
      reap();
    }
    runTimers();
    reap();
  }
}

void Server::reap() {
  for (uint64_t token : graveyard_) {
    conns_.erase(token);
  }
  graveyard_.clear();
}

int Server::computeTimeoutMs() const {
  if (timers_.empty()) {
    return -1;
  }
  int64_t delta = timers_.top().dueNs - nowNs();
  if (delta <= 0) {
    return 0;
  }
  int64_t ms = (delta + 999999) / 1000000;
  return static_cast<int>(std::min<int64_t>(ms, 60 * 1000));
}

void Server::runTimers() {
  int64_t now = nowNs();
  while (!timers_.empty() && timers_.top().dueNs <= now) {
    Timer t = timers_.top();
    timers_.pop();
    if (t.token < kConnTokenBase) {
      size_t idx = t.token - kListenerTokenBase;
      if (idx < listeners_.size() && listeners_[idx].paused) {
        setListenerInterest(listeners_[idx], t.token, true);
      }
      continue;
    }
    auto it = conns_.find(t.token);
    if (it == conns_.end()) {
      continue;
    }
    Conn& c = *it->second;
    if (!c.dead && c.state == State::kSleeping && c.timerSeq == t.seq) {
      onWake(c);
    }
    reap();
  }
}

void Server::setListenerInterest(Listener& l, uint64_t token, bool enabled) {
  epoll_event ev{};
  ev.events = enabled ? static_cast<uint32_t>(EPOLLIN) : 0u;
  ev.data.u64 = token;
  epoll_ctl(epollFd_, EPOLL_CTL_MOD, l.fd, &ev);
  l.paused = !enabled;
}

void Server::onAccept(Listener& l, uint64_t token) {
  for (int i = 0; i < kMaxAcceptsPerEvent; ++i) {
    int fd = accept4(l.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      if (err == EINTR || err == ECONNABORTED || err == EPROTO) {
        continue;
      }
      if (err == EAGAIN || err == EWOULDBLOCK) {
        return;
      }
      // Out of descriptors or memory: back off instead of spinning.
      logLine("accept on %s: %s (pausing accepts for 100ms)", l.bound.c_str(), strerror(err));
      setListenerInterest(l, token, false);
      timers_.push(Timer{nowNs() + 100 * 1000000LL, token, 0});
      return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    auto conn = std::make_unique<Conn>();
    conn->token = nextToken_++;
    conn->fd = fd;
    switch (opts_.mode) {
      case Mode::kCmd:
        conn->modeState = State::kCommand;
        break;
      case Mode::kHttp:
        conn->modeState = State::kHttp;
        break;
      case Mode::kEcho:
      case Mode::kAgent:
        conn->modeState = State::kEcho;
        break;
    }
    conn->state = opts_.expectProxy ? State::kProxyHeader : conn->modeState;
    conn->events = EPOLLIN;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = conn->token;
    if (epoll_ctl(epollFd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      logLine("epoll_ctl(add): %s", strerror(errno));
      ::close(fd);
      continue;
    }
    Conn& added = *conn;
    conns_.emplace(conn->token, std::move(conn));
    if (opts_.mode == Mode::kAgent) {
      sendData(added, firstLineOf(opts_.agentFile, "up") + "\n");
      startDraining(added);
    }
  }
}

void Server::onDatagrams(Listener& l) {
  for (int i = 0; i < kMaxDatagramsPerEvent; ++i) {
    sockaddr_storage from{};
    socklen_t fromLen = sizeof(from);
    ssize_t r = recvfrom(l.fd, udpBuf_.get(), kUdpMax, 0, reinterpret_cast<sockaddr*>(&from), &fromLen);
    if (r < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return;
      }
      continue;  // EINTR, or an ICMP error reported for an earlier reply.
    }
    iovec iov[2];
    iov[0].iov_base = udpPrefix_.data();
    iov[0].iov_len = udpPrefix_.size();
    iov[1].iov_base = udpBuf_.get();
    iov[1].iov_len = static_cast<size_t>(r);
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = fromLen;
    msg.msg_iov = iov;
    msg.msg_iovlen = 2;
    if (sendmsg(l.fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 && errno != EAGAIN &&
        errno != EWOULDBLOCK) {
      logLine("udp reply to %s: %s", formatAddress(from).c_str(), strerror(errno));
    }
  }
}

bool Server::wantRead(const Conn& c) const {
  if (c.dead || c.eof || c.out.size() > kMaxPendingOut) {
    return false;
  }
  if (c.state == State::kSleeping && c.pendingIn().size() > kMaxBufferedWhileSleeping) {
    return false;
  }
  return true;
}

bool Server::wantWrite(const Conn& c) const {
  return !c.out.empty() || (c.state == State::kSource && c.remaining > 0);
}

void Server::updateInterest(Conn& c) {
  if (c.dead) {
    return;
  }
  uint32_t ev = (wantRead(c) ? EPOLLIN : 0u) | (wantWrite(c) ? EPOLLOUT : 0u);
  if (ev == c.events) {
    return;
  }
  epoll_event e{};
  e.events = ev;
  e.data.u64 = c.token;
  if (epoll_ctl(epollFd_, EPOLL_CTL_MOD, c.fd, &e) != 0) {
    connError(c, "epoll_ctl", errno);
    return;
  }
  c.events = ev;
}

void Server::onConnEvent(Conn& c, uint32_t ev) {
  if (ev & EPOLLERR) {
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      connError(c, "socket", err);
      return;
    }
  }
  if ((ev & EPOLLOUT) && wantWrite(c)) {
    flushOut(c);
    if (c.dead) {
      return;
    }
  }
  if ((ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) && wantRead(c)) {
    onReadable(c);
    if (c.dead) {
      return;
    }
  }
  if ((ev & (EPOLLHUP | EPOLLERR)) && !wantRead(c) && !wantWrite(c) && c.state != State::kSleeping) {
    closeConn(c);  // Nothing left that could make progress.
    return;
  }
  finishIo(c);
}

void Server::onReadable(Conn& c) {
  char* buf = readBuf_.get();
  for (int i = 0; i < kMaxReadsPerEvent && wantRead(c); ++i) {
    ssize_t r = recv(c.fd, buf, kReadChunk, 0);
    if (r > 0) {
      feed(c, buf, static_cast<size_t>(r));
      if (c.dead) {
        return;
      }
      if (static_cast<size_t>(r) < kReadChunk) {
        return;  // Probably drained; level-triggered epoll will tell us otherwise.
      }
      continue;
    }
    if (r == 0) {
      c.eof = true;
      handleEof(c);
      return;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return;
    }
    connError(c, "recv", errno);
    return;
  }
}

// Runs received bytes through the connection's state machine. Buffering states
// accumulate into c.in; when one switches to a streaming state, whatever is
// left in c.in is handed to the streaming state, and vice versa.
void Server::feed(Conn& c, const char* p, size_t n) {
  std::string carry;  // owns leftover input moved out of c.in
  std::string_view data(p, n);
  while (!c.dead) {
    if (isBuffering(c.state)) {
      if (!data.empty()) {
        if (c.inOff == c.in.size()) {
          c.in.clear();
          c.inOff = 0;
        } else if (c.inOff > 0) {
          c.in.erase(0, c.inOff);
          c.inOff = 0;
        }
        c.in.append(data);
        data = {};
      }
      if (!stepBuffered(c)) {
        break;
      }
      if (!c.dead && !isBuffering(c.state)) {
        // data is empty here, so nothing still points into the old carry.
        size_t off = c.inOff;
        carry = std::move(c.in);
        c.in = std::string();
        c.inOff = 0;
        data = std::string_view(carry).substr(std::min(off, carry.size()));
      }
      continue;
    }
    if (data.empty()) {
      break;
    }
    size_t used = stepStream(c, data);
    data.remove_prefix(used);
  }
  if (!c.dead && c.inOff == c.in.size()) {
    c.inOff = 0;
    if (c.in.capacity() > 4096) {
      c.in = std::string();  // Release the memory of a large burst.
    } else {
      c.in.clear();
    }
  }
}

bool Server::stepBuffered(Conn& c) {
  switch (c.state) {
    case State::kProxyHeader:
      return stepProxyHeader(c);
    case State::kCommand:
      return stepCommand(c);
    case State::kHttp:
      return stepHttp(c);
    default:
      return false;  // kSleeping: wait for the timer.
  }
}

size_t Server::stepStream(Conn& c, std::string_view data) {
  switch (c.state) {
    case State::kEcho:
      sendData(c, data);
      return data.size();
    case State::kSink: {
      size_t take = static_cast<size_t>(std::min<uint64_t>(c.remaining, data.size()));
      XXH3_64bits_update(c.hash.get(), data.data(), take);
      c.remaining -= take;
      if (c.remaining == 0) {
        char reply[64];
        int len = snprintf(reply, sizeof(reply), "%016llx %llu\n",
                           static_cast<unsigned long long>(XXH3_64bits_digest(c.hash.get())),
                           static_cast<unsigned long long>(c.total));
        c.hash.reset();
        c.state = State::kCommand;
        sendData(c, std::string_view(reply, static_cast<size_t>(len)));
      }
      return take;
    }
    case State::kHalfClose:
      c.counter += data.size();
      return data.size();
    case State::kHttpBody: {
      size_t take = static_cast<size_t>(std::min<uint64_t>(c.remaining, data.size()));
      c.remaining -= take;
      if (c.remaining == 0) {
        c.state = State::kHttp;
      }
      return take;
    }
    default:  // kSource, kHold, kDraining: discard.
      return data.size();
  }
}

bool Server::stepProxyHeader(Conn& c) {
  size_t consumed = 0;
  switch (parseProxyHeader(c.pendingIn(), &c.proxy, &consumed)) {
    case ParseStatus::kNeedMore:
      return false;
    case ParseStatus::kInvalid:
      logLine("connection closed: invalid or missing PROXY protocol header");
      closeConn(c);
      return false;
    case ParseStatus::kDone:
      c.inOff += consumed;
      c.state = c.modeState;
      return true;
  }
  return false;
}

bool Server::stepCommand(Conn& c) {
  std::string_view in = c.pendingIn();
  if (in.empty()) {
    return false;
  }
  size_t nl = in.substr(0, kMaxCommandLine + 1).find('\n');
  if (nl == std::string_view::npos) {
    if (in.size() > kMaxCommandLine) {
      sendData(c, kUnknownCommand);
      startDraining(c);
      return true;
    }
    return false;
  }
  std::string_view line = in.substr(0, nl);
  c.inOff += nl + 1;
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  runCommand(c, line);  // `line` stays valid: c.in is not modified meanwhile.
  return true;
}

void Server::runCommand(Conn& c, std::string_view line) {
  std::vector<std::string_view> w = splitWords(line);
  uint64_t a = 0;
  uint64_t b = 0;
  if (w.size() == 1 && w[0] == "WHO") {
    std::string reply = opts_.id + "\n";
    sendData(c, reply);
  } else if (w.size() == 1 && w[0] == "ECHO") {
    c.state = State::kEcho;
  } else if (w.size() == 2 && w[0] == "SINK" && parseU64(w[1], &a)) {
    c.total = a;
    c.remaining = a;
    c.hash.reset(XXH3_createState());
    if (!c.hash) {
      std::abort();
    }
    XXH3_64bits_reset(c.hash.get());
    c.state = State::kSink;
    if (a == 0) {
      stepStream(c, std::string_view());  // Replies immediately.
    }
  } else if (w.size() == 3 && w[0] == "SOURCE" && parseU64(w[1], &a) && parseU64Seed(w[2], &b)) {
    c.remaining = a;
    c.streamState = b;
    c.state = State::kSource;
    flushOut(c);
  } else if (w.size() == 1 && w[0] == "HALFCLOSE") {
    c.counter = 0;
    c.state = State::kHalfClose;
  } else if (w.size() == 1 && w[0] == "PROXYINFO") {
    sendData(c, c.proxy.describe());
  } else if (w.size() == 2 && w[0] == "SLEEP" && parseU64(w[1], &a) && a <= kMaxSleepMs) {
    c.state = State::kSleeping;
    c.timerSeq = nextTimerSeq_++;
    timers_.push(Timer{nowNs() + static_cast<int64_t>(a) * 1000000LL, c.token, c.timerSeq});
  } else if (w.size() == 1 && w[0] == "HOLD") {
    c.state = State::kHold;
  } else {
    sendData(c, kUnknownCommand);
    startDraining(c);
  }
}

bool Server::stepHttp(Conn& c) {
  std::string_view in = c.pendingIn();
  size_t skip = 0;  // Tolerate stray CRLFs between requests.
  while (skip < in.size() && (in[skip] == '\r' || in[skip] == '\n')) {
    ++skip;
  }
  c.inOff += skip;
  in.remove_prefix(skip);
  if (in.empty()) {
    return false;
  }
  static constexpr std::string_view kBadRequest =
      "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  size_t end = in.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (in.size() > kMaxHttpHead) {
      sendData(c, kBadRequest);
      startDraining(c);
      return true;
    }
    return false;
  }
  std::string_view head = in.substr(0, end);
  c.inOff += end + 4;

  size_t lineEnd = head.find("\r\n");
  std::string_view requestLine = head.substr(0, lineEnd);
  std::string_view headers =
      lineEnd == std::string_view::npos ? std::string_view() : head.substr(lineEnd + 2);
  std::vector<std::string_view> parts = splitWords(requestLine);
  if (parts.size() != 3 || !parts[2].starts_with("HTTP/1.")) {
    sendData(c, kBadRequest);
    startDraining(c);
    return true;
  }
  bool isHead = parts[0] == "HEAD";
  bool close = parts[2] == "HTTP/1.0";
  uint64_t contentLength = 0;
  bool chunked = false;
  while (!headers.empty()) {
    size_t eol = headers.find("\r\n");
    std::string_view h = headers.substr(0, eol);
    headers = eol == std::string_view::npos ? std::string_view() : headers.substr(eol + 2);
    size_t colon = h.find(':');
    if (colon == std::string_view::npos) {
      continue;
    }
    std::string_view name = trim(h.substr(0, colon));
    std::string_view value = trim(h.substr(colon + 1));
    if (equalsIgnoreCase(name, "connection")) {
      while (!value.empty()) {
        size_t comma = value.find(',');
        if (equalsIgnoreCase(trim(value.substr(0, comma)), "close")) {
          close = true;
        }
        value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
      }
    } else if (equalsIgnoreCase(name, "content-length")) {
      if (!parseU64(value, &contentLength)) {
        sendData(c, kBadRequest);
        startDraining(c);
        return true;
      }
    } else if (equalsIgnoreCase(name, "transfer-encoding")) {
      chunked = true;  // Bodies we cannot delimit: answer, then close.
    }
  }
  // "500" or a cycle such as "200,500" (one per request, in turn).
  std::string spec = firstLineOf(opts_.statusFile, "200");
  std::vector<int> cycle;
  for (size_t pos = 0; pos <= spec.size();) {
    size_t comma = spec.find(',', pos);
    if (comma == std::string::npos) {
      comma = spec.size();
    }
    cycle.push_back(std::atoi(spec.substr(pos, comma - pos).c_str()));
    pos = comma + 1;
  }
  int status = cycle[statusTurn_++ % cycle.size()];
  if (status < 100 || status > 599) {
    status = 200;
  }
  std::string response =
      "HTTP/1.1 " + std::to_string(status) + (status == 200 ? " OK" : " Status") +
      "\r\nContent-Type: text/plain\r\nContent-Length: " +
      std::to_string(httpBody_.size()) + (close || chunked ? "\r\nConnection: close" : "") +
      "\r\n\r\n";
  if (!isHead) {
    response += httpBody_;
  }
  sendData(c, response);
  if (close || chunked) {
    startDraining(c);
  } else if (contentLength > 0) {
    c.remaining = contentLength;
    c.state = State::kHttpBody;
  }
  return true;
}

// Reply is queued; send FIN once it is flushed, then discard input until EOF.
void Server::startDraining(Conn& c) {
  c.state = State::kDraining;
  c.shutdownWhenFlushed = true;
  if (c.eof) {
    c.closeWhenFlushed = true;
  }
}

void Server::handleEof(Conn& c) {
  switch (c.state) {
    case State::kSleeping:
      return;  // Handled after the timer fires and queued commands ran.
    case State::kSink: {
      char reply[64];
      int len = snprintf(reply, sizeof(reply), "SHORT %llu\n",
                         static_cast<unsigned long long>(c.total - c.remaining));
      c.hash.reset();
      c.state = State::kDraining;
      sendData(c, std::string_view(reply, static_cast<size_t>(len)));
      c.closeWhenFlushed = true;
      break;
    }
    case State::kHalfClose: {
      char reply[64];
      int len = snprintf(reply, sizeof(reply), "GOT %llu\n", static_cast<unsigned long long>(c.counter));
      c.state = State::kDraining;
      sendData(c, std::string_view(reply, static_cast<size_t>(len)));
      c.shutdownWhenFlushed = true;
      c.closeWhenFlushed = true;
      break;
    }
    case State::kEcho:
      c.shutdownWhenFlushed = true;
      c.closeWhenFlushed = true;
      break;
    default:  // kSource finishes first (see finishIo); others just close.
      c.closeWhenFlushed = true;
      break;
  }
}

void Server::onWake(Conn& c) {
  c.state = State::kCommand;
  sendData(c, "SLEPT\n");
  feed(c, nullptr, 0);  // Run commands that queued up meanwhile.
  if (!c.dead && c.eof) {
    handleEof(c);
  }
  finishIo(c);
}

void Server::sendData(Conn& c, std::string_view data) {
  if (c.dead || c.shutDone || data.empty()) {
    return;
  }
  if (c.out.empty()) {
    while (true) {
      ssize_t w = send(c.fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (w >= 0) {
        data.remove_prefix(static_cast<size_t>(w));
        break;
      }
      if (errno == EINTR) {
        continue;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        break;
      }
      connError(c, "send", errno);
      return;
    }
  }
  if (!data.empty()) {
    c.out.append(data.data(), data.size());
  }
}

void Server::flushOut(Conn& c) {
  size_t budget = kWriteBudget;
  while (!c.dead) {
    if (c.out.empty()) {
      if (c.state != State::kSource || c.remaining == 0 || budget == 0) {
        return;
      }
      size_t chunk = static_cast<size_t>(std::min<uint64_t>(c.remaining, kSourceChunk));
      generateStream(c.streamState, c.out.reserveTail(chunk), chunk);
      c.out.commit(chunk);
      c.remaining -= chunk;
    }
    ssize_t w = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (w > 0) {
      c.out.consume(static_cast<size_t>(w));
      budget -= std::min(budget, static_cast<size_t>(w));
      continue;
    }
    if (w < 0 && errno == EINTR) {
      continue;
    }
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return;
    }
    connError(c, "send", w < 0 ? errno : EIO);
    return;
  }
}

// Applies deferred shutdown/close once output is flushed; refreshes interest.
void Server::finishIo(Conn& c) {
  if (c.dead) {
    return;
  }
  if (c.state == State::kSource && c.remaining == 0 && c.out.empty()) {
    startDraining(c);
  }
  if (c.out.empty() && c.state != State::kSource) {
    if (c.shutdownWhenFlushed && !c.shutDone) {
      shutdown(c.fd, SHUT_WR);
      c.shutDone = true;
    }
    if (c.closeWhenFlushed) {
      closeConn(c);
      return;
    }
  }
  updateInterest(c);
}

void Server::connError(Conn& c, const char* what, int err) {
  logLine("connection (%s): %s: %s", stateName(c.state), what, strerror(err));
  closeConn(c);
}

void Server::closeConn(Conn& c) {
  if (c.dead) {
    return;
  }
  ::close(c.fd);  // Also removes it from the epoll set.
  c.fd = -1;
  c.dead = true;
  graveyard_.push_back(c.token);
}

}  // namespace

int main(int argc, char** argv) {
  Options opts;
  int rc = parseOptions(argc, argv, &opts);
  if (rc >= 0) {
    return rc;
  }

  signal(SIGPIPE, SIG_IGN);
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  if (sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) {
    fprintf(stderr, "fulcrum-testbackend: sigprocmask: %s\n", strerror(errno));
    return 1;
  }
  int signalFd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signalFd < 0) {
    fprintf(stderr, "fulcrum-testbackend: signalfd: %s\n", strerror(errno));
    return 1;
  }

  {
    Server server(std::move(opts), signalFd);
    if (!server.init() || !server.announceReady()) {
      return 1;
    }
    server.run();
  }
  ::close(signalFd);
  return 0;
}
