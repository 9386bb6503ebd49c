#include "admin/ctl.h"

#include <cstdlib>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "admin/client.h"
#include "admin/overrides.h"
#include "config/address.h"
#include "config/loader.h"
#include "net/address.h"

namespace fulcrum::admin {

using nlohmann::json;

namespace {

// Left-aligned columns, two spaces apart.
void printTable(std::ostream& out, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], r[i].size());
    }
  }
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
    }
    out << line << "\n";
  }
}

std::string num(const json& j) {
  if (j.is_number_float()) {
    std::ostringstream s;
    s << j.get<double>();
    return s.str();
  }
  return j.is_null() ? "-" : j.dump();
}

std::string urlEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '.' || c == '-' || c == '_' || c == ':') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

void printServers(std::ostream& out, const json& pools) {
  std::vector<std::vector<std::string>> rows = {
      {"POOL", "SERVER", "STATE", "WEIGHT", "EFFECTIVE", "ACTIVE", "REQUESTS", "REQ/S", "CONN_ERR", "LAST CHECK"}};
  for (const auto& p : pools) {
    for (const auto& s : p["servers"]) {
      std::string check = "-";
      const auto& h = s["health"];
      if (h.contains("last_results") && !h["last_results"].empty()) {
        const auto& last = h["last_results"].back();
        check = last["reason"].get<std::string>() + " " + num(last["latency_ms"]) + "ms";
      }
      std::string state = s["state"].get<std::string>();
      if (s["backup"].get<bool>()) state += " (backup)";
      rows.push_back({p["name"].get<std::string>(), s["address"].get<std::string>(), state, num(s["weight"]),
                      num(s["effective_weight"]), num(s["active_connections"]), num(s["requests_total"]),
                      num(s["requests_per_second"]), num(s["connect_errors_total"]), check});
    }
  }
  printTable(out, rows);
}

void printListeners(std::ostream& out, const json& listeners) {
  std::vector<std::vector<std::string>> rows = {{"LISTENER", "BIND", "PROTOCOL", "POOL", "CONNECTIONS", "ACTIVE",
                                                 "REQUESTS"}};
  for (const auto& l : listeners) {
    const auto& st = l["stats"];
    rows.push_back({l["name"].get<std::string>(), l["bind"].get<std::string>(), l["protocol"].get<std::string>(),
                    l["pool"].get<std::string>().empty() ? "-" : l["pool"].get<std::string>(),
                    num(st["connections_total"]), num(st["connections_active"]),
                    st.contains("requests_total") ? num(st["requests_total"]) : "-"});
  }
  printTable(out, rows);
}

}  // namespace

int runCtl(const CtlOptions& o, std::ostream& out, std::ostream& err) {
  std::string addrText = o.admin;
  std::string token = o.token;
  ClientTls tls;
  tls.enabled = !o.cacert.empty();
  tls.ca_file = o.cacert;
  for (const char* scheme : {"https://", "http://"}) {
    if (addrText.starts_with(scheme)) {
      tls.enabled = tls.enabled || scheme[4] == 's';
      addrText.erase(0, std::string_view(scheme).size());
      if (!addrText.empty() && addrText.back() == '/') {
        addrText.pop_back();
      }
    }
  }
  if (token.empty()) {
    if (const char* t = std::getenv("FULCRUM_ADMIN_TOKEN")) token = t;
  }
  if (!o.config_path.empty()) {
    // Only the admin section: a config being edited, or the one a reload just rejected, must
    // still lead ctl to the running fulcrum.
    auto section = config::loadAdminSection(o.config_path);
    for (const auto& d : section.errors) {
      err << "fulcrum ctl: warning: " << d.str() << "\n";
    }
    if (!section.errors.empty() && addrText.empty()) {
      err << "fulcrum ctl: warning: using the admin address " << section.admin.bind.text << "\n";
    }
    if (addrText.empty()) {
      addrText = section.admin.bind.text;
      tls.enabled = tls.enabled || section.admin.tls.enabled();
    }
    if (token.empty()) token = section.admin.token;
    if (tls.ca_file.empty()) {
      // ctl runs where the config is: the admin's own certificates are what it trusts.
      for (const auto& c : section.admin.tls.certificates) {
        tls.pinned.push_back(c.cert);
      }
    }
  }
  if (addrText.empty()) addrText = "127.0.0.1:9900";
  config::SocketAddress addr;
  std::string why;
  if (!config::parseSocketAddress(addrText, addr, why)) {
    err << "fulcrum ctl: --admin: " << why << "\n";
    return 2;
  }
  if (addr.family() == AF_INET && reinterpret_cast<const sockaddr_in*>(&addr.storage)->sin_addr.s_addr == 0) {
    config::parseSocketAddress("127.0.0.1:" + std::to_string(ntohs(reinterpret_cast<const sockaddr_in*>(&addr.storage)->sin_port)),
                               addr, why);
  }

  std::string method = "GET";
  std::string path;
  json body;
  const auto& a = o.args;
  auto need = [&](size_t n, const char* usage) {
    if (a.size() != n) {
      err << "fulcrum ctl " << o.command << ": usage: fulcrum ctl " << o.command << " " << usage << "\n";
      return false;
    }
    return true;
  };
  const std::string& c = o.command;
  if (c == "status" || c == "servers") {
    if (!need(0, "")) return 2;
    path = "/api/v1/pools";
  } else if (c == "listeners") {
    if (!need(0, "")) return 2;
    path = "/api/v1/listeners";
  } else if (c == "drain" || c == "enable" || c == "disable") {
    if (!need(2, "POOL SERVER")) return 2;
    method = "POST";
    path = "/api/v1/pools/" + urlEncode(a[0]) + "/servers/" + urlEncode(a[1]) + "/" + c;
  } else if (c == "weight") {
    if (!need(3, "POOL SERVER WEIGHT")) return 2;
    // Exactly as typed: an integer, sent as is for the API to check, unless it is too large
    // to send (no wrapping or saturating into another number).
    const std::string& text = a[2];
    size_t digits = text.size() > 0 && text[0] == '-' ? 1 : 0;
    if (text.size() == digits || text.find_first_not_of("0123456789", digits) != std::string::npos) {
      err << "fulcrum ctl weight: WEIGHT must be a whole number, got \"" << text << "\"\n";
      return 2;
    }
    size_t significant = text.find_first_not_of('0', digits);
    if (significant == std::string::npos) significant = text.size();
    if (digits == 1 || text.size() - significant > 9) {
      err << "fulcrum ctl weight: WEIGHT must be between 1 and " << kMaxWeight << ", got " << text << "\n";
      return 2;
    }
    long w = std::stol(text);
    method = "PUT";
    path = "/api/v1/pools/" + urlEncode(a[0]) + "/servers/" + urlEncode(a[1]) + "/weight";
    body = {{"weight", w}};
  } else if (c == "add") {
    if (!need(2, "POOL ADDRESS [--weight N] [--backup] [--max-connections N]")) return 2;
    method = "POST";
    path = "/api/v1/pools/" + urlEncode(a[0]) + "/servers";
    body = {{"address", a[1]}, {"weight", o.weight}, {"backup", o.backup}, {"max_connections", o.max_connections}};
  } else if (c == "remove") {
    if (!need(2, "POOL SERVER")) return 2;
    method = "DELETE";
    path = "/api/v1/pools/" + urlEncode(a[0]) + "/servers/" + urlEncode(a[1]);
  } else if (c == "reset") {
    // POOL [SERVER]: the second may be given empty by the command line parser.
    if (a.empty() || a.size() > 2 || a[0].empty()) {
      err << "fulcrum ctl reset: usage: fulcrum ctl reset POOL [SERVER]\n";
      return 2;
    }
    method = "DELETE";
    path = "/api/v1/overrides/" + urlEncode(a[0]);
    if (a.size() == 2 && !a[1].empty()) path += "/" + urlEncode(a[1]);
  } else if (c == "reload") {
    if (!need(0, "")) return 2;
    method = "POST";
    path = "/api/v1/reload";
  } else {
    err << "fulcrum ctl: unknown command \"" << c
        << "\"; expected status, listeners, drain, enable, disable, weight, add, remove, reset or reload\n";
    return 2;
  }
  if (tls.enabled) {
    tls.name = !o.servername.empty() ? o.servername : net::formatIp(addr.sa());
  }
  auto r = call(addr, method, path, body.is_null() ? std::string() : body.dump(), token, 10000, tls);
  if (!r) {
    err << "fulcrum ctl: " << r.error().message << "\n";
    return 1;
  }
  json j = json::parse(r->body, nullptr, false);
  if (j.is_discarded()) {
    err << "fulcrum ctl: the admin API answered " << r->status << " with a body that is not JSON\n";
    return 1;
  }
  if (o.json) {
    out << j.dump(2) << "\n";
    return r->status < 400 ? 0 : 1;
  }
  if (r->status >= 400) {
    std::string msg = j.contains("error") ? j["error"].get<std::string>() : j.dump();
    if (c == "reload" && j.contains("errors")) {
      err << "fulcrum ctl reload: rejected; the running config keeps serving:\n";
      for (const auto& e : j["errors"]) err << "  " << e.get<std::string>() << "\n";
      return 1;
    }
    err << "fulcrum ctl " << c << ": " << msg << " (HTTP " << r->status << ")\n";
    return 1;
  }
  if (c == "status" || c == "servers") {
    printServers(out, j["pools"]);
  } else if (c == "listeners") {
    printListeners(out, j["listeners"]);
  } else if (c == "reload") {
    out << "reloaded: config version " << num(j["config_version"]) << "\n";
    for (const auto& n : j["notes"]) out << "note: " << n.get<std::string>() << "\n";
    for (const auto& n : j["shadowed"]) {
      out << "shadowed: " << n.get<std::string>() << " (fulcrum ctl reset to use the file's)\n";
    }
  } else if (c == "reset") {
    std::string what = a.size() == 2 && !a[1].empty() ? "server " + a[1] + " of pool " + a[0] : "pool " + a[0];
    out << "reset " << what << ": " << num(j["cleared"]) << " server(s) follow the config file again\n";
  } else if (c == "add") {
    out << "added " << a[1] << " to pool " << a[0] << "\n";
  } else if (c == "remove") {
    out << "removed " << a[1] << " from pool " << a[0] << " (requests in flight finish)\n";
  } else {
    printServers(out, json::array({{{"name", a[0]}, {"servers", json::array({j})}}}));
  }
  return 0;
}

}  // namespace fulcrum::admin
