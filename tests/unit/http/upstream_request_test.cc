// UpstreamRequest: a request's slots, server choice, tried servers and retry decisions, on real
// Cluster objects and without sockets.
#include "http/upstream_request.h"

#include <gtest/gtest.h>

#include <set>

#include "http/sticky.h"

using namespace fulcrum;
using namespace fulcrum::http;
using upstream::ErrorKind;
using upstream::RetryDecision;

namespace {

std::shared_ptr<const upstream::Cluster> makeCluster(upstream::HostRegistry& reg, int servers, uint32_t maxConnections,
                                                     config::StickyMode sticky = config::StickyMode::None) {
  static const char* const kAddresses[] = {"10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"};
  config::Pool p;
  p.name = std::string(1, 'p');  // (not from a literal: GCC 12 warns falsely, -Wrestrict)
  p.http.max_requests = 2;
  p.http.sticky.mode = sticky;
  for (int i = 0; i < servers; ++i) {
    config::Server s;
    s.address.text = kAddresses[i];
    s.max_connections = maxConnections;
    p.servers.push_back(s);
  }
  return reg.build(p, 1000, true);
}

}  // namespace

TEST(UpstreamRequest, PoolSlotsAreSharedAndGivenBack) {
  upstream::HostRegistry reg;
  auto c = makeCluster(reg, 1, 0);
  UpstreamRequest a(c, 0, ""), b(c, 0, ""), d(c, 0, "");
  EXPECT_TRUE(a.takePoolSlot());
  EXPECT_TRUE(b.takePoolSlot());
  EXPECT_FALSE(d.takePoolSlot()) << "max_requests: 2";
  EXPECT_TRUE(a.releasePoolSlot()) << "one was held: a waiting request may go on";
  EXPECT_FALSE(a.releasePoolSlot()) << "given back once";
  EXPECT_TRUE(d.takePoolSlot());
  b.releasePoolSlot();
  d.releasePoolSlot();
  EXPECT_EQ(c->pool_state->requests.load(), 0u);
}

TEST(UpstreamRequest, ARetryGoesToAServerNotTriedYet) {
  upstream::HostRegistry reg;
  auto c = makeCluster(reg, 3, 0);
  auto picker = c->balancer->makePicker(1);
  UpstreamRequest r(c, 0, "");
  std::set<int> seen;
  for (int attempt = 0; attempt < 3; ++attempt) {
    bool full = false;
    int host = r.pickHost(*picker, 1000, nullptr, full);
    ASSERT_GE(host, 0);
    EXPECT_TRUE(seen.insert(host).second) << "server " << host << " was already tried";
    r.beginAttempt(host);
    r.markTried();
    EXPECT_FALSE(r.releaseHost()) << "no max_connections: nobody waits for its slot";
    EXPECT_EQ(r.host(), -1);
  }
  EXPECT_EQ(r.attempts(), 3u);
  r.forgiveAttempt();
  EXPECT_EQ(r.attempts(), 2u);
}

TEST(UpstreamRequest, FullServersMakeTheRequestWait) {
  upstream::HostRegistry reg;
  auto c = makeCluster(reg, 1, 1);
  auto picker = c->balancer->makePicker(1);
  UpstreamRequest first(c, 0, ""), second(c, 0, "");
  bool full = false;
  int host = first.pickHost(*picker, 1000, nullptr, full);
  ASSERT_EQ(host, 0);
  first.beginAttempt(host);
  EXPECT_EQ(second.pickHost(*picker, 1000, nullptr, full), -1);
  EXPECT_TRUE(full) << "usable but for max_connections: wait, not 503";
  EXPECT_TRUE(first.releaseHost()) << "a request waiting for this server's slot may go on";
  full = false;
  EXPECT_EQ(second.pickHost(*picker, 1000, nullptr, full), 0);
}

TEST(UpstreamRequest, TheStickyCookiesServerIsChosen) {
  upstream::HostRegistry reg;
  auto c = makeCluster(reg, 3, 0, config::StickyMode::Cookie);
  auto picker = c->balancer->makePicker(1);
  for (size_t want = 0; want < 3; ++want) {
    UpstreamRequest r(c, 0, stickyId(*c, want));
    for (int i = 0; i < 3; ++i) {
      bool full = false;
      EXPECT_EQ(r.pickHost(*picker, 1000, nullptr, full), static_cast<int>(want));
      r.beginAttempt(static_cast<int>(want));
      r.releaseHost();
    }
  }
}

TEST(UpstreamRequest, TheSharedClientAddressChoiceIsChosenWhileUsable) {
  upstream::HostRegistry reg;
  auto c = makeCluster(reg, 3, 0, config::StickyMode::ClientAddress);
  auto picker = c->balancer->makePicker(1);
  for (size_t want = 0; want < 3; ++want) {
    UpstreamRequest r(c, 0, stickyId(*c, want));  // what AffinityFilter took from the shared cache
    bool full = false;
    EXPECT_EQ(r.pickHost(*picker, 1000, nullptr, full), static_cast<int>(want));
    r.beginAttempt(static_cast<int>(want));
    r.releaseHost();
  }
}

TEST(UpstreamRequest, RetriesFollowThePolicyAndTheBudget) {
  upstream::HostRegistry reg;
  auto c = makeCluster(reg, 2, 0);
  RetryBudget budget;
  UpstreamRequest r(c, 0, "");
  r.beginAttempt(0);
  upstream::AttemptState fresh;
  EXPECT_EQ(r.decideRetry(ErrorKind::ConnectFailed, fresh, budget, 1000), RetryDecision::Retry);
  upstream::AttemptState sent;
  sent.head_sent = true;
  sent.body_sent = true;
  EXPECT_EQ(r.decideRetry(ErrorKind::Reset, sent, budget, 1000), RetryDecision::GiveUp)
      << "a non-idempotent request whose body went out is not sent twice";
  r.beginAttempt(1);
  r.beginAttempt(0);
  EXPECT_EQ(r.decideRetry(ErrorKind::ConnectFailed, fresh, budget, 1000), RetryDecision::GiveUp)
      << "retries: 2 extra attempts, all made";
  // The budget: with no requests counted, only the floor (retry_budget_min per second) is there.
  UpstreamRequest q(c, 0, "");
  q.beginAttempt(0);
  int allowed = 0;
  for (int i = 0; i < 100; ++i) {
    allowed += q.decideRetry(ErrorKind::ConnectFailed, fresh, budget, 5000) == RetryDecision::Retry;
  }
  EXPECT_GT(allowed, 0);
  EXPECT_LT(allowed, 100) << "the retry budget caps retries";
}
