#include "watch/readiness_probe.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "codec/parser.h"
#include "common/time.h"
#include "core/fd.h"

namespace fulcrum::watch {

namespace {

// Waits for `events` on fd until the deadline; false on timeout.
bool waitFor(int fd, short events, uint64_t deadline) {
  for (;;) {
    uint64_t now = monoMicros() / 1000;
    if (now >= deadline) {
      return false;
    }
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(deadline - now));
    if (n > 0) {
      return true;
    }
    if (n == 0) {
      return false;
    }
    if (errno != EINTR) {
      return false;
    }
  }
}

ProbeOutcome fail(std::string reason, int status = 0) {
  ProbeOutcome o;
  o.status = status;
  o.reason = std::move(reason);
  return o;
}

}  // namespace

Result<ProbeTarget> parseProbeUrl(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return Error{"the readiness URL must start with http:// (got \"" + std::string(url) + "\")"};
  }
  std::string_view rest = url.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  ProbeTarget t;
  t.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  t.host_header = std::string(authority);
  std::string_view host;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return Error{"unclosed '[' in the readiness URL's host"};
    }
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') {
        return Error{"junk after ']' in the readiness URL's host"};
      }
      port = authority.substr(close + 2);
    }
  } else {
    size_t colon = authority.rfind(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
    }
  }
  if (host.empty()) {
    return Error{"no host in the readiness URL"};
  }
  t.host = host == "localhost" ? "127.0.0.1" : std::string(host);
  in6_addr a6{};
  in_addr a4{};
  if (inet_pton(AF_INET, t.host.c_str(), &a4) != 1 && inet_pton(AF_INET6, t.host.c_str(), &a6) != 1) {
    return Error{"the readiness URL's host must be an IP address or localhost (got \"" + std::string(host) + "\")"};
  }
  if (port.empty()) {
    t.port = 80;
  } else {
    uint32_t p = 0;
    for (char c : port) {
      if (c < '0' || c > '9' || (p = p * 10 + static_cast<uint32_t>(c - '0')) > 65535) {
        return Error{"bad port in the readiness URL: \"" + std::string(port) + "\""};
      }
    }
    if (p == 0) {
      return Error{"bad port in the readiness URL: 0"};
    }
    t.port = static_cast<uint16_t>(p);
  }
  return t;
}

ProbeOutcome probe(const ProbeTarget& target, uint32_t timeoutMs) {
  uint64_t deadline = monoMicros() / 1000 + timeoutMs;
  sockaddr_storage addr{};
  socklen_t len = 0;
  auto* a4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* a6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (inet_pton(AF_INET, target.host.c_str(), &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons(target.port);
    len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, target.host.c_str(), &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(target.port);
    len = sizeof(sockaddr_in6);
  } else {
    return fail("bad address");
  }
  core::Fd s(::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (s.get() < 0) {
    return fail(std::string("socket: ") + std::strerror(errno));
  }
  if (::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0 && errno != EINPROGRESS) {
    return fail(std::string("connect: ") + std::strerror(errno));
  }
  if (!waitFor(s.get(), POLLOUT, deadline)) {
    return fail("connect: timed out");
  }
  int err = 0;
  socklen_t errLen = sizeof err;
  getsockopt(s.get(), SOL_SOCKET, SO_ERROR, &err, &errLen);
  if (err != 0) {
    return fail(std::string("connect: ") + std::strerror(err));
  }
  std::string request = "GET " + target.path + " HTTP/1.1\r\nHost: " + target.host_header +
                        "\r\nUser-Agent: fulcrum-watch\r\nConnection: close\r\n\r\n";
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = ::send(s.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!waitFor(s.get(), POLLOUT, deadline)) {
        return fail("send: timed out");
      }
    } else {
      return fail(std::string("send: ") + std::strerror(errno));
    }
  }
  // The status line and fields are enough: the body (the reasons) is not needed.
  std::string in;
  http::ResponseParser parser;
  char buf[4096];
  for (;;) {
    http::ParseResult r = parser.feed(in);
    if (r.status == http::ParseStatus::Done) {
      int status = parser.head().status;
      if (status != 200) {
        return fail("status " + std::to_string(status), status);
      }
      ProbeOutcome ok;
      ok.passed = true;
      ok.status = status;
      return ok;
    }
    if (r.status == http::ParseStatus::Error) {
      return fail(std::string("malformed answer: ") + std::string(r.error.reason));
    }
    if (in.size() > 64 * 1024) {
      return fail("answer head too large");
    }
    ssize_t n = ::recv(s.get(), buf, sizeof buf, 0);
    if (n > 0) {
      in.append(buf, static_cast<size_t>(n));
    } else if (n == 0) {
      return fail("closed before answering");
    } else if (errno == EAGAIN || errno == EINTR) {
      if (!waitFor(s.get(), POLLIN, deadline)) {
        return fail("timed out waiting for the answer");
      }
    } else {
      return fail(std::string("recv: ") + std::strerror(errno));
    }
  }
}

}  // namespace fulcrum::watch
