#pragma once
// Kernel TLS (listeners' `tls.ktls`): whether this kernel can take a connection's record
// encryption (its `tls` TCP upper-layer protocol), probed once per process. OpenSSL hands a
// connection to the kernel after the handshake only where the probe found support; without it
// the switch changes nothing (and costs no failed setsockopt per connection).
#include <string>

namespace fulcrum::tls {

struct KernelTlsSupport {
  bool available = false;
  std::string detail;  // why (not), for the start-up log line
};

// Probed on first call (a socket and one setsockopt(TCP_ULP, "tls")), then cached; any thread.
const KernelTlsSupport& kernelTls();

}  // namespace fulcrum::tls
