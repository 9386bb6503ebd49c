#pragma once
// Overrides: what the admin API changed on top of the config file, per pool and server
// (weights, drain, disable, servers added and removed). Kept in the state file and merged
// onto the file's config at start-up and at every reload, so API changes survive both
// (docs/admin.md: "Where API changes live"). Pure: no I/O here.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "config/model.h"

namespace fulcrum::admin {

inline constexpr uint32_t kMaxWeight = config::kMaxServerWeight;  // as the loader allows
inline constexpr uint32_t kMaxConnections = 1'000'000;

struct ServerOverride {
  bool added = false;    // not in the file: registered through the API
  bool removed = false;  // in the file, removed through the API
  std::optional<uint32_t> weight;
  std::optional<uint32_t> max_connections;
  std::optional<bool> backup;
  std::optional<bool> drain;
  std::optional<bool> disabled;
};

struct Overrides {
  // pool -> canonical server address ("127.0.0.1:9001", "[::1]:9001") -> override
  std::map<std::string, std::map<std::string, ServerOverride>> pools;
  bool empty() const { return pools.empty(); }
  size_t count() const;
};

// An API error: the HTTP status and what was wrong.
struct ApiError {
  int status = 400;
  std::string message;
};

struct Change {
  enum class Op { Weight, Drain, Enable, Disable, Add, Remove };
  Op op = Op::Weight;
  std::string pool;
  std::string server;  // host:port as the user wrote it
  uint32_t weight = 1;
  uint32_t max_connections = 0;
  bool backup = false;
};

const char* opName(Change::Op op);

// The state file's text, and back. parseOverrides reports what is wrong with a bad file,
// and where: "<source>:<line>:<column>: <key path>: <reason>".
std::string toJson(const Overrides& o);
Result<Overrides> parseOverrides(std::string_view text, const std::string& source = "state file");

// The file's config with the overrides applied. Overrides that no longer apply (their pool
// or server left the file) are dropped from `o`, each described in `notes`; so is every
// field equal to the file's value (a drain undone, a weight set back): an override exists
// only while it differs from the file, so that nothing shadows a later edit of the file.
std::shared_ptr<config::Config> merge(const config::Config& file, Overrides& o, std::vector<std::string>& notes);

// Every value of the file that `o` (as left by merge) hides, one line each, e.g.
// "pool web, server localhost:9001 (127.0.0.1:9001): weight 3 in the file, 5 from the API".
std::vector<std::string> shadowed(const config::Config& file, const Overrides& o);

// Forgets the overrides of every pool (pool empty), of one pool (server empty) or of one
// server (named as configured or by IP address), so that the file's values apply again.
// `running` is the merged config the names are looked up in. Sets `cleared` to the number
// of servers whose overrides went; an unknown pool or server is a 404.
std::optional<ApiError> resetOverrides(const config::Config& running, Overrides& o, const std::string& pool,
                                       const std::string& server, size_t& cleared);

// Applies one change to `working` (the merged config) and records it in `o`. Nothing is
// changed on error.
std::optional<ApiError> applyChange(const Change& c, config::Config& working, Overrides& o);

// XXH3-64 of bytes, 16 hex digits (config checksums).
std::string checksumHex(std::string_view bytes);

// "127.0.0.1:9001" / "[::1]:9001" for an address (the key of overrides).
std::string canonical(const config::SocketAddress& a);

}  // namespace fulcrum::admin
