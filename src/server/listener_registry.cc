#include "server/listener_registry.h"

#include <fcntl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "config/address.h"
#include "net/address.h"
#include "net/socket.h"

namespace fulcrum::server {

std::string listenKey(const config::Listener& l) {
  return std::string(l.protocol == config::Protocol::Udp ? "udp " : "tcp ") + net::formatAddress(l.bind.sa());
}

namespace {
bool hasReusePort(int fd) {
  int on = 0;
  socklen_t len = sizeof on;
  return ::getsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, &len) == 0 && on != 0;
}

// An adopted socket as a freshly bound one would be: non-blocking, this config's backlog
// (listen() again on a listening socket only changes the backlog; its queue is kept).
Status fitAdopted(int fd, const config::Listener& l) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    return Error{std::string("inherited socket: ") + std::strerror(errno)};
  }
  if (l.protocol != config::Protocol::Udp && ::listen(fd, static_cast<int>(l.backlog)) != 0) {
    return Error{std::string("inherited socket: listen: ") + std::strerror(errno)};
  }
  return {};
}
}  // namespace

Result<ListenerSockets> ListenerRegistry::prepare(const config::Config& config, size_t workers,
                                                  handover::InheritedSockets* inherited) {
  ListenerSockets out;
  adopted_ = 0;
  shared_ = 0;
  bound_ = 0;
  for (const auto& l : config.listeners) {
    std::string key = listenKey(l);
    if (auto it = current_.find(key); it != current_.end() && it->second->fds.size() == workers) {
      out[l.name] = it->second;
      continue;
    }
    // The address is held by the sockets we adopt: no probe (it would fail on our own).
    bool adopting = inherited != nullptr && inherited->has(key);
    if (!adopting) {
      if (auto st = probe(l, out); !st) {
        return Error{"listener " + l.name + ": " + st.message()};
      }
    }
    auto group = std::make_shared<ListenSocketGroup>();
    group->key = key;
    group->protocol = l.protocol;
    group->bind = l.bind;
    for (size_t i = 0; i < workers; ++i) {
      core::Fd taken = adopting ? inherited->take(key, i) : core::Fd();
      if (taken) {
        if (auto st = fitAdopted(taken.get(), l); !st) {
          return Error{"listener " + l.name + ": " + st.message()};
        }
        group->fds.push_back(std::move(taken));
        ++adopted_;
        continue;
      }
      if (adopting && i > 0 && !hasReusePort(group->fds[0].get())) {
        // One socket without SO_REUSEPORT (systemd's default): no second bind could share
        // its address, so every worker accepts from that one.
        core::Fd shared(::fcntl(group->fds[0].get(), F_DUPFD_CLOEXEC, 0));
        if (!shared) {
          return Error{"listener " + l.name + ": dup: " + std::strerror(errno)};
        }
        group->fds.push_back(std::move(shared));
        ++shared_;
        continue;
      }
      auto fd = net::openListenSocket(l.bind, l.protocol, static_cast<int>(l.backlog), l.freebind);
      if (!fd) {
        return Error{"listener " + l.name + ": " + fd.error().message};
      }
      group->fds.push_back(std::move(*fd));
      ++bound_;
    }
    out[l.name] = std::move(group);
  }
  return out;
}

std::vector<std::pair<handover::SocketRecord, int>> ListenerRegistry::handoverList(const config::Config& config) const {
  std::vector<std::pair<handover::SocketRecord, int>> out;
  for (const auto& l : config.listeners) {
    auto it = current_.find(listenKey(l));
    if (it == current_.end()) {
      continue;
    }
    for (size_t i = 0; i < it->second->fds.size(); ++i) {
      handover::SocketRecord r;
      r.kind = l.protocol == config::Protocol::Udp ? handover::SocketKind::Udp : handover::SocketKind::Tcp;
      r.worker = static_cast<uint32_t>(i);
      // The address the socket has (a port 0 in the config became a real one).
      auto actual = handover::describeSocket(it->second->fds[i].get());
      r.address = actual ? actual->address : net::formatAddress(l.bind.sa());
      r.listener = l.name;
      out.emplace_back(std::move(r), it->second->fds[i].get());
    }
  }
  return out;
}

Status ListenerRegistry::probe(const config::Listener& l, const ListenerSockets& prepared) const {
  // A bind of our own that overlaps (a reload moving 127.0.0.1:80 to *:80, say) would fail the
  // probe too; the SO_REUSEPORT bind that follows shares with our own sockets, so skip it then.
  auto ours = [&](const std::shared_ptr<ListenSocketGroup>& g) {
    return (g->protocol == config::Protocol::Udp) == (l.protocol == config::Protocol::Udp) &&
           config::bindsOverlap(g->bind, l.bind);
  };
  for (const auto& [key, group] : current_) {
    if (ours(group)) {
      return {};
    }
  }
  for (const auto& [name, group] : prepared) {
    if (ours(group)) {
      return {};
    }
  }
  return net::probeAddressFree(l.bind, l.protocol, l.freebind);
}

void ListenerRegistry::commit(const ListenerSockets& sockets) {
  current_.clear();
  for (const auto& [name, group] : sockets) {
    current_[group->key] = group;
  }
}

}  // namespace fulcrum::server
