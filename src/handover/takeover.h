#pragma once
// Takeover: the new fulcrum's side of an upgrade. It asks the running fulcrum (over its
// control socket) for every listening socket it has, checks each descriptor is the socket
// its record says, and, once its own workers serve, tells it so: only then does the running
// one stop accepting and drain. Used on the control thread at start-up (blocking, bounded).
#include <sys/types.h>

#include <chrono>
#include <string>

#include "common/result.h"
#include "handover/channel.h"
#include "handover/inherited.h"

namespace fulcrum::handover {

class Takeover {
 public:
  // Connects to path and receives all sockets into `into`. Every wait is bounded by timeout.
  // Errors name the cause: no or stale socket, a peer that closed or went silent mid-transfer
  // ("got 3 of 8 sockets"), a descriptor count or kind/address mismatch, a protocol error.
  // On error, sockets already received are closed and the running fulcrum is untouched.
  static Result<Takeover> start(const std::string& path, InheritedSockets& into, std::chrono::milliseconds timeout);

  pid_t predecessor() const { return predecessor_; }
  size_t received() const { return received_; }
  // Tells the predecessor we serve, and waits (up to timeout) for it to confirm that it stops
  // accepting; returns its drain time. An error means it did not confirm (it died, say): we
  // serve on regardless, as the sockets are ours.
  Result<uint64_t> confirmReady(std::chrono::milliseconds timeout);

 private:
  Channel channel_;
  pid_t predecessor_ = 0;
  size_t received_ = 0;
};

}  // namespace fulcrum::handover
