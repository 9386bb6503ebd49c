// listeners: name, bind (unique, and no wildcard overlapping a specific address on one port),
// protocol, default pool, PROXY protocol and its trusted senders, backlog, udp; the http section
// is read by http_listener.cc.
#include "config/schema.h"

#include <algorithm>
#include <string>
#include <utility>

#include "config/address.h"

namespace fulcrum::config::detail {
namespace {

const std::vector<std::string_view> kListenerKeys = {
    "name", "bind", "protocol", "pool", "proxy_protocol", "trusted_proxies", "backlog", "freebind", "udp", "http", "tls",
    "sni_routes", "http2"};
const std::vector<std::string_view> kUdpKeys = {"flow_idle", "max_flows"};

bool isUdp(Protocol p) { return p == Protocol::Udp; }

std::string withArticle(Protocol p) { return (p == Protocol::Http ? "an " : "a ") + protocolName(p); }

bool readProtocol(YamlReader& r, const Entry& e, Protocol& out) {
  std::string text;
  if (!r.readScalar(e, "tcp, udp or http", text)) {
    return false;
  }
  for (Protocol p : {Protocol::Tcp, Protocol::Udp, Protocol::Http}) {
    if (text == protocolName(p)) {
      out = p;
      return true;
    }
  }
  r.error(e.pos, e.path + ": unknown protocol " + quote(text) + "; expected tcp, udp or http");
  return false;
}

void readUdp(YamlReader& r, const Entry& e, Listener& l) {
  auto map = r.readSection(e, kUdpKeys);
  if (!map) {
    return;
  }
  if (const Entry* p = map->find("flow_idle")) {
    r.readDuration(*p, l.udp_flow_idle);
  }
  if (const Entry* p = map->find("max_flows")) {
    r.readUint(*p, 1, 1'000'000, l.udp_max_flows);
  }
}

}  // namespace

std::string protocolName(Protocol p) { return p == Protocol::Udp ? "udp" : p == Protocol::Http ? "http" : "tcp"; }

ListenersRead readListeners(YamlReader& r, const Entry& e, std::vector<Listener>& out) {
  ListenersRead read;
  auto items = r.readList(e, "listeners", false);
  if (!items) {
    return read;
  }
  std::vector<Named> names;
  for (const Item& item : *items) {
    auto map = r.readMap(item.node, item.pos, item.path, kListenerKeys);
    if (!map) {
      continue;
    }
    Listener l;
    ListenerRefs refs;
    bool haveName = r.requireKey(*map, "name", "a unique listener name") && r.readName(*map->find("name"), l.name);
    if (haveName) {
      const Entry* nameEntry = map->find("name");
      auto dup = std::find_if(names.begin(), names.end(), [&](const Named& n) { return n.name == l.name; });
      if (dup != names.end()) {
        r.error(nameEntry->pos, nameEntry->path + ": duplicate listener name " + quote(l.name) +
                                    " (first used at line " + std::to_string(dup->pos.line) +
                                    "); expected unique names");
      } else {
        names.push_back({l.name, nameEntry->pos});
      }
    }
    bool haveBind = r.requireKey(*map, "bind", "host:port to listen on, e.g. 127.0.0.1:8080") &&
                    r.readAddress(*map->find("bind"), l.bind);
    bool haveProtocol = true;
    if (const Entry* p = map->find("protocol")) {
      haveProtocol = readProtocol(r, *p, l.protocol);
    }
    refs.protocolRead = haveProtocol;
    bool isHttp = haveProtocol && l.protocol == Protocol::Http;
    if (const Entry* p = map->find("pool")) {
      refs.path = p->path;
      refs.poolPos = p->pos;
      refs.poolRead = r.readString(*p, l.pool);
    } else if (haveProtocol && !isHttp && map->find("sni_routes") == nullptr) {
      // Optional on http listeners (checked with their routes below) and with sni_routes (no
      // default: unknown names are refused); not blamed on a protocol that could not be read.
      r.requireKey(*map, "pool", "the name of the pool that serves this listener");
    }
    bool proxyKnown = true;
    if (const Entry* p = map->find("proxy_protocol")) {
      proxyKnown = r.readBool(*p, l.accept_proxy);
      if (proxyKnown && l.accept_proxy && haveProtocol && l.protocol == Protocol::Udp) {
        r.error(p->pos, p->path +
                            ": PROXY protocol is only supported on tcp listeners and http listeners; expected "
                            "false (or no proxy_protocol key) for protocol udp");
      }
    }
    if (const Entry* p = map->find("trusted_proxies")) {
      r.readCidrList(*p, l.trusted_proxies);
      if (proxyKnown && !l.accept_proxy && p->value.IsSequence() && p->value.size() > 0) {
        r.error(p->keyPos, p->path +
                               ": only meaningful with proxy_protocol: true; expected proxy_protocol: "
                               "true on this listener, or no trusted_proxies");
      }
    }
    if (const Entry* p = map->find("backlog")) {
      r.readUint(*p, 1, 65535, l.backlog);
    }
    if (const Entry* p = map->find("freebind")) {
      r.readBool(*p, l.freebind);
    }
    if (const Entry* p = map->find("udp")) {
      if (haveProtocol && l.protocol != Protocol::Udp) {
        r.error(p->keyPos, p->path + ": only valid with protocol: udp; expected no udp section on " +
                               withArticle(l.protocol) + " listener");
      }
      readUdp(r, *p, l);
    }
    if (const Entry* p = map->find("tls")) {
      readListenerTls(r, *p, l.tls, haveProtocol ? l.protocol : Protocol::Tcp, refs);
    }
    if (const Entry* p = map->find("sni_routes")) {
      if (haveProtocol && l.protocol != Protocol::Tcp) {
        r.error(p->keyPos, p->path + ": SNI passthrough routes are for tcp listeners (an http listener routes by "
                                     "host in http.routes); expected no sni_routes on " +
                               withArticle(l.protocol) + " listener");
      } else if (map->find("tls") != nullptr) {
        r.error(p->keyPos, p->path + ": a listener either terminates TLS (tls) or passes it through by SNI "
                                     "(sni_routes); expected only one of them");
      }
      readSniRoutes(r, *p, l.sni_routes, refs.routePools);
    }
    if (const Entry* p = map->find("http2")) {
      if (haveProtocol && !isHttp) {
        r.error(p->keyPos, p->path + ": HTTP/2 is for http listeners; expected no http2 section on " +
                               withArticle(l.protocol) + " listener");
      }
      readListenerHttp2(r, *p, l.http2);
    }
    if (isHttp && l.tls.enabled()) {
      bool offered = std::find(l.tls.alpn.begin(), l.tls.alpn.end(), "h2") != l.tls.alpn.end();
      if (offered && !l.http2.enabled) {
        const Entry* t = map->find("tls");
        r.error(t->pos, t->path + ".alpn: h2 is offered but HTTP/2 is not enabled; expected http2: {enabled: true} "
                                  "on the listener, or alpn without h2");
      } else if (l.http2.enabled && !l.tls.alpn_given) {
        l.tls.alpn.insert(l.tls.alpn.begin(), "h2");  // preferred when the client offers it
      }
    }
    HttpListenerRefs http;
    if (const Entry* p = map->find("http")) {
      if (haveProtocol && !isHttp) {
        r.error(p->keyPos, p->path + ": only valid with protocol: http; expected no http section on " +
                               withArticle(l.protocol) + " listener");
      }
      http = readHttpListener(r, *p, l.http);
      refs.routePools.insert(refs.routePools.end(), http.pools.begin(), http.pools.end());
      refs.shared = std::move(http.shared);
    }
    if (isHttp && map->find("pool") == nullptr && !http.hasRoutes) {
      r.requireKey(*map, "pool", "an http listener needs a pool (used when no route matches), http.routes, or both");
    }
    if (haveBind && haveProtocol) {
      // http listens on tcp: an http and a tcp listener cannot share an address.
      auto dup = std::find_if(read.binds.begin(), read.binds.end(), [&](const Bound& b) {
        return isUdp(b.protocol) == isUdp(l.protocol) && sameEndpoint(b.address, l.bind);
      });
      const Entry* bindEntry = map->find("bind");
      auto overlap = std::find_if(read.binds.begin(), read.binds.end(), [&](const Bound& b) {
        return isUdp(b.protocol) == isUdp(l.protocol) && bindsOverlap(b.address, l.bind);
      });
      if (dup != read.binds.end()) {
        std::string both = dup->protocol == l.protocol
                               ? ""
                               : " (" + protocolName(dup->protocol) + " and " + protocolName(l.protocol) +
                                     " listeners both listen on tcp)";
        r.error(bindEntry->pos, bindEntry->path + ": duplicate bind " + l.bind.text + "/" +
                                    (isUdp(l.protocol) ? "udp" : "tcp") + ", already used by listener " +
                                    quote(dup->listener) + " at line " + std::to_string(dup->pos.line) + both +
                                    "; expected each address and protocol once");
      } else if (overlap != read.binds.end()) {
        r.error(bindEntry->pos, bindEntry->path + ": " + l.bind.text + " overlaps " + overlap->address.text + "/" +
                                    (isUdp(l.protocol) ? "udp" : "tcp") + " of listener " + quote(overlap->listener) +
                                    " at line " + std::to_string(overlap->pos.line) +
                                    " (a wildcard address takes its port on every address); expected either "
                                    "the wildcard or specific addresses on one port, not both");
      } else {
        read.binds.push_back({l.bind, l.protocol, l.name, bindEntry->pos});
      }
    }
    out.push_back(std::move(l));
    read.refs.push_back(refs);
  }
  return read;
}

}  // namespace fulcrum::config::detail
