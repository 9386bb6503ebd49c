#include "server/listener_registry.h"

#include "config/address.h"
#include "net/address.h"
#include "net/socket.h"

namespace fulcrum::server {

std::string listenKey(const config::Listener& l) {
  return std::string(l.protocol == config::Protocol::Udp ? "udp " : "tcp ") + net::formatAddress(l.bind.sa());
}

Result<ListenerSockets> ListenerRegistry::prepare(const config::Config& config, size_t workers) {
  ListenerSockets out;
  for (const auto& l : config.listeners) {
    std::string key = listenKey(l);
    if (auto it = current_.find(key); it != current_.end() && it->second->fds.size() == workers) {
      out[l.name] = it->second;
      continue;
    }
    if (auto st = probe(l, out); !st) {
      return Error{"listener " + l.name + ": " + st.message()};
    }
    auto group = std::make_shared<ListenSocketGroup>();
    group->key = key;
    group->protocol = l.protocol;
    group->bind = l.bind;
    for (size_t i = 0; i < workers; ++i) {
      auto fd = net::openListenSocket(l.bind, l.protocol, static_cast<int>(l.backlog), l.freebind);
      if (!fd) {
        return Error{"listener " + l.name + ": " + fd.error().message};
      }
      group->fds.push_back(std::move(*fd));
    }
    out[l.name] = std::move(group);
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
