#pragma once
// The two Redis commands a sync sends: one EVAL for every rate-limit delta of a worker's report,
// one for every sticky choice. A script runs atomically in Redis and reads Redis's own clock
// (TIME), so instances with skewed clocks still decay the same excess alike, and one round trip
// carries a whole report.
#include <string>
#include <string_view>
#include <vector>

#include "shared_state/batch.h"

namespace fulcrum::shared_state {

// EVAL <limit script> N key... (rate capacity debt returned want)...: applies each lease request
// to its key's bucket (decayed at its rate since the last update; grantLease in limit_table.h)
// and replies with (granted, excess) for every key, in order. A key expires once its excess has
// drained (plus a second).
std::vector<std::string> limitCommand(const std::vector<LimitDelta>& deltas);

// EVAL <sticky script> N key... channel (server replace ttl_ms)...: stores each server for its
// key unless one is stored already (or replace is "1"), refreshes the TTL, publishes new choices
// on `channel` as "key\nserver\nttl_ms", and replies with the stored server of every key.
std::vector<std::string> stickyCommand(const std::vector<StickyTouch>& touches, std::string_view channel);

// The pub/sub payload of a published choice (parsed by reply.h's parseStickyMessage).
std::string stickyMessage(std::string_view key, std::string_view server, uint64_t ttlMs);

}  // namespace fulcrum::shared_state
