#include "http/stream/stream_state.h"

#include <cassert>

namespace fulcrum::http {

void StreamState::requestHead(bool endStream) {
  assert(request_ == Side::Head);
  if (request_ == Side::Head) {
    request_ = endStream ? Side::Done : Side::Body;
  }
}

void StreamState::requestEnd() {
  assert(request_ != Side::Head);
  if (request_ == Side::Body) {
    request_ = Side::Done;
  }
}

void StreamState::responseHead(uint16_t status, bool endStream) {
  assert(response_ == Side::Head);
  if (response_ != Side::Head || (status >= 100 && status < 200 && status != 101)) {
    return;  // interim: the final head is still to come
  }
  status_ = status;
  response_ = endStream ? Side::Done : Side::Body;
}

void StreamState::responseEnd() {
  assert(response_ != Side::Head);
  if (response_ == Side::Body) {
    response_ = Side::Done;
  }
}

void StreamState::restart(bool endStream) {
  assert(response_ == Side::Head);
  if (response_ != Side::Head) {
    return;
  }
  request_ = endStream ? Side::Done : Side::Body;
}

}  // namespace fulcrum::http
