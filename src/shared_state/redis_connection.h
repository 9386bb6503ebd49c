#pragma once
// RedisConnection: one hiredis asynchronous connection driven by a core::EventLoop (the control
// thread's), so Redis I/O never runs on a worker and never blocks. hiredis reads and writes its
// socket when the loop says it is ready; replies come back as callbacks on the loop thread.
//
// Lifetime: made with open(); ended with close(), after which no callback of the owner runs and
// the object is handed to the loop's deferDelete (hiredis may still be unwinding through it).
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/event_loop.h"

struct redisAsyncContext;
struct redisReply;

namespace fulcrum::shared_state {

class RedisConnection final : public core::IoHandler, public core::DeferredDeletable {
 public:
  struct Callbacks {
    std::function<void()> up;                          // connected
    std::function<void(const std::string& why)> down;  // failed to connect, or lost
  };
  // A reply, or null when the connection ended before it came.
  using ReplyFn = std::function<void(redisReply* reply)>;

  // Starts connecting to host:port. Null (with `error`) when it cannot even start.
  static std::unique_ptr<RedisConnection> open(core::EventLoop& loop, const std::string& host, uint16_t port,
                                               Callbacks callbacks, std::string& error);
  ~RedisConnection() override;

  // Sends a command (binary-safe arguments). False when not connected.
  bool command(const std::vector<std::string>& argv, ReplyFn fn);
  // SUBSCRIBE channel; fn gets every push on it (and null when the connection ends).
  bool subscribe(const std::string& channel, ReplyFn fn);

  bool connected() const { return connected_; }
  const std::string& address() const { return address_; }
  uint64_t openedMs() const { return opened_ms_; }
  // When the oldest reply still awaited was asked for, or 0 when none is.
  uint64_t oldestPendingMs() const { return pending_.empty() ? 0 : pending_.front(); }

  // Ends the connection: pending replies are dropped, no callback runs after this. Hands
  // `self` (this object) to the loop's deferred delete.
  static void close(std::unique_ptr<RedisConnection> self);

  void onIoEvents(uint32_t events) override;

 private:
  RedisConnection(core::EventLoop& loop, std::string address, Callbacks callbacks);
  void updateInterest();
  static void onConnect(const redisAsyncContext* ac, int status);
  static void onDisconnect(const redisAsyncContext* ac, int status);
  static void onReply(redisAsyncContext* ac, void* reply, void* privdata);
  static void onPush(redisAsyncContext* ac, void* reply, void* privdata);
  static void addRead(void* p);
  static void delRead(void* p);
  static void addWrite(void* p);
  static void delWrite(void* p);
  static void cleanup(void* p);

  core::EventLoop& loop_;
  std::string address_;
  Callbacks callbacks_;
  redisAsyncContext* ctx_ = nullptr;
  int fd_ = -1;
  bool registered_ = false;
  bool reading_ = false;
  bool writing_ = false;
  bool connected_ = false;
  bool closing_ = false;
  uint64_t opened_ms_ = 0;
  std::deque<uint64_t> pending_;  // when each awaited reply was asked for, in order
  ReplyFn push_;
};

}  // namespace fulcrum::shared_state
