#include "admin/http_server.h"

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "common/log.h"
#include "http/h1/head_writer.h"
#include "net/address.h"

namespace fulcrum::admin {

namespace {
constexpr size_t kMaxHead = 16 * 1024;
constexpr size_t kMaxBody = 1024 * 1024;
// Once the head is in: to receive the body, then to send the response.
constexpr uint64_t kRequestTimeoutMs = 10000;
constexpr uint64_t kShedLogIntervalMs = 1000;

// The client's IP address (without the port): what the per-client cap counts.
std::string clientKey(const sockaddr_storage& peer) {
  if (peer.ss_family == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6&>(peer).sin6_addr;
    return std::string(reinterpret_cast<const char*>(&a), sizeof a);
  }
  const auto& a = reinterpret_cast<const sockaddr_in&>(peer).sin_addr;
  return std::string(reinterpret_cast<const char*>(&a), sizeof a);
}

}  // namespace

Response errorResponse(int status, std::string_view message) {
  Response r;
  r.status = status;
  // error_handler::replace: a message quoting invalid UTF-8 from a request stays valid JSON.
  r.body = nlohmann::json{{"error", message}}.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  return r;
}

struct AdminServer::Conn final : core::IoHandler {
  Conn(AdminServer& s, core::Fd f, std::string p, std::string k)
      : server(s), fd(std::move(f)), peer(std::move(p)), client(std::move(k)) {}
  void onIoEvents(uint32_t events) override;
  void fail(int status, const std::string& why);
  void respond(const Response& r);
  void flush();

  AdminServer& server;
  core::Fd fd;
  std::string peer;
  std::string client;  // clientKey()
  std::string in;
  std::string out;
  size_t sent = 0;
  size_t head_len = 0;
  size_t body_len = 0;
  bool have_head = false;
  bool responded = false;
  bool eof = false;
  bool closed = false;  // events may still come in the batch that closed it
  Request req;
  http::RequestParser parser;
  core::Timer timer;
};

AdminServer::AdminServer(core::EventLoop& loop, Handler handler, Limits limits)
    : loop_(loop), handler_(std::move(handler)), limits_(limits) {}

AdminServer::~AdminServer() {
  for (auto& c : conns_) {
    loop_.timers().cancel(c->timer);
    loop_.remove(c->fd.get());
  }
  if (listen_fd_) {
    loop_.remove(listen_fd_.get());
  }
}

Status AdminServer::start(const config::SocketAddress& bind) {
  core::Fd fd(::socket(bind.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    return Error{std::string("admin socket: ") + std::strerror(errno)};
  }
  int one = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd.get(), bind.sa(), bind.length) != 0) {
    return Error{"cannot bind the admin listener to " + bind.text + ": " + std::strerror(errno)};
  }
  if (::listen(fd.get(), 128) != 0) {
    return Error{"cannot listen on " + bind.text + ": " + std::strerror(errno)};
  }
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  getsockname(fd.get(), reinterpret_cast<sockaddr*>(&local), &len);
  port_ = local.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&local)->sin6_port)
                                      : ntohs(reinterpret_cast<sockaddr_in*>(&local)->sin_port);
  if (!loop_.add(fd.get(), EPOLLIN | EPOLLET, this)) {
    return Error{std::string("admin epoll: ") + std::strerror(errno)};
  }
  listen_fd_ = std::move(fd);
  return {};
}

void AdminServer::onIoEvents(uint32_t) { accept(); }

void AdminServer::accept() {
  for (;;) {
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    int fd = ::accept4(listen_fd_.get(), reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // EAGAIN, or out of fds: the next edge tries again
    }
    core::Fd f(fd);
    std::string client = clientKey(peer);
    // Over a cap, the newcomer takes the place of the oldest connection that has not sent
    // its head: held-open connections can never lock a probe out.
    auto it = per_client_.find(client);
    if (it != per_client_.end() && it->second >= limits_.max_per_client && !shedOne(&client)) {
      ++stats_.refused;
      logShedding();
      continue;
    }
    if (conns_.size() >= limits_.max_connections && !shedOne(nullptr)) {
      ++stats_.refused;
      logShedding();
      continue;
    }
    auto c = std::make_unique<Conn>(*this, std::move(f), net::formatAddress(reinterpret_cast<sockaddr*>(&peer)),
                                     std::move(client));
    Conn* raw = c.get();
    raw->timer.setCallback([this, raw] {
      if (!raw->have_head) {
        ++stats_.head_timeouts;
        logShedding();
        if (raw->in.empty()) {
          close(raw);  // never said a word: nothing to answer
        } else {
          raw->fail(408, "the request head was not complete within " + std::to_string(limits_.head_timeout_ms) +
                             " ms");
        }
      } else if (!raw->responded) {
        raw->fail(408, "the request was not complete within 10 s");
      } else {
        close(raw);
      }
    });
    if (!loop_.add(raw->fd.get(), EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, raw)) {
      continue;
    }
    loop_.timers().schedule(raw->timer, limits_.head_timeout_ms);
    ++per_client_[raw->client];
    conns_.push_back(std::move(c));
  }
}

bool AdminServer::shedOne(const std::string* client) {
  for (auto& c : conns_) {
    if (!c->have_head && !c->responded && (client == nullptr || c->client == *client)) {
      ++stats_.shed;
      close(c.get());
      logShedding();
      return true;
    }
  }
  return false;
}

// At most one line a second, with what happened since the last one.
void AdminServer::logShedding() {
  uint64_t now = loop_.nowMs();
  if (last_shed_log_ms_ != 0 && now < last_shed_log_ms_ + kShedLogIntervalMs) {
    return;
  }
  last_shed_log_ms_ = now;
  log::warn("admin connections closed before their request head",
            {{"head_timeouts", stats_.head_timeouts - logged_.head_timeouts},
             {"shed", stats_.shed - logged_.shed},
             {"refused", stats_.refused - logged_.refused},
             {"open", conns_.size()}});
  logged_ = stats_;
}

void AdminServer::close(Conn* c) {
  if (c->closed) {
    return;
  }
  c->closed = true;
  loop_.timers().cancel(c->timer);
  loop_.remove(c->fd.get());
  if (auto pc = per_client_.find(c->client); pc != per_client_.end() && --pc->second == 0) {
    per_client_.erase(pc);
  }
  for (auto it = conns_.begin(); it != conns_.end(); ++it) {
    if (it->get() == c) {
      // Deleted on the next turn: we may be inside its own callback.
      auto owned = std::move(*it);
      conns_.erase(it);
      loop_.post([p = owned.release()] { delete p; });
      return;
    }
  }
}

void AdminServer::Conn::onIoEvents(uint32_t events) {
  if (closed) {
    return;
  }
  if (responded) {
    flush();
    return;
  }
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n > 0) {
      in.append(buf, static_cast<size_t>(n));
      if (in.size() > kMaxHead + kMaxBody) {
        fail(413, "request too large");
        return;
      }
      continue;
    }
    if (n == 0) {
      eof = true;  // a client may send its request and shut down writing: still answered
      break;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) break;
    server.close(this);
    return;
  }
  if (!have_head) {
    auto r = parser.feed(in);
    if (r.status == http::ParseStatus::Error) {
      fail(r.error.status, std::string(r.error.reason));
      return;
    }
    if (r.status == http::ParseStatus::NeedMore) {
      if (in.size() > kMaxHead) {
        fail(431, "request head too large");
      } else if (eof) {
        server.close(this);  // the client gave up
      }
      return;
    }
    const auto& h = parser.head();
    have_head = true;
    server.loop_.timers().schedule(timer, kRequestTimeoutMs);
    head_len = r.consumed;
    req.method = std::string(h.method);
    std::string_view target = h.target;
    size_t q = target.find('?');
    req.path = std::string(target.substr(0, q));
    req.query = q == std::string_view::npos ? "" : std::string(target.substr(q + 1));
    if (const http::Header* f = h.find("authorization")) req.authorization = std::string(f->value);
    if (const http::Header* f = h.find("content-type")) req.content_type = std::string(f->value);
    req.peer = peer;
    if (h.body.kind == http::BodyKind::Chunked) {
      fail(411, "send the body with Content-Length");
      return;
    }
    if (h.body.kind == http::BodyKind::ContentLength) {
      if (h.body.length > kMaxBody) {
        fail(413, "the body is limited to 1 MiB");
        return;
      }
      body_len = static_cast<size_t>(h.body.length);
    }
  }
  if (in.size() < head_len + body_len) {
    if (eof) {
      server.close(this);  // the body will not come
    }
    return;
  }
  req.body = in.substr(head_len, body_len);
  Response resp;
  try {
    resp = server.handler_(req);
  } catch (const std::exception& e) {
    log::error("admin request failed", {{"path", req.path}, {"error", e.what()}});
    resp = errorResponse(500, "internal error");
  }
  respond(resp);
}

void AdminServer::Conn::fail(int status, const std::string& why) { respond(errorResponse(status, why)); }

void AdminServer::Conn::respond(const Response& r) {
  responded = true;
  out = "HTTP/1.1 " + std::to_string(r.status) + " ";
  out += http::reasonPhrase(static_cast<uint16_t>(r.status));
  out += "\r\n";
  out += "Content-Type: " + r.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  out += "Cache-Control: no-store\r\nConnection: close\r\n";
  out += r.extra_headers;
  out += "\r\n";
  if (req.method != "HEAD") {
    out += r.body;
  }
  server.loop_.timers().schedule(timer, kRequestTimeoutMs);
  flush();
}

void AdminServer::Conn::flush() {
  while (sent < out.size()) {
    ssize_t n = ::send(fd.get(), out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    break;
  }
  ::shutdown(fd.get(), SHUT_WR);
  server.close(this);
}

}  // namespace fulcrum::admin
