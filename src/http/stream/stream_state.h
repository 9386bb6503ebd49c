#pragma once
// StreamState: where one stream (a request and its response) is, whatever the protocol. Each
// side goes Head → Body → Done; the response side may see interim heads (1xx) before its
// final one. A retry (before any byte of the response reached the client) puts the stream
// back to "request being sent, no response". Codecs and the upstream request move it; the
// session, timeouts and accounting read it instead of loose flags. Transitions out of order
// are bugs: they assert in debug builds and are ignored in release ones.
#include <cstdint>

namespace fulcrum::http {

class StreamState {
 public:
  enum class Side : uint8_t { Head, Body, Done };

  explicit StreamState(uint32_t id = 0) : id_(id) {}

  // The stream's id on its connection (HTTP/1: the request's number; HTTP/2: the stream id).
  uint32_t id() const { return id_; }
  Side request() const { return request_; }
  Side response() const { return response_; }

  // The request head was taken; `endStream`: it has no body.
  void requestHead(bool endStream);
  // The last byte of the request body went to the server.
  void requestEnd();
  // An interim (1xx but 101) head leaves the response side at Head; a final head moves it to
  // Body (or Done with `endStream`) and fixes the status.
  void responseHead(uint16_t status, bool endStream);
  void responseEnd();
  // A retry: the request is sent again from its start, no response seen. `endStream` as in
  // requestHead. Only before the response started.
  void restart(bool endStream);

  bool requestDone() const { return request_ == Side::Done; }
  // A final response head was taken (a byte of it may have reached the client).
  bool responseStarted() const { return response_ != Side::Head; }
  bool responseDone() const { return response_ == Side::Done; }
  // The final status, 0 before the response started.
  uint16_t status() const { return status_; }

 private:
  uint32_t id_;
  uint16_t status_ = 0;
  Side request_ = Side::Head;
  Side response_ = Side::Head;
};

}  // namespace fulcrum::http
