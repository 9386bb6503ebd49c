#include "core/io_buffer.h"

#include <algorithm>
#include <cstring>

namespace fulcrum::core {

std::span<uint8_t> IoBuffer::room(size_t maxCapacity) {
  if (base_ == nullptr) {
    pooled_ = pool_.acquire();
    base_ = pooled_->data;
    capacity_ = Buffer::kCapacity;
  }
  if (end_ == capacity_ && begin_ > 0) {
    std::memmove(base_, base_ + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == capacity_ && capacity_ < maxCapacity) {
    size_t grown = std::min(maxCapacity, capacity_ * 4);
    auto bigger = std::make_unique<uint8_t[]>(grown);
    std::memcpy(bigger.get(), base_ + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
    if (pooled_) {
      pool_.release(std::move(pooled_));
    }
    heap_ = std::move(bigger);
    base_ = heap_.get();
    capacity_ = grown;
  }
  return {base_ + end_, capacity_ - end_};
}

void IoBuffer::consume(size_t n) {
  begin_ += n;
  if (begin_ >= end_) {
    release();
  }
}

void IoBuffer::release() {
  begin_ = end_ = 0;
  if (pooled_) {
    pool_.release(std::move(pooled_));
  }
  heap_.reset();
  base_ = nullptr;
  capacity_ = 0;
}

}  // namespace fulcrum::core
