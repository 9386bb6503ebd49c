#include "admin/client.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "core/fd.h"

namespace fulcrum::admin {

namespace {
// Waits for fd to be ready for `events` until `deadline`; false on timeout.
bool waitFor(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}
}  // namespace

Result<ClientResponse> call(const config::SocketAddress& addr, const std::string& method, const std::string& path,
                            const std::string& body, const std::string& token, int timeoutMs) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  core::Fd fd(::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    return Error{std::string("socket: ") + std::strerror(errno)};
  }
  std::string where = "the admin API at " + addr.text;
  if (::connect(fd.get(), addr.sa(), addr.length) != 0 && errno != EINPROGRESS) {
    return Error{"cannot connect to " + where + ": " + std::strerror(errno)};
  }
  if (!waitFor(fd.get(), POLLOUT, deadline)) {
    return Error{"cannot connect to " + where + ": timed out"};
  }
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) {
    return Error{"cannot connect to " + where + ": " + std::strerror(err) + " (is fulcrum running, with its admin listener there?)"};
  }
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: " + addr.text + "\r\nConnection: close\r\n";
  if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT") {
    req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  size_t off = 0;
  while (off < req.size()) {
    ssize_t n = ::send(fd.get(), req.data() + off, req.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!waitFor(fd.get(), POLLOUT, deadline)) return Error{"timed out sending to " + where};
    } else {
      return Error{"cannot send to " + where + ": " + std::strerror(errno)};
    }
  }
  std::string in;
  char buf[16384];
  for (;;) {
    ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n > 0) {
      in.append(buf, static_cast<size_t>(n));
      if (in.size() > 64 * 1024 * 1024) return Error{"the reply from " + where + " is too large"};
    } else if (n == 0) {
      break;
    } else if (errno == EAGAIN || errno == EINTR) {
      if (!waitFor(fd.get(), POLLIN, deadline)) return Error{"no reply from " + where + " within the timeout"};
    } else {
      return Error{"cannot read from " + where + ": " + std::strerror(errno)};
    }
  }
  size_t headEnd = in.find("\r\n\r\n");
  if (in.compare(0, 9, "HTTP/1.1 ") != 0 || headEnd == std::string::npos || in.size() < 12) {
    return Error{where + " did not answer in HTTP (is that the admin port?)"};
  }
  ClientResponse r;
  r.status = std::atoi(in.substr(9, 3).c_str());
  r.body = in.substr(headEnd + 4);
  return r;
}

}  // namespace fulcrum::admin
