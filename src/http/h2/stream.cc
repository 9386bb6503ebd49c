#include "http/h2/stream.h"

#include <algorithm>
#include <cstring>

#include "common/ascii.h"
#include "common/log.h"
#include "http/frontend.h"
#include "http/h1/head_writer.h"
#include "http/h1/response_decoder.h"
#include "http/h2/connection.h"
#include "http/session.h"  // (the frontend's queue holds sessions)

namespace fulcrum::http::h2 {

namespace {

bool isIdempotent(Method m) {
  return m == Method::Get || m == Method::Head || m == Method::Options || m == Method::Put ||
         m == Method::Delete || m == Method::Trace;
}

void appendHex(std::string& out, size_t n) {
  char buf[20];
  size_t i = sizeof buf;
  do {
    buf[--i] = "0123456789abcdef"[n % 16];
    n /= 16;
  } while (n);
  out.append(buf + i, sizeof buf - i);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = static_cast<char>(lowerAscii(c));
  }
  return out;
}

bool listed(const std::vector<std::string>& names, std::string_view name) {
  return std::any_of(names.begin(), names.end(), [&](const std::string& n) { return equalsIgnoreCase(n, name); });
}
bool listedValue(const std::vector<config::HeaderValue>& values, std::string_view name) {
  return std::any_of(values.begin(), values.end(),
                     [&](const config::HeaderValue& v) { return equalsIgnoreCase(v.name, name); });
}

// Fields an HTTP/2 message must not carry (RFC 9113 §8.2.2), whatever the HTTP/1 side said.
bool connectionSpecific(std::span<const Header> all, std::string_view name) {
  return isHopByHop(all, name) || equalsIgnoreCase(name, "proxy-connection");
}

// Owned field lines for a head going out (names lowercased), as the codec's views.
struct OutFields {
  std::vector<std::pair<std::string, std::string>> lines;
  std::vector<ServerCodec::Field> views;
  void add(std::string_view name, std::string_view value) { lines.emplace_back(lower(name), std::string(value)); }
  std::span<const ServerCodec::Field> done() {
    views.clear();
    for (const auto& [n, v] : lines) {
      views.push_back({n, v});
    }
    return views;
  }
};

// "Name: value\r\n" lines (a local answer's extra fields).
void addLines(OutFields& f, std::string_view text) {
  while (!text.empty()) {
    size_t end = text.find("\r\n");
    std::string_view line = text.substr(0, end);
    size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') {
        value.remove_prefix(1);
      }
      f.add(line.substr(0, colon), value);
    }
    if (end == std::string_view::npos) {
      break;
    }
    text.remove_prefix(end + 2);
  }
}

void applyEdits(OutFields& f, const config::HeaderEdits* edits) {
  if (!edits) {
    return;
  }
  for (const auto& v : edits->set) f.add(v.name, v.value);
  for (const auto& v : edits->add) f.add(v.name, v.value);
}

}  // namespace

Stream::Stream(Connection& conn, int32_t id)
    : conn_(conn), frontend_(conn.frontend()), rt_(frontend_->runtime()), timer_([this] { onTimer(); }), id_(id),
      stream_(static_cast<uint32_t>(id)) {
  last_client_ms_ = conn_.ctx().loop.nowMs();
}

Stream::~Stream() = default;

// --- the request, as the codec gives it ---

bool Stream::onField(std::string_view name, std::string_view value, bool trailer) {
  std::string_view why;
  if (trailer) {
    if (!validFieldName(name) || !validFieldValue(value)) {
      return false;
    }
    if (req_chunked_ && !connectionSpecific({}, name) && name != "content-length" && name != "host") {
      req_trailers_.emplace_back(std::string(name), std::string(value));
    }
    return true;
  }
  if (!fields_.add(name, value, why) || fields_.listSize() > rt_->listener->http2.max_header_list_size) {
    log::debug("malformed HTTP/2 request", {{"client", conn_.env().client_ip}, {"reason", why.empty() ? "header list too large" : why}});
    return false;
  }
  return true;
}

void Stream::onRequestHead(bool endStream) {
  request_head_seen_ = true;
  start_pending_ = true;
  // The framing toward the server: the length the client announced (nghttp2 holds the DATA
  // to it), else chunked; none when the head ended the stream.
  req_chunked_ = !endStream && fields_.contentLength() < 0;
  conn_.markDirty(*this);
}

void Stream::onData(std::span<const uint8_t> data) {
  last_client_ms_ = conn_.ctx().loop.nowMs();
  in_bytes_ += data.size();
  if (closed_ || (!start_pending_ && !upstream_) || exchange_over_) {
    conn_.codec().consume(id_, data.size());  // answered already: the rest of the body is dropped
    return;
  }
  if (data.empty()) {
    return;
  }
  size_t before = req_buf_.size();
  if (req_chunked_) {
    appendHex(req_buf_, data.size());
    req_buf_.append("\r\n");
  }
  req_buf_.append(reinterpret_cast<const char*>(data.data()), data.size());
  if (req_chunked_) {
    req_buf_.append("\r\n");
  }
  req_framed_ += req_buf_.size() - before;
  req_pieces_.emplace_back(req_framed_, data.size());
  req_payload_ += data.size();
  conn_.markDirty(*this);
}

void Stream::onRequestEnd() {
  if (req_ended_) {
    return;
  }
  req_ended_ = true;
  if (req_chunked_) {
    size_t before = req_buf_.size();
    req_buf_.append("0\r\n");
    for (const auto& [n, v] : req_trailers_) {
      req_buf_.append(n);
      req_buf_.append(": ");
      req_buf_.append(v);
      req_buf_.append("\r\n");
    }
    req_buf_.append("\r\n");
    req_framed_ += req_buf_.size() - before;
  }
  conn_.markDirty(*this);
}

RequestBodySource::State Stream::requestBody(std::span<const uint8_t>& data, bool) {
  if (req_sent_ < req_buf_.size()) {
    data = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(req_buf_.data()) + req_sent_,
                                    req_buf_.size() - req_sent_);
    return State::Ready;
  }
  return req_ended_ ? State::Complete : State::Waiting;
}

void Stream::requestBodySent(size_t n) {
  req_sent_ += n;
  req_framed_sent_ += n;
  size_t open = 0;
  while (!req_pieces_.empty() && req_pieces_.front().first <= req_framed_sent_) {
    open += req_pieces_.front().second;
    req_pieces_.pop_front();
  }
  conn_.codec().consume(id_, open);  // the client may send as much again
  if (req_sent_ == req_buf_.size()) {
    req_buf_.clear();
    req_sent_ = 0;
  }
}

// --- the decision ---

void Stream::start() {
  start_pending_ = false;
  if (closed_) {
    return;
  }
  auto& ctx = conn_.ctx();
  rt_ = frontend_->runtime();  // the newest config for each new stream
  acct_ = frontend_->accounting().take([] { return new RequestAccounting(); });
  *acct_ = RequestAccounting{};
  acct_->active = true;
  acct_->start_us = ctx.loop.clock().nowUs();
  acct_->protocol = "HTTP/2.0";
  Request info;
  uint16_t status = 400;
  std::string_view why;
  const auto& listener = *rt_->listener;
  if (!fields_.toRequest(listener.http.path_dot_segments, info, status, why)) {
    log::debug("request refused", {{"client", conn_.env().client_ip}, {"reason", why}});
    respond(status, errorBody(status), {}, {}, nullptr, "bad_request");
    return;
  }
  // What the connection is, not what the client claims (X-Forwarded-Proto, redirects).
  info.scheme = conn_.env().tls ? "https" : "http";
  info.client_certificate = conn_.env().client_cert;
  head_request_ = info.method_id == Method::Head;
  if (rt_->access_log) {
    acct_->method = std::string(info.method);
    acct_->path = std::string(info.uri);
  }
  if (listener.http.max_body_size > 0 && fields_.contentLength() > 0 &&
      static_cast<uint64_t>(fields_.contentLength()) > listener.http.max_body_size) {
    respond(413, errorBody(413), {}, {}, nullptr, "bad_request");
    return;
  }
  RequestState state(info);
  state.client_ip = conn_.env().client_ip;
  state.peer_trusted = conn_.env().trusted_front;
  state.peer = conn_.env().peer;
  state.now_ms = ctx.loop.nowMs();
  state.rng = &frontend_->rng();
  state.shared = &ctx.shared_tables;
  FilterStatus decided = rt_->filters.onRequestHead(state);
  acct_->route = state.route_index;
  if (decided == FilterStatus::Terminal) {
    respond(501, errorBody(501), {}, {}, nullptr, "local");  // (no terminal listener speaks HTTP/2)
    return;
  }
  if (decided == FilterStatus::Answer) {
    LocalAnswer& a = state.answer;
    if (a.termination && std::string_view(a.termination) == "rate_limited") {
      rt_->stats->worker(ctx.worker_index).rate_limited.add();
    }
    std::string standard;
    std::string_view body = a.body;
    if (a.standard_body) {
      standard = errorBody(a.status);
      body = standard;
    }
    respond(a.status, body, a.content_type, a.extra, a.edits, a.termination ? a.termination : "local");
    return;
  }
  BodyFraming framing;
  if (fields_.contentLength() >= 0) {
    framing = BodyFraming{BodyKind::ContentLength, static_cast<uint64_t>(fields_.contentLength())};
  } else if (req_chunked_) {
    framing = BodyFraming{BodyKind::Chunked, 0};
  }
  bool bodyComplete = framing.kind == BodyKind::None || (framing.kind == BodyKind::ContentLength && framing.length == 0);
  stream_.requestHead(bodyComplete);
  UpstreamExchange::Params params;
  params.method = info.method_id;
  params.idempotent = isIdempotent(info.method_id);
  params.body_complete = bodyComplete;
  UpstreamExchange& u = upstream_.emplace(
      ctx, *frontend_, *this, stream_, *acct_, conn_.env().peer,
      UpstreamRequest(state.target->clusters[state.cluster_index], state.hash, std::string(state.sticky_id)), params);
  u.attach(*this, *this);
  acct_->cluster = &u.upstream().cluster();
  response_edits_ = state.response_edits;
  ForwardParams fp;
  fp.request = &info;
  fp.framing = framing;
  fp.edits = &state.edits;
  writeRequestHead(u.requestHead(), fp);
  const auto& pool = u.upstream().cluster().config;
  frontend_->retryBudget(u.upstream().cluster()).onRequest(pool.http.retry_budget_percent, ctx.loop.nowMs());
  if (state.delay_ms > 0) {
    wait_until_ms_ = state.now_ms + state.delay_ms;
    scheduleTimer();
    return;
  }
  onExchange(u.start());
}

void Stream::pump() {
  if (closed_ || !upstream_ || exchange_over_ || wait_until_ms_ != 0 || queued_) {
    return;
  }
  onExchange(upstream_->pump());
}

void Stream::onUpstreamEvents(uint32_t events) {
  if (closed_ || !upstream_ || exchange_over_) {
    return;
  }
  onExchange(upstream_->onServerEvents(events));
  conn_.flush();
}

void Stream::onSlotFreed() { frontend_->queue().onSlotFreed(); }

void Stream::enqueue() {
  const auto& cluster = upstream_->upstream().cluster();
  if (!frontend_->queue().enqueue(this, cluster.config.queue_size)) {
    acct_->termination = "queue_full";
    upstream_->abandon();
    exchange_over_ = true;
    respond(503, errorBody(503), {}, {}, nullptr, "queue_full");
    return;
  }
  queued_ = true;
  auto& ctx = conn_.ctx();
  if (acct_->wait_us == 0) {
    acct_->wait_us = ctx.loop.clock().nowUs();
    cluster.pool_state->traffic->worker(ctx.worker_index).queued.add(1);
  }
  queue_until_ms_ = ctx.loop.nowMs() + static_cast<uint64_t>(rt_->config->timeouts.queue.count());
  scheduleTimer();
}

void Stream::leaveQueue() {
  if (!queued_) {
    return;
  }
  queued_ = false;
  frontend_->queue().dequeue(this);
  if (acct_ && acct_->wait_us != 0) {
    acct_->queue_us = static_cast<int64_t>(conn_.ctx().loop.clock().nowUs() - acct_->wait_us);
    acct_->wait_us = 0;
    if (acct_->cluster) {
      acct_->cluster->pool_state->traffic->worker(conn_.ctx().worker_index).queued.add(-1);
    }
  }
}

bool Stream::retryFromQueue() {
  if (!queued_ || closed_ || !upstream_) {
    return true;
  }
  auto status = upstream_->fromQueue();
  if (!status) {
    return false;  // still no slot: wait on, in place
  }
  queued_ = false;  // (the queue drops this waiter: it returns true)
  if (acct_->wait_us != 0) {
    acct_->queue_us = static_cast<int64_t>(conn_.ctx().loop.clock().nowUs() - acct_->wait_us);
    acct_->wait_us = 0;
    acct_->cluster->pool_state->traffic->worker(conn_.ctx().worker_index).queued.add(-1);
  }
  onExchange(*status);
  conn_.flush();
  return true;
}

void Stream::onExchange(UpstreamExchange::Status status) {
  switch (status) {
    case UpstreamExchange::Status::Pending:
      scheduleTimer();
      return;
    case UpstreamExchange::Status::Queued:
      enqueue();
      return;
    case UpstreamExchange::Status::Done:
      exchange_over_ = true;
      upstream_->finish(false);
      resp_complete_ = true;
      if (resp_deferred_) {
        resp_deferred_ = false;
        conn_.codec().resumeData(id_);
      }
      conn_.ctx().loop.timers().cancel(timer_);
      return;
    case UpstreamExchange::Status::Upgraded:  // (never: no HTTP/2 request asks for an upgrade)
    case UpstreamExchange::Status::Failed:
      exchange_over_ = true;
      exchangeFailed();
      return;
  }
}

void Stream::exchangeFailed() {
  const auto& f = upstream_->failure();
  if (f.end == UpstreamExchange::Failure::End::Answer && !responded_) {
    respond(f.status, errorBody(f.status), {}, {}, nullptr, acct_->termination ? acct_->termination : "local");
    return;
  }
  reset(NGHTTP2_INTERNAL_ERROR, f.why);
}

void Stream::respond(uint16_t status, std::string_view body, std::string_view contentType, std::string_view extra,
                     const config::HeaderEdits* edits, const char* termination) {
  if (responded_) {
    reset(NGHTTP2_INTERNAL_ERROR, termination);
    return;
  }
  responded_ = true;
  status_ = status;
  termination_ = termination;
  OutFields f;
  bool hasBody = status != 204 && status != 304;
  if (hasBody) {
    f.add("content-type", contentType.empty() ? std::string_view("text/plain; charset=utf-8") : contentType);
    f.add("content-length", std::to_string(body.size()));
  }
  addLines(f, extra);
  applyEdits(f, edits);
  bool data = hasBody && !head_request_ && !body.empty();
  if (data) {
    resp_buf_.assign(body);
  }
  resp_complete_ = true;
  conn_.codec().submitResponse(id_, status, f.done(), data);
  if (!data && !req_ended_) {
    conn_.codec().resetStream(id_, NGHTTP2_NO_ERROR);  // the rest of the body is not wanted
  }
}

void Stream::reset(uint32_t errorCode, const char* why) {
  log::debug("HTTP/2 stream reset", {{"client", conn_.env().client_ip}, {"reason", why ? why : ""}});
  if (!termination_) {
    termination_ = why;
  }
  conn_.codec().resetStream(id_, errorCode);
}

// --- the response, as the exchange gives it ---

void Stream::onInterimHead(const ResponseHead& head) {
  OutFields f;
  for (const Header& h : head.headers) {
    if (!connectionSpecific(head.headers, h.name)) {
      f.add(h.name, h.value);
    }
  }
  conn_.codec().submitInterim(id_, head.status, f.done());
}

size_t Stream::onResponseHead(const ResponseHead& head, std::string_view) {
  responded_ = true;
  status_ = head.status;
  Response resp = decodeResponse(head);
  FieldEdits edits;
  edits.edits = response_edits_;
  const config::HeaderEdits* e = response_edits_;
  OutFields f;
  bool bodiless = head.body.kind == BodyKind::None;
  for (const Header& h : resp.headers) {
    bool length = equalsIgnoreCase(h.name, "content-length");
    if (length) {
      // A bodiless answer (HEAD, 304) keeps the length it describes; else it is written anew.
      if (bodiless && head.status != 204 && head.status >= 200) {
        f.add(h.name, h.value);
      }
      continue;
    }
    if (connectionSpecific(resp.headers, h.name)) {
      continue;
    }
    if (e && (listed(e->remove, h.name) || listedValue(e->set, h.name))) {
      continue;
    }
    f.add(h.name, h.value);
  }
  if (head.body.kind == BodyKind::ContentLength) {
    f.add("content-length", std::to_string(head.body.length));
  }
  if (!upstream_->setCookie().empty()) {
    f.add("set-cookie", upstream_->setCookie());
  }
  applyEdits(f, e);
  if (head.body.kind == BodyKind::Chunked) {
    Limits limits;
    limits.maxTrailerBytes = kResponseBuffer / 4;
    dechunker_ = std::make_unique<ChunkedDecoder>(limits);
  }
  bool body = !bodiless && !(head.body.kind == BodyKind::ContentLength && head.body.length == 0);
  if (!body) {
    resp_complete_ = true;
  }
  conn_.codec().submitResponse(id_, head.status, f.done(), body);
  return 0;
}

ResponseSink::Taken Stream::onResponseData(std::string_view data) {
  Taken taken;
  if (closed_) {
    taken.failed = true;
    return taken;
  }
  size_t held = resp_buf_.size() - resp_sent_;
  size_t before = resp_buf_.size();
  if (!dechunker_) {
    size_t n = std::min(data.size(), kResponseBuffer > held ? kResponseBuffer - held : 0);
    resp_buf_.append(data.substr(0, n));
    taken.bytes = n;
  } else {
    while (taken.bytes < data.size()) {
      held = resp_buf_.size() - resp_sent_;
      size_t room = kResponseBuffer > held ? kResponseBuffer - held : 0;
      if (room == 0) {
        break;
      }
      // At most `room` bytes in: the payload out of them fits (a trailer section waits for
      // room for all of it, and its limit is below the buffer's).
      ChunkResult r = dechunker_->decode(data.substr(taken.bytes, std::max<size_t>(room, kResponseBuffer / 4)));
      if (r.status == ChunkStatus::Error) {
        log::warn("malformed response body", {{"reason", r.error.reason}});
        taken.failed = true;
        return taken;
      }
      if (r.status == ChunkStatus::Data) {
        resp_buf_.append(r.data);
      }
      taken.bytes += r.consumed;
      if (r.status == ChunkStatus::Done) {
        for (const Header& h : dechunker_->trailers()) {
          if (!connectionSpecific(dechunker_->trailers(), h.name)) {
            resp_trailers_.emplace_back(lower(h.name), std::string(h.value));
          }
        }
        dechunker_.reset();
        break;
      }
      if (r.status == ChunkStatus::NeedMore) {
        break;
      }
    }
  }
  resp_bytes_ += resp_buf_.size() - before;
  if (resp_buf_.size() > before && resp_deferred_) {
    resp_deferred_ = false;
    conn_.codec().resumeData(id_);
  }
  return taken;
}

bool Stream::flushResponse(bool& failed) {
  failed = closed_;
  return !closed_;
}

ssize_t Stream::onReadBody(uint8_t* buf, size_t len, uint32_t* flags) {
  size_t held = resp_buf_.size() - resp_sent_;
  if (held == 0 && !resp_complete_) {
    resp_deferred_ = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  size_t n = std::min(len, held);
  std::memcpy(buf, resp_buf_.data() + resp_sent_, n);
  resp_sent_ += n;
  if (resp_sent_ == resp_buf_.size()) {
    resp_buf_.clear();
    resp_sent_ = 0;
  } else if (resp_sent_ >= kResponseBuffer / 2) {
    resp_buf_.erase(0, resp_sent_);
    resp_sent_ = 0;
  }
  if (resp_complete_ && resp_buf_.empty()) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    if (!resp_trailers_.empty()) {
      OutFields f;
      for (const auto& [name, value] : resp_trailers_) {
        f.add(name, value);
      }
      *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      conn_.codec().submitTrailers(id_, f.done());
    }
    if (!req_ended_) {
      conn_.codec().resetStream(id_, NGHTTP2_NO_ERROR);  // answered before the body ended
    }
  } else if (upstream_ && !exchange_over_) {
    conn_.markDirty(*this);  // room again: the exchange reads its server on
  }
  conn_.countOut(n);
  return static_cast<ssize_t>(n);
}

// --- time ---

void Stream::scheduleTimer() {
  if (closed_) {
    return;
  }
  const auto& t = rt_->config->timeouts;
  uint64_t now = conn_.ctx().loop.nowMs();
  uint64_t deadline = UINT64_MAX;
  if (queued_) {
    deadline = queue_until_ms_;
  } else if (wait_until_ms_ != 0) {
    deadline = wait_until_ms_;
  } else if (upstream_ && !exchange_over_) {
    deadline = upstream_->deadline(t, true);
    if (!stream_.requestDone() && !upstream_->connecting()) {
      deadline = std::min(deadline, last_client_ms_ + static_cast<uint64_t>(t.request_body.count()));
    }
  }
  if (deadline == UINT64_MAX) {
    conn_.ctx().loop.timers().cancel(timer_);
    return;
  }
  uint64_t delay = deadline > now ? deadline - now : 0;
  auto& wheel = conn_.ctx().loop.timers();
  if (timer_.armed() && timer_.deadline() <= wheel.now() + delay) {
    return;
  }
  wheel.schedule(timer_, delay);
}

void Stream::onTimer() {
  if (closed_ || !upstream_ || exchange_over_) {
    return;
  }
  const auto& t = rt_->config->timeouts;
  uint64_t now = conn_.ctx().loop.nowMs();
  if (queued_) {
    if (now < queue_until_ms_) {
      scheduleTimer();
      return;
    }
    leaveQueue();
    const upstream::Cluster& cluster = upstream_->upstream().cluster();
    cluster.pool_state->traffic->worker(conn_.ctx().worker_index).queue_timeouts.add();
    acct_->termination = "queue_timeout";
    upstream_->abandon();
    exchange_over_ = true;
    respond(503, errorBody(503), {}, {}, nullptr, "queue_timeout");
    conn_.flush();
    return;
  }
  if (wait_until_ms_ != 0) {
    if (now < wait_until_ms_) {
      scheduleTimer();
      return;
    }
    wait_until_ms_ = 0;
    onExchange(upstream_->start());
    conn_.flush();
    return;
  }
  bool serverLate = now >= upstream_->deadline(t, true);
  if (!serverLate && !upstream_->connecting() && !stream_.requestDone() &&
      now - last_client_ms_ >= static_cast<uint64_t>(t.request_body.count())) {
    upstream_->abandon();
    exchange_over_ = true;
    if (responded_) {
      reset(NGHTTP2_CANCEL, "request body timeout");
    } else {
      respond(408, errorBody(408), {}, {}, nullptr, "client_timeout");
    }
    conn_.flush();
    return;
  }
  if (serverLate) {
    onExchange(upstream_->timedOut());
    conn_.flush();
    return;
  }
  scheduleTimer();
}

// --- the end ---

void Stream::onClosed(uint32_t errorCode) {
  bool whole = responded_ && resp_complete_ && resp_buf_.empty() && (errorCode == 0 || req_ended_ || exchange_over_);
  const char* why = termination_ ? termination_ : whole ? "ok" : errorCode == NGHTTP2_NO_ERROR ? "client_closed" : "client_reset";
  if (whole && !termination_) {
    why = "ok";
  }
  endRequest(responded_ ? status_ : 499, why);
  closed_ = true;
  releaseAll();
}

void Stream::abort(const char* why) {
  if (closed_) {
    return;
  }
  endRequest(responded_ ? status_ : 499, why);
  closed_ = true;
  releaseAll();
}

void Stream::releaseAll() {
  conn_.ctx().loop.timers().cancel(timer_);
  leaveQueue();
  if (upstream_ && !exchange_over_) {
    upstream_->abandon();
  }
  upstream_.reset();
  acct_ = nullptr;
}

void Stream::endRequest(uint16_t status, const char* termination) {
  if (accounted_ || !acct_) {
    return;
  }
  accounted_ = true;
  const RequestAccounting& a = *acct_;
  StreamEnd end{a};
  end.status = status;
  end.termination = termination;
  end.total_us = conn_.ctx().loop.clock().nowUs() - a.start_us;
  end.bytes_in = in_bytes_;
  end.bytes_out = resp_bytes_;
  end.client_ip = conn_.env().client_ip;
  end.worker = conn_.ctx().worker_index;
  rt_->filters.onStreamEnd(end);
}

bool Stream::usesHost(const upstream::HostState* state) const {
  return upstream_ && !exchange_over_ && upstream_->usesHost(state);
}

}  // namespace fulcrum::http::h2
