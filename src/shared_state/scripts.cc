#include "shared_state/scripts.h"

#include <cstdio>

namespace fulcrum::shared_state {

namespace {

// Millisecond clock of the Redis server; NGINX limit_req's decay; then grantLease
// (limit_table.h) exactly; the key lives until drained.
constexpr const char kLimitScript[] = R"(local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for i, k in ipairs(KEYS) do
  local a = 5 * (i - 1)
  local rate = tonumber(ARGV[a + 1])
  local cap = tonumber(ARGV[a + 2])
  local debt = tonumber(ARGV[a + 3])
  local returned = tonumber(ARGV[a + 4])
  local want = tonumber(ARGV[a + 5])
  local v = redis.call('HMGET', k, 'e', 't')
  local e = tonumber(v[1]) or 0
  local last = tonumber(v[2]) or now
  if now > last then e = e - rate * (now - last) / 1000 end
  if e < 0 then e = 0 end
  e = e + debt - returned
  if e < 0 then e = 0 end
  local room = math.floor(cap - e + 1e-9)
  local g = 0
  if room > 0 then g = math.min(room, want) end
  e = e + g
  redis.call('HSET', k, 'e', tostring(e), 't', tostring(now))
  redis.call('PEXPIRE', k, math.ceil(e / rate * 1000) + 1000)
  out[2 * i - 1] = g
  out[2 * i] = tostring(e)
end
return out)";

// The first choice for a client wins (SET NX semantics) unless the stored server is unusable.
constexpr const char kStickyScript[] = R"(local out = {}
for i, k in ipairs(KEYS) do
  local server = ARGV[3 * i - 1]
  local replace = ARGV[3 * i] == '1'
  local ttl = ARGV[3 * i + 1]
  local cur = redis.call('GET', k)
  if replace or not cur then
    redis.call('SET', k, server, 'PX', ttl)
    if cur ~= server then redis.call('PUBLISH', ARGV[1], k .. '\n' .. server .. '\n' .. ttl) end
    cur = server
  else
    redis.call('PEXPIRE', k, ttl)
  end
  out[i] = cur
end
return out)";

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

std::vector<std::string> limitCommand(const std::vector<LimitDelta>& deltas) {
  std::vector<std::string> argv;
  argv.reserve(3 + deltas.size() * 6);
  argv.emplace_back("EVAL");
  argv.emplace_back(kLimitScript);
  argv.push_back(std::to_string(deltas.size()));
  for (const auto& d : deltas) {
    argv.push_back(d.key);
  }
  for (const auto& d : deltas) {
    argv.push_back(number(d.rate));
    argv.push_back(number(d.capacity));
    argv.push_back(std::to_string(d.debt));
    argv.push_back(std::to_string(d.returned));
    argv.push_back(std::to_string(d.want));
  }
  return argv;
}

std::vector<std::string> stickyCommand(const std::vector<StickyTouch>& touches, std::string_view channel) {
  std::vector<std::string> argv;
  argv.reserve(4 + touches.size() * 4);
  argv.emplace_back("EVAL");
  argv.emplace_back(kStickyScript);
  argv.push_back(std::to_string(touches.size()));
  for (const auto& t : touches) {
    argv.push_back(t.key);
  }
  argv.emplace_back(channel);
  for (const auto& t : touches) {
    argv.push_back(t.server);
    argv.emplace_back(t.replace ? "1" : "0");
    argv.push_back(std::to_string(t.ttl_ms));
  }
  return argv;
}

std::string stickyMessage(std::string_view key, std::string_view server, uint64_t ttlMs) {
  std::string m(key);
  m.push_back('\n');
  m.append(server).push_back('\n');
  m += std::to_string(ttlMs);
  return m;
}

}  // namespace fulcrum::shared_state
