#pragma once
// InheritedSockets: listening sockets this process was given at start — by the fulcrum it
// replaces (`fulcrum upgrade`) or by systemd (socket activation) — waiting for the listeners
// of the config to adopt them. A listener takes the ones with its kind and address, one per
// worker; what no listener takes is closed, never kept.
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "core/fd.h"
#include "handover/wire.h"

namespace fulcrum::handover {

class InheritedSockets {
 public:
  // from: who passed it, for the log ("fulcrum pid 812", "systemd").
  void add(SocketRecord record, core::Fd fd, std::string from);
  // Moves every socket of other into this one.
  void merge(InheritedSockets&& other);
  bool has(const std::string& key) const;
  // The socket for key that record.worker says belongs to worker `worker`; a socket of
  // another worker index is taken when the one asked for is not there (systemd gives one
  // socket per address, with no worker). Invalid Fd when none is left for key.
  core::Fd take(const std::string& key, size_t worker);
  size_t size() const { return sockets_.size(); }
  bool empty() const { return sockets_.empty(); }
  size_t taken() const { return taken_; }
  // Closes what nobody took; returns "<key> (listener <name>, worker <i>, from <from>)" for each.
  std::vector<std::string> closeRest();

 private:
  struct Entry {
    SocketRecord record;
    core::Fd fd;
    std::string from;
  };
  std::vector<Entry> sockets_;
  size_t taken_ = 0;
};

// What the socket itself says it is: TCP listening or UDP, bound to which address (SO_TYPE,
// SO_ACCEPTCONN, getsockname). An error for anything else (not a socket, a Unix socket, a
// TCP socket that is not listening). listener and worker are left empty/0.
Result<SocketRecord> describeSocket(int fd);

// Checks that fd is the socket record says (kind and address): a peer sending other
// descriptors than it announces is refused.
Status checkSocket(int fd, const SocketRecord& record);

// sd_listen_fds(3), pure: the fds (from 3) and names systemd passed, given the values of
// LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES (null when unset) and our pid. Empty when
// LISTEN_PID is unset or another process's (the variables were meant for it). Errors for
// malformed values. A missing or short LISTEN_FDNAMES gives "" names.
struct ListenFd {
  int fd;
  std::string name;
};
Result<std::vector<ListenFd>> parseListenFds(const char* listenPid, const char* listenFds, const char* listenFdNames,
                                             pid_t self);

// Reads the LISTEN_* variables of this process, unsets them (children must not take them
// for theirs), marks each fd close-on-exec and non-blocking, and adds each usable socket to
// out (workers numbered in order per address). warnings: one line per fd that is not a
// usable socket (it is closed). Call once, at start-up, before any thread exists.
Status adoptSystemdSockets(InheritedSockets& out, std::vector<std::string>& warnings);

}  // namespace fulcrum::handover
