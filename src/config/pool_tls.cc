// pools[].tls: TLS to the pool's servers (CA bundle or the system store, the name checked and
// sent as SNI, an optional client certificate, versions, ciphers, ALPN, session reuse). The
// files are only named here; tls/client_context loads them (start, reload, `check`) and its
// errors begin with the `where` recorded here.
#include "config/schema.h"

#include <arpa/inet.h>

#include "config/http_syntax.h"

namespace fulcrum::config::detail {
namespace {

const std::vector<std::string_view> kPoolTlsKeys = {"ca",      "verify",       "server_name", "certificate",
                                                    "min_version", "max_version", "ciphers",     "ciphersuites",
                                                    "alpn",    "session_reuse"};
const std::vector<std::string_view> kCertificateKeys = {"cert", "key"};
const std::vector<std::string_view> kVersions = {"1.2", "1.3"};
const std::vector<std::string_view> kAlpn = {"http/1.1", "h2"};

uint16_t versionCode(size_t index) { return index == 0 ? 0x0303 : 0x0304; }

bool isIpLiteral(const std::string& text) {
  in6_addr a6{};
  in_addr a4{};
  return inet_pton(AF_INET, text.c_str(), &a4) == 1 || inet_pton(AF_INET6, text.c_str(), &a6) == 1;
}

}  // namespace

void readPoolTls(YamlReader& r, const Entry& e, PoolTls& out) {
  out.enabled = true;
  out.where = r.where(e.pos) + ": " + e.path;
  auto map = r.readSection(e, kPoolTlsKeys);
  if (!map) {
    return;
  }
  if (const Entry* p = map->find("ca")) {
    std::string ca;
    if (r.readString(*p, ca)) {
      if (ca.empty()) {
        r.error(p->pos, p->path + ": expected a PEM file of CA certificates, or system (the system's trusted "
                                  "CAs), got an empty string");
      } else if (ca != "system") {
        out.ca = r.resolvePath(ca);
      }
    }
  }
  if (const Entry* p = map->find("verify")) {
    r.readBool(*p, out.verify);
  }
  if (const Entry* p = map->find("server_name")) {
    std::string name;
    if (r.readString(*p, name)) {
      name = lowered(name);
      if (!isHostName(name) && !isIpLiteral(name)) {
        r.error(p->pos, p->path + ": " + quote(name) +
                            " is not a host name; expected a DNS name such as api.internal (letters, digits, '-' "
                            "and dots) or an IP address");
      } else {
        out.server_name = std::move(name);
      }
    }
  }
  if (const Entry* p = map->find("certificate")) {
    if (auto c = r.readMap(p->value, p->pos, p->path, kCertificateKeys)) {
      TlsCertificateFiles files;
      files.where = r.where(p->pos) + ": " + p->path;
      bool ok = r.requireKey(*c, "cert", "the PEM file of the client certificate (then its intermediates)") &&
                r.readString(*c->find("cert"), files.cert);
      ok = r.requireKey(*c, "key", "the PEM file of the client certificate's private key") &&
           r.readString(*c->find("key"), files.key) && ok;
      if (ok) {
        files.cert = r.resolvePath(files.cert);
        files.key = r.resolvePath(files.key);
        out.client_certificate = std::move(files);
      }
    }
  }
  if (const Entry* p = map->find("min_version")) {
    if (auto i = r.readChoice(*p, kVersions)) {
      out.min_version = versionCode(*i);
    }
  }
  if (const Entry* p = map->find("max_version")) {
    if (auto i = r.readChoice(*p, kVersions)) {
      out.max_version = versionCode(*i);
    }
    if (out.max_version < out.min_version) {
      r.error(p->pos, p->path + ": below min_version; expected max_version >= min_version");
    }
  }
  if (const Entry* p = map->find("ciphers")) {
    r.readString(*p, out.ciphers);
  }
  if (const Entry* p = map->find("ciphersuites")) {
    r.readString(*p, out.ciphersuites);
  }
  if (const Entry* p = map->find("alpn")) {
    if (auto items = r.readOneOrList(*p, "an ALPN protocol")) {
      for (const Item& item : *items) {
        if (auto i = r.readChoice(asEntry(item), kAlpn)) {
          if (*i == 1) {
            r.error(item.pos, item.path + ": HTTP/2 to servers is not spoken yet (issue #16); expected http/1.1");
            continue;
          }
          out.alpn.emplace_back(kAlpn[*i]);
        }
      }
    }
  }
  if (const Entry* p = map->find("session_reuse")) {
    r.readBool(*p, out.session_reuse);
  }
}

}  // namespace fulcrum::config::detail
