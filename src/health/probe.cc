#include "health/probe.h"

#include <sys/socket.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "codec/chunked.h"
#include "codec/parser.h"
#include "net/address.h"
#include "net/socket.h"

namespace fulcrum::health {

namespace {
constexpr size_t kMaxResponse = 64 * 1024;
constexpr size_t kMaxAgentLine = 512;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}
}  // namespace

std::optional<AgentReport> parseAgentLine(std::string_view line, std::string& why) {
  AgentReport r;
  r.text = std::string(line.substr(0, 200));
  if (auto hash = line.find('#'); hash != std::string_view::npos) {
    line = line.substr(0, hash);  // "down#reason": the reason is for people
  }
  bool understood = false;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == ',' || line[i] == '\t' || line[i] == '\r')) {
      ++i;
    }
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != ',' && line[j] != '\t' && line[j] != '\r') {
      ++j;
    }
    std::string_view w = line.substr(i, j - i);
    i = j;
    if (w.empty()) {
      continue;
    }
    if (iequals(w, "up") || iequals(w, "ready")) {
      r.state = State::Up;
      understood = true;
    } else if (iequals(w, "down") || iequals(w, "fail") || iequals(w, "stopped") || iequals(w, "maint")) {
      r.state = State::Down;
      understood = true;
    } else if (iequals(w, "drain")) {
      r.drain = true;
      understood = true;
    } else if (w.back() == '%' && w.size() >= 2 && w.size() <= 4) {
      uint32_t v = 0;
      bool digits = true;
      for (char c : w.substr(0, w.size() - 1)) {
        digits = digits && std::isdigit(static_cast<unsigned char>(c));
        v = v * 10 + static_cast<uint32_t>(c - '0');
      }
      if (!digits || v > 100) {
        why = "bad weight \"" + std::string(w) + "\"; expected 0% to 100%";
        return std::nullopt;
      }
      r.weight_percent = v;
      understood = true;
    }
    // Unknown words are ignored, as HAProxy does, so agents can add their own.
  }
  if (!understood) {
    why = "agent answer not understood: \"" + r.text + "\"";
    return std::nullopt;
  }
  return r;
}

// Uses the proxy's own strict codec, so a server the proxy would refuse (a 502) also fails
// its check, with the parser's reason.
CheckResult judgeHttp(std::string_view resp, bool closed, const HttpExpect& expect, bool& complete) {
  complete = false;
  CheckResult r;
  auto fail = [&](std::string why) {
    complete = true;
    r.reason = std::move(why);
    return r;
  };
  http::ResponseParser parser({}, http::ResponseContext{expect.method == "HEAD", false});
  http::ParseResult head;
  size_t at = 0;  // interim 1xx responses are skipped
  for (;;) {
    head = parser.feed(resp.substr(at));
    if (head.status != http::ParseStatus::Done || parser.head().status >= 200 || parser.head().status == 101) {
      break;
    }
    at += head.consumed;
    parser.reset(http::ResponseContext{expect.method == "HEAD", false});
  }
  if (head.status == http::ParseStatus::Error) {
    return fail("invalid response: " + std::string(head.error.reason));
  }
  if (head.status == http::ParseStatus::NeedMore) {
    if (closed) {
      return fail(resp.empty() ? "closed without an answer" : "closed in the response head");
    }
    return r;
  }
  int status = parser.head().status;
  bool statusOk = false;
  for (auto [lo, hi] : expect.statuses) {
    statusOk = statusOk || (status >= lo && status <= hi);
  }
  if (!statusOk) {
    return fail("status " + std::to_string(status));
  }
  if (expect.body_contains.empty()) {
    complete = true;
    r.ok = true;
    r.reason = "ok (" + std::to_string(status) + ")";
    return r;
  }
  // The body, as far as it has arrived, decoded from its framing.
  std::string_view rest = resp.substr(at + head.consumed);
  const http::BodyFraming framing = parser.head().body;
  std::string body;
  bool ended = closed;
  switch (framing.kind) {
    case http::BodyKind::None:
      ended = true;
      break;
    case http::BodyKind::ContentLength:
      body.assign(rest.substr(0, framing.length));
      ended = ended || body.size() == framing.length;
      break;
    case http::BodyKind::UntilClose:
      body.assign(rest);
      break;
    case http::BodyKind::Chunked: {
      http::ChunkedDecoder decoder;
      for (;;) {
        auto c = decoder.decode(rest);
        if (c.status == http::ChunkStatus::Error) {
          return fail("invalid chunked body: " + std::string(c.error.reason));
        }
        if (c.status == http::ChunkStatus::Data) {
          body.append(c.data);
        }
        rest.remove_prefix(c.consumed);
        if (c.status == http::ChunkStatus::Done) {
          ended = true;
        }
        if (c.status != http::ChunkStatus::Data) {
          break;
        }
      }
      break;
    }
  }
  if (body.find(expect.body_contains) != std::string::npos) {
    complete = true;
    r.ok = true;
    r.reason = "ok (" + std::to_string(status) + ", body matched)";
    return r;
  }
  if (ended || resp.size() >= kMaxResponse) {
    return fail("status " + std::to_string(status) + " but the body lacks \"" + expect.body_contains + "\"");
  }
  return r;
}

Probe::Probe(core::EventLoop& loop, Kind kind, const sockaddr* addr, socklen_t len, uint32_t timeoutMs,
             const HttpExpect* http, Done done)
    : loop_(loop), kind_(kind), len_(len), timeout_ms_(timeoutMs), http_(http), done_(std::move(done)),
      timer_([this] { finish(false, "timeout after " + std::to_string(timeout_ms_) + "ms"); }) {
  std::memcpy(&addr_, addr, len);
}

Probe::~Probe() {
  if (fd_) {
    loop_.remove(fd_.get());
  }
}

void Probe::start() {
  started_ms_ = core::EventLoop::monotonicMs();
  auto fd = net::startConnect(reinterpret_cast<const sockaddr*>(&addr_), len_);
  if (!fd) {
    finish(false, "connect: " + fd.error().message);
    return;
  }
  fd_ = std::move(*fd);
  if (!loop_.add(fd_.get(), EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, this)) {
    finish(false, std::string("epoll: ") + std::strerror(errno));
    return;
  }
  if (kind_ == Kind::Http) {
    std::string host = http_->host.empty() ? net::formatAddress(reinterpret_cast<const sockaddr*>(&addr_)) : http_->host;
    request_ = http_->method + " " + http_->path + " HTTP/1.1\r\nHost: " + host +
               "\r\nUser-Agent: fulcrum-health-check\r\nAccept: */*\r\nConnection: close\r\n\r\n";
  }
  loop_.timers().schedule(timer_, timeout_ms_);
}

void Probe::onIoEvents(uint32_t events) {
  if (finished_) {
    return;
  }
  if (!connected_ && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
    int err = net::socketError(fd_.get());
    if (err != 0) {
      finish(false, std::string("connect: ") + std::strerror(err));
      return;
    }
    connected_ = true;
    if (kind_ == Kind::Tcp) {
      finish(true, "connected");
      return;
    }
    if (kind_ == Kind::Http && http_->tls) {
      tls_ = http_->tls(fd_.get());
      if (!tls_) {
        finish(false, "TLS: cannot make a connection (memory)");
        return;
      }
      handshaking_ = true;
    }
  }
  if (handshaking_) {
    switch (tls_->handshake()) {
      case net::HandshakeStatus::Done:
        handshaking_ = false;
        events |= EPOLLOUT;  // the request goes now (the socket's edge went to the handshake)
        break;
      case net::HandshakeStatus::WantRead:
      case net::HandshakeStatus::WantWrite:
        return;
      case net::HandshakeStatus::Failed:
        finish(false, "TLS handshake: " + tls_->failure());
        return;
    }
  }
  if (connected_ && (events & EPOLLOUT)) {
    onWritable();
  }
  if (!finished_ && connected_ && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
    onReadable();
  }
}

void Probe::onWritable() {
  while (tls_ && sent_ < request_.size()) {
    auto r = tls_->write(reinterpret_cast<const uint8_t*>(request_.data()) + sent_, request_.size() - sent_);
    if (r.status == net::IoStatus::Ok) {
      sent_ += r.bytes;
      continue;
    }
    if (r.status == net::IoStatus::WouldBlock) {
      return;
    }
    finish(false, "send: TLS: " + tls_->failure());
    return;
  }
  while (sent_ < request_.size()) {
    ssize_t n = ::send(fd_.get(), request_.data() + sent_, request_.size() - sent_, MSG_NOSIGNAL);
    if (n > 0) {
      sent_ += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && errno == EAGAIN) {
      return;
    }
    finish(false, std::string("send: ") + std::strerror(errno));
    return;
  }
}

bool Probe::readSome(bool& closed) {
  // TLS: a short read proves nothing, so read until WouldBlock (as below).
  uint8_t buf[4096];
  for (;;) {
    auto r = tls_->read(buf, sizeof buf);
    if (r.status == net::IoStatus::Ok) {
      response_.append(reinterpret_cast<const char*>(buf), r.bytes);
      if (response_.size() >= kMaxResponse) {
        return true;
      }
      continue;
    }
    if (r.status == net::IoStatus::Eof) {
      closed = true;
      return true;
    }
    if (r.status == net::IoStatus::WouldBlock) {
      return true;
    }
    finish(false, "recv: TLS: " + tls_->failure());
    return false;
  }
}

void Probe::onReadable() {
  char buf[4096];
  bool closed = false;
  if (tls_ && !readSome(closed)) {
    return;
  }
  for (; !tls_;) {
    ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
    if (n > 0) {
      response_.append(buf, static_cast<size_t>(n));
      if (response_.size() >= kMaxResponse) {
        break;
      }
      continue;
    }
    if (n == 0) {
      closed = true;
      break;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN) {
      break;
    }
    finish(false, std::string("recv: ") + std::strerror(errno));
    return;
  }
  if (kind_ == Kind::Agent) {
    size_t nl = response_.find('\n');
    if (nl == std::string::npos && !closed && response_.size() < kMaxAgentLine) {
      return;
    }
    std::string line = response_.substr(0, std::min(nl, kMaxAgentLine));
    std::string why;
    auto report = parseAgentLine(line, why);
    if (!report) {
      finish(false, line.empty() ? std::string("agent closed without an answer") : why);
      return;
    }
    finish(true, "agent: " + report->text, std::move(report));
    return;
  }
  bool complete = false;
  CheckResult r = judgeHttp(response_, closed || response_.size() >= kMaxResponse, *http_, complete);
  if (complete) {
    finish(r.ok, r.reason);
  }
}

void Probe::cancel() {
  finished_ = true;
  done_ = nullptr;
  loop_.timers().cancel(timer_);
  if (fd_) {
    loop_.remove(fd_.get());
    fd_.reset();
  }
}

void Probe::finish(bool ok, std::string reason, std::optional<AgentReport> agent) {
  if (finished_) {
    return;
  }
  finished_ = true;
  loop_.timers().cancel(timer_);
  if (fd_) {
    loop_.remove(fd_.get());
    fd_.reset();
  }
  tls_.reset();
  CheckResult r;
  r.time_ms = core::EventLoop::monotonicMs();
  r.ok = ok;
  r.latency_ms = static_cast<uint32_t>(r.time_ms - started_ms_);
  r.reason = std::move(reason);
  // The callback may destroy this probe: call it last, from a moved-out copy.
  auto done = std::move(done_);
  done(std::move(r), std::move(agent));
}

}  // namespace fulcrum::health
