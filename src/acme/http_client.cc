#include "acme/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <mutex>

#include "common/ascii.h"

namespace fulcrum::acme {

namespace {

void globalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t onBody(char* data, size_t size, size_t n, void* arg) {
  auto* out = static_cast<HttpResponse*>(arg);
  constexpr size_t kMaxBody = 1024 * 1024;  // a certificate chain or a JSON object; never more
  if (out->body.size() + size * n > kMaxBody) {
    return 0;
  }
  out->body.append(data, size * n);
  return size * n;
}

size_t onHeader(char* data, size_t size, size_t n, void* arg) {
  auto* out = static_cast<HttpResponse*>(arg);
  std::string_view line(data, size * n);
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string_view name = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
      value.remove_prefix(1);
    }
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
      value.remove_suffix(1);
    }
    if (equalsIgnoreCase(name, "location")) {
      out->location = value;
    } else if (equalsIgnoreCase(name, "replay-nonce")) {
      out->replay_nonce = value;
    } else if (equalsIgnoreCase(name, "content-type")) {
      out->content_type = value;
    }
  }
  return size * n;
}

int onProgress(void* arg, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* cancel = static_cast<const std::atomic<bool>*>(arg);
  return cancel != nullptr && cancel->load(std::memory_order_relaxed) ? 1 : 0;
}

}  // namespace

HttpClient::HttpClient(std::string caFile, std::chrono::milliseconds timeout)
    : ca_file_(std::move(caFile)), timeout_(timeout) {
  globalInit();
  curl_ = curl_easy_init();
}

HttpClient::~HttpClient() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

HttpResponse HttpClient::get(const std::string& url) { return perform(url, "GET", nullptr); }
HttpResponse HttpClient::head(const std::string& url) { return perform(url, "HEAD", nullptr); }
HttpResponse HttpClient::postJose(const std::string& url, const std::string& body) {
  return perform(url, "POST", &body);
}

HttpResponse HttpClient::perform(const std::string& url, const char* method, const std::string* body) {
  HttpResponse out;
  auto* c = static_cast<CURL*>(curl_);
  if (c == nullptr) {
    out.error = "libcurl could not start";
    return out;
  }
  curl_easy_reset(c);
  char errbuf[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout_.count()));
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
  curl_easy_setopt(c, CURLOPT_USERAGENT, "fulcrum-acme");
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!ca_file_.empty()) {
    curl_easy_setopt(c, CURLOPT_CAINFO, ca_file_.c_str());
  }
  if (cancel_ != nullptr) {
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, &onProgress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(cancel_));
  }
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &onBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &onHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &out);
  curl_slist* headers = nullptr;
  if (std::string_view(method) == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (body != nullptr) {
    headers = curl_slist_append(headers, "Content-Type: application/jose+json");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body->size()));
  }
  CURLcode rc = curl_easy_perform(c);
  if (headers != nullptr) {
    curl_slist_free_all(headers);
  }
  if (rc != CURLE_OK) {
    out.status = 0;
    out.error = errbuf[0] != '\0' ? std::string(errbuf) : std::string(curl_easy_strerror(rc));
    return out;
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out.status);
  return out;
}

}  // namespace fulcrum::acme
