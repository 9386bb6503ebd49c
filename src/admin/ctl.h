#pragma once
// fulcrum ctl: the admin API from the command line. Tables for people, --json for scripts.
#include <iosfwd>
#include <string>
#include <vector>

namespace fulcrum::admin {

struct CtlOptions {
  std::string admin;        // [https://]host:port of the admin listener ("" = from the config, else 127.0.0.1:9900)
  std::string config_path;  // read admin.bind and admin.token from it
  std::string token;        // overrides the config's; also FULCRUM_ADMIN_TOKEN
  // HTTPS (admin.tls): the CAs the admin's certificate must lead to and the name it must be for
  // (default: the address). Without --cacert, a config's admin.tls certificates are trusted as
  // they are (pinned).
  std::string cacert;
  std::string servername;
  bool json = false;
  std::string command;      // status, servers, listeners, drain, enable, disable, weight, add, remove, reset, reload
  std::vector<std::string> args;
  uint32_t weight = 1;
  uint32_t max_connections = 0;
  bool backup = false;
};

// Exit codes: 0 done; 1 failed (the API refused, with its error printed, or is unreachable);
// 2 bad usage.
int runCtl(const CtlOptions& o, std::ostream& out, std::ostream& err);

}  // namespace fulcrum::admin
