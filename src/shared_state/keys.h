#pragma once
// Redis key names. Every key starts with the configured prefix, so instances of one service
// share theirs and another service on the same Redis does not see them. Listener and pool names
// are config names (no ':'), so a key names one listener's or pool's entry unambiguously; the
// client part is taken as it is (Redis keys are binary safe).
#include <string>
#include <string_view>

namespace fulcrum::shared_state {

// A shared rate limit's bucket: PREFIX "rl:" LISTENER ":" KEY (the client address or header value).
std::string limitKeyBase(std::string_view prefix, std::string_view listener);
std::string limitKey(std::string_view prefix, std::string_view listener, std::string_view key);
// A client's server in a pool: PREFIX "st:" POOL ":" CLIENT_ADDRESS.
std::string stickyKey(std::string_view prefix, std::string_view pool, std::string_view client);
// Where a new choice is published so that other instances know it before the client comes.
std::string stickyChannel(std::string_view prefix);

}  // namespace fulcrum::shared_state
