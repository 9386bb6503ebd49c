#pragma once
// Per-worker pools of relay buffers and pipes. A connection borrows one only while data
// is in flight and gives it back as soon as it is drained, so an idle connection holds
// neither memory nor pipe fds. Not thread-safe: one pool per worker.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace fulcrum::core {

// A fixed-size byte buffer with a read cursor [begin, end).
struct Buffer {
  static constexpr size_t kCapacity = 16 * 1024;
  size_t begin = 0;
  size_t end = 0;
  uint8_t data[kCapacity];

  size_t size() const { return end - begin; }
  bool empty() const { return begin == end; }
  size_t room() const { return kCapacity - end; }
  void clear() { begin = end = 0; }
};

class BufferPool {
 public:
  explicit BufferPool(size_t maxFree = 256) : max_free_(maxFree) {}
  std::unique_ptr<Buffer> acquire();
  void release(std::unique_ptr<Buffer> buf);
  size_t freeCount() const { return free_.size(); }

 private:
  size_t max_free_;
  std::vector<std::unique_ptr<Buffer>> free_;
};

// A kernel pipe used as the middle of a splice(2) relay.
struct Pipe {
  int read_fd = -1;
  int write_fd = -1;
  size_t capacity = 0;  // bytes it holds (F_SETPIPE_SZ may grant less than asked)
};

class PipePool {
 public:
  // maxPipes bounds the pipes alive at once (in use + free), i.e. 2*maxPipes fds.
  // Pipes are enlarged to kPipeSize: a bulk relay then moves that much per pair of splice
  // calls instead of the default 64 KiB (a third less CPU per GiB in bench/run). Pipe pages
  // are held only while data sits in them (an idle relay holds no pipe), and at most
  // maxPipes are alive: 128 MiB of kernel memory at worst, for relays to stalled readers.
  static constexpr size_t kPipeSize = 256 * 1024;
  explicit PipePool(size_t maxPipes = 512, size_t maxFree = 64) : max_pipes_(maxPipes), max_free_(maxFree) {}
  ~PipePool();
  PipePool(const PipePool&) = delete;
  PipePool& operator=(const PipePool&) = delete;

  // Returns false when the budget is used up or pipe2 fails (the caller then copies
  // through a Buffer instead).
  bool acquire(Pipe& out);
  // Only an empty pipe may be given back for reuse; pass empty=false to close it.
  void release(Pipe& pipe, bool empty);
  size_t alive() const { return alive_; }
  // Closes every idle pipe; returns how many. Called when the process runs out of fds:
  // idle pipes must never be what keeps a connection from being accepted.
  size_t trim();

 private:
  size_t max_pipes_;
  size_t max_free_;
  size_t alive_ = 0;
  std::vector<Pipe> free_;
};

}  // namespace fulcrum::core
