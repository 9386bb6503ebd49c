#pragma once
// HttpClient: the requests to the ACME directory, over libcurl (HTTPS verified against
// acme.ca or the system's store). Blocking with a timeout: it runs on the ACME thread only,
// never on a worker or the control loop.
#include <atomic>
#include <chrono>
#include <string>

namespace fulcrum::acme {

struct HttpResponse {
  long status = 0;            // 0: no answer (`error` says why)
  std::string error;          // curl's reason when the request failed
  std::string body;
  std::string location;       // Location
  std::string replay_nonce;   // Replay-Nonce
  std::string content_type;
};

class HttpClient {
 public:
  // `caFile`: empty for the system store.
  HttpClient(std::string caFile, std::chrono::milliseconds timeout);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // While `*flag` is true every request in flight ends at once (shutdown); null: never.
  void setCancel(const std::atomic<bool>* flag) { cancel_ = flag; }

  HttpResponse get(const std::string& url);
  HttpResponse head(const std::string& url);
  // POST with Content-Type application/jose+json.
  HttpResponse postJose(const std::string& url, const std::string& body);

 private:
  HttpResponse perform(const std::string& url, const char* method, const std::string* body);
  void* curl_;  // CURL*, reused (its connection cache) for every request
  std::string ca_file_;
  std::chrono::milliseconds timeout_;
  const std::atomic<bool>* cancel_ = nullptr;
};

}  // namespace fulcrum::acme
