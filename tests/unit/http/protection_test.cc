// Rate limiting (NGINX limit_req semantics), per-client connection counts, retry budget,
// sticky ids, and body framing.
#include <gtest/gtest.h>

#include "http/body_framer.h"
#include "http/rate_limiter.h"
#include "http/retry_budget.h"
#include "http/sticky.h"

using namespace fulcrum;
using namespace fulcrum::http;

TEST(RateLimiter, BurstThenRefusedWithRetryAfterThenRefills) {
  RateLimiter rl;
  // 2/s with a burst of 3, nodelay: 1 + 3 pass at once, the 5th is refused.
  for (int i = 0; i < 4; ++i) {
    auto d = rl.check("a", 2.0, 3, true, 100, 1000);
    EXPECT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.delay_ms, 0u);
  }
  auto d = rl.check("a", 2.0, 3, true, 100, 1000);
  EXPECT_FALSE(d.allowed);
  EXPECT_GE(d.retry_after_s, 1u);
  EXPECT_TRUE(rl.check("b", 2.0, 3, true, 100, 1000).allowed);  // another key is not affected
  EXPECT_TRUE(rl.check("a", 2.0, 3, true, 100, 1500).allowed);   // 0.5 s later: one token back
  EXPECT_FALSE(rl.check("a", 2.0, 3, true, 100, 1500).allowed);
}

TEST(RateLimiter, BurstZeroAdmitsRequestsAtTheRate) {
  RateLimiter rl;
  EXPECT_TRUE(rl.check("a", 10.0, 0, true, 100, 1000).allowed);
  EXPECT_FALSE(rl.check("a", 10.0, 0, true, 100, 1050).allowed);  // faster than 10/s
  for (uint64_t t = 1100; t <= 2000; t += 100) {
    EXPECT_TRUE(rl.check("a", 10.0, 0, true, 100, t).allowed) << t;  // at 10/s
  }
}

TEST(RateLimiter, WithoutNodelayRequestsInTheBurstAreDelayedToTheRate) {
  RateLimiter rl;
  EXPECT_EQ(rl.check("a", 10.0, 5, false, 100, 0).delay_ms, 0u);
  EXPECT_EQ(rl.check("a", 10.0, 5, false, 100, 0).delay_ms, 100u);
  EXPECT_EQ(rl.check("a", 10.0, 5, false, 100, 0).delay_ms, 200u);
}

TEST(RateLimiter, TinyRatesDoNotOverflow) {
  RateLimiter rl;
  EXPECT_TRUE(rl.check("a", 1e-300, 1, false, 10, 0).allowed);
  auto delayed = rl.check("a", 1e-300, 1, false, 10, 0);
  EXPECT_TRUE(delayed.allowed);
  EXPECT_EQ(delayed.delay_ms, 86400000u);
  auto refused = rl.check("a", 1e-300, 1, false, 10, 0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_s, 86400u);
}

TEST(RateLimiter, KeysAreBounded) {
  RateLimiter rl;
  EXPECT_TRUE(rl.check("first", 1.0, 0, true, 64, 0).allowed);
  EXPECT_FALSE(rl.check("first", 1.0, 0, true, 64, 0).allowed);  // remembered: its bucket is empty
  for (int i = 0; i < 10000; ++i) {
    rl.check(std::to_string(i), 1.0, 0, true, 64, 0);
  }
  // 10,000 other keys with room for about 64: "first" was forgotten, so it starts afresh.
  EXPECT_TRUE(rl.check("first", 1.0, 0, true, 64, 0).allowed);
}

TEST(ClientConnections, LimitPerClient) {
  ClientConnections c;
  EXPECT_TRUE(c.tryAdd("1.2.3.4", 2));
  EXPECT_TRUE(c.tryAdd("1.2.3.4", 2));
  EXPECT_FALSE(c.tryAdd("1.2.3.4", 2));
  EXPECT_TRUE(c.tryAdd("5.6.7.8", 2));
  c.remove("1.2.3.4");
  EXPECT_TRUE(c.tryAdd("1.2.3.4", 2));
}

TEST(RetryBudget, PercentOfRequestsPlusAFloor) {
  RetryBudget b;
  EXPECT_TRUE(b.tryRetry(0, 1));  // one to start with
  EXPECT_FALSE(b.tryRetry(0, 1));
  for (int i = 0; i < 10; ++i) {
    b.onRequest(20, 1);
  }
  EXPECT_TRUE(b.tryRetry(0, 1));  // 10 requests at 20% = 2 retries
  EXPECT_TRUE(b.tryRetry(0, 1));
  EXPECT_FALSE(b.tryRetry(0, 1));
  RetryBudget floor;
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(floor.tryRetry(10, 5)) << i;  // the floor's first second is there at once
  }
  EXPECT_FALSE(floor.tryRetry(10, 5));
  EXPECT_TRUE(b.tryRetry(10, 201));  // 10/s floor: 2 tokens after 200 ms
  EXPECT_TRUE(b.tryRetry(10, 201));
  EXPECT_FALSE(b.tryRetry(10, 201));
}

TEST(RetryBudget, ABurstDrawsOnTheLastTenSeconds) {
  // 500 requests a second for 3 s at 20%: 300 retries saved up, spendable at once (a stalled
  // server's in-flight requests timing out together), not just the last second's share.
  RetryBudget b;
  uint64_t now = 1000;
  for (int i = 0; i < 1500; ++i) {
    b.onRequest(20, now + static_cast<uint64_t>(i) * 2);
  }
  now += 3000;
  int granted = 0;
  while (granted < 1000 && b.tryRetry(0, now)) {
    ++granted;
  }
  EXPECT_GE(granted, 290);
  EXPECT_LE(granted, 311);  // 300 + the burst allowance of 10 (+1 to start with)
  // Deposits expire: after 11 quiet seconds a single request adds its share, not the old window's.
  RetryBudget idle;
  for (int i = 0; i < 1000; ++i) {
    idle.onRequest(20, 1000);
  }
  idle.onRequest(20, 20000);
  int later = 0;
  while (later < 1000 && idle.tryRetry(0, 20000)) {
    ++later;
  }
  EXPECT_LE(later, 11);
}

TEST(Sticky, IdsAreStableOpaqueAndFound) {
  upstream::Cluster c;
  c.config.name = "web";
  for (const char* a : {"10.0.0.1:80", "10.0.0.2:80"}) {
    upstream::Host h;
    h.config.address.text = a;
    h.state = std::make_shared<upstream::HostState>();
    c.hosts.push_back(std::move(h));
  }
  std::string id0 = stickyId(c, 0);
  EXPECT_EQ(id0.size(), 16u);
  EXPECT_EQ(id0.find("10.0.0"), std::string::npos);
  EXPECT_NE(id0, stickyId(c, 1));
  EXPECT_EQ(findStickyHost(c, id0), 0);
  EXPECT_EQ(findStickyHost(c, stickyId(c, 1)), 1);
  EXPECT_EQ(findStickyHost(c, "nonsense"), -1);
  config::Sticky s;
  s.max_age = std::chrono::hours(1);
  s.same_site = "Lax";
  EXPECT_EQ(stickyCookie(s, id0), "FULCRUM_SRV=" + id0 + "; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax");
}

TEST(BodyFramer, ContentLengthStopsAtTheEnd) {
  BodyFramer f;
  f.start({BodyKind::ContentLength, 5});
  ASSERT_TRUE(f.scan("abc"));
  EXPECT_EQ(f.ready(), 3u);
  EXPECT_FALSE(f.complete());
  f.forwarded(3);
  ASSERT_TRUE(f.scan("deGET / HTTP/1.1"));  // the next request is not body
  EXPECT_EQ(f.ready(), 2u);
  EXPECT_TRUE(f.complete());
}

TEST(BodyFramer, ChunkedPassesVerbatimAndRefusesGarbage) {
  BodyFramer f;
  f.start({BodyKind::Chunked, 0});
  std::string body = "3\r\nabc\r\n0\r\n\r\nNEXT";
  ASSERT_TRUE(f.scan(body));
  EXPECT_EQ(f.ready(), body.size() - 4);
  EXPECT_TRUE(f.complete());
  BodyFramer g;
  g.start({BodyKind::Chunked, 0});
  EXPECT_FALSE(g.scan("zz\r\n"));
  EXPECT_EQ(g.error().status, 400);
}
