#include "http/h1/http10_response.h"

#include "codec/chunked.h"

namespace fulcrum::http {

size_t writeWholeDechunked(std::string& out, const ResponseParams& params, std::string_view chunked) {
  ChunkedDecoder decoder;
  uint64_t length = 0;
  size_t used = 0;
  for (;;) {
    ChunkResult r = decoder.decode(chunked.substr(used));
    if (r.status == ChunkStatus::Data) {
      length += r.data.size();
    } else if (r.status != ChunkStatus::Done) {
      return 0;  // not all here, or malformed
    }
    used += r.consumed;
    if (r.status == ChunkStatus::Done) {
      break;
    }
  }
  BodyFraming framing{BodyKind::ContentLength, length};
  ResponseParams p = params;
  p.framing = &framing;
  writeResponseHead(out, p);
  decoder.reset();
  for (size_t at = 0;;) {
    ChunkResult r = decoder.decode(chunked.substr(at));
    at += r.consumed;
    if (r.status != ChunkStatus::Data) {
      break;
    }
    out.append(r.data);
  }
  return used;
}

}  // namespace fulcrum::http
