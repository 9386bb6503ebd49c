#include "admin/listener.h"

#include <fcntl.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "http/runtime.h"

namespace fulcrum::admin {

namespace {

constexpr uint32_t kBacklog = 128;
// Once the head is in: for each next bytes of the body, and for a client to take the answer.
constexpr std::chrono::milliseconds kRequestTimeout{10000};

}  // namespace

AdminListener::AdminListener(core::EventLoop& loop, Api& api, Limits limits)
    : loop_(loop), limits_(limits), handler_(api), ctx_(loop, 0) {}

AdminListener::~AdminListener() {
  bool had = ctx_.session_count > 0;
  stop();
  if (had) {
    loop_.runOnce(0);
  }
}

Status AdminListener::start(const config::SocketAddress& bind, core::Fd inherited,
                            std::shared_ptr<const tls::ServerContext> tls) {
  core::Fd fd = std::move(inherited);
  if (fd) {
    int flags = ::fcntl(fd.get(), F_GETFL);
    if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
      return Error{std::string("inherited admin socket: ") + std::strerror(errno)};
    }
  } else {
    fd = core::Fd(::socket(bind.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) {
      return Error{std::string("admin socket: ") + std::strerror(errno)};
    }
    int one = 1;
    setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd.get(), bind.sa(), bind.length) != 0) {
      return Error{"cannot bind the admin listener to " + bind.text + ": " + std::strerror(errno)};
    }
    if (::listen(fd.get(), kBacklog) != 0) {
      return Error{"cannot listen on " + bind.text + ": " + std::strerror(errno)};
    }
  }
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  getsockname(fd.get(), reinterpret_cast<sockaddr*>(&local), &len);
  port_ = local.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&local)->sin6_port)
                                      : ntohs(reinterpret_cast<sockaddr_in*>(&local)->sin_port);

  config_ = std::make_shared<config::Config>();
  auto& t = config_->timeouts;
  t.request_head = std::chrono::milliseconds(limits_.head_timeout_ms);
  t.request_body = kRequestTimeout;
  t.idle = kRequestTimeout;       // a client not reading its answer
  t.keepalive = kRequestTimeout;  // (unused: every answer closes)
  config::Listener l;
  l.name = "admin";
  l.bind = bind;
  l.protocol = config::Protocol::Http;
  l.backlog = kBacklog;
  l.http.max_request_line = 8 * 1024;
  l.http.max_header_bytes = 16 * 1024;
  l.http.max_body_size = http::TerminalCall::kMaxBody;
  l.http.path_dot_segments = config::DotSegments::Forward;  // the API takes paths as sent (404 for the odd)
  config_->listeners.push_back(std::move(l));

  frontend_ = std::make_shared<http::HttpFrontend>(ctx_, fd.get(), nullptr);
  auto rt = http::buildTerminalRuntime(config_, config_->listeners.front(), handler_);
  rt->tls = std::move(tls);  // the same TLS transport as an http listener's; the head timeout covers the handshake
  frontend_->update(std::move(rt));
  auto guard = std::make_unique<http::ConnectionGuard>(
      loop_, http::ConnectionGuard::Limits{limits_.max_per_client, limits_.max_connections}, "admin");
  guard_ = guard.get();
  frontend_->setGuard(std::move(guard));
  if (!frontend_->start()) {
    Error e{std::string("admin epoll: ") + std::strerror(errno)};
    frontend_.reset();
    guard_ = nullptr;
    return e;
  }
  listen_fd_ = std::move(fd);
  return {};
}

void AdminListener::stopAccepting() {
  if (frontend_) {
    frontend_->stop();
  }
}

void AdminListener::stop() {
  if (frontend_) {
    frontend_->stop();
  }
  ctx_.closing_all = true;
  while (ctx_.sessions != nullptr) {
    ctx_.sessions->close("stopping", false);
  }
}

}  // namespace fulcrum::admin
