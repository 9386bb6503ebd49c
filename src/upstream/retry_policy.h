#pragma once
// RetryPolicy: whether a failed attempt at a server is tried again on another one. Pure (no
// clock, no I/O): the caller says what failed and how far the attempt got; the retry budget,
// which has state, is asked by the caller only when this says Retry. Shared by the L4 relay
// (connect failures) and the HTTP proxy (everything in ErrorKind).
#include <cstdint>

#include "config/model.h"

namespace fulcrum::upstream {

enum class ErrorKind : uint8_t {
  ConnectFailed,    // refused, unreachable, or an error before the connection was made
  ConnectTimeout,   // timeouts.connect
  Reset,            // the server closed or reset before a complete response head
  ResponseTimeout,  // the server silent past timeouts.response while it owed us the response
  BadResponse,      // a malformed response head, or one nobody asked for (101)
  Status502,        // the server answered 502, 503 or 504 (retry_on lists them)
  Status503,
  Status504,
};

// Who caused a failure. Only the server's own failures feed passive health
// (docs/design/health.md): a client must not be able to get a healthy server ejected.
enum class ErrorSource : uint8_t { Client, Server, Proxy };

// How far an attempt got when it failed.
struct AttemptState {
  bool head_sent = false;          // a byte of the request reached the server
  bool body_sent = false;          // a byte of the request body was sent (it is gone: no replay)
  bool response_started = false;   // a byte of the response reached the client
  bool idempotent = false;         // the method may be sent twice (RFC 9110 §9.2.2)
  bool reused_idle = false;        // the connection came from the idle pool ...
  bool nothing_read = false;       // ... and the server sent nothing on it this time
  uint32_t attempts = 0;           // attempts made, this one included
};

struct UpstreamError {
  ErrorKind kind = ErrorKind::ConnectFailed;
  ErrorSource source = ErrorSource::Server;
  bool retryable = false;  // safe to send again: nothing of it can have been acted on twice, or
                           // the method allows it, and the client has seen nothing yet
};

// What an error is, given how far its attempt got.
UpstreamError classify(ErrorKind kind, const AttemptState& attempt);

// The retry_on bit (config::RetryOn) an error kind answers to.
uint32_t retryOnBit(ErrorKind kind);

// Termination names for the access log, by ErrorKind ("connect_failed", ...).
const char* terminationOf(ErrorKind kind);

enum class RetryDecision : uint8_t {
  GiveUp,
  Retry,      // on another server, counted against retries and the retry budget
  RetryFree,  // the idle pooled connection the server had already closed: a fresh one, uncounted
};

class RetryPolicy {
 public:
  // retryOn: config::RetryOn bits; retries: extra attempts after the first.
  RetryPolicy(uint32_t retryOn, uint32_t retries) : retry_on_(retryOn), retries_(retries) {}
  RetryDecision decide(const UpstreamError& error, const AttemptState& attempt) const;

 private:
  uint32_t retry_on_;
  uint32_t retries_;
};

}  // namespace fulcrum::upstream
