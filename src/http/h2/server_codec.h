#pragma once
// ServerCodec: the HTTP/2 server side of one client connection, on nghttp2, sans-I/O: bytes
// from the client go in with receive(), frames for the client come out of send(); what they
// mean for streams is told to a Handler. nghttp2 does the framing (padding, CONTINUATION,
// HPACK, SETTINGS, PING, flow-control accounting) and the RFC 9113 §8 message checks
// (pseudo-headers, connection-specific fields, TE, content-length against DATA: each a
// stream error, RST_STREAM PROTOCOL_ERROR); fields it would only ignore (a bad character in
// a name) are refused here too, so nothing malformed reaches a server.
//
// Flow control is manual (no automatic WINDOW_UPDATE): the connection window is given back as
// soon as DATA is received (the stream holds it, within its own window), each stream's window
// only as its owner says the bytes went on (consume()). So a stream whose server does not read
// holds at most its window, and the others go on.
//
// Callbacks run only inside receive() and send(); a handler must not call either from one.
#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.h"

namespace fulcrum::http::h2 {

class ServerCodec {
 public:
  class Handler {
   public:
    // A client's HEADERS opened stream `id`.
    virtual void onStreamOpen(int32_t id) = 0;
    // One field of the request head (trailer=false) or of its trailers. False: malformed (the
    // codec resets the stream with PROTOCOL_ERROR and ignores the rest of it).
    virtual bool onField(int32_t id, std::string_view name, std::string_view value, bool trailer) = 0;
    // The request head is complete; `endStream`: no body follows.
    virtual void onRequestHead(int32_t id, bool endStream) = 0;
    // Request body bytes (DATA payload, padding removed).
    virtual void onData(int32_t id, std::span<const uint8_t> data) = 0;
    // The client ended the stream (END_STREAM on DATA or on trailers), content-length checked.
    virtual void onRequestEnd(int32_t id) = 0;
    // The stream is closed (sent and received, or reset either way: `errorCode`).
    virtual void onStreamClose(int32_t id, uint32_t errorCode) = 0;
    // Response body for a DATA frame: up to `len` bytes into `buf`; NGHTTP2_ERR_DEFERRED when
    // none now (resumeData() when there is); sets NGHTTP2_DATA_FLAG_EOF at the end (and
    // NGHTTP2_DATA_FLAG_NO_END_STREAM when trailers follow, submitted from here).
    virtual ssize_t onReadBody(int32_t id, uint8_t* buf, size_t len, uint32_t* flags) = 0;

   protected:
    ~Handler() = default;
  };

  ServerCodec(Handler& handler, const config::Http2& settings);
  ~ServerCodec();
  ServerCodec(const ServerCodec&) = delete;
  ServerCodec& operator=(const ServerCodec&) = delete;

  // Takes the client's bytes (from the preface on). False: a connection error; the GOAWAY is
  // queued (send() it, then close). `why` for the log.
  bool receive(std::span<const uint8_t> in, std::string& why);
  // Appends frames to `out` while it holds less than `limit` bytes. False on a fatal error.
  bool send(std::string& out, size_t limit);
  // More to read from the client / to send to it (false for both: the connection is over).
  bool wantRead() const;
  bool wantWrite() const;

  // A field of a head or of trailers: names lowercase.
  struct Field {
    std::string_view name, value;
  };
  // The response head; `body`: DATA follows (read through onReadBody), else END_STREAM.
  bool submitResponse(int32_t id, uint16_t status, std::span<const Field> fields, bool body);
  // An interim response (1xx) before the final one.
  bool submitInterim(int32_t id, uint16_t status, std::span<const Field> fields);
  // Trailers ending the stream (from onReadBody, with NGHTTP2_DATA_FLAG_NO_END_STREAM).
  bool submitTrailers(int32_t id, std::span<const Field> fields);
  // onReadBody has bytes again for a stream it deferred.
  void resumeData(int32_t id);
  // The stream's owner passed on `n` bytes of its request body: its window opens by as much.
  void consume(int32_t id, size_t n);
  void resetStream(int32_t id, uint32_t errorCode);
  // The first GOAWAY of a graceful close (the highest stream id: nothing refused yet).
  void shutdownNotice();
  // The final GOAWAY: streams above the last one processed are refused (the client retries them).
  void goaway(uint32_t errorCode);
  // Streams open now.
  size_t openStreams() const { return open_; }

 private:
  static int onBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* self);
  static int onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
                      const uint8_t* value, size_t valuelen, uint8_t flags, void* self);
  static int onInvalidHeader(nghttp2_session*, const nghttp2_frame*, const uint8_t*, size_t, const uint8_t*, size_t,
                             uint8_t, void*);
  static int onFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* self);
  static int onDataChunk(nghttp2_session*, uint8_t flags, int32_t id, const uint8_t* data, size_t len, void* self);
  static int onStreamClose(nghttp2_session*, int32_t id, uint32_t errorCode, void* self);
  static ssize_t onRead(nghttp2_session*, int32_t id, uint8_t* buf, size_t len, uint32_t* flags,
                        nghttp2_data_source*, void* self);
  std::vector<nghttp2_nv>& fieldsToNv(uint16_t status, std::span<const Field> fields);

  Handler& handler_;
  nghttp2_session* session_ = nullptr;
  std::vector<nghttp2_nv> nv_;  // reused: nghttp2 copies what it is given
  char status_[4] = {};
  size_t open_ = 0;
  int32_t rejected_ = 0;  // the stream whose fields are being refused (ignored to their end)
};

}  // namespace fulcrum::http::h2
