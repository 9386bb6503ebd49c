#pragma once
// UdpFrontend: one worker's socket for a UDP listener. Datagrams are balanced by flow:
// the first datagram from a client address:port picks a server, and later ones follow
// it until the flow has been quiet for udp.flow_idle. Each flow has its own connected
// socket to the server, so replies are told apart by socket and sent back to the right
// client from the listener's socket (and, on a wildcard bind, from the very address the
// client sent to, via IP_PKTINFO). SO_REUSEPORT hashes a client's datagrams to one
// worker, so a flow never spans workers.
#include <netinet/in.h>

#include <memory>
#include <string>
#include <unordered_map>

#include "balance/balancer.h"
#include "core/event_loop.h"
#include "core/timer_wheel.h"
#include "l4/context.h"
#include "upstream/picker_set.h"

namespace fulcrum::l4 {

class UdpFrontend;

class UdpFlow : public core::IoHandler, public core::DeferredDeletable {
 public:
  UdpFlow(UdpFrontend& fe, std::shared_ptr<const ListenerRuntime> rt, size_t host, core::Fd upstream);
  ~UdpFlow() override;
  void onIoEvents(uint32_t events) override;
  void forward(const uint8_t* data, size_t len);

  std::string key;
  sockaddr_storage client{};
  sockaddr_storage local{};  // the address the client sent to (for the reply's source)
  int local_ifindex = 0;
  bool has_local = false;

 private:
  friend class UdpFrontend;
  const upstream::HostState* hostState() const;
  void onTimer();

  UdpFrontend& fe_;
  std::shared_ptr<const ListenerRuntime> rt_;
  size_t host_;
  core::Fd upstream_;
  core::Timer timer_;
  uint64_t last_activity_ms_ = 0;
  bool removed_ = false;
  uint64_t bytes_in_ = 0;   // from the client
  uint64_t bytes_out_ = 0;  // to the client
  uint64_t start_us_ = 0;
  bool answered_ = false;  // the server has replied at least once (passive health)  // awaiting deferred delete; events left in the batch are ignored
};

class UdpFrontend : public core::IoHandler {
 public:
  UdpFrontend(WorkerContext& ctx, int fd, std::shared_ptr<const void> keepalive);
  ~UdpFrontend();
  void update(std::shared_ptr<const ListenerRuntime> runtime);
  bool start();
  // Stops reading new datagrams and forgets every flow.
  void stop();
  void onIoEvents(uint32_t events) override;

  size_t flowCount() const { return flows_.size(); }
  // Forgets the flows pinned to a server (its drain timed out); returns how many.
  size_t removeFlowsTo(const upstream::HostState* state);

 private:
  friend class UdpFlow;
  void receiveAll();
  UdpFlow* createFlow(const sockaddr_storage& client, socklen_t len, const std::string& key);
  void sendToClient(UdpFlow& flow, const uint8_t* data, size_t len);
  void removeFlow(UdpFlow& flow, const char* reason);

  WorkerContext& ctx_;
  int fd_;
  std::shared_ptr<const void> keepalive_;
  std::shared_ptr<const ListenerRuntime> runtime_;
  upstream::PickerSet pickers_;             // per pool, kept across snapshots
  balance::Picker* picker_ = nullptr;        // pickers_' for runtime_->cluster
  std::unordered_map<std::string, std::unique_ptr<UdpFlow>> flows_;
  bool registered_ = false;
  uint64_t last_drop_warning_ms_ = 0;
  core::Timer resume_;  // more datagrams were waiting after a batch: read on the next turn
};

}  // namespace fulcrum::l4
