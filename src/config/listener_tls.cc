// listeners[].tls: certificate files, versions, cipher lists, ALPN, what an unknown SNI gets.
// http listeners only for now (tcp: an error, never a silent plain relay).
// The files are only named here; tls/ loads and checks them (server start, reload, `check`),
// and its errors begin with the `where` recorded here.
#include "config/schema.h"

namespace fulcrum::config::detail {
namespace {

const std::vector<std::string_view> kTlsKeys = {"certificates", "min_version", "max_version", "ciphers",
                                                "ciphersuites", "alpn",        "unknown_sni"};
const std::vector<std::string_view> kCertificateKeys = {"cert", "key"};
const std::vector<std::string_view> kVersions = {"1.2", "1.3"};
const std::vector<std::string_view> kAlpn = {"http/1.1", "h2"};

uint16_t versionCode(size_t index) { return index == 0 ? 0x0303 : 0x0304; }

}  // namespace

void readListenerTls(YamlReader& r, const Entry& e, ListenerTls& out, Protocol protocol) {
  if (protocol == Protocol::Udp) {
    r.error(e.keyPos, e.path + ": TLS is for tcp and http listeners (DTLS is not supported); expected no tls "
                               "section on a udp listener");
  } else if (protocol == Protocol::Tcp) {
    // Not silently plain: a tcp listener that was asked to terminate TLS must not relay it.
    r.error(e.keyPos, e.path + ": TLS termination on tcp listeners is not supported yet (issue #15); expected "
                               "protocol: http, or no tls section (a tcp listener relays TLS untouched)");
  }
  out.where = r.where(e.pos) + ": " + e.path;
  auto map = r.readSection(e, kTlsKeys);
  if (!map) {
    return;
  }
  if (r.requireKey(*map, "certificates", "a list of {cert: FILE, key: FILE}")) {
    const Entry& certs = *map->find("certificates");
    if (auto items = r.readList(certs, "certificates", false)) {
      for (const Item& item : *items) {
        auto c = r.readMap(item.node, item.pos, item.path, kCertificateKeys);
        if (!c) {
          continue;
        }
        TlsCertificateFiles files;
        files.where = r.where(item.pos) + ": " + item.path;
        bool ok = r.requireKey(*c, "cert", "a PEM certificate file (the chain: certificate, then intermediates)") &&
                  r.readString(*c->find("cert"), files.cert);
        ok = r.requireKey(*c, "key", "the PEM file of the certificate's private key") &&
             r.readString(*c->find("key"), files.key) && ok;
        if (ok) {
          files.cert = r.resolvePath(files.cert);
          files.key = r.resolvePath(files.key);
          out.certificates.push_back(std::move(files));
        }
      }
    }
  }
  const Entry* minEntry = map->find("min_version");
  if (minEntry) {
    if (auto i = r.readChoice(*minEntry, kVersions)) {
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
    out.alpn_given = true;
    if (auto items = r.readOneOrList(*p, "an ALPN protocol")) {
      for (const Item& item : *items) {
        Entry entry = asEntry(item);
        if (auto i = r.readChoice(entry, kAlpn)) {
          out.alpn.emplace_back(kAlpn[*i]);  // h2 needs http2.enabled (checked in listeners.cc)
        }
      }
    }
  } else if (protocol == Protocol::Http) {
    out.alpn = {"http/1.1"};
  }
  if (const Entry* p = map->find("unknown_sni")) {
    if (auto i = r.readChoice(*p, {"default", "refuse"})) {
      out.refuse_unknown_sni = *i == 1;
    }
  }
}

}  // namespace fulcrum::config::detail
