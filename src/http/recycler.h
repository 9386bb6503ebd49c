#pragma once
// Recycler<T>: a worker's bounded stack of spare objects (parsers) and SpareStrings: of spare
// string storage (response bytes). A per-request object is taken when a request needs it and
// given back when the request is done, so steady traffic allocates nothing for it and an idle
// connection holds none of it. Not thread-safe: one per worker (they live in HttpFrontend).
#include <memory>
#include <string>
#include <vector>

namespace fulcrum::http {

template <class T>
class Recycler {
 public:
  // unique_ptr deleter: back to the recycler (or deleted when it already keeps enough).
  struct GiveBack {
    Recycler* home = nullptr;
    void operator()(T* p) const {
      if (home) {
        home->give(p);
      } else {
        delete p;
      }
    }
  };
  using Ptr = std::unique_ptr<T, GiveBack>;

  explicit Recycler(size_t maxSpare) : max_spare_(maxSpare) {}
  ~Recycler() {
    for (T* p : spare_) {
      delete p;
    }
  }
  Recycler(const Recycler&) = delete;
  Recycler& operator=(const Recycler&) = delete;

  // A spare object as its last user left it (the caller re-initialises it), else make()'s.
  template <class Make>
  Ptr take(Make&& make) {
    T* p;
    if (spare_.empty()) {
      p = make();
    } else {
      p = spare_.back();
      spare_.pop_back();
    }
    return Ptr(p, GiveBack{this});
  }
  size_t spareCount() const { return spare_.size(); }

 private:
  void give(T* p) {
    if (spare_.size() < max_spare_) {
      spare_.push_back(p);
    } else {
      delete p;
    }
  }

  size_t max_spare_;
  std::vector<T*> spare_;
};

class SpareStrings {
 public:
  SpareStrings(size_t maxSpare, size_t maxCapacity) : max_spare_(maxSpare), max_capacity_(maxCapacity) {}
  // Gives an empty string with no storage of its own a spare one's capacity.
  void lend(std::string& s) {
    if (s.empty() && s.capacity() < kWorthIt && !spare_.empty()) {
      s.swap(spare_.back());
      spare_.pop_back();
    }
  }
  // Takes s's storage (kept if worth keeping); s is left empty, holding no heap memory.
  void reclaim(std::string& s) {
    if (s.capacity() >= kWorthIt && s.capacity() <= max_capacity_ && spare_.size() < max_spare_) {
      s.clear();
      spare_.push_back(std::move(s));
    }
    std::string().swap(s);
  }
  size_t spareCount() const { return spare_.size(); }

 private:
  static constexpr size_t kWorthIt = 64;
  size_t max_spare_;
  size_t max_capacity_;
  std::vector<std::string> spare_;
};

}  // namespace fulcrum::http
