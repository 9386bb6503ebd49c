#pragma once
// IoBuffer: the bytes read from one socket and not yet used. Storage is borrowed from the
// worker's BufferPool (16 KiB) when data arrives and given back as soon as it is all used,
// so an idle connection holds none; it grows on the heap only for a message head larger
// than one pooled buffer, up to the caller's bound.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "core/buffer_pool.h"

namespace fulcrum::core {

class IoBuffer {
 public:
  explicit IoBuffer(BufferPool& pool) : pool_(pool) {}
  ~IoBuffer() { release(); }
  IoBuffer(const IoBuffer&) = delete;
  IoBuffer& operator=(const IoBuffer&) = delete;

  const uint8_t* data() const { return base_ + begin_; }
  size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }
  std::string_view view() const { return {reinterpret_cast<const char*>(data()), size()}; }

  // Room to read into (compacting, or growing up to maxCapacity); empty when full.
  std::span<uint8_t> room(size_t maxCapacity);
  void commit(size_t n) { end_ += n; }
  // Drops n bytes from the front; the storage goes back to the pool once empty.
  void consume(size_t n);
  // Drops everything and gives the storage back.
  void release();

 private:
  BufferPool& pool_;
  std::unique_ptr<Buffer> pooled_;
  std::unique_ptr<uint8_t[]> heap_;
  uint8_t* base_ = nullptr;
  size_t capacity_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace fulcrum::core
