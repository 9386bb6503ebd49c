#pragma once
// ControlSocket: the running fulcrum's end of `fulcrum upgrade`, on the control thread. A
// successor connects, receives every listening socket (handover/wire.h) and later says it
// serves; only then does this process stop accepting and drain. A successor that goes away
// before that changes nothing here: this process serves on and takes the next attempt.
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "core/event_loop.h"
#include "core/fd.h"
#include "handover/channel.h"
#include "handover/wire.h"

namespace fulcrum::server {

class ControlSocket : public core::IoHandler {
 public:
  struct Hooks {
    // The sockets to hand over, with descriptors the server keeps owning.
    std::function<std::vector<std::pair<handover::SocketRecord, int>>()> sockets;
    // The successor (pid) serves: stop accepting and drain; returns the drain time (ms).
    std::function<uint64_t(pid_t)> hand_over;
    // False while stopping: no takeover is offered then.
    std::function<bool()> serving;
  };
  ControlSocket(core::EventLoop& loop, Hooks hooks);
  ~ControlSocket();
  ControlSocket(const ControlSocket&) = delete;
  ControlSocket& operator=(const ControlSocket&) = delete;

  // Listens at path. A socket file there that a live process answers on is an error (another
  // fulcrum runs with this config: use `fulcrum upgrade`); a stale one is replaced.
  // conflict (optional): set when that live process is the reason.
  Status listen(const std::string& path, bool* conflict = nullptr);
  // For a successor, whose predecessor still listens at path: listens at a temporary path
  // beside it; publish() then renames it over path (atomic: a client finds one or the other).
  Status listenBeside(const std::string& path);
  Status publish();
  // Stops listening and drops open connections; the socket file is removed if it is still
  // the one this process made (after an upgrade it is the successor's: left alone).
  void close();
  const std::string& path() const { return path_; }
  // After a handover: waits (up to limit) until the path names the successor's socket, not
  // this process's closed one, so a watcher that sees this process exit finds the successor
  // there (fulcrum watch --control-socket). Returns at once if nothing was handed over.
  void awaitSuccessorAtPath(std::chrono::milliseconds limit) const;

  void onIoEvents(uint32_t events) override;

 private:
  class Peer;
  void onMessage(Peer& peer, handover::Received msg);
  void sendSockets(Peer& peer, pid_t successor);
  void dropPeer(Peer& peer, const std::string& why);

  core::EventLoop& loop_;
  Hooks hooks_;
  core::Fd listen_fd_;
  std::string path_;       // where clients find it
  std::string bound_at_;   // where it is bound now (a temporary path until publish())
  ino_t inode_ = 0;        // of the socket file we made, to recognise it at close()
  ino_t handed_inode_ = 0; // that file's inode when the successor took over (0: no handover)
  std::vector<std::unique_ptr<Peer>> peers_;
  Peer* successor_ = nullptr;  // the peer that took the sockets and has not said ready yet
  bool handed_over_ = false;
};

}  // namespace fulcrum::server
