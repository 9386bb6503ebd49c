#include "acme/order_flow.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "acme/base64url.h"
#include "acme/csr.h"
#include "common/log.h"

namespace fulcrum::acme {

using json = nlohmann::json;

namespace {

json parse(const std::string& body) { return json::parse(body, nullptr, false); }

std::string str(const json& j, const char* key) {
  if (j.is_object()) {
    if (auto it = j.find(key); it != j.end() && it->is_string()) {
      return it->get<std::string>();
    }
  }
  return {};
}

// "status 400: urn:ietf:params:acme:error:badNonce: detail" from a problem document.
std::string problem(const HttpResponse& r) {
  if (r.status == 0) {
    return r.error;
  }
  json j = parse(r.body);
  std::string type = str(j, "type");
  std::string detail = str(j, "detail");
  std::string out = "status " + std::to_string(r.status);
  if (!type.empty()) {
    out += ": " + type;
  }
  if (!detail.empty()) {
    out += ": " + detail;
  }
  return out;
}

// The first failed challenge's error in an authorization, else the authorization's status.
std::string authorizationProblem(const json& authz) {
  if (authz.contains("challenges") && authz["challenges"].is_array()) {
    for (const auto& c : authz["challenges"]) {
      if (c.is_object() && c.contains("error") && c["error"].is_object()) {
        return str(c["error"], "type") + ": " + str(c["error"], "detail");
      }
    }
  }
  return "authorization " + str(authz, "status");
}

}  // namespace

const char* stateName(OrderState s) {
  switch (s) {
    case OrderState::Directory: return "directory";
    case OrderState::Account: return "account";
    case OrderState::Order: return "order";
    case OrderState::Authorizing: return "authorizing";
    case OrderState::Finalizing: return "finalizing";
    case OrderState::Downloading: return "downloading";
    case OrderState::Done: return "done";
    case OrderState::Failed: return "failed";
  }
  return "?";
}

OrderFlow::OrderFlow(Options options, const AccountKey& key, HttpClient& http, ChallengeAnswerer& answerer,
                     std::function<bool(std::chrono::milliseconds)> sleep)
    : options_(std::move(options)), key_(key), http_(http), answerer_(answerer), sleep_(std::move(sleep)) {}

std::chrono::milliseconds OrderFlow::pollDelay(uint32_t i) const {
  std::chrono::milliseconds d(100);
  for (uint32_t k = 1; k < i && d < options_.poll_interval; ++k) {
    d *= 2;
  }
  return std::min(d, options_.poll_interval);
}

void OrderFlow::enter(OrderState s) {
  state_ = s;
  log::info("acme order", {{"names", names_text_}, {"state", stateName(s)}});
}

bool OrderFlow::ensureDirectory(std::string& error) {
  if (!new_order_.empty()) {
    return true;
  }
  HttpResponse r = http_.get(options_.directory);
  if (r.status != 200) {
    error = options_.directory + ": " + problem(r);
    return false;
  }
  json d = parse(r.body);
  new_nonce_ = str(d, "newNonce");
  new_account_ = str(d, "newAccount");
  new_order_ = str(d, "newOrder");
  if (new_nonce_.empty() || new_account_.empty() || new_order_.empty()) {
    new_order_.clear();
    error = options_.directory + ": not an ACME directory (newNonce, newAccount or newOrder missing)";
    return false;
  }
  return true;
}

bool OrderFlow::fetchNonce(std::string& error) {
  HttpResponse r = http_.head(new_nonce_);
  if (r.replay_nonce.empty()) {
    error = new_nonce_ + ": no Replay-Nonce (" + problem(r) + ")";
    return false;
  }
  nonce_ = r.replay_nonce;
  return true;
}

bool OrderFlow::post(const std::string& url, const std::string& payload, HttpResponse& out, std::string& error) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (nonce_.empty() && !fetchNonce(error)) {
      return false;
    }
    std::string body = key_.sign(url, nonce_, kid_, payload);
    nonce_.clear();
    if (body.empty()) {
      error = "cannot sign the request to " + url;
      return false;
    }
    out = http_.postJose(url, body);
    nonce_ = out.replay_nonce;  // every answer carries the next nonce
    if (out.status >= 200 && out.status < 300) {
      return true;
    }
    if (out.status == 400 && str(parse(out.body), "type") == "urn:ietf:params:acme:error:badNonce") {
      continue;  // RFC 8555 section 6.5: retry with the fresh nonce
    }
    break;
  }
  error = url + ": " + problem(out);
  return false;
}

bool OrderFlow::ensureAccount(std::string& error) {
  if (!kid_.empty()) {
    return true;
  }
  json payload = {{"termsOfServiceAgreed", true}};
  if (!options_.email.empty()) {
    payload["contact"] = json::array({"mailto:" + options_.email});
  }
  HttpResponse r;
  // The same key finds the same account (200) or makes it (201): no account URL to store.
  if (!post(new_account_, payload.dump(), r, error)) {
    return false;
  }
  if (r.location.empty()) {
    error = new_account_ + ": no account URL (Location) in the answer";
    return false;
  }
  kid_ = r.location;
  return true;
}

bool OrderFlow::authorize(const std::string& authzUrl, std::string& error) {
  HttpResponse r;
  if (!post(authzUrl, "", r, error)) {
    return false;
  }
  json authz = parse(r.body);
  if (str(authz, "status") == "valid") {
    return true;  // validated before (an earlier order of this account)
  }
  std::string name = authz.contains("identifier") ? str(authz["identifier"], "value") : std::string();
  const char* wanted = options_.challenge == config::AcmeChallenge::Http01 ? "http-01" : "tls-alpn-01";
  std::string url;
  std::string token;
  if (authz.contains("challenges") && authz["challenges"].is_array()) {
    for (const auto& c : authz["challenges"]) {
      if (str(c, "type") == wanted) {
        url = str(c, "url");
        token = str(c, "token");
      }
    }
  }
  if (url.empty() || token.empty() || name.empty()) {
    error = authzUrl + ": the CA offers no " + wanted + " challenge for " + (name.empty() ? "the name" : name);
    return false;
  }
  std::string keyAuthorization = token + "." + key_.thumbprint();
  if (!answerer_.install(options_.challenge, name, token, keyAuthorization, error)) {
    return false;
  }
  bool ok = post(url, "{}", r, error);  // "ready: validate now"
  for (uint32_t i = 0; ok && i < options_.max_polls; ++i) {
    if (!post(authzUrl, "", r, error)) {
      ok = false;
      break;
    }
    authz = parse(r.body);
    std::string status = str(authz, "status");
    if (status == "valid") {
      answerer_.remove(options_.challenge, name, token);
      return true;
    }
    if (status != "pending" && status != "processing") {
      error = name + ": " + wanted + " failed: " + authorizationProblem(authz);
      ok = false;
      break;
    }
    if (!sleep_(pollDelay(i + 1))) {
      error = "stopped";
      ok = false;
    }
  }
  if (ok) {
    error = name + ": still not validated after " + std::to_string(options_.max_polls) + " polls";
  }
  answerer_.remove(options_.challenge, name, token);
  return false;
}

bool OrderFlow::obtain(const std::vector<std::string>& names, Issued& out, std::string& error) {
  names_text_.clear();
  for (const auto& n : names) {
    names_text_ += (names_text_.empty() ? "" : ",") + n;
  }
  auto fail = [&](const std::string& why) {
    error = std::string(stateName(state_)) + ": " + why;
    state_ = OrderState::Failed;
    return false;
  };
  std::string why;
  enter(OrderState::Directory);
  if (!ensureDirectory(why)) {
    return fail(why);
  }
  enter(OrderState::Account);
  if (!ensureAccount(why)) {
    return fail(why);
  }
  enter(OrderState::Order);
  json identifiers = json::array();
  for (const auto& n : names) {
    identifiers.push_back({{"type", "dns"}, {"value", n}});
  }
  HttpResponse r;
  if (!post(new_order_, json{{"identifiers", identifiers}}.dump(), r, why)) {
    return fail(why);
  }
  std::string orderUrl = r.location;
  json order = parse(r.body);
  if (orderUrl.empty() || !order.is_object()) {
    return fail(new_order_ + ": no order URL or body in the answer");
  }
  enter(OrderState::Authorizing);
  if (order.contains("authorizations") && order["authorizations"].is_array()) {
    for (const auto& a : order["authorizations"]) {
      if (!a.is_string() || !authorize(a.get<std::string>(), why)) {
        return fail(a.is_string() ? why : "an authorization URL is not a string");
      }
    }
  }
  enter(OrderState::Finalizing);
  // The order turns ready once every authorization is valid (a poll: it may lag).
  for (uint32_t i = 0; str(order, "status") == "pending" && i < options_.max_polls; ++i) {
    if (i > 0 && !sleep_(pollDelay(i))) {
      return fail("stopped");
    }
    if (!post(orderUrl, "", r, why)) {
      return fail(why);
    }
    order = parse(r.body);
  }
  if (str(order, "status") != "ready") {
    return fail("the order is " + str(order, "status") + ", not ready, after its authorizations");
  }
  CertificateRequest csr;
  if (!makeCertificateRequest(names, csr, why)) {
    return fail(why);
  }
  if (!post(str(order, "finalize"), json{{"csr", base64url(csr.csr_der)}}.dump(), r, why)) {
    return fail(why);
  }
  order = parse(r.body);
  for (uint32_t i = 0; str(order, "status") == "processing" && i < options_.max_polls; ++i) {
    if (!sleep_(pollDelay(i + 1))) {
      return fail("stopped");
    }
    if (!post(orderUrl, "", r, why)) {
      return fail(why);
    }
    order = parse(r.body);
  }
  std::string certUrl = str(order, "certificate");
  if (str(order, "status") != "valid" || certUrl.empty()) {
    return fail("the order is " + str(order, "status") + " after finalize, with no certificate");
  }
  enter(OrderState::Downloading);
  if (!post(certUrl, "", r, why)) {
    return fail(why);
  }
  if (r.body.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return fail(certUrl + ": not a PEM certificate chain");
  }
  out.chain_pem = r.body;
  out.key_pem = std::move(csr.key_pem);
  enter(OrderState::Done);
  return true;
}

}  // namespace fulcrum::acme
