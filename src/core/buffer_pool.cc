#include "core/buffer_pool.h"

#include <fcntl.h>
#include <unistd.h>

namespace fulcrum::core {

std::unique_ptr<Buffer> BufferPool::acquire() {
  if (!free_.empty()) {
    auto b = std::move(free_.back());
    free_.pop_back();
    return b;
  }
  return std::make_unique<Buffer>();
}

void BufferPool::release(std::unique_ptr<Buffer> buf) {
  if (!buf) {
    return;
  }
  buf->clear();
  if (free_.size() < max_free_) {
    free_.push_back(std::move(buf));
  }
}

PipePool::~PipePool() {
  for (auto& p : free_) {
    ::close(p.read_fd);
    ::close(p.write_fd);
  }
}

size_t PipePool::trim() {
  size_t n = free_.size();
  for (auto& p : free_) {
    ::close(p.read_fd);
    ::close(p.write_fd);
  }
  free_.clear();
  alive_ -= n;
  return n;
}

bool PipePool::acquire(Pipe& out) {
  if (!free_.empty()) {
    out = free_.back();
    free_.pop_back();
    return true;
  }
  if (alive_ >= max_pipes_) {
    return false;
  }
  int fds[2];
  if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
    return false;
  }
  out.read_fd = fds[0];
  out.write_fd = fds[1];
  int granted = fcntl(fds[1], F_SETPIPE_SZ, static_cast<int>(kPipeSize));
  if (granted <= 0) {
    granted = fcntl(fds[1], F_GETPIPE_SZ);  // refused (pipe-max-size, user limits): keep the default
  }
  out.capacity = granted > 0 ? static_cast<size_t>(granted) : 4096;
  ++alive_;
  return true;
}

void PipePool::release(Pipe& pipe, bool empty) {
  if (pipe.read_fd < 0) {
    return;
  }
  if (empty && free_.size() < max_free_) {
    free_.push_back(pipe);
  } else {
    ::close(pipe.read_fd);
    ::close(pipe.write_fd);
    --alive_;
  }
  pipe = Pipe{};
}

}  // namespace fulcrum::core
