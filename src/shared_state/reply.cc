#include "shared_state/reply.h"

#include <charconv>
#include <cstdlib>
#include <string_view>

namespace fulcrum::shared_state {

namespace {

std::string_view text(const redisReply* r) { return std::string_view(r->str, r->len); }

bool isText(const redisReply* r) { return r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS; }

std::optional<uint64_t> parseUint(std::string_view s) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) {
    return std::nullopt;
  }
  return v;
}

bool checkArray(const redisReply* reply, size_t n, std::string& error) {
  if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) {
    error = "expected an array, got " + describeReply(reply);
    return false;
  }
  if (reply->elements != n) {
    error = "expected " + std::to_string(n) + " values, got " + std::to_string(reply->elements);
    return false;
  }
  return true;
}

}  // namespace

std::string describeReply(const redisReply* reply) {
  if (reply == nullptr) {
    return "no reply";
  }
  switch (reply->type) {
    case REDIS_REPLY_ERROR: return std::string(text(reply));
    case REDIS_REPLY_STRING: return "a string";
    case REDIS_REPLY_STATUS: return "a status";
    case REDIS_REPLY_INTEGER: return "an integer";
    case REDIS_REPLY_NIL: return "nil";
    case REDIS_REPLY_ARRAY: return "an array of " + std::to_string(reply->elements);
    default: return "reply type " + std::to_string(reply->type);
  }
}

std::optional<std::vector<Lease>> parseLimitReply(const redisReply* reply, size_t keys, std::string& error) {
  if (!checkArray(reply, keys * 2, error)) {
    return std::nullopt;
  }
  std::vector<Lease> out(keys);
  for (size_t i = 0; i < keys * 2; ++i) {
    const redisReply* e = reply->element[i];
    double v = 0;
    if (e->type == REDIS_REPLY_INTEGER) {
      v = static_cast<double>(e->integer);
    } else if (isText(e)) {
      std::string s(text(e));
      char* end = nullptr;
      v = std::strtod(s.c_str(), &end);
      if (s.empty() || end != s.c_str() + s.size()) {
        error = "value " + std::to_string(i) + " is not a number";
        return std::nullopt;
      }
    } else {
      error = "value " + std::to_string(i) + ": expected a number, got " + describeReply(e);
      return std::nullopt;
    }
    if (!(v >= 0) || v > 1e15 || (i % 2 == 0 && (v > 4e9 || v != static_cast<double>(static_cast<uint64_t>(v))))) {
      error = "value " + std::to_string(i) + " is out of range";
      return std::nullopt;
    }
    if (i % 2 == 0) {
      out[i / 2].granted = static_cast<uint32_t>(v);
    } else {
      out[i / 2].excess = v;
    }
  }
  return out;
}

std::optional<std::vector<std::string>> parseStickyReply(const redisReply* reply, size_t keys, std::string& error) {
  if (!checkArray(reply, keys, error)) {
    return std::nullopt;
  }
  std::vector<std::string> out;
  out.reserve(keys);
  for (size_t i = 0; i < keys; ++i) {
    const redisReply* e = reply->element[i];
    if (!isText(e)) {
      error = "value " + std::to_string(i) + ": expected a server id, got " + describeReply(e);
      return std::nullopt;
    }
    out.emplace_back(text(e));
  }
  return out;
}

std::optional<MasterAddress> parseMasterAddress(const redisReply* reply, std::string& error) {
  if (reply != nullptr && reply->type == REDIS_REPLY_NIL) {
    error = "the Sentinel does not know this master name";
    return std::nullopt;
  }
  if (!checkArray(reply, 2, error)) {
    return std::nullopt;
  }
  const redisReply* host = reply->element[0];
  const redisReply* port = reply->element[1];
  if (!isText(host) || host->len == 0 || !isText(port)) {
    error = "expected [host, port]";
    return std::nullopt;
  }
  auto p = parseUint(text(port));
  if (!p || *p == 0 || *p > 65535) {
    error = "invalid port " + std::string(text(port));
    return std::nullopt;
  }
  return MasterAddress{std::string(text(host)), static_cast<uint16_t>(*p)};
}

std::optional<StickyEntry> parseStickyMessage(const redisReply* reply) {
  if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3) {
    return std::nullopt;
  }
  const redisReply* kind = reply->element[0];
  const redisReply* payload = reply->element[2];
  if (!isText(kind) || text(kind) != "message" || !isText(payload)) {
    return std::nullopt;
  }
  std::string_view p = text(payload);
  size_t second = p.rfind('\n');
  if (second == std::string_view::npos || second == 0) {
    return std::nullopt;
  }
  size_t first = p.rfind('\n', second - 1);
  if (first == std::string_view::npos || first == 0 || first + 1 == second) {
    return std::nullopt;
  }
  auto ttl = parseUint(p.substr(second + 1));
  if (!ttl || *ttl == 0) {
    return std::nullopt;
  }
  return StickyEntry{std::string(p.substr(0, first)), std::string(p.substr(first + 1, second - first - 1)), *ttl};
}

}  // namespace fulcrum::shared_state
