// listeners[].tls.client_certificates: whether a client must (required) or may (optional)
// present a certificate, the CA bundle and CRL it is verified against, and the headers that
// tell the servers who it was. The files are only named here; tls/client_verify loads them.
#include "config/schema.h"

#include "config/http_syntax.h"

namespace fulcrum::config::detail {
namespace {

const std::vector<std::string_view> kKeys = {"mode", "ca", "crl", "headers"};
const std::vector<std::string_view> kHeaderKeys = {"subject", "sans", "fingerprint"};

void readHeaderName(YamlReader& r, const Entry& e, std::string& out) {
  std::string name;
  if (!r.readString(e, name)) {
    return;
  }
  if (!name.empty() && !isToken(name)) {
    r.error(e.pos, e.path + ": invalid header name " + quote(name) + "; expected " + kTokenChars +
                       ", or \"\" to send none");
    return;
  }
  out = std::move(name);
}

}  // namespace

void readClientCertificates(YamlReader& r, const Entry& e, ClientCertificates& out, Protocol protocol) {
  auto map = r.readSection(e, kKeys);
  if (!map) {
    return;
  }
  out.mode = ClientCertificateMode::Required;
  if (const Entry* p = map->find("mode")) {
    if (auto i = r.readChoice(*p, {"required", "optional"})) {
      out.mode = *i == 0 ? ClientCertificateMode::Required : ClientCertificateMode::Optional;
    }
  }
  if (r.requireKey(*map, "ca", "the PEM file of the CAs client certificates must chain to")) {
    const Entry* p = map->find("ca");
    out.ca_where = r.where(p->pos) + ": " + p->path;
    if (r.readString(*p, out.ca)) {
      if (out.ca.empty()) {
        r.error(p->pos, p->path + ": empty; expected a PEM file of CA certificates");
      }
      out.ca = r.resolvePath(out.ca);
    }
  }
  if (const Entry* p = map->find("crl")) {
    out.crl_where = r.where(p->pos) + ": " + p->path;
    if (r.readString(*p, out.crl)) {
      if (out.crl.empty()) {
        r.error(p->pos, p->path + ": empty; expected a PEM file of certificate revocation lists, or no crl");
      }
      out.crl = r.resolvePath(out.crl);
    }
  }
  if (const Entry* p = map->find("headers")) {
    if (protocol != Protocol::Http) {
      r.error(p->keyPos, p->path + ": headers are for http listeners (a tcp listener relays bytes); expected no "
                                   "headers here");
    }
    if (auto h = r.readSection(*p, kHeaderKeys)) {
      if (const Entry* q = h->find("subject")) {
        readHeaderName(r, *q, out.subject_header);
      }
      if (const Entry* q = h->find("sans")) {
        readHeaderName(r, *q, out.sans_header);
      }
      if (const Entry* q = h->find("fingerprint")) {
        readHeaderName(r, *q, out.fingerprint_header);
      }
    }
  }
  if (protocol != Protocol::Http) {
    out.subject_header.clear();
    out.sans_header.clear();
    out.fingerprint_header.clear();
  }
}

}  // namespace fulcrum::config::detail
