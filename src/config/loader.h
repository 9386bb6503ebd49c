#pragma once
// Loads and validates a Fulcrum YAML config into the immutable model (config/model.h).
// Every problem in the file is reported in one pass, each with its file:line:column, so an
// operator fixes everything after a single `fulcrum --check`. The YAML library stays private to
// this folder: nothing here exposes it.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.h"

namespace fulcrum::config {

struct Diagnostic {
  std::string file;
  int line = 0;    // 1-based; 0 when the problem has no position (e.g. unreadable file)
  int column = 0;  // 1-based
  std::string message;
  std::string str() const;  // "file:line:column: error: message"
};

struct LoadResult {
  std::shared_ptr<const Config> config;  // set only when errors is empty
  std::vector<Diagnostic> errors;        // sorted by line, then column
  bool ok() const { return config != nullptr && errors.empty(); }
};

// Reads and validates `path`; Config::source is set to `path`. Never throws.
LoadResult loadFile(const std::string& path);

// The admin section alone (address, token), for `fulcrum ctl -c`: a config that no longer
// loads as a whole still leads ctl to the running fulcrum. `errors` holds what went wrong in
// the file's syntax or in that section (each as file:line:column); `admin` keeps the defaults
// (127.0.0.1:9900, no token) for whatever could not be read. Never throws.
struct AdminLoadResult {
  Admin admin;
  std::vector<Diagnostic> errors;
};
AdminLoadResult loadAdminSection(const std::string& path);

// Validates YAML text; `sourceName` is used in diagnostics and as Config::source. Never throws.
LoadResult loadString(std::string_view yaml, const std::string& sourceName);

// "250ms", "5s", "2m", "1h", "1.5s", "1m30s". Bare numbers are rejected (a unit is required).
bool parseDuration(std::string_view text, Millis& out);

}  // namespace fulcrum::config
