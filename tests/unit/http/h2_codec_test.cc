// h2::ServerCodec with bytes only: a client made with nghttp2's client API in the test talks to
// it through strings (no socket); and h2::RequestFields, the request head of one stream.
#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>

#include <cstring>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "http/h2/request_head.h"
#include "http/h2/server_codec.h"

using fulcrum::http::Request;
using fulcrum::http::h2::RequestFields;
using fulcrum::http::h2::ServerCodec;

namespace {

// What the server side heard, and the response it gives when asked.
struct Recorder final : ServerCodec::Handler {
  struct Stream {
    std::vector<std::pair<std::string, std::string>> fields, trailers;
    bool head = false, headEnd = false, end = false, closed = false;
    uint32_t error = 0;
    std::string body;
    std::string reply;        // response body still to give
    bool replyComplete = true;
  };
  std::map<int32_t, Stream> streams;
  bool deferred = false;
  ServerCodec* codec = nullptr;

  void onStreamOpen(int32_t id) override { streams[id]; }
  bool onField(int32_t id, std::string_view n, std::string_view v, bool trailer) override {
    (trailer ? streams[id].trailers : streams[id].fields).emplace_back(n, v);
    return true;
  }
  void onRequestHead(int32_t id, bool endStream) override {
    streams[id].head = true;
    streams[id].headEnd = endStream;
  }
  void onData(int32_t id, std::span<const uint8_t> d) override {
    streams[id].body.append(reinterpret_cast<const char*>(d.data()), d.size());
  }
  void onRequestEnd(int32_t id) override { streams[id].end = true; }
  void onStreamClose(int32_t id, uint32_t e) override {
    streams[id].closed = true;
    streams[id].error = e;
  }
  ssize_t onReadBody(int32_t id, uint8_t* buf, size_t len, uint32_t* flags) override {
    Stream& s = streams[id];
    if (s.reply.empty() && !s.replyComplete) {
      deferred = true;
      return NGHTTP2_ERR_DEFERRED;
    }
    size_t n = std::min(len, s.reply.size());
    std::memcpy(buf, s.reply.data(), n);
    s.reply.erase(0, n);
    if (s.reply.empty() && s.replyComplete) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
    }
    return static_cast<ssize_t>(n);
  }
};

// A client on nghttp2's client API, its bytes moved by hand.
struct Client {
  nghttp2_session* session = nullptr;
  std::map<int32_t, std::string> body;
  std::map<int32_t, std::string> status;
  std::map<int32_t, uint32_t> closed;
  std::string upload;  // what the data provider sends
  size_t upload_at = 0;

  explicit Client(bool messaging = true) {
    nghttp2_session_callbacks* cb;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_header_callback(
        cb, [](nghttp2_session*, const nghttp2_frame* f, const uint8_t* n, size_t nl, const uint8_t* v, size_t vl,
               uint8_t, void* p) {
          if (std::string_view(reinterpret_cast<const char*>(n), nl) == ":status") {
            static_cast<Client*>(p)->status[f->hd.stream_id] = std::string(reinterpret_cast<const char*>(v), vl);
          }
          return 0;
        });
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
        cb, [](nghttp2_session*, uint8_t, int32_t id, const uint8_t* d, size_t n, void* p) {
          static_cast<Client*>(p)->body[id].append(reinterpret_cast<const char*>(d), n);
          return 0;
        });
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, [](nghttp2_session*, int32_t id, uint32_t e, void* p) {
      static_cast<Client*>(p)->closed[id] = e;
      return 0;
    });
    nghttp2_option* opt;
    nghttp2_option_new(&opt);
    if (!messaging) {
      nghttp2_option_set_no_http_messaging(opt, 1);
    }
    nghttp2_session_client_new2(&session, cb, this, opt);
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cb);
    nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, nullptr, 0);
  }
  ~Client() { nghttp2_session_del(session); }

  // Names as given (NO_COPY_NAME: nghttp2 would lowercase a copy); kept until sent.
  std::deque<std::vector<std::pair<std::string, std::string>>> sent_fields;
  int32_t request(std::vector<std::pair<std::string, std::string>> given, bool withBody) {
    auto& fields = sent_fields.emplace_back(std::move(given));
    std::vector<nghttp2_nv> nv;
    for (auto& [n, v] : fields) {
      nv.push_back({reinterpret_cast<uint8_t*>(n.data()), reinterpret_cast<uint8_t*>(v.data()), n.size(), v.size(),
                    NGHTTP2_NV_FLAG_NO_COPY_NAME});
    }
    nghttp2_data_provider prd;
    prd.source.ptr = this;
    prd.read_callback = [](nghttp2_session*, int32_t, uint8_t* buf, size_t len, uint32_t* flags, nghttp2_data_source* src,
                           void*) -> ssize_t {
      auto* c = static_cast<Client*>(src->ptr);
      size_t n = std::min(len, c->upload.size() - c->upload_at);
      std::memcpy(buf, c->upload.data() + c->upload_at, n);
      c->upload_at += n;
      if (c->upload_at == c->upload.size()) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
      }
      return static_cast<ssize_t>(n);
    };
    return nghttp2_submit_request(session, nullptr, nv.data(), nv.size(), withBody ? &prd : nullptr, nullptr);
  }
  std::string out() {
    std::string s;
    const uint8_t* d;
    ssize_t n;
    while ((n = nghttp2_session_mem_send(session, &d)) > 0) {
      s.append(reinterpret_cast<const char*>(d), static_cast<size_t>(n));
    }
    return s;
  }
  void in(const std::string& s) {
    ASSERT_EQ(nghttp2_session_mem_recv(session, reinterpret_cast<const uint8_t*>(s.data()), s.size()),
              static_cast<ssize_t>(s.size()));
  }
};

fulcrum::config::Http2 settings() { return fulcrum::config::Http2{}; }

// Moves bytes both ways until neither side has more (bounded).
void exchange(Client& c, ServerCodec& server) {
  for (int i = 0; i < 50; ++i) {
    std::string up = c.out();
    std::string why;
    if (!up.empty()) {
      ASSERT_TRUE(server.receive(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(up.data()), up.size()), why))
          << why;
    }
    std::string down;
    ASSERT_TRUE(server.send(down, SIZE_MAX));
    if (!down.empty()) {
      c.in(down);
    }
    if (up.empty() && down.empty()) {
      return;
    }
  }
}

using Fields = std::vector<std::pair<std::string, std::string>>;
Fields get(const std::string& path, Fields extra = {}) {
  Fields f{{":method", "GET"}, {":scheme", "http"}, {":authority", "a.test"}, {":path", path}};
  f.insert(f.end(), extra.begin(), extra.end());
  return f;
}

}  // namespace

TEST(H2ServerCodec, RequestHeadBodyAndEndReachTheHandlerAndTheResponseGoesBack) {
  Recorder rec;
  ServerCodec server(rec, settings());
  Client c;
  c.upload = "hello body";
  Fields f = get("/up");
  f[0].second = "POST";
  int32_t id = c.request(f, true);
  exchange(c, server);
  ASSERT_TRUE(rec.streams.count(id));
  auto& s = rec.streams[id];
  EXPECT_TRUE(s.head);
  EXPECT_FALSE(s.headEnd);
  EXPECT_TRUE(s.end);
  EXPECT_EQ(s.body, "hello body");
  ASSERT_GE(s.fields.size(), 4u);
  EXPECT_EQ(s.fields[0], (std::pair<std::string, std::string>{":method", "POST"}));
  s.reply = "answer";
  ServerCodec::Field type{"content-type", "text/plain"};
  ASSERT_TRUE(server.submitResponse(id, 200, std::span<const ServerCodec::Field>(&type, 1), true));
  exchange(c, server);
  EXPECT_EQ(c.status[id], "200");
  EXPECT_EQ(c.body[id], "answer");
  EXPECT_TRUE(rec.streams[id].closed);
  EXPECT_EQ(rec.streams[id].error, 0u);
}

TEST(H2ServerCodec, AContentLengthTheDataBreaksIsAStreamErrorAndTheEndNeverComes) {
  Recorder rec;
  ServerCodec server(rec, settings());
  Client c(false);  // (the client does not check what it sends)
  c.upload = "0123456789";
  Fields f = get("/up", {{"content-length", "5"}});
  f[0].second = "POST";
  int32_t id = c.request(f, true);
  exchange(c, server);
  EXPECT_FALSE(rec.streams[id].end) << "the request never looks whole";
  EXPECT_LE(rec.streams[id].body.size(), 5u) << "no byte past the length is delivered";
  EXPECT_EQ(c.closed[id], static_cast<uint32_t>(NGHTTP2_PROTOCOL_ERROR));
}

TEST(H2ServerCodec, ForbiddenFieldsResetTheStreamWithProtocolError) {
  for (Fields extra : {Fields{{"X-Upper", "1"}}, Fields{{"connection", "close"}}, Fields{{"te", "gzip"}},
                       Fields{{"transfer-encoding", "chunked"}}, Fields{{"x-a", "1\r\nx-b: 2"}},
                       Fields{{"x a", "1"}}}) {
    Recorder rec;
    ServerCodec server(rec, settings());
    Client c(false);
    int32_t id = c.request(get("/", extra), false);
    exchange(c, server);
    EXPECT_FALSE(rec.streams[id].head) << extra[0].first;
    EXPECT_EQ(c.closed[id], static_cast<uint32_t>(NGHTTP2_PROTOCOL_ERROR)) << extra[0].first;
  }
  Recorder rec;
  ServerCodec server(rec, settings());
  Client c;
  int32_t id = c.request(get("/", {{"te", "trailers"}}), false);
  exchange(c, server);
  EXPECT_TRUE(rec.streams[id].head) << "te: trailers is allowed";
}

TEST(H2ServerCodec, AStreamWindowOpensOnlyAsItsOwnerConsumes) {
  Recorder rec;
  ServerCodec server(rec, settings());
  Client c;
  c.upload = std::string(200 * 1024, 'x');
  Fields f = get("/up");
  f[0].second = "POST";
  int32_t id = c.request(f, true);
  exchange(c, server);
  EXPECT_EQ(rec.streams[id].body.size(), 65535u) << "one stream window, then the client waits";
  server.consume(id, rec.streams[id].body.size());
  exchange(c, server);
  EXPECT_EQ(rec.streams[id].body.size(), 2 * 65535u);
}

TEST(H2ServerCodec, ADeferredResponseBodyGoesOnWhenResumed) {
  Recorder rec;
  ServerCodec server(rec, settings());
  Client c;
  int32_t id = c.request(get("/"), false);
  exchange(c, server);
  rec.streams[id].replyComplete = false;
  ASSERT_TRUE(server.submitResponse(id, 200, {}, true));
  exchange(c, server);
  EXPECT_TRUE(rec.deferred);
  EXPECT_EQ(c.status[id], "200");
  EXPECT_FALSE(c.closed.count(id));
  rec.streams[id].reply = "late";
  rec.streams[id].replyComplete = true;
  server.resumeData(id);
  exchange(c, server);
  EXPECT_EQ(c.body[id], "late");
  EXPECT_TRUE(c.closed.count(id));
}

TEST(H2ServerCodec, ABadPrefaceIsAConnectionError) {
  Recorder rec;
  ServerCodec server(rec, settings());
  std::string junk = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  std::string why;
  EXPECT_FALSE(server.receive(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(junk.data()), junk.size()), why));
  EXPECT_FALSE(why.empty());
}

namespace {
bool fill(RequestFields& r, const Fields& f) {
  std::string_view why;
  for (const auto& [n, v] : f) {
    if (!r.add(n, v, why)) {
      return false;
    }
  }
  return true;
}
}  // namespace

TEST(H2RequestFields, PseudoHeadersMakeTheNeutralRequestAndCookieCrumbsAreJoined) {
  RequestFields r;
  ASSERT_TRUE(fill(r, get("/a/b?x=1", {{"cookie", "a=1"}, {"accept", "*/*"}, {"cookie", "b=2"}, {"content-length", "3"}})));
  Request req;
  uint16_t status = 0;
  std::string_view why;
  ASSERT_TRUE(r.toRequest(fulcrum::config::DotSegments::Reject, req, status, why)) << why;
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.authority, "a.test");
  EXPECT_EQ(req.host, "a.test");
  EXPECT_EQ(req.path, "/a/b");
  EXPECT_EQ(req.query, "x=1");
  EXPECT_EQ(req.uri, "/a/b?x=1");
  const auto* cookie = req.find("cookie");
  ASSERT_NE(cookie, nullptr);
  EXPECT_EQ(cookie->value, "a=1; b=2");
  EXPECT_EQ(req.find("content-length"), nullptr) << "framing is written anew";
  EXPECT_EQ(r.contentLength(), 3);
}

TEST(H2RequestFields, MalformedHeadsAreRefused) {
  std::string_view why;
  {
    RequestFields r;
    EXPECT_TRUE(r.add("accept", "x", why));
    EXPECT_FALSE(r.add(":path", "/", why)) << "pseudo-header after a regular field";
  }
  {
    RequestFields r;
    EXPECT_TRUE(r.add(":path", "/", why));
    EXPECT_FALSE(r.add(":path", "/b", why)) << "repeated";
  }
  for (auto [n, v] : Fields{{"X-Up", "1"}, {"a b", "1"}, {"x", " padded"}, {"x", "a\nb"}, {":protocol", "ws"},
                            {"content-length", "1, 2"}}) {
    RequestFields r;
    EXPECT_FALSE(r.add(n, v, why)) << n << ": " << v;
  }
  Request req;
  uint16_t status = 0;
  {
    RequestFields r;
    ASSERT_TRUE(fill(r, {{":method", "CONNECT"}, {":authority", "a:443"}}));
    EXPECT_FALSE(r.toRequest(fulcrum::config::DotSegments::Reject, req, status, why));
    EXPECT_EQ(status, 405);
  }
  {
    RequestFields r;
    ASSERT_TRUE(fill(r, get("/a/../b")));
    EXPECT_FALSE(r.toRequest(fulcrum::config::DotSegments::Reject, req, status, why));
    EXPECT_EQ(status, 400);
    RequestFields n;
    ASSERT_TRUE(fill(n, get("/a/../b?q")));
    ASSERT_TRUE(n.toRequest(fulcrum::config::DotSegments::Normalize, req, status, why));
    EXPECT_EQ(req.uri, "/b?q");
  }
  {
    RequestFields r;
    ASSERT_TRUE(fill(r, get("no-slash")));
    EXPECT_FALSE(r.toRequest(fulcrum::config::DotSegments::Reject, req, status, why));
  }
  {
    RequestFields r;  // no :authority: Host stands in
    ASSERT_TRUE(fill(r, {{":method", "GET"}, {":scheme", "http"}, {":path", "/"}, {"host", "h.test:8080"}}));
    ASSERT_TRUE(r.toRequest(fulcrum::config::DotSegments::Reject, req, status, why));
    EXPECT_EQ(req.authority, "h.test:8080");
    EXPECT_EQ(req.host, "h.test");
  }
}
