#include "shared_state/keys.h"

namespace fulcrum::shared_state {

std::string limitKeyBase(std::string_view prefix, std::string_view listener) {
  std::string k;
  k.reserve(prefix.size() + listener.size() + 4);
  k.append(prefix).append("rl:").append(listener).push_back(':');
  return k;
}

std::string limitKey(std::string_view prefix, std::string_view listener, std::string_view key) {
  return limitKeyBase(prefix, listener).append(key);
}

std::string stickyKey(std::string_view prefix, std::string_view pool, std::string_view client) {
  std::string k;
  k.reserve(prefix.size() + pool.size() + client.size() + 4);
  k.append(prefix).append("st:").append(pool).push_back(':');
  k.append(client);
  return k;
}

std::string stickyChannel(std::string_view prefix) { return std::string(prefix) + "st"; }

}  // namespace fulcrum::shared_state
