#pragma once
// OrderFlow: one certificate obtained from an ACME directory (RFC 8555 section 7), step by
// step as a state machine: directory -> nonce -> account -> order -> authorizations (each
// challenge answered through `ChallengeAnswerer`, then polled) -> finalize (a fresh key and
// CSR) -> certificate download. Each state change is logged with the names; a failure
// names the state and the CA's problem document.
//
// Blocking (HTTP requests with a timeout, polls with a pause): run on the ACME thread only.
// `stop` is checked between steps so a shutdown does not wait for a whole order.
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "acme/account_key.h"
#include "acme/http_client.h"
#include "config/model.h"

namespace fulcrum::acme {

enum class OrderState : uint8_t {
  Directory,
  Account,
  Order,
  Authorizing,
  Finalizing,
  Downloading,
  Done,
  Failed,
};
const char* stateName(OrderState s);

// Publishes and withdraws the answer to one challenge (tls::AcmeChallenges in fulcrum).
class ChallengeAnswerer {
 public:
  virtual ~ChallengeAnswerer() = default;
  virtual bool install(config::AcmeChallenge type, const std::string& name, const std::string& token,
                       const std::string& keyAuthorization, std::string& error) = 0;
  virtual void remove(config::AcmeChallenge type, const std::string& name, const std::string& token) = 0;
};

struct Issued {
  std::string chain_pem;  // leaf then intermediates, as the CA sent it
  std::string key_pem;
};

class OrderFlow {
 public:
  struct Options {
    std::string directory;
    std::string email;
    config::AcmeChallenge challenge = config::AcmeChallenge::TlsAlpn01;
    // Polls wait 100ms, then twice as long each time, up to poll_interval (a CA that
    // validates at once is not waited on for a second; a slow one is not hammered).
    std::chrono::milliseconds poll_interval{1000};
    uint32_t max_polls = 120;  // per authorization and per order state
  };
  // `sleep` pauses between polls and returns false when the flow must stop (shutdown).
  OrderFlow(Options options, const AccountKey& key, HttpClient& http, ChallengeAnswerer& answerer,
            std::function<bool(std::chrono::milliseconds)> sleep);

  // Obtains a certificate for `names`; false with `error` ("state: reason").
  bool obtain(const std::vector<std::string>& names, Issued& out, std::string& error);
  OrderState state() const { return state_; }

 private:
  void enter(OrderState s);  // logs the change
  std::chrono::milliseconds pollDelay(uint32_t i) const;  // before the i-th poll (i >= 1)
  bool ensureDirectory(std::string& error);
  bool fetchNonce(std::string& error);
  // A signed POST (payload empty: POST-as-GET), retried once on badNonce; false with `error`
  // unless the status is 2xx.
  bool post(const std::string& url, const std::string& payload, HttpResponse& out, std::string& error);
  bool ensureAccount(std::string& error);
  bool authorize(const std::string& authzUrl, std::string& error);

  Options options_;
  const AccountKey& key_;
  HttpClient& http_;
  ChallengeAnswerer& answerer_;
  std::function<bool(std::chrono::milliseconds)> sleep_;
  OrderState state_ = OrderState::Directory;
  std::string new_nonce_;
  std::string new_account_;
  std::string new_order_;
  std::string nonce_;
  std::string kid_;  // the account URL
  std::string names_text_;  // for log lines
};

}  // namespace fulcrum::acme
