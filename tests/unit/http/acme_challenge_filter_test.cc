// HTTP-01: a GET for a pending token is answered by the filter with the key authorization;
// anything else (another token, another path, another method) goes on to the routes.
#include <gtest/gtest.h>

#include "http/filters/acme_challenge_filter.h"
#include "parsed_request.h"

using namespace fulcrum;
using namespace fulcrum::http;

namespace {

FilterStatus decide(const AcmeChallengeFilter& f, const std::string& raw, TerminalHandler** terminal = nullptr) {
  test::ParsedRequest req(raw);
  RequestState state(req.request);
  FilterStatus s = f.onRequestHead(state);
  if (terminal != nullptr) {
    *terminal = state.terminal;
  }
  return s;
}

}  // namespace

TEST(AcmeChallengeFilter, APendingTokenIsAnsweredAndEverythingElseIsRouted) {
  tls::AcmeChallenges challenges;
  challenges.setHttp("tok-1", "tok-1.thumbprint");
  AcmeChallengeFilter filter(challenges);
  TerminalHandler* handler = nullptr;
  EXPECT_EQ(decide(filter, "GET /.well-known/acme-challenge/tok-1 HTTP/1.1\r\nHost: a.test\r\n\r\n", &handler),
            FilterStatus::Terminal);
  ASSERT_EQ(handler, &filter);
  TerminalRequest req;
  req.method = "GET";
  req.path = "/.well-known/acme-challenge/tok-1";
  TerminalResponse answer = handler->handle(req);
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.body, "tok-1.thumbprint");
  EXPECT_EQ(answer.content_type, "application/octet-stream");

  EXPECT_EQ(decide(filter, "GET /.well-known/acme-challenge/other HTTP/1.1\r\nHost: a.test\r\n\r\n"),
            FilterStatus::Continue)
      << "a token of a server behind fulcrum";
  EXPECT_EQ(decide(filter, "GET /.well-known/acme-challenge/tok-1x HTTP/1.1\r\nHost: a.test\r\n\r\n"),
            FilterStatus::Continue);
  EXPECT_EQ(decide(filter, "POST /.well-known/acme-challenge/tok-1 HTTP/1.1\r\nHost: a.test\r\nContent-Length: 0\r\n\r\n"),
            FilterStatus::Continue);
  EXPECT_EQ(decide(filter, "GET /tok-1 HTTP/1.1\r\nHost: a.test\r\n\r\n"), FilterStatus::Continue);

  // Withdrawn between the head and the answer: 404, never a stale key authorization.
  challenges.removeHttp("tok-1");
  EXPECT_EQ(handler->handle(req).status, 404);
  EXPECT_EQ(decide(filter, "GET /.well-known/acme-challenge/tok-1 HTTP/1.1\r\nHost: a.test\r\n\r\n"),
            FilterStatus::Continue);
}
