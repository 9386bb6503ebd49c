// listeners[].tls: certificate files, versions, cipher lists, ALPN, what an unknown SNI gets.
// tcp listeners terminate it and relay the plaintext (no ALPN by default); udp ones cannot.
// The files are only named here; tls/ loads and checks them (server start, reload, `check`),
// and its errors begin with the `where` recorded here.
#include "config/schema.h"

#include <algorithm>

namespace fulcrum::config::detail {
namespace {

const std::vector<std::string_view> kTlsKeys = {"certificates", "min_version",     "max_version",        "ciphers",
                                                "ciphersuites", "alpn",            "unknown_sni",        "acme",
                                                "session_tickets", "client_certificates", "ktls"};
const std::vector<std::string_view> kCertificateKeys = {"cert", "key", "ocsp"};
const std::vector<std::string_view> kTicketKeys = {"key_file", "rotate", "lifetime"};
const std::vector<std::string_view> kVersions = {"1.2", "1.3"};
const std::vector<std::string_view> kAlpn = {"http/1.1", "h2"};

uint16_t versionCode(size_t index) { return index == 0 ? 0x0303 : 0x0304; }

bool isIpLiteral(const std::string& name) {
  return name.find(':') != std::string::npos ||
         std::all_of(name.begin(), name.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

// listeners[].tls.acme: DNS names an ACME CA validates by HTTP-01 or TLS-ALPN-01 (so no
// wildcards, which need DNS-01, and no IP addresses).
void readAcmeNames(YamlReader& r, const Entry& e, std::vector<std::string>& out) {
  auto items = r.readOneOrList(e, "DNS names such as example.com");
  if (!items) {
    return;
  }
  for (const Item& item : *items) {
    std::string name;
    if (!r.readScalar(asEntry(item), "a DNS name such as example.com", name)) {
      continue;
    }
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    if (name.starts_with("*.")) {
      r.error(item.pos, item.path + ": " + quote(name) + ": a wildcard needs the DNS-01 challenge, which Fulcrum "
                                    "does not answer; expected exact names");
      continue;
    }
    bool ok = !name.empty() && name.size() <= 253 && name.front() != '.' && name.back() != '.' &&
              name.front() != '-' && name.find("..") == std::string::npos && !isIpLiteral(name) &&
              std::all_of(name.begin(), name.end(), [](char c) {
                return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
              });
    if (!ok) {
      r.error(item.pos, item.path + ": " + quote(name) + " is not a DNS name; expected letters, digits, '-' and "
                                    "dots, such as example.com (no IP addresses)");
      continue;
    }
    if (std::find(out.begin(), out.end(), name) != out.end()) {
      r.error(item.pos, item.path + ": " + quote(name) + " is listed twice");
      continue;
    }
    out.push_back(std::move(name));
  }
}

// session_tickets: {key_file, rotate, lifetime}. The key file is only named here (tls/ reads
// it, at start, reload and `check`).
void readSessionTickets(YamlReader& r, const Entry& e, TlsSessionTickets& out) {
  out.where = r.where(e.pos) + ": " + e.path;
  auto map = r.readSection(e, kTicketKeys);
  if (!map) {
    return;
  }
  if (const Entry* p = map->find("key_file")) {
    if (r.readString(*p, out.key_file)) {
      out.key_file = r.resolvePath(out.key_file);
    }
  }
  const Millis week = std::chrono::hours(24 * 7);
  const Entry* rotate = map->find("rotate");
  if (rotate) {
    if (!out.key_file.empty()) {
      r.error(rotate->keyPos, rotate->path + ": keys from a key_file change when the file does; expected rotate "
                                             "only without key_file (rotate the file's keys instead)");
    }
    r.readDuration(*rotate, Millis(1000), week, out.rotate);
  }
  if (const Entry* p = map->find("lifetime")) {
    r.readDuration(*p, Millis(1000), week, out.lifetime);
  }
}

}  // namespace

void readListenerTls(YamlReader& r, const Entry& e, ListenerTls& out, Protocol protocol, ListenerRefs& refs) {
  if (protocol == Protocol::Udp) {
    r.error(e.keyPos, e.path + ": TLS is for tcp and http listeners (DTLS is not supported); expected no tls "
                               "section on a udp listener");
  }
  out.where = r.where(e.pos) + ": " + e.path;
  auto map = r.readSection(e, kTlsKeys);
  if (!map) {
    return;
  }
  if (const Entry* p = map->find("acme")) {
    refs.acmePath = p->path;
    refs.acmePos = p->keyPos;
    readAcmeNames(r, *p, out.acme);
  }
  // With acme names the certificates are optional: ACME obtains what the listener serves.
  if ((!out.acme.empty() && map->find("certificates") != nullptr) ||
      (out.acme.empty() && r.requireKey(*map, "certificates", "a list of {cert: FILE, key: FILE} (or acme: [NAME, ...])"))) {
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
        if (const Entry* o = c->find("ocsp")) {
          ok = r.readString(*o, files.ocsp) && ok;
        }
        if (ok) {
          files.cert = r.resolvePath(files.cert);
          files.key = r.resolvePath(files.key);
          if (!files.ocsp.empty()) {
            files.ocsp = r.resolvePath(files.ocsp);
          }
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
  if (const Entry* p = map->find("client_certificates")) {
    readClientCertificates(r, *p, out.client_certificates, protocol);
  }
  if (const Entry* p = map->find("unknown_sni")) {
    if (auto i = r.readChoice(*p, {"default", "refuse"})) {
      out.refuse_unknown_sni = *i == 1;
    }
  }
  if (const Entry* p = map->find("session_tickets")) {
    readSessionTickets(r, *p, out.session_tickets);
  }
  if (const Entry* p = map->find("ktls")) {
    r.readBool(*p, out.ktls);
  }
}

}  // namespace fulcrum::config::detail
