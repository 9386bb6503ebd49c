#include "http/filters/forwarded_filter.h"

#include "common/ascii.h"

namespace fulcrum::http {

void forwardedEdits(const Request& request, const config::Forwarded& fwd, bool peer_trusted,
                    std::string_view client_ip, FieldEdits& edits) {
  std::string_view priorFor;
  std::string_view priorRealIp;
  bool hasProto = false;
  bool hasHost = false;
  for (const Header& h : request.headers) {
    if (equalsIgnoreCase(h.name, "x-forwarded-for")) {
      priorFor = h.value;  // the last one wins; every one is replaced by the appended list
    } else if (equalsIgnoreCase(h.name, "x-real-ip")) {
      priorRealIp = h.value;
    } else if (equalsIgnoreCase(h.name, "x-forwarded-proto")) {
      hasProto = true;
    } else if (equalsIgnoreCase(h.name, "x-forwarded-host")) {
      hasHost = true;
    }
  }
  if (!peer_trusted) {
    edits.remove("x-forwarded-for");
    edits.remove("x-forwarded-proto");
    edits.remove("x-forwarded-host");
    edits.remove("x-real-ip");
    edits.remove("forwarded");
    priorFor = priorRealIp = {};
    hasProto = hasHost = false;
  } else {
    if (fwd.x_forwarded_for) {
      edits.remove("x-forwarded-for");
    }
    if (fwd.x_real_ip) {
      edits.remove("x-real-ip");
    }
  }
  if (fwd.x_forwarded_for) {
    edits.add("X-Forwarded-For", client_ip, priorFor);
  }
  if (fwd.x_forwarded_proto && !hasProto) {
    edits.add("X-Forwarded-Proto", request.scheme);  // a trusted front's own scheme is kept (it may have terminated TLS)
  }
  if (fwd.x_forwarded_host && !request.authority.empty() && !hasHost) {
    edits.add("X-Forwarded-Host", request.authority);
  }
  if (fwd.x_real_ip) {
    edits.add("X-Real-IP", priorRealIp.empty() ? client_ip : priorRealIp);
  }
}

FilterStatus ForwardedFilter::onRequestHead(RequestState& s) const {
  forwardedEdits(s.request, fwd_, s.peer_trusted, s.client_ip, s.edits);
  return FilterStatus::Continue;
}

}  // namespace fulcrum::http
