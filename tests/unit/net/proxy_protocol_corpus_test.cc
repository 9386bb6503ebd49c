// Replays the PROXY protocol fuzz corpus with the fuzzer's own property, so ordinary (gcc)
// builds keep it as a regression test. Seeds named done_*, needmore_* or invalid_* must also
// give that status; other files (e.g. crash reproducers added later) only need the property.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "../../../fuzz/proxy_protocol/fuzz_proxy_protocol.cc"

namespace fulcrum::net {
namespace {

namespace fs = std::filesystem;

fs::path corpusDir() {
  return fs::path(__FILE__).parent_path() / "../../../fuzz/proxy_protocol/corpus";
}

std::vector<uint8_t> readFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST(ProxyProtocolCorpus, EveryFileSatisfiesTheFuzzProperty) {
  ASSERT_TRUE(fs::is_directory(corpusDir())) << corpusDir();
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(corpusDir())) {
    if (!entry.is_regular_file()) {
      continue;
    }
    ++files;
    const std::string name = entry.path().filename().string();
    std::vector<uint8_t> data = readFile(entry.path());
    EXPECT_EQ(fuzz::checkProxyProperty(data), "") << name;

    ParseResult r = parseProxyHeader(data);
    if (name.starts_with("done_")) {
      EXPECT_EQ(r.status, ParseStatus::Done) << name << ": " << fuzz::describe(r);
    } else if (name.starts_with("needmore_")) {
      EXPECT_EQ(r.status, ParseStatus::NeedMore) << name << ": " << fuzz::describe(r);
    } else if (name.starts_with("invalid_")) {
      EXPECT_EQ(r.status, ParseStatus::Invalid) << name << ": " << fuzz::describe(r);
    }
  }
  EXPECT_GE(files, 10u);
}

}  // namespace
}  // namespace fulcrum::net
