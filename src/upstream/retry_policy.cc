#include "upstream/retry_policy.h"

namespace fulcrum::upstream {

namespace {

bool isConnect(ErrorKind kind) { return kind == ErrorKind::ConnectFailed || kind == ErrorKind::ConnectTimeout; }

}  // namespace

UpstreamError classify(ErrorKind kind, const AttemptState& a) {
  UpstreamError e;
  e.kind = kind;
  e.source = ErrorSource::Server;
  bool nothingSent = isConnect(kind) || !a.head_sent;
  e.retryable = !a.response_started && !a.body_sent && (a.idempotent || nothingSent);
  return e;
}

uint32_t retryOnBit(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::ConnectFailed:
    case ErrorKind::ConnectTimeout:
      return config::kRetryConnectFailure;
    case ErrorKind::Reset:
      return config::kRetryReset;
    case ErrorKind::ResponseTimeout:
      return config::kRetryTimeout;
    case ErrorKind::BadResponse:
      return 0;  // a server that speaks garbage is not asked again
    case ErrorKind::Status502:
      return config::kRetry502;
    case ErrorKind::Status503:
      return config::kRetry503;
    case ErrorKind::Status504:
      return config::kRetry504;
  }
  return 0;
}

const char* terminationOf(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::ConnectFailed:
      return "connect_failed";
    case ErrorKind::ConnectTimeout:
      return "connect_timeout";
    case ErrorKind::Reset:
      return "server_reset";
    case ErrorKind::ResponseTimeout:
      return "response_timeout";
    case ErrorKind::BadResponse:
    case ErrorKind::Status502:
    case ErrorKind::Status503:
    case ErrorKind::Status504:
      return "bad_response";
  }
  return "bad_response";
}

RetryDecision RetryPolicy::decide(const UpstreamError& error, const AttemptState& attempt) const {
  if (!error.retryable) {
    return RetryDecision::GiveUp;
  }
  // A pooled connection the server had closed while idle: not the server's failure, and a
  // fresh connection is the obvious answer.
  if (attempt.reused_idle && attempt.nothing_read && error.kind == ErrorKind::Reset) {
    return RetryDecision::RetryFree;
  }
  if (!(retry_on_ & retryOnBit(error.kind)) || attempt.attempts > retries_) {
    return RetryDecision::GiveUp;
  }
  return RetryDecision::Retry;
}

}  // namespace fulcrum::upstream
