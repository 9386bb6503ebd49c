#include "server/listener_registry.h"

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
    auto group = std::make_shared<ListenSocketGroup>();
    group->key = key;
    group->protocol = l.protocol;
    for (size_t i = 0; i < workers; ++i) {
      auto fd = net::openListenSocket(l.bind, l.protocol, static_cast<int>(l.backlog));
      if (!fd) {
        return Error{"listener " + l.name + ": " + fd.error().message};
      }
      group->fds.push_back(std::move(*fd));
    }
    out[l.name] = std::move(group);
  }
  return out;
}

void ListenerRegistry::commit(const ListenerSockets& sockets) {
  current_.clear();
  for (const auto& [name, group] : sockets) {
    current_[group->key] = group;
  }
}

}  // namespace fulcrum::server
