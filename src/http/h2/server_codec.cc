#include "http/h2/server_codec.h"

#include <algorithm>
#include <cstring>

namespace fulcrum::http::h2 {

namespace {

std::string_view view(const uint8_t* p, size_t n) { return std::string_view(reinterpret_cast<const char*>(p), n); }

nghttp2_nv nv(std::string_view name, std::string_view value) {
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
                    NGHTTP2_NV_FLAG_NONE};
}

}  // namespace

ServerCodec::ServerCodec(Handler& handler, const config::Http2& settings) : handler_(handler) {
  nghttp2_session_callbacks* cb = nullptr;
  nghttp2_session_callbacks_new(&cb);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cb, &ServerCodec::onBeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(cb, &ServerCodec::onHeader);
  nghttp2_session_callbacks_set_on_invalid_header_callback(cb, &ServerCodec::onInvalidHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, &ServerCodec::onFrameRecv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, &ServerCodec::onDataChunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, &ServerCodec::onStreamClose);
  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  nghttp2_option_set_no_auto_window_update(opt, 1);
  // Streams beyond the limit are refused by nghttp2 itself (RST_STREAM REFUSED_STREAM) once
  // the client had time to see our SETTINGS.
  nghttp2_option_set_max_deflate_dynamic_table_size(opt, 4096);
  nghttp2_session_server_new2(&session_, cb, this, opt);
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cb);
  nghttp2_settings_entry iv[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, settings.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, settings.initial_window_size},
      {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, settings.max_frame_size},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, settings.max_header_list_size},
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
  };
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof iv[0]);
  // The connection window: DATA is taken off it as soon as it arrives (see the header), so
  // the default 65535 would only slow every stream down; one stream window per open stream.
  uint64_t window = uint64_t{settings.initial_window_size} * std::min<uint32_t>(settings.max_concurrent_streams, 16);
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                        static_cast<int32_t>(std::min<uint64_t>(window, (1u << 31) - 1)));
}

ServerCodec::~ServerCodec() { nghttp2_session_del(session_); }

bool ServerCodec::receive(std::span<const uint8_t> in, std::string& why) {
  ssize_t n = nghttp2_session_mem_recv(session_, in.data(), in.size());
  if (n < 0) {
    why = nghttp2_strerror(static_cast<int>(n));
    // The GOAWAY for a protocol error is queued by nghttp2 (bad preface: none is owed).
    if (n != NGHTTP2_ERR_BAD_CLIENT_MAGIC) {
      nghttp2_session_terminate_session(session_, NGHTTP2_PROTOCOL_ERROR);
    }
    return false;
  }
  return true;
}

bool ServerCodec::send(std::string& out, size_t limit) {
  while (out.size() < limit) {
    const uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) {
      return false;
    }
    if (n == 0) {
      break;
    }
    out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
  }
  return true;
}

bool ServerCodec::wantRead() const { return nghttp2_session_want_read(session_) != 0; }
bool ServerCodec::wantWrite() const { return nghttp2_session_want_write(session_) != 0; }

std::vector<nghttp2_nv>& ServerCodec::fieldsToNv(uint16_t status, std::span<const Field> fields) {
  nv_.clear();
  status_[0] = static_cast<char>('0' + status / 100 % 10);
  status_[1] = static_cast<char>('0' + status / 10 % 10);
  status_[2] = static_cast<char>('0' + status % 10);
  nv_.push_back(nv(":status", std::string_view(status_, 3)));
  for (const Field& f : fields) {
    nv_.push_back(nv(f.name, f.value));
  }
  return nv_;
}

bool ServerCodec::submitResponse(int32_t id, uint16_t status, std::span<const Field> fields, bool body) {
  auto& v = fieldsToNv(status, fields);
  nghttp2_data_provider prd;
  prd.source.ptr = nullptr;
  prd.read_callback = &ServerCodec::onRead;
  return nghttp2_submit_response(session_, id, v.data(), v.size(), body ? &prd : nullptr) == 0;
}

bool ServerCodec::submitInterim(int32_t id, uint16_t status, std::span<const Field> fields) {
  auto& v = fieldsToNv(status, fields);
  return nghttp2_submit_headers(session_, NGHTTP2_FLAG_NONE, id, nullptr, v.data(), v.size(), nullptr) >= 0;
}

bool ServerCodec::submitTrailers(int32_t id, std::span<const Field> fields) {
  nv_.clear();
  for (const Field& f : fields) {
    nv_.push_back(nv(f.name, f.value));
  }
  return nghttp2_submit_trailer(session_, id, nv_.data(), nv_.size()) == 0;
}

void ServerCodec::resumeData(int32_t id) { nghttp2_session_resume_data(session_, id); }

void ServerCodec::consume(int32_t id, size_t n) {
  if (n > 0) {
    nghttp2_session_consume_stream(session_, id, n);
  }
}

void ServerCodec::resetStream(int32_t id, uint32_t errorCode) {
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, errorCode);
}

void ServerCodec::shutdownNotice() { nghttp2_submit_shutdown_notice(session_); }

void ServerCodec::goaway(uint32_t errorCode) {
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(session_), errorCode,
                        nullptr, 0);
}

// --- nghttp2's callbacks ---

int ServerCodec::onBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* p) {
  auto* self = static_cast<ServerCodec*>(p);
  if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
    ++self->open_;
    self->handler_.onStreamOpen(frame->hd.stream_id);
  }
  return 0;
}

int ServerCodec::onHeader(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
                          const uint8_t* value, size_t valuelen, uint8_t, void* p) {
  auto* self = static_cast<ServerCodec*>(p);
  if (frame->hd.type != NGHTTP2_HEADERS) {
    return 0;
  }
  int32_t id = frame->hd.stream_id;
  if (self->rejected_ == id) {
    return 0;
  }
  bool trailer = frame->headers.cat == NGHTTP2_HCAT_HEADERS;
  if (!self->handler_.onField(id, view(name, namelen), view(value, valuelen), trailer)) {
    self->rejected_ = id;
    nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id, NGHTTP2_PROTOCOL_ERROR);
  }
  return 0;
}

// A field nghttp2 would silently drop (a character not allowed in a name): refused instead,
// the stream reset with PROTOCOL_ERROR.
int ServerCodec::onInvalidHeader(nghttp2_session*, const nghttp2_frame*, const uint8_t*, size_t, const uint8_t*,
                                 size_t, uint8_t, void*) {
  return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
}

int ServerCodec::onFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* p) {
  auto* self = static_cast<ServerCodec*>(p);
  int32_t id = frame->hd.stream_id;
  bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  if (id == self->rejected_) {
    return 0;
  }
  switch (frame->hd.type) {
    case NGHTTP2_HEADERS:
      if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
        self->handler_.onRequestHead(id, end);
      }
      if (end) {
        self->handler_.onRequestEnd(id);
      }
      break;
    case NGHTTP2_DATA:
      if (end) {
        self->handler_.onRequestEnd(id);
      }
      break;
    default:
      break;
  }
  return 0;
}

int ServerCodec::onDataChunk(nghttp2_session* session, uint8_t, int32_t id, const uint8_t* data, size_t len,
                             void* p) {
  auto* self = static_cast<ServerCodec*>(p);
  // The connection's window opens at once: the stream's holds these bytes until they go on.
  nghttp2_session_consume_connection(session, len);
  if (id == self->rejected_) {
    nghttp2_session_consume_stream(session, id, len);
    return 0;
  }
  self->handler_.onData(id, std::span<const uint8_t>(data, len));
  return 0;
}

int ServerCodec::onStreamClose(nghttp2_session*, int32_t id, uint32_t errorCode, void* p) {
  auto* self = static_cast<ServerCodec*>(p);
  if (self->rejected_ == id) {
    self->rejected_ = 0;
  }
  if (self->open_ > 0) {
    --self->open_;
  }
  self->handler_.onStreamClose(id, errorCode);
  return 0;
}

ssize_t ServerCodec::onRead(nghttp2_session*, int32_t id, uint8_t* buf, size_t len, uint32_t* flags,
                            nghttp2_data_source*, void* p) {
  return static_cast<ServerCodec*>(p)->handler_.onReadBody(id, buf, len, flags);
}

}  // namespace fulcrum::http::h2
