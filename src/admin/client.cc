#include "admin/client.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <chrono>
#include <cstring>

#include "core/fd.h"
#include "net/transport.h"
#include "tls/admin_client.h"

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
                            const std::string& body, const std::string& token, int timeoutMs, const ClientTls& tls) {
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
  net::RawTransport raw(std::move(fd));
  std::unique_ptr<net::Transport> secure;
  if (tls.enabled) {
    std::string why;
    secure = tls::connectAdminClient(raw.fd(), {tls.ca_file, tls.pinned, tls.name}, why);
    if (!secure) {
      return Error{"cannot talk TLS to " + where + ": " + why};
    }
    for (;;) {
      auto hs = secure->handshake();
      if (hs == net::HandshakeStatus::Done) {
        break;
      }
      if (hs == net::HandshakeStatus::Failed) {
        return Error{"TLS handshake with " + where + " failed: " + secure->failure() +
                     (secure->failure().find("wrong version number") != std::string::npos
                          ? " (does it serve plain HTTP? then without https:// and --cacert)"
                          : "")};
      }
      if (!waitFor(raw.fd(), hs == net::HandshakeStatus::WantRead ? POLLIN : POLLOUT, deadline)) {
        return Error{"TLS handshake with " + where + ": timed out"};
      }
    }
  }
  net::Transport& t = secure ? *secure : static_cast<net::Transport&>(raw);
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: " + addr.text + "\r\nConnection: close\r\n";
  if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT") {
    req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  size_t off = 0;
  while (off < req.size()) {
    auto r = t.write(reinterpret_cast<const uint8_t*>(req.data()) + off, req.size() - off);
    if (r.status == net::IoStatus::Ok) {
      off += r.bytes;
    } else if (r.status == net::IoStatus::WouldBlock) {
      if (!waitFor(raw.fd(), POLLOUT, deadline)) return Error{"timed out sending to " + where};
    } else {
      return Error{"cannot send to " + where + ": " + (t.failure().empty() ? std::strerror(r.error) : t.failure())};
    }
  }
  std::string in;
  uint8_t buf[16384];
  for (;;) {
    auto r = t.read(buf, sizeof buf);
    if (r.status == net::IoStatus::Ok) {
      in.append(reinterpret_cast<const char*>(buf), r.bytes);
      if (in.size() > 64 * 1024 * 1024) return Error{"the reply from " + where + " is too large"};
    } else if (r.status == net::IoStatus::Eof) {
      break;
    } else if (r.status == net::IoStatus::WouldBlock) {
      if (!t.hasBufferedInput() && !waitFor(raw.fd(), POLLIN, deadline)) {
        return Error{"no reply from " + where + " within the timeout"};
      }
    } else {
      return Error{"cannot read from " + where + ": " + (t.failure().empty() ? std::strerror(r.error) : t.failure())};
    }
  }
  size_t headEnd = in.find("\r\n\r\n");
  if (in.compare(0, 9, "HTTP/1.1 ") != 0 || headEnd == std::string::npos || in.size() < 12) {
    return Error{where + " did not answer in HTTP (is that the admin port?)"};
  }
  ClientResponse r;
  r.status = std::atoi(in.substr(9, 3).c_str());
  r.body = in.substr(headEnd + 4);
  // Cut short (a connection closed mid-answer, whatever TLS said): never taken for the whole.
  std::string head = in.substr(0, headEnd);
  for (char& c : head) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (size_t at = head.find("\r\ncontent-length:"); at != std::string::npos) {
    size_t want = std::strtoull(head.c_str() + at + 17, nullptr, 10);
    if (r.body.size() < want) {
      return Error{"the reply from " + where + " was cut short (" + std::to_string(r.body.size()) + " of " +
                   std::to_string(want) + " bytes)"};
    }
  }
  return r;
}

}  // namespace fulcrum::admin
