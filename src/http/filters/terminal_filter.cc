#include "http/filters/terminal_filter.h"

#include <algorithm>
#include <exception>

#include "common/ascii.h"
#include "common/log.h"
#include "http/h1/head_writer.h"
#include "net/address.h"

namespace fulcrum::http {

namespace {

Limits bodyLimits(size_t maxBody) {
  Limits l;
  l.maxBodySize = maxBody;
  return l;
}

}  // namespace

const std::string* TerminalRequest::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (equalsIgnoreCase(n, name)) {
      return &v;
    }
  }
  return nullptr;
}

TerminalResponse TerminalHandler::refuse(uint16_t status, std::string_view) const {
  TerminalResponse r;
  r.status = status;
  r.body = errorBody(status);
  r.close = true;
  return r;
}

FilterStatus TerminalFilter::onRequestHead(RequestState& state) const {
  state.terminal = &handler_;
  return FilterStatus::Terminal;
}

TerminalCall::TerminalCall(TerminalHandler& handler, const Request& request, BodyFraming framing,
                           const sockaddr* peer, size_t maxBody)
    : handler_(handler), max_body_(maxBody), chunks_(bodyLimits(maxBody)) {
  request_.method = std::string(request.method);
  request_.path = std::string(request.path);
  request_.query = std::string(request.query);
  request_.headers.reserve(request.headers.size());
  for (const Header& f : request.headers) {
    request_.headers.emplace_back(std::string(f.name), std::string(f.value));
  }
  if (peer != nullptr) {
    request_.peer = net::formatAddress(peer);
  }
  kind_ = framing.kind;
  if (kind_ == BodyKind::ContentLength) {
    if (framing.length > max_body_) {
      error_status_ = 413;
      error_reason_ = "body too large";
      return;
    }
    remaining_ = framing.length;
  }
  // (UntilClose never frames a request: the parser gives requests None, a length or chunked.)
  complete_ = kind_ != BodyKind::Chunked && remaining_ == 0;
}

TerminalCall::Status TerminalCall::feed(std::string_view input, size_t& consumed) {
  consumed = 0;
  if (error_status_ != 0) {
    return Status::Error;
  }
  if (complete_) {
    return Status::Done;
  }
  if (kind_ == BodyKind::ContentLength) {
    size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, input.size()));
    request_.body.append(input.substr(0, take));
    consumed = take;
    remaining_ -= take;
    complete_ = remaining_ == 0;
    return complete_ ? Status::Done : Status::NeedMore;
  }
  for (;;) {
    ChunkResult r = chunks_.decode(input.substr(consumed));
    consumed += r.consumed;
    switch (r.status) {
      case ChunkStatus::Data:
        request_.body.append(r.data);
        continue;
      case ChunkStatus::Done:
        complete_ = true;  // (trailers are dropped: no handler reads them)
        return Status::Done;
      case ChunkStatus::NeedMore:
        return Status::NeedMore;
      case ChunkStatus::Error:
        error_status_ = r.error.status;
        error_reason_ = r.error.reason;
        return Status::Error;
    }
  }
}

TerminalResponse TerminalCall::answer() {
  try {
    return handler_.handle(request_);
  } catch (const std::exception& e) {
    log::error("a terminal handler failed", {{"path", request_.path}, {"error", e.what()}});
  }
  return handler_.refuse(500, "internal error");
}

}  // namespace fulcrum::http
