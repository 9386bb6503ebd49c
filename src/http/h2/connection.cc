#include "http/h2/connection.h"

#include "common/log.h"
#include "core/buffer_pool.h"
#include "http/frontend.h"
#include "http/h2/stream.h"

namespace fulcrum::http::h2 {

namespace {

// Passes of drive() before it yields to the loop (a client that keeps sending is not served
// to the others' cost).
constexpr int kMaxRounds = 16;
// Between the first GOAWAY (NO_ERROR, the highest id) and the final one: a round trip and
// more, so streams the client sent before it saw the first are served.
constexpr uint64_t kGoawayGraceMs = 1000;

}  // namespace

Connection::Connection(Env env, const config::Http2& settings)
    : env_(std::move(env)), codec_(*this, settings), goaway_timer_([this] {
        codec_.goaway(NGHTTP2_NO_ERROR);
        flush();
        env_.wake();
      }) {}

Connection::~Connection() { abortAll("closed"); }

std::optional<Connection::End> Connection::drive() {
  in_drive_ = true;
  struct Leave {
    bool& flag;
    ~Leave() { flag = false; }
  } leave{in_drive_};
  ClientConnection& c = env_.conn;
  for (int round = 0; round < kMaxRounds; ++round) {
    bool blocked = false;
    if (write_failed_ || !writeOut(blocked)) {
      return End{"client write failed", true};
    }
    if (failed_) {
      if (c.pendingOut() == 0 && !codec_.wantWrite()) {
        return End{"http2 protocol error", false};
      }
      return std::nullopt;  // the GOAWAY goes first
    }
    bool progress = false;
    if (c.readable && c.pendingOut() < kMaxPendingOut) {
      size_t got = 0;
      if (c.read(core::Buffer::kCapacity, got) == ClientConnection::Io::Error) {
        return End{"client read error", true};
      }
      if (got > 0) {
        env_.count(got, 0);
        progress = true;
      }
    }
    if (!c.in.empty()) {
      std::string why;
      bool ok = codec_.receive(std::span<const uint8_t>(c.in.data(), c.in.size()), why);
      c.in.consume(c.in.size());
      if (!ok) {
        log::debug("HTTP/2 connection error", {{"client", env_.client_ip}, {"reason", why}});
        failed_ = true;
        failed_why_ = why;
      }
      progress = true;
    }
    // Frames first, streams after: a stream the same bytes made malformed (a content-length
    // the DATA broke) has its RST_STREAM sent and is closed before it could reach a server.
    if (!writeOut(blocked)) {
      return End{"client write failed", true};
    }
    runStreams();
    if (c.eof && c.in.empty()) {
      // The client closed its side: what it asked is not wanted any more.
      if (!writeOut(blocked)) {
        return End{"client write failed", true};
      }
      return End{streams_.empty() ? "client closed" : "client closed with streams open", false};
    }
    if (!writeOut(blocked)) {
      return End{"client write failed", true};
    }
    if (!codec_.wantRead() && !codec_.wantWrite() && c.pendingOut() == 0) {
      return End{draining_ ? "drain" : "done", false};
    }
    if (!progress) {
      break;
    }
    if (round + 1 == kMaxRounds) {
      env_.wake();
    }
  }
  c.in.release();  // an idle HTTP/2 connection holds no read buffer
  return std::nullopt;
}

bool Connection::writeOut(bool& blocked) {
  ClientConnection& c = env_.conn;
  for (int i = 0; i < kMaxRounds; ++i) {
    if (c.pendingOut() < kMaxPendingOut) {
      env_.frontend->outStrings().lend(c.out);
      if (!codec_.send(c.out, c.out_sent + kMaxPendingOut)) {
        return false;
      }
      runStreams();  // a stream whose DATA went may read its server again
    }
    if (c.pendingOut() == 0) {
      return true;
    }
    size_t sent = 0;
    auto io = c.flush(env_.frontend->outStrings(), sent);
    if (sent > 0) {
      env_.count(0, sent);
    }
    if (io == ClientConnection::Io::Error) {
      return false;
    }
    if (io == ClientConnection::Io::Blocked) {
      blocked = true;
      return true;
    }
    if (!codec_.wantWrite()) {
      return true;
    }
  }
  env_.wake();
  return true;
}

void Connection::flush() {
  if (in_drive_) {
    return;  // drive() writes before it returns
  }
  in_drive_ = true;
  bool blocked = false;
  runStreams();
  bool ok = writeOut(blocked);
  in_drive_ = false;
  if (!ok) {
    write_failed_ = true;
    env_.wake();
    return;
  }
  if (!codec_.wantRead() && !codec_.wantWrite() && env_.conn.pendingOut() == 0) {
    env_.wake();  // over: drive() says so
  }
}

void Connection::runStreams() {
  // Bounded: a stream pumped may mark others (or itself) again; they wait for the next pass.
  for (int round = 0; round < 4 && !dirty_.empty(); ++round) {
    std::vector<int32_t> now;
    now.swap(dirty_);
    for (int32_t id : now) {
      Stream* s = find(id);
      if (!s || s->closed()) {
        continue;
      }
      if (s->startPending()) {
        s->start();
      } else {
        s->pump();
      }
    }
  }
  if (!dirty_.empty()) {
    env_.wake();
  }
}

void Connection::markDirty(Stream& s) {
  if (std::find(dirty_.begin(), dirty_.end(), s.id()) == dirty_.end()) {
    dirty_.push_back(s.id());
  }
}

void Connection::drain() {
  if (draining_) {
    return;
  }
  draining_ = true;
  codec_.shutdownNotice();
  env_.ctx.loop.timers().schedule(goaway_timer_, kGoawayGraceMs);
  flush();
}

bool Connection::usesHost(const upstream::HostState* state) const {
  for (const auto& [id, s] : streams_) {
    if (s->usesHost(state)) {
      return true;
    }
  }
  return false;
}

void Connection::abortAll(const char* why) {
  env_.ctx.loop.timers().cancel(goaway_timer_);
  auto all = std::move(streams_);
  streams_.clear();
  for (auto& [id, s] : all) {
    s->abort(why);
    env_.ctx.loop.deferDelete(std::unique_ptr<core::DeferredDeletable>(s));
  }
}

Stream* Connection::find(int32_t id) {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second;
}

// --- the codec's events ---

void Connection::onStreamOpen(int32_t id) {
  if (find(id)) {
    return;
  }
  streams_.emplace(id, new Stream(*this, id));
}

bool Connection::onField(int32_t id, std::string_view name, std::string_view value, bool trailer) {
  Stream* s = find(id);
  return s && s->onField(name, value, trailer);
}

void Connection::onRequestHead(int32_t id, bool endStream) {
  if (Stream* s = find(id)) {
    s->onRequestHead(endStream);
  }
}

void Connection::onData(int32_t id, std::span<const uint8_t> data) {
  if (Stream* s = find(id)) {
    s->onData(data);
  } else {
    codec_.consume(id, data.size());
  }
}

void Connection::onRequestEnd(int32_t id) {
  if (Stream* s = find(id)) {
    s->onRequestEnd();
  }
}

void Connection::onStreamClose(int32_t id, uint32_t errorCode) {
  auto it = streams_.find(id);
  if (it == streams_.end()) {
    return;
  }
  Stream* s = it->second;
  streams_.erase(it);
  s->onClosed(errorCode);
  env_.ctx.loop.deferDelete(std::unique_ptr<core::DeferredDeletable>(s));
}

ssize_t Connection::onReadBody(int32_t id, uint8_t* buf, size_t len, uint32_t* flags) {
  Stream* s = find(id);
  if (!s) {
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  return s->onReadBody(buf, len, flags);
}

}  // namespace fulcrum::http::h2
