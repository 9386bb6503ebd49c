// RetryPolicy: what is tried again, from how far the attempt got and what the pool allows.
#include "upstream/retry_policy.h"

#include <gtest/gtest.h>

using namespace fulcrum;
using namespace fulcrum::upstream;

namespace {

constexpr uint32_t kDefaults = config::kRetryConnectFailure | config::kRetryReset | config::kRetryTimeout;

RetryDecision decide(ErrorKind kind, const AttemptState& a, uint32_t retryOn = kDefaults, uint32_t retries = 2) {
  return RetryPolicy(retryOn, retries).decide(classify(kind, a), a);
}

AttemptState sentGet(uint32_t attempts = 1) {
  AttemptState a;
  a.head_sent = true;
  a.idempotent = true;
  a.attempts = attempts;
  return a;
}

}  // namespace

TEST(RetryPolicy, ConnectFailuresAreRetriedForAnyMethodUpToRetries) {
  AttemptState post;
  post.attempts = 1;
  EXPECT_EQ(decide(ErrorKind::ConnectFailed, post), RetryDecision::Retry);
  EXPECT_EQ(decide(ErrorKind::ConnectTimeout, post), RetryDecision::Retry);
  post.attempts = 3;  // 1 + 2 retries made
  EXPECT_EQ(decide(ErrorKind::ConnectFailed, post), RetryDecision::GiveUp);
  post.attempts = 1;
  EXPECT_EQ(decide(ErrorKind::ConnectFailed, post, 0), RetryDecision::GiveUp) << "retry_on: []";
}

TEST(RetryPolicy, OnlyIdempotentRequestsAreRetriedOnceSent) {
  EXPECT_EQ(decide(ErrorKind::ResponseTimeout, sentGet()), RetryDecision::Retry);
  EXPECT_EQ(decide(ErrorKind::Reset, sentGet()), RetryDecision::Retry);
  AttemptState post = sentGet();
  post.idempotent = false;
  EXPECT_EQ(decide(ErrorKind::ResponseTimeout, post), RetryDecision::GiveUp);
  EXPECT_EQ(decide(ErrorKind::Reset, post), RetryDecision::GiveUp);
  EXPECT_FALSE(classify(ErrorKind::Reset, post).retryable);
}

TEST(RetryPolicy, NothingIsRetriedOnceTheClientSawAResponseOrTheBodyLeft) {
  AttemptState started = sentGet();
  started.response_started = true;
  EXPECT_EQ(decide(ErrorKind::Reset, started), RetryDecision::GiveUp);
  AttemptState body = sentGet();
  body.body_sent = true;
  EXPECT_EQ(decide(ErrorKind::ResponseTimeout, body), RetryDecision::GiveUp);
}

TEST(RetryPolicy, StatusesOnlyWhenListed) {
  EXPECT_EQ(decide(ErrorKind::Status503, sentGet()), RetryDecision::GiveUp);
  EXPECT_EQ(decide(ErrorKind::Status503, sentGet(), kDefaults | config::kRetry503), RetryDecision::Retry);
  EXPECT_EQ(decide(ErrorKind::Status502, sentGet(), kDefaults | config::kRetry503), RetryDecision::GiveUp);
  EXPECT_EQ(decide(ErrorKind::BadResponse, sentGet(), ~0u), RetryDecision::GiveUp) << "garbage is not asked again";
}

TEST(RetryPolicy, AnIdlePooledConnectionTheServerClosedIsRetriedFree) {
  AttemptState stale = sentGet(3);
  stale.reused_idle = true;
  stale.nothing_read = true;
  EXPECT_EQ(decide(ErrorKind::Reset, stale, 0, 0), RetryDecision::RetryFree) << "whatever retry_on and retries say";
  stale.nothing_read = false;
  EXPECT_EQ(decide(ErrorKind::Reset, stale), RetryDecision::GiveUp);
}

TEST(RetryPolicy, TerminationNames) {
  EXPECT_STREQ(terminationOf(ErrorKind::ConnectTimeout), "connect_timeout");
  EXPECT_STREQ(terminationOf(ErrorKind::ResponseTimeout), "response_timeout");
  EXPECT_STREQ(terminationOf(ErrorKind::Reset), "server_reset");
}
