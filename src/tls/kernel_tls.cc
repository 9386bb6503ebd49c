#include "tls/kernel_tls.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fulcrum::tls {

namespace {

KernelTlsSupport probe() {
  KernelTlsSupport s;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    s.detail = std::string("cannot make a probe socket: ") + std::strerror(errno);
    return s;
  }
  // On an unconnected socket the kernel looks the ULP up first (ENOENT: no tls module, built in
  // or loadable), then refuses to attach it (ENOTCONN): that refusal proves the support.
  static const char kUlp[] = "tls";
  int rc = ::setsockopt(fd, IPPROTO_TCP, TCP_ULP, kUlp, sizeof kUlp - 1);
  int e = errno;
  ::close(fd);
  if (rc == 0 || e == ENOTCONN || e == EEXIST) {
    s.available = true;
    s.detail = "the kernel offers the tls upper-layer protocol";
  } else if (e == ENOENT) {
    s.detail = "the kernel has no TLS module (CONFIG_TLS unset or tls.ko not loadable)";
  } else {
    s.detail = std::string("setsockopt(TCP_ULP, tls): ") + std::strerror(e);
  }
  return s;
}

}  // namespace

const KernelTlsSupport& kernelTls() {
  static const KernelTlsSupport support = probe();
  return support;
}

}  // namespace fulcrum::tls
