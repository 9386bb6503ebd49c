// Replays the seed corpora of the three HTTP fuzz targets with the fuzzers' own properties,
// so ordinary (gcc) builds keep them as regression tests. Files named done_*, needmore_* or
// error<status>_* (e.g. error400_bare_lf) must also give that outcome; other files (crash
// reproducers added later) only need the property.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>

#include "../../../fuzz/http/http_fuzz_properties.h"

namespace fulcrum::http {
namespace {

namespace fs = std::filesystem;

fs::path corpusDir(const std::string& target) {
  return fs::path(__FILE__).parent_path() / "../../../fuzz/http" / target / "corpus";
}

std::string readFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The outcome a file's name promises: "done", "needmore", "error400"..., or "" for none.
std::string promised(const std::string& name) {
  const size_t underscore = name.find('_');
  return underscore == std::string::npos ? "" : name.substr(0, underscore);
}

std::string outcome(const ParseResult& r) {
  switch (r.status) {
    case ParseStatus::Done:
      return "done";
    case ParseStatus::NeedMore:
      return "needmore";
    case ParseStatus::Error:
      return "error" + std::to_string(r.error.status);
  }
  return "?";
}

void replay(const std::string& target, const std::function<std::string(std::string_view)>& property,
            const std::function<std::string(std::string_view)>& parse) {
  ASSERT_TRUE(fs::is_directory(corpusDir(target))) << corpusDir(target);
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(corpusDir(target))) {
    if (!entry.is_regular_file()) {
      continue;
    }
    ++files;
    const std::string name = entry.path().filename().string();
    const std::string data = readFile(entry.path());
    EXPECT_EQ(property(data), "") << name;
    const std::string want = promised(name);
    if (want == "done" || want == "needmore" || want.starts_with("error")) {
      EXPECT_EQ(parse(data), want) << name;
    }
  }
  EXPECT_GE(files, 10u) << target;
}

TEST(HttpFuzzCorpus, Request) {
  replay("request", fuzz::checkRequestProperty, [](std::string_view data) {
    RequestParser parser;
    return outcome(parser.feed(data));
  });
}

TEST(HttpFuzzCorpus, Response) {
  replay("response", fuzz::checkResponseProperty, [](std::string_view data) {
    ResponseParser parser({}, fuzz::responseContext(data));
    return outcome(parser.feed(data.substr(1)));
  });
}

TEST(HttpFuzzCorpus, Chunked) {
  replay("chunked", fuzz::checkChunkedProperty, [](std::string_view data) {
    const fuzz::ChunkedOutcome o = fuzz::decodeInPieces({}, data, {});
    if (o.status.starts_with("Done")) {
      return std::string("done");
    }
    if (o.status == "NeedMore") {
      return std::string("needmore");
    }
    return "error" + o.status.substr(6, 3);
  });
}

}  // namespace
}  // namespace fulcrum::http
