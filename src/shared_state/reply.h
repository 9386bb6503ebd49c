#pragma once
// Reading Redis's replies (hiredis redisReply trees) into what a sync needs. Pure: unit tests
// build the replies from RESP bytes with hiredis's reader. Every function says what was wrong
// instead of trusting the shape of a reply (an error reply, a wrong count, a script changed
// under us).
#include <hiredis/hiredis.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "shared_state/batch.h"

namespace fulcrum::shared_state {

// The limit script's reply: (granted, excess) per key, in order. nullopt with `error` set otherwise.
struct Lease {
  uint32_t granted = 0;
  double excess = 0;
};
std::optional<std::vector<Lease>> parseLimitReply(const redisReply* reply, size_t keys, std::string& error);

// The sticky script's reply: the stored server of every key, in order.
std::optional<std::vector<std::string>> parseStickyReply(const redisReply* reply, size_t keys, std::string& error);

// SENTINEL get-master-addr-by-name: ["host", "port"]; a nil reply means the Sentinel does not
// know the name.
struct MasterAddress {
  std::string host;
  uint16_t port = 0;
};
std::optional<MasterAddress> parseMasterAddress(const redisReply* reply, std::string& error);

// A pub/sub push: ["message", channel, "key\nserver\nttl_ms"] (scripts.h). nullopt for
// anything else (the subscribe confirmation, a malformed payload).
std::optional<StickyEntry> parseStickyMessage(const redisReply* reply);

// "ERR ..." of an error reply, "no reply" for null, or the reply's type.
std::string describeReply(const redisReply* reply);

}  // namespace fulcrum::shared_state
