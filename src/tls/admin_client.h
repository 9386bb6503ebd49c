#pragma once
// The client's side of TLS for Fulcrum's own tools (fulcrum ctl to the admin API over HTTPS):
// a TlsTransport in connect state over a connected socket, verifying the server against a CA
// bundle, against certificates trusted as they are (pinned: the admin's own certificate files,
// read from the config ctl was given), or the system's store.
#include <memory>
#include <string>
#include <vector>

#include "net/transport.h"

namespace fulcrum::tls {

struct AdminClientOptions {
  std::string ca_file;                // CAs the server's chain must lead to ...
  std::vector<std::string> pinned;    // ... or these PEM certificates, trusted themselves (no name check)
  std::string name;                   // with ca_file or the system store: the name (or IP literal) to check
};

// The fd stays the caller's; the handshake is driven by the caller (handshake() until Done).
// Null with `error` set (an unreadable CA file, no certificate in a pinned file).
std::unique_ptr<net::Transport> connectAdminClient(int fd, const AdminClientOptions& options, std::string& error);

}  // namespace fulcrum::tls
