#pragma once
// Socket set-up helpers. Everything returns a Result so start-up and reload can report
// "bind 127.0.0.1:8080: Address already in use" instead of failing somewhere later.
#include "common/result.h"
#include "config/model.h"
#include "core/fd.h"

namespace fulcrum::net {

// A non-blocking listening (TCP) or bound (UDP) socket with SO_REUSEPORT, so each worker
// can own one of a group bound to the same address.
// freebind: IP_FREEBIND, the bind succeeds though the address is not on this host yet.
Result<core::Fd> openListenSocket(const config::SocketAddress& addr, config::Protocol protocol, int backlog,
                                  bool freebind = false);

// Fails with "... already in use" when any socket (this process's or another's) holds `addr`
// for `protocol`. It binds a throwaway socket without SO_REUSEPORT, which the kernel refuses
// wherever a SO_REUSEPORT bind would quietly share the port, and split its traffic, with another
// process of the same user. Port 0 always passes.
Status probeAddressFree(const config::SocketAddress& addr, config::Protocol protocol, bool freebind = false);

// Starts a non-blocking connect. Ok with a valid fd means "in progress or done": wait for
// writability and read SO_ERROR. An error means the attempt failed at once.
Result<core::Fd> startConnect(const sockaddr* addr, socklen_t len);

// The pending error of a socket (SO_ERROR), 0 when none.
int socketError(int fd);

// Small writes go out at once (no Nagle delay): a proxy writes heads and bodies separately.
void setNoDelay(int fd);

// Make the next close() send RST instead of FIN, to pass a reset on to the other side.
void setLingerZero(int fd);

}  // namespace fulcrum::net
