#include "http/body_framer.h"

#include <algorithm>

namespace fulcrum::http {

void BodyFramer::start(BodyFraming framing) {
  framing_ = framing;
  remaining_ = framing.kind == BodyKind::ContentLength ? framing.length : 0;
  ready_ = 0;
  error_ = {};
  decoder_.reset();
  complete_ = framing.kind == BodyKind::None || (framing.kind == BodyKind::ContentLength && framing.length == 0);
}

bool BodyFramer::scan(std::string_view buffered) {
  if (complete_ || buffered.size() <= ready_) {
    return true;
  }
  std::string_view fresh = buffered.substr(ready_);
  switch (framing_.kind) {
    case BodyKind::None:
      return true;
    case BodyKind::ContentLength: {
      uint64_t take = std::min<uint64_t>(remaining_, fresh.size());
      ready_ += static_cast<size_t>(take);
      remaining_ -= take;
      complete_ = remaining_ == 0;
      return true;
    }
    case BodyKind::UntilClose:
      ready_ += fresh.size();
      return true;
    case BodyKind::Chunked:
      for (;;) {
        ChunkResult r = decoder_.decode(fresh);
        if (r.status == ChunkStatus::Error) {
          error_ = r.error;
          return false;
        }
        ready_ += r.consumed;
        fresh.remove_prefix(r.consumed);
        if (r.status == ChunkStatus::Done) {
          complete_ = true;
          return true;
        }
        if (r.status == ChunkStatus::NeedMore) {
          return true;
        }
      }
  }
  return true;
}

void BodyFramer::onEof() {
  if (framing_.kind == BodyKind::UntilClose) {
    complete_ = true;
  }
}

}  // namespace fulcrum::http
