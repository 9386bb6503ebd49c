#pragma once
// Responses to HTTP/1.0 clients, which know no chunked coding (RFC 9112 §7.1 is HTTP/1.1's).
// A chunked response from a server reaches them de-chunked: with a Content-Length when the
// whole body is already here (the connection may then stay open), otherwise delimited by
// closing the connection (the session streams it through a ChunkedDecoder). Trailers are
// dropped either way.
#include <cstddef>
#include <string>
#include <string_view>

#include "http/h1/head_writer.h"

namespace fulcrum::http {

// When `chunked` (the bytes after the response head) holds the whole chunked body: writes
// the head of `params` with the body's Content-Length, then the body de-chunked, to `out`,
// and returns how many bytes of `chunked` that took. Returns 0, writing nothing, when the
// body is not all here or is malformed (the streaming path reports that).
size_t writeWholeDechunked(std::string& out, const ResponseParams& params, std::string_view chunked);

}  // namespace fulcrum::http
