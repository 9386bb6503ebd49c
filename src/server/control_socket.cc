#include "server/control_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <span>
#include <thread>

#include "common/log.h"

namespace fulcrum::server {

namespace {
// A probe of a socket file found at start: does a live process answer?
constexpr std::chrono::milliseconds kProbeTimeout{1000};
// A client that has not asked for anything by then is dropped (it holds an fd). A successor
// that took the sockets has no limit here: it is its upgrade command's to stop.
constexpr uint64_t kRequestTimeoutMs = 5000;

ino_t inodeOf(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}
}  // namespace

class ControlSocket::Peer : public core::IoHandler, public core::DeferredDeletable {
 public:
  Peer(ControlSocket& owner, handover::Channel channel)
      : owner_(owner), channel(std::move(channel)), timeout([this] {
          if (owner_.successor_ != this) {
            owner_.dropPeer(*this, "no request within " + std::to_string(kRequestTimeoutMs) + " ms");
          }
        }) {}
  void onIoEvents(uint32_t) override {
    // Edge-triggered: read every message waiting. Dropping the peer ends the loop.
    while (channel.valid()) {
      auto got = channel.tryReceive();
      if (!got) {
        owner_.dropPeer(*this, got.error().message);
        return;
      }
      if (!got->has_value()) {
        return;
      }
      owner_.onMessage(*this, std::move(**got));
    }
  }

  ControlSocket& owner_;
  handover::Channel channel;
  pid_t pid = 0;
  core::Timer timeout;
};

ControlSocket::ControlSocket(core::EventLoop& loop, Hooks hooks) : loop_(loop), hooks_(std::move(hooks)) {}

ControlSocket::~ControlSocket() { close(); }

Status ControlSocket::listen(const std::string& path, bool* conflict) {
  struct stat st{};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return Error{"control socket " + path + ": a file that is not a socket is in the way"};
    }
    int err = 0;
    auto probe = handover::Channel::connect(path, &err);
    if (!probe && err != ECONNREFUSED) {
      return Error{"control socket " + path + ": " + probe.error().message};  // not ours to remove
    }
    if (probe) {
      std::string who = "another process";
      if (probe->send(handover::encodeStatusRequest())) {
        if (auto reply = probe->receive(kProbeTimeout)) {
          auto m = handover::parseMessage(reply->text);
          if (m && m->verb == "running" && !m->args.empty()) {
            who = "another fulcrum (pid " + m->args[0] + ")";
          }
        }
      }
      if (conflict != nullptr) {
        *conflict = true;
      }
      return Error{"control socket " + path + ": " + who +
                   " serves with it; to replace it use `fulcrum upgrade`, or give this one its own "
                   "admin.control_socket"};
    }
    // Nobody answers: left behind by a fulcrum that died. Ours to replace.
    log::info("removing a stale control socket", {{"path", path}});
    ::unlink(path.c_str());
  }
  auto fd = handover::listenControlSocket(path);
  if (!fd) {
    return fd.error();
  }
  if (!loop_.add(fd->get(), EPOLLIN | EPOLLET, this)) {
    ::unlink(path.c_str());
    return Error{"control socket " + path + ": epoll: " + std::strerror(errno)};
  }
  listen_fd_ = std::move(*fd);
  path_ = path;
  bound_at_ = path;
  inode_ = inodeOf(path);
  return {};
}

Status ControlSocket::listenBeside(const std::string& path) {
  std::string tmp = path + "." + std::to_string(::getpid());
  ::unlink(tmp.c_str());  // a leftover of a successor with our pid that died: never in use
  auto fd = handover::listenControlSocket(tmp);
  if (!fd) {
    return fd.error();
  }
  if (!loop_.add(fd->get(), EPOLLIN | EPOLLET, this)) {
    ::unlink(tmp.c_str());
    return Error{"control socket " + tmp + ": epoll: " + std::strerror(errno)};
  }
  listen_fd_ = std::move(*fd);
  path_ = path;
  bound_at_ = tmp;
  inode_ = inodeOf(tmp);
  return {};
}

Status ControlSocket::publish() {
  if (bound_at_ == path_) {
    return {};
  }
  if (::rename(bound_at_.c_str(), path_.c_str()) != 0) {
    return Error{"control socket: rename " + bound_at_ + " to " + path_ + ": " + std::strerror(errno)};
  }
  bound_at_ = path_;
  return {};
}

void ControlSocket::close() {
  while (!peers_.empty()) {
    dropPeer(*peers_.back(), "");
  }
  if (listen_fd_) {
    loop_.remove(listen_fd_.get());
    listen_fd_.reset();
    // Only the file we made: after an upgrade the path holds the successor's socket.
    if (inode_ != 0 && inodeOf(bound_at_) == inode_) {
      ::unlink(bound_at_.c_str());
    }
  }
}

void ControlSocket::awaitSuccessorAtPath(std::chrono::milliseconds limit) const {
  if (handed_inode_ == 0) {
    return;
  }
  auto until = std::chrono::steady_clock::now() + limit;
  while (inodeOf(path_) == handed_inode_ && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void ControlSocket::onIoEvents(uint32_t) {
  while (listen_fd_) {
    auto channel = handover::acceptChannel(listen_fd_.get());
    if (!channel) {
      return;
    }
    pid_t pid = handover::peerPid(channel->fd());
    // The socket file is 0600, and the kernel says who connected: refuse anyone else anyway.
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(channel->fd(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
        (cred.uid != ::getuid() && cred.uid != 0)) {
      log::warn("control socket: refused a connection of another user", {{"pid", static_cast<long>(pid)}});
      continue;
    }
    auto peer = std::make_unique<Peer>(*this, std::move(*channel));
    peer->pid = pid;
    if (!loop_.add(peer->channel.fd(), EPOLLIN | EPOLLET, peer.get())) {
      continue;
    }
    Peer* p = peer.get();
    loop_.timers().schedule(p->timeout, kRequestTimeoutMs);
    peers_.push_back(std::move(peer));
    p->onIoEvents(EPOLLIN);  // it may have written before we registered
  }
}

void ControlSocket::dropPeer(Peer& peer, const std::string& why) {
  if (&peer == successor_) {
    successor_ = nullptr;
    if (!handed_over_) {
      log::warn("upgrade abandoned: the new fulcrum went away before it was serving; this one serves on",
                {{"pid", static_cast<long>(peer.pid)}, {"reason", why}});
    }
  }
  auto it = std::find_if(peers_.begin(), peers_.end(), [&](const auto& p) { return p.get() == &peer; });
  if (it == peers_.end()) {
    return;
  }
  loop_.timers().cancel(peer.timeout);
  loop_.remove(peer.channel.fd());
  peer.channel.close();
  loop_.deferDelete(std::move(*it));
  peers_.erase(it);
}

void ControlSocket::onMessage(Peer& peer, handover::Received msg) {
  auto m = handover::parseMessage(msg.text);
  if (!m) {
    (void)peer.channel.send(handover::encodeError(m.error().message));
    dropPeer(peer, m.error().message);
    return;
  }
  if (handover::isStatusRequest(*m)) {
    const char* state = !hooks_.serving() ? "stopping" : successor_ != nullptr ? "upgrading" : "serving";
    (void)peer.channel.send(handover::encodeStatus(::getpid(), FULCRUM_VERSION, state));
    dropPeer(peer, "");
    return;
  }
  if (m->verb == "takeover") {
    auto pid = handover::decodeTakeover(*m);
    std::string refusal;
    if (!pid) {
      refusal = pid.error().message;
    } else if (!hooks_.serving() || handed_over_) {
      refusal = "this fulcrum is stopping";
    } else if (successor_ != nullptr) {
      refusal = "an upgrade is already under way (new fulcrum pid " + std::to_string(successor_->pid) + ")";
    }
    if (!refusal.empty()) {
      log::warn("upgrade refused", {{"pid", static_cast<long>(peer.pid)}, {"reason", refusal}});
      (void)peer.channel.send(handover::encodeError(refusal));
      dropPeer(peer, refusal);
      return;
    }
    sendSockets(peer, *pid);
    return;
  }
  if (m->verb == "ready" && &peer == successor_) {
    auto pid = handover::decodeReady(*m);
    if (!pid) {
      dropPeer(peer, pid.error().message);
      return;
    }
    handed_over_ = true;
    handed_inode_ = inode_;
    inode_ = 0;  // the path is the successor's from now on (it renames its socket over it)
    uint64_t drainMs = hooks_.hand_over(peer.pid);
    (void)peer.channel.send(handover::encodeDraining(drainMs));
    // No further upgrades through this process: the successor takes the path over.
    close();
    return;
  }
  std::string why = "unexpected \"" + m->verb + "\"";
  (void)peer.channel.send(handover::encodeError("protocol error: " + why));
  dropPeer(peer, why);
}

void ControlSocket::sendSockets(Peer& peer, pid_t successor) {
  auto all = hooks_.sockets();
  log::info("upgrade: handing the listening sockets to a new fulcrum",
            {{"pid", static_cast<long>(peer.pid)}, {"announced_pid", static_cast<long>(successor)},
             {"sockets", all.size()}});
  Status st = peer.channel.send(handover::encodeBegin(::getpid(), all.size()));
  for (size_t at = 0; st && at < all.size(); at += handover::kMaxFdsPerMessage) {
    size_t n = std::min(handover::kMaxFdsPerMessage, all.size() - at);
    std::vector<handover::SocketRecord> records;
    std::vector<int> fds;
    for (size_t i = at; i < at + n; ++i) {
      records.push_back(all[i].first);
      fds.push_back(all[i].second);
    }
    st = peer.channel.send(handover::encodeSockets(records), fds);
  }
  if (st) {
    st = peer.channel.send(handover::encodeEnd());
  }
  if (!st) {
    log::warn("upgrade: the transfer of the sockets failed; serving on", {{"error", st.message()}});
    dropPeer(peer, st.message());
    return;
  }
  successor_ = &peer;
}

}  // namespace fulcrum::server
