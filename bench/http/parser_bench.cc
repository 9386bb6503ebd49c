// Throughput of the HTTP/1 codec: request and response heads parsed whole, the same head fed
// one byte at a time (the slow-peer worst case), and chunked body decoding.
// Run: bench_http_parser --benchmark_min_time=0.5 --benchmark_repetitions=3
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>

#include "codec/chunked.h"
#include "codec/parser.h"

namespace fulcrum::http {
namespace {

// A typical browser navigation: 10 fields, about 400 bytes.
const std::string kBrowserGet =
    "GET /search?q=fulcrum+load+balancer&lang=en HTTP/1.1\r\n"
    "Host: www.example.com\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    "Accept-Language: en-US,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Connection: keep-alive\r\n"
    "Cookie: session=5f2b8c1e; theme=dark\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "Sec-Fetch-Dest: document\r\n"
    "Sec-Fetch-Mode: navigate\r\n"
    "\r\n";

const std::string kSmallGet = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";

const std::string kResponse =
    "HTTP/1.1 200 OK\r\n"
    "Date: Mon, 27 Jul 2009 12:28:53 GMT\r\n"
    "Server: fulcrum-testbackend\r\n"
    "Last-Modified: Wed, 22 Jul 2009 19:15:56 GMT\r\n"
    "ETag: \"34aa387-d-1568eb00\"\r\n"
    "Accept-Ranges: bytes\r\n"
    "Content-Length: 51\r\n"
    "Vary: Accept-Encoding\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Cache-Control: max-age=3600\r\n"
    "\r\n";

void requestWhole(benchmark::State& state, const std::string& text) {
  RequestParser parser;
  for (auto _ : state) {
    parser.reset();
    ParseResult r = parser.feed(text);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(parser.head().headers.data());
    if (r.status != ParseStatus::Done) {
      state.SkipWithError("not Done");
      break;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["bytes"] = static_cast<double>(text.size());
}
BENCHMARK_CAPTURE(requestWhole, browser_get_400B, kBrowserGet);
BENCHMARK_CAPTURE(requestWhole, minimal_get, kSmallGet);

void requestByteAtATime(benchmark::State& state) {
  RequestParser parser;
  for (auto _ : state) {
    parser.reset();
    ParseResult r;
    for (size_t n = 1; n <= kBrowserGet.size(); ++n) {
      r = parser.feed(std::string_view(kBrowserGet).substr(0, n));
    }
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kBrowserGet.size()));
}
BENCHMARK(requestByteAtATime);

void responseWhole(benchmark::State& state) {
  ResponseParser parser;
  for (auto _ : state) {
    parser.reset();
    ParseResult r = parser.feed(kResponse);
    benchmark::DoNotOptimize(r);
    if (r.status != ParseStatus::Done) {
      state.SkipWithError("not Done");
      break;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kResponse.size()));
}
BENCHMARK(responseWhole);

// A body of `chunk`-byte chunks, 64 KiB of payload in all.
void chunkedDecode(benchmark::State& state) {
  const size_t chunk = static_cast<size_t>(state.range(0));
  std::string body;
  char size[32];
  for (size_t total = 0; total < 64 * 1024; total += chunk) {
    std::snprintf(size, sizeof(size), "%zx;e=1\r\n", chunk);
    body += size;
    body.append(chunk, 'x');
    body += "\r\n";
  }
  body += "0\r\nX-Checksum: 1\r\n\r\n";
  ChunkedDecoder decoder;
  for (auto _ : state) {
    decoder.reset();
    std::string_view in = body;
    size_t payload = 0;
    while (true) {
      ChunkResult r = decoder.decode(in);
      in.remove_prefix(r.consumed);
      if (r.status != ChunkStatus::Data) {
        break;
      }
      payload += r.data.size();
    }
    benchmark::DoNotOptimize(payload);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(chunkedDecode)->Arg(16)->Arg(1024)->Arg(16 * 1024);

}  // namespace
}  // namespace fulcrum::http

BENCHMARK_MAIN();
