// acme: where automatic certificates come from (an ACME directory, RFC 8555), how they are
// validated and renewed, and where they are kept. The names are per listener
// (listeners[].tls.acme, listener_tls.cc); checkAcme ties the two together.
#include <chrono>

#include "config/schema.h"

namespace fulcrum::config::detail {
namespace {

using namespace std::chrono_literals;

const std::vector<std::string_view> kAcmeKeys = {"directory", "email",     "storage",   "ca",     "challenge",
                                                 "renew_before", "retry_min", "retry_max", "timeout"};
const std::vector<std::string_view> kChallenges = {"http-01", "tls-alpn-01"};

}  // namespace

void readAcme(YamlReader& r, const Entry& e, Acme& out) {
  out.where = r.where(e.keyPos) + ": " + e.path;
  auto map = r.readSection(e, kAcmeKeys);
  if (!map) {
    return;
  }
  out.enabled = true;
  if (r.requireKey(*map, "directory", "the ACME directory URL, such as https://acme.example/directory")) {
    const Entry& d = *map->find("directory");
    if (r.readString(d, out.directory) && !out.directory.starts_with("https://") &&
        !out.directory.starts_with("http://")) {
      r.error(d.pos, d.path + ": " + quote(out.directory) + " is not a URL; expected https://HOST/PATH");
    }
  }
  if (const Entry* p = map->find("email")) {
    if (r.readString(*p, out.email) &&
        (out.email.find('@') == std::string::npos || out.email.find_first_of(" \t\r\n,") != std::string::npos)) {
      r.error(p->pos, p->path + ": " + quote(out.email) + " is not an email address; expected NAME@DOMAIN");
    }
  }
  if (r.requireKey(*map, "storage", "a directory for the account key and certificates, such as /var/lib/fulcrum/acme")) {
    if (r.readString(*map->find("storage"), out.storage)) {
      out.storage = r.resolvePath(out.storage);
    }
  }
  if (const Entry* p = map->find("ca")) {
    if (r.readString(*p, out.ca)) {
      out.ca = r.resolvePath(out.ca);
    }
  }
  if (const Entry* p = map->find("challenge")) {
    if (auto i = r.readChoice(*p, kChallenges)) {
      out.challenge = *i == 0 ? AcmeChallenge::Http01 : AcmeChallenge::TlsAlpn01;
    }
  }
  if (const Entry* p = map->find("renew_before")) {
    r.readDuration(*p, 1s, Millis(std::chrono::hours(24 * 3650)), out.renew_before);
  }
  if (const Entry* p = map->find("retry_min")) {
    r.readDuration(*p, 100ms, Millis(std::chrono::hours(24)), out.retry_min);
  }
  if (const Entry* p = map->find("retry_max")) {
    if (r.readDuration(*p, 100ms, Millis(std::chrono::hours(24 * 7)), out.retry_max) && out.retry_max < out.retry_min) {
      r.error(p->pos, p->path + ": below retry_min; expected retry_max >= retry_min");
    }
  }
  if (const Entry* p = map->find("timeout")) {
    r.readDuration(*p, 100ms, 10min, out.timeout);
  }
}

void checkAcme(YamlReader& r, const Config& config, const ListenersRead& listeners) {
  if (config.acme.enabled) {
    return;
  }
  for (const auto& refs : listeners.refs) {
    if (!refs.acmePath.empty()) {
      r.error(refs.acmePos, refs.acmePath + ": names need the top-level acme section; expected acme: "
                                            "{directory: URL, storage: DIR}");
    }
  }
}

}  // namespace fulcrum::config::detail
