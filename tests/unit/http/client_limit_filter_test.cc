// The per-client connection limit as a connection filter, alone and in its chain: no sockets.
#include "http/filters/client_limit_filter.h"

#include <gtest/gtest.h>

#include <string>

#include "http/runtime.h"

using namespace fulcrum;
using namespace fulcrum::http;

namespace {

// A connection filter that refuses every connection (to see the chain give back earlier holds).
class RefuseAll final : public ConnectionFilter {
 public:
  ConnectionStatus onAccept(ConnectionState& s) const override {
    s.answer.status = 403;
    s.answer.termination = "refused";
    return ConnectionStatus::Refuse;
  }
  void onClose(const ConnectionState&) const override { ADD_FAILURE() << "nothing was held"; }
};

ConnectionStatus acceptOne(const ConnectionFilter& f, std::string_view ip, bool* held = nullptr) {
  ConnectionState s(nullptr, ip);
  auto status = f.onAccept(s);
  if (held != nullptr) {
    *held = s.held;
  }
  return status;
}

}  // namespace

TEST(ClientLimitFilter, RefusesTheConnectionBeyondTheLimitWith429AndRetryAfter) {
  ClientConnections counts;
  ClientLimitFilter f(2, counts);
  bool held = false;
  EXPECT_EQ(acceptOne(f, "192.0.2.1", &held), ConnectionStatus::Continue);
  EXPECT_TRUE(held) << "counted: given back at close";
  EXPECT_EQ(acceptOne(f, "192.0.2.1"), ConnectionStatus::Continue);

  ConnectionState third(nullptr, "192.0.2.1");
  ASSERT_EQ(f.onAccept(third), ConnectionStatus::Refuse);
  EXPECT_FALSE(third.held);
  EXPECT_TRUE(third.limited) << "counted in the listener's rate_limited figure";
  EXPECT_EQ(third.answer.status, 429);
  EXPECT_TRUE(third.answer.standard_body);
  EXPECT_EQ(third.answer.extra, "Retry-After: 1\r\n");
  EXPECT_STREQ(third.answer.termination, "client_limit");

  EXPECT_EQ(acceptOne(f, "192.0.2.2"), ConnectionStatus::Continue) << "another client has its own count";
}

TEST(ClientLimitFilter, AClosedConnectionMakesRoomForTheNext) {
  ClientConnections counts;
  ClientLimitFilter f(1, counts);
  ConnectionState first(nullptr, "2001:db8::1");
  ASSERT_EQ(f.onAccept(first), ConnectionStatus::Continue);
  EXPECT_EQ(acceptOne(f, "2001:db8::1"), ConnectionStatus::Refuse);
  f.onClose(first);
  EXPECT_EQ(acceptOne(f, "2001:db8::1"), ConnectionStatus::Continue);
}

TEST(ClientLimitFilter, OffCountsNothing) {
  ClientConnections counts;
  ClientLimitFilter off(0, counts);
  for (int i = 0; i < 100; ++i) {
    bool held = true;
    ASSERT_EQ(acceptOne(off, "192.0.2.1", &held), ConnectionStatus::Continue);
    EXPECT_FALSE(held);
  }
  ClientLimitFilter on(1, counts);
  EXPECT_EQ(acceptOne(on, "192.0.2.1"), ConnectionStatus::Continue) << "none of the 100 was counted";
}

TEST(ClientLimitFilter, ACountTakenBeforeAReloadIsGivenBackAfterIt) {
  // The chain of the snapshot a connection closes under releases it, whatever the limit is now.
  ClientConnections counts;  // the listener's shared state, kept across reloads
  ConnectionFilterChain before;
  before.add(std::make_unique<ClientLimitFilter>(1, counts));
  ConnectionFilterChain after;  // the limit turned off by a reload
  after.add(std::make_unique<ClientLimitFilter>(0, counts));

  ConnectionState s(nullptr, "192.0.2.7");
  uint8_t held = 0;
  ASSERT_EQ(before.onAccept(s, held), ConnectionStatus::Continue);
  EXPECT_EQ(held, 1u);
  after.onClose(s, held);
  EXPECT_EQ(acceptOne(ClientLimitFilter(1, counts), "192.0.2.7"), ConnectionStatus::Continue)
      << "the count was given back";
}

TEST(ConnectionFilterChain, ARefusalGivesBackWhatTheFiltersBeforeItHeld) {
  ClientConnections counts;
  ConnectionFilterChain chain;
  chain.add(std::make_unique<ClientLimitFilter>(1, counts));
  chain.add(std::make_unique<RefuseAll>());
  ConnectionState s(nullptr, "192.0.2.9");
  uint8_t held = 0xff;
  ASSERT_EQ(chain.onAccept(s, held), ConnectionStatus::Refuse);
  EXPECT_EQ(held, 0u);
  EXPECT_EQ(s.answer.status, 403);
  ClientLimitFilter limit(1, counts);
  EXPECT_EQ(acceptOne(limit, "192.0.2.9"), ConnectionStatus::Continue) << "the refused connection is not counted";
}

TEST(ConnectionFilterChain, EveryHttpListenerRunsTheClientLimitFirst) {
  // Built per listener beside the request filters; present even when off, so that the bits of
  // `held` mean the same filter in every snapshot.
  auto config = std::make_shared<config::Config>();
  config::Listener l;
  l.name = "web";
  l.protocol = config::Protocol::Http;
  config->listeners.push_back(l);
  auto shared = std::make_shared<SharedListenerState>();
  auto off = buildRuntime(config, config->listeners[0], {}, shared);
  ASSERT_EQ(off->connection_filters.size(), 1u);

  auto limited = std::make_shared<config::Config>(*config);
  limited->listeners[0].http.max_connections_per_client = 1;
  auto on = buildRuntime(limited, limited->listeners[0], {}, shared);
  ConnectionState a(nullptr, "192.0.2.3");
  uint8_t held = 0;
  ASSERT_EQ(on->connection_filters.onAccept(a, held), ConnectionStatus::Continue);
  ConnectionState b(nullptr, "192.0.2.3");
  uint8_t held2 = 0;
  EXPECT_EQ(on->connection_filters.onAccept(b, held2), ConnectionStatus::Refuse);
  EXPECT_EQ(b.answer.status, 429);
  off->connection_filters.onClose(a, held);  // closed after a reload that turned the limit off
  EXPECT_EQ(on->connection_filters.onAccept(b, held2), ConnectionStatus::Continue);
}
