#pragma once
// One readiness probe: GET of an HTTP URL (Fulcrum's /readyz) with a deadline for the whole
// exchange. Passed = a 200 within the deadline; anything else (refused, reset, timeout, 503, a
// malformed answer) fails, with a reason for the log.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace fulcrum::watch {

struct ProbeTarget {
  std::string host;  // an IP literal ("127.0.0.1", "::1") or "localhost"
  uint16_t port = 0;
  std::string path = "/readyz";
  std::string host_header;  // host[:port] as written in the URL
};

// "http://127.0.0.1:9900/readyz" → target; an error says what is wrong with the URL.
Result<ProbeTarget> parseProbeUrl(std::string_view url);

struct ProbeOutcome {
  bool passed = false;
  int status = 0;      // the HTTP status, 0 when none was read
  std::string reason;  // why it failed
};

ProbeOutcome probe(const ProbeTarget& target, uint32_t timeoutMs);

}  // namespace fulcrum::watch
