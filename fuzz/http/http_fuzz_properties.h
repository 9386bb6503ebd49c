#pragma once
// The properties the HTTP/1 fuzz targets check, kept apart from the libFuzzer entry points so
// tests/unit/codec/fuzz_corpus_test.cc can replay the seed corpora in ordinary (gcc) builds.
// Each check returns what failed, or an empty string.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "codec/chunked.h"
#include "codec/parser.h"

namespace fulcrum::http::fuzz {

// Concatenation by append (GCC 12 warns falsely about `"literal" + std::string&&`).
template <class... Parts>
std::string cat(const Parts&... parts) {
  std::string s;
  (s.append(parts), ...);
  return s;
}

inline const char* statusName(ParseStatus s) {
  switch (s) {
    case ParseStatus::NeedMore:
      return "NeedMore";
    case ParseStatus::Done:
      return "Done";
    case ParseStatus::Error:
      return "Error";
  }
  return "?";
}

inline std::string describe(const ParseResult& r) {
  std::string s = statusName(r.status);
  if (r.status == ParseStatus::Done) {
    s += cat(" consumed=", std::to_string(r.consumed));
  } else if (r.status == ParseStatus::Error) {
    s += cat(" ", std::to_string(r.error.status), " (", r.error.reason, ") at ",
             std::to_string(r.error.offset));
  }
  return s;
}

inline std::string describeCommon(const MessageHead& h) {
  std::string s = h.version == Version::Http11 ? " 1.1" : " 1.0";
  s += cat(" body=", std::to_string(static_cast<int>(h.body.kind)), "/", std::to_string(h.body.length));
  s += h.keepAlive ? " keep-alive" : " close";
  s += h.upgrade ? " upgrade" : "";
  for (const Header& f : h.headers) {
    s += cat(" [", f.name, "=", f.value, h.isHopByHop(f.name) ? " hop]" : "]");
  }
  return s;
}

inline std::string describe(const RequestHead& h) {
  return cat(h.method, " ", h.target, " form=", std::to_string(static_cast<int>(h.targetForm)),
             " host=", h.host, h.expectContinue ? " expect" : "", describeCommon(h));
}

inline std::string describe(const ResponseHead& h) {
  return cat(std::to_string(h.status), " ", h.reason, describeCommon(h));
}

inline bool inside(std::string_view v, std::string_view buffer) {
  return v.data() == nullptr ||
         (v.data() >= buffer.data() && v.data() + v.size() <= buffer.data() + buffer.size());
}

inline bool viewsInside(const RequestHead& h, std::string_view head) {
  bool ok = inside(h.method, head) && inside(h.target, head) && inside(h.host, head);
  for (const Header& f : h.headers) {
    ok = ok && inside(f.name, head) && inside(f.value, head);
  }
  return ok;
}

inline bool viewsInside(const ResponseHead& h, std::string_view head) {
  bool ok = inside(h.reason, head);
  for (const Header& f : h.headers) {
    ok = ok && inside(f.name, head) && inside(f.value, head);
  }
  return ok;
}

template <class Parser>
std::string describeFinal(const ParseResult& r, const Parser& parser) {
  return r.status == ParseStatus::Done ? cat(describe(r), " ", describe(parser.head())) : describe(r);
}

// Feeds `data` cut at each point of `cuts` (ascending), each time from a fresh copy so the
// parser cannot rely on the buffer's address; the last call gets `data` itself. Returns the
// final result and head, described.
template <class Parser>
std::string feedSplit(Parser& parser, std::string_view data, const std::vector<size_t>& cuts) {
  for (size_t cut : cuts) {
    std::string copy(data.substr(0, cut));
    ParseResult r = parser.feed(copy);
    if (r.status != ParseStatus::NeedMore) {
      // Final already: the head views point into `copy`, describe now.
      return describeFinal(r, parser);
    }
  }
  return describeFinal(parser.feed(data), parser);
}

inline size_t mix(std::string_view data) {
  size_t h = 1469598103934665603u;
  for (char c : data) {
    h = (h ^ static_cast<uint8_t>(c)) * 1099511628211u;
  }
  return h;
}

// The head parser property, for one parser configuration: `make` builds a parser, `reset`
// prepares a used one for the next message.
template <class Parser, class Make, class Reset>
std::string checkHeadProperty(std::string_view data, const Limits& limits, Make make, Reset reset) {
  Parser whole = make();
  const ParseResult r = whole.feed(data);
  const std::string expected = describeFinal(r, whole);
  switch (r.status) {
    case ParseStatus::NeedMore:
      if (data.size() >= limits.maxRequestLine + limits.maxHeaderBytes) {
        return cat("NeedMore for ", std::to_string(data.size()), " bytes");
      }
      break;
    case ParseStatus::Error:
      if (r.error.reason.empty() || r.error.status < 400 || r.error.offset > data.size()) {
        return cat("bad error: ", expected);
      }
      break;
    case ParseStatus::Done:
      if (r.consumed == 0 || r.consumed > data.size()) {
        return cat("Done with consumed=", std::to_string(r.consumed), " of ", std::to_string(data.size()));
      }
      if (!viewsInside(whole.head(), data.substr(0, r.consumed))) {
        return cat("a view lies outside the head: ", expected);
      }
      break;
  }
  // Same answer for any split: a random cut, the middle, and every byte when short.
  std::vector<std::vector<size_t>> splits = {{mix(data) % (data.size() + 1)}, {data.size() / 2}};
  if (data.size() <= 1024) {
    std::vector<size_t> all;
    for (size_t i = 0; i < data.size(); ++i) {
      all.push_back(i);
    }
    splits.push_back(all);
  }
  for (const auto& cuts : splits) {
    Parser split = make();
    if (std::string got = feedSplit(split, data, cuts); got != expected) {
      return cat("split feeding gives [", got, "] instead of [", expected, "]");
    }
  }
  if (r.status == ParseStatus::Done) {
    // The head alone is enough; one byte less is not.
    Parser exact = make();
    if (std::string got = feedSplit(exact, data.substr(0, r.consumed), {}); got != expected) {
      return cat("the head alone gives [", got, "] instead of [", expected, "]");
    }
    Parser shorter = make();
    if (ParseResult s = shorter.feed(data.substr(0, r.consumed - 1)); s.status != ParseStatus::NeedMore) {
      return cat("one byte short of the head gives ", describe(s));
    }
    // reset() really forgets: the same parser parses the same head again.
    reset(whole);
    if (std::string got = feedSplit(whole, data, {}); got != expected) {
      return cat("after reset(): [", got, "] instead of [", expected, "]");
    }
  }
  return {};
}

inline Limits smallLimits() {
  Limits l;
  l.maxRequestLine = 40;
  l.maxHeaderBytes = 120;
  l.maxHeaders = 4;
  l.maxBodySize = 1000;
  l.maxChunkExtension = 16;
  l.maxTrailerBytes = 40;
  l.maxTrailers = 2;
  return l;
}

inline std::string checkRequestProperty(std::string_view data) {
  for (const Limits& limits : {Limits{}, smallLimits()}) {
    std::string e = checkHeadProperty<RequestParser>(
        data, limits, [&] { return RequestParser(limits); }, [](RequestParser& p) { p.reset(); });
    if (!e.empty()) {
      return e;
    }
  }
  return {};
}

// The first byte says which request the response answers: 'H' HEAD, 'C' CONNECT, else GET.
inline ResponseContext responseContext(std::string_view data) {
  if (!data.empty() && data[0] == 'H') {
    return {true, false};
  }
  if (!data.empty() && data[0] == 'C') {
    return {false, true};
  }
  return {};
}

inline std::string checkResponseProperty(std::string_view input) {
  if (input.empty()) {
    return {};
  }
  const ResponseContext context = responseContext(input);
  const std::string_view data = input.substr(1);
  for (const Limits& limits : {Limits{}, smallLimits()}) {
    std::string e = checkHeadProperty<ResponseParser>(
        data, limits, [&] { return ResponseParser(limits, context); },
        [&](ResponseParser& p) { p.reset(context); });
    if (!e.empty()) {
      return e;
    }
  }
  return {};
}

// The outcome of decoding a body delivered in pieces, the way a connection would: bytes not
// consumed stay at the front of the buffer and new bytes are appended.
struct ChunkedOutcome {
  std::string status;  // final status and error, described
  std::string payload;
  std::string trailers;
  uint64_t consumed = 0;
  std::string violation;  // a property broken on the way
};

inline ChunkedOutcome decodeInPieces(const Limits& limits, std::string_view data,
                                     const std::vector<size_t>& cuts) {
  ChunkedDecoder decoder(limits);
  ChunkedOutcome out;
  std::string pending;
  size_t fed = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(data.size());
  for (size_t end : ends) {
    pending.append(data.substr(fed, end - fed));
    fed = end;
    while (true) {
      const std::string buffer = pending;  // a fresh address each call
      ChunkResult r = decoder.decode(buffer);
      if (r.consumed > buffer.size()) {
        out.violation = "consumed past the input";
        return out;
      }
      out.consumed += r.consumed;
      pending.erase(0, r.consumed);
      if (r.status == ChunkStatus::Data) {
        if (r.data.empty() || !inside(r.data, buffer)) {
          out.violation = "data view empty or outside the input";
          return out;
        }
        out.payload.append(r.data);
        continue;
      }
      if (r.status == ChunkStatus::NeedMore) {
        break;
      }
      if (r.status == ChunkStatus::Done) {
        out.status = cat("Done body=", std::to_string(decoder.bodySize()));
        for (const Header& t : decoder.trailers()) {
          if (!inside(t.name, buffer) || !inside(t.value, buffer)) {
            out.violation = "trailer view outside the input";
          }
          out.trailers += cat("[", t.name, "=", t.value, "]");
        }
        if (decoder.bodySize() != out.payload.size()) {
          out.violation = "bodySize() differs from the payload delivered";
        }
      } else {
        out.status = cat("Error ", std::to_string(r.error.status), " (", r.error.reason, ") at ",
                         std::to_string(r.error.offset));
        if (r.error.reason.empty() || r.error.offset > data.size()) {
          out.violation = cat("bad error: ", out.status);
        }
        // How much was consumed before the error depends on the split; the offset does not.
        out.consumed = 0;
      }
      // Final states stay final.
      ChunkResult again = decoder.decode(pending);
      if (again.status != r.status || again.consumed != 0) {
        out.violation = "a final state changed on the next call";
      }
      return out;
    }
  }
  out.status = "NeedMore";
  return out;
}

inline std::string describe(const ChunkedOutcome& o) {
  return cat(o.status, " consumed=", std::to_string(o.consumed),
             " payload=", std::to_string(o.payload.size()), " trailers=", o.trailers);
}

inline std::string checkChunkedProperty(std::string_view data) {
  for (const Limits& limits : {Limits{}, smallLimits()}) {
    const ChunkedOutcome whole = decodeInPieces(limits, data, {});
    if (!whole.violation.empty()) {
      return whole.violation;
    }
    if (whole.consumed > data.size()) {
      return "consumed more than the input";
    }
    std::vector<std::vector<size_t>> splits = {{mix(data) % (data.size() + 1)},
                                               {data.size() / 3, data.size() / 2}};
    if (data.size() <= 1024) {
      std::vector<size_t> all;
      for (size_t i = 0; i < data.size(); ++i) {
        all.push_back(i);
      }
      splits.push_back(all);
    }
    for (const auto& cuts : splits) {
      const ChunkedOutcome split = decodeInPieces(limits, data, cuts);
      if (!split.violation.empty()) {
        return split.violation;
      }
      if (split.status != whole.status || split.payload != whole.payload ||
          split.trailers != whole.trailers || split.consumed != whole.consumed) {
        return cat("split decoding gives [", describe(split), "] instead of [", describe(whole), "]");
      }
    }
  }
  return {};
}

}  // namespace fulcrum::http::fuzz
