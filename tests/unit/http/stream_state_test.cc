// The protocol-neutral state of one stream: each side Head → Body → Done.
#include "http/stream/stream_state.h"

#include <gtest/gtest.h>

using namespace fulcrum::http;
using Side = StreamState::Side;

TEST(StreamState, ARequestWithABodyAndItsResponse) {
  StreamState s(7);
  EXPECT_EQ(s.id(), 7u);
  EXPECT_EQ(s.request(), Side::Head);
  s.requestHead(false);
  EXPECT_EQ(s.request(), Side::Body);
  EXPECT_FALSE(s.requestDone());
  s.requestEnd();
  EXPECT_TRUE(s.requestDone());
  EXPECT_FALSE(s.responseStarted());
  EXPECT_EQ(s.status(), 0);
  s.responseHead(200, false);
  EXPECT_TRUE(s.responseStarted());
  EXPECT_EQ(s.status(), 200);
  EXPECT_FALSE(s.responseDone());
  s.responseEnd();
  EXPECT_TRUE(s.responseDone());
}

TEST(StreamState, InterimHeadsLeaveTheResponseAtItsHead) {
  StreamState s;
  s.requestHead(true);
  EXPECT_TRUE(s.requestDone()) << "no body: the request is whole with its head";
  s.responseHead(100, false);
  s.responseHead(103, false);
  EXPECT_FALSE(s.responseStarted());
  EXPECT_EQ(s.status(), 0);
  s.responseHead(204, true);
  EXPECT_TRUE(s.responseDone());
  EXPECT_EQ(s.status(), 204);
}

TEST(StreamState, ASwitchOfProtocolsIsAFinalHead) {
  StreamState s;
  s.requestHead(true);
  s.responseHead(101, false);
  EXPECT_TRUE(s.responseStarted());
  EXPECT_EQ(s.status(), 101);
}

TEST(StreamState, ARetrySendsTheRequestAgainFromItsStart) {
  StreamState s;
  s.requestHead(false);
  s.requestEnd();
  s.restart(false);
  EXPECT_EQ(s.request(), Side::Body) << "the body is sent again";
  EXPECT_FALSE(s.responseStarted());
  s.restart(true);
  EXPECT_TRUE(s.requestDone());
}

TEST(StreamState, AnEarlyResponseLeavesTheRequestUnfinished) {
  StreamState s;
  s.requestHead(false);
  s.responseHead(413, false);
  s.responseEnd();
  EXPECT_TRUE(s.responseDone());
  EXPECT_FALSE(s.requestDone()) << "the server answered before the body ended: the connection cannot be reused";
}
