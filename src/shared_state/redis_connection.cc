#include "shared_state/redis_connection.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

namespace fulcrum::shared_state {

namespace {
RedisConnection* self(const redisAsyncContext* ac) { return static_cast<RedisConnection*>(ac->data); }
}  // namespace

RedisConnection::RedisConnection(core::EventLoop& loop, std::string address, Callbacks callbacks)
    : loop_(loop), address_(std::move(address)), callbacks_(std::move(callbacks)), opened_ms_(loop.nowMs()) {}

RedisConnection::~RedisConnection() {
  if (ctx_ != nullptr) {
    closing_ = true;
    redisAsyncFree(ctx_);
  }
}

std::unique_ptr<RedisConnection> RedisConnection::open(core::EventLoop& loop, const std::string& host, uint16_t port,
                                                       Callbacks callbacks, std::string& error) {
  std::string address = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  std::unique_ptr<RedisConnection> c(new RedisConnection(loop, address, std::move(callbacks)));
  redisAsyncContext* ac = redisAsyncConnect(host.c_str(), port);
  if (ac == nullptr) {
    error = "out of memory";
    return nullptr;
  }
  if (ac->err != 0) {
    error = ac->errstr;
    redisAsyncFree(ac);
    return nullptr;
  }
  c->ctx_ = ac;
  c->fd_ = ac->c.fd;
  ac->data = c.get();
  ac->ev.data = c.get();
  ac->ev.addRead = addRead;
  ac->ev.delRead = delRead;
  ac->ev.addWrite = addWrite;
  ac->ev.delWrite = delWrite;
  ac->ev.cleanup = cleanup;
  // After the hooks: setting the connect callback asks for the first write event.
  redisAsyncSetConnectCallback(ac, onConnect);
  redisAsyncSetDisconnectCallback(ac, onDisconnect);
  return c;
}

void RedisConnection::close(std::unique_ptr<RedisConnection> c) {
  if (!c) {
    return;
  }
  c->closing_ = true;
  if (c->ctx_ != nullptr) {
    redisAsyncContext* ac = c->ctx_;
    c->ctx_ = nullptr;
    c->connected_ = false;
    redisAsyncFree(ac);  // (deferred by hiredis when inside one of its callbacks)
  }
  auto& loop = c->loop_;
  loop.deferDelete(std::move(c));
}

bool RedisConnection::command(const std::vector<std::string>& argv, ReplyFn fn) {
  if (ctx_ == nullptr || !connected_ || closing_) {
    return false;
  }
  std::vector<const char*> args;
  std::vector<size_t> lens;
  args.reserve(argv.size());
  lens.reserve(argv.size());
  for (const auto& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* held = new ReplyFn(std::move(fn));
  if (redisAsyncCommandArgv(ctx_, onReply, held, static_cast<int>(args.size()), args.data(), lens.data()) !=
      REDIS_OK) {
    delete held;
    return false;
  }
  pending_.push_back(loop_.nowMs());
  return true;
}

bool RedisConnection::subscribe(const std::string& channel, ReplyFn fn) {
  if (ctx_ == nullptr || !connected_ || closing_) {
    return false;
  }
  push_ = std::move(fn);
  const char* args[] = {"SUBSCRIBE", channel.data()};
  size_t lens[] = {9, channel.size()};
  return redisAsyncCommandArgv(ctx_, onPush, this, 2, args, lens) == REDIS_OK;
}

void RedisConnection::onIoEvents(uint32_t events) {
  if (ctx_ == nullptr) {
    return;  // closed; a stale event of this batch
  }
  if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0) {
    redisAsyncHandleRead(ctx_);
  }
  // The read may have ended the connection (ctx_ is then null).
  if (ctx_ != nullptr && writing_ && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0) {
    redisAsyncHandleWrite(ctx_);
  }
}

void RedisConnection::updateInterest() {
  uint32_t events = (reading_ ? EPOLLIN : 0u) | (writing_ ? EPOLLOUT : 0u);
  if (!registered_) {
    if (events == 0 || fd_ < 0) {
      return;
    }
    registered_ = loop_.add(fd_, events, this);  // level-triggered: hiredis reads once per call
    return;
  }
  loop_.modify(fd_, events, this);
}

void RedisConnection::addRead(void* p) {
  auto* c = static_cast<RedisConnection*>(p);
  c->reading_ = true;
  c->updateInterest();
}
void RedisConnection::delRead(void* p) {
  auto* c = static_cast<RedisConnection*>(p);
  c->reading_ = false;
  c->updateInterest();
}
void RedisConnection::addWrite(void* p) {
  auto* c = static_cast<RedisConnection*>(p);
  c->writing_ = true;
  c->updateInterest();
}
void RedisConnection::delWrite(void* p) {
  auto* c = static_cast<RedisConnection*>(p);
  c->writing_ = false;
  c->updateInterest();
}

// hiredis is about to close the socket and free the context.
void RedisConnection::cleanup(void* p) {
  auto* c = static_cast<RedisConnection*>(p);
  if (c->registered_) {
    c->loop_.remove(c->fd_);
    c->registered_ = false;
  }
  c->reading_ = c->writing_ = false;
  c->ctx_ = nullptr;
  c->connected_ = false;
}

void RedisConnection::onConnect(const redisAsyncContext* ac, int status) {
  RedisConnection* c = self(ac);
  if (status != REDIS_OK) {
    // hiredis frees the context after this returns.
    std::string why = ac->errstr;
    c->ctx_ = nullptr;
    if (!c->closing_ && c->callbacks_.down) {
      c->callbacks_.down("connect " + c->address_ + ": " + why);
    }
    return;
  }
  c->connected_ = true;
  if (!c->closing_ && c->callbacks_.up) {
    c->callbacks_.up();
  }
}

void RedisConnection::onDisconnect(const redisAsyncContext* ac, int status) {
  RedisConnection* c = self(ac);
  std::string why = status == REDIS_OK ? "closed" : ac->errstr;
  c->connected_ = false;
  if (!c->closing_ && c->callbacks_.down) {
    c->callbacks_.down(c->address_ + ": " + why);
  }
}

void RedisConnection::onReply(redisAsyncContext* ac, void* reply, void* privdata) {
  std::unique_ptr<ReplyFn> fn(static_cast<ReplyFn*>(privdata));
  RedisConnection* c = self(ac);
  if (!c->pending_.empty()) {
    c->pending_.pop_front();
  }
  if (!c->closing_ && *fn) {
    (*fn)(static_cast<redisReply*>(reply));
  }
}

void RedisConnection::onPush(redisAsyncContext* ac, void* reply, void* privdata) {
  auto* c = static_cast<RedisConnection*>(privdata);
  if (!c->closing_ && c->push_) {
    c->push_(static_cast<redisReply*>(reply));
  }
}

}  // namespace fulcrum::shared_state
