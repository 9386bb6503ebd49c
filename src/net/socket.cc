#include "net/socket.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace fulcrum::net {

namespace {
Error sysError(const std::string& what, const std::string& addr) {
  return Error{what + " " + addr + ": " + std::strerror(errno)};
}

// The address is not on this host: say how to bind it before it arrives.
Error bindError(const config::SocketAddress& addr) {
  if (errno == EADDRNOTAVAIL) {
    return Error{"bind " + addr.text + ": " + std::strerror(errno) +
                 " (the address is not on this host; for a virtual address that moves between "
                 "balancers, set freebind: true on the listener)"};
  }
  return sysError("bind", addr.text);
}

void setFreebind(int fd, int family) {
  int one = 1;
  if (family == AF_INET6) {
    setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof one);
  } else {
    setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof one);
  }
}
}  // namespace

Result<core::Fd> openListenSocket(const config::SocketAddress& addr, config::Protocol protocol, int backlog,
                                  bool freebind) {
  int type = (protocol == config::Protocol::Udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC;
  core::Fd fd(::socket(addr.family(), type, 0));
  if (!fd) {
    return sysError("socket", addr.text);
  }
  int one = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    return sysError("setsockopt SO_REUSEPORT", addr.text);
  }
  if (addr.family() == AF_INET6) {
    // "[::]:80" means IPv6 only; listen on "*:80" as well for IPv4.
    setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  }
  if (protocol == config::Protocol::Udp) {
    // Needed to answer from the address the datagram was sent to on a wildcard bind.
    if (addr.family() == AF_INET) {
      setsockopt(fd.get(), IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
    } else {
      setsockopt(fd.get(), IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
    }
  }
  if (freebind) {
    setFreebind(fd.get(), addr.family());
  }
  if (::bind(fd.get(), addr.sa(), addr.length) != 0) {
    return bindError(addr);
  }
  if (protocol != config::Protocol::Udp && ::listen(fd.get(), backlog) != 0) {
    return sysError("listen", addr.text);
  }
  return fd;
}

Status probeAddressFree(const config::SocketAddress& addr, config::Protocol protocol, bool freebind) {
  const auto* in = reinterpret_cast<const sockaddr_in*>(&addr.storage);
  const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr.storage);
  if ((addr.family() == AF_INET ? in->sin_port : in6->sin6_port) == 0) {
    return {};
  }
  bool udp = protocol == config::Protocol::Udp;
  core::Fd fd(::socket(addr.family(), (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0));
  if (!fd) {
    return sysError("socket", addr.text);
  }
  int one = 1;
  if (!udp) {
    // TCP: connections left in TIME_WAIT by an earlier run must not count as "in use"; with
    // SO_REUSEADDR a listening socket still does. (Two UDP sockets with SO_REUSEADDR share a
    // port, so the UDP probe goes without it.)
    setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  }
  if (addr.family() == AF_INET6) {
    setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  }
  if (freebind) {
    setFreebind(fd.get(), addr.family());
  }
  if (::bind(fd.get(), addr.sa(), addr.length) != 0) {
    if (errno == EADDRINUSE) {
      return Error{"bind " + addr.text + "/" + (udp ? "udp" : "tcp") +
                   ": Address already in use by another process (sharing it through SO_REUSEPORT "
                   "would split its traffic between the two)"};
    }
    return bindError(addr);
  }
  return {};
}

Result<core::Fd> startConnect(const sockaddr* addr, socklen_t len) {
  core::Fd fd(::socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    return Error{std::string("socket: ") + std::strerror(errno)};
  }
  int one = 1;
  setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd.get(), addr, len) != 0 && errno != EINPROGRESS) {
    return Error{std::strerror(errno)};
  }
  return fd;
}

int socketError(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
    return errno;
  }
  return err;
}

void setNoDelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

void setLingerZero(int fd) {
  linger l{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

}  // namespace fulcrum::net
