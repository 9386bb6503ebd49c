// Replays the seed corpus of fuzz/client_hello with the fuzzer's property, so ordinary (gcc)
// builds keep it as a regression test. Files named done_*, needmore_* or invalid_* must also give
// that outcome; other files (crash reproducers added later) only need the property.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "../../../fuzz/client_hello/client_hello_property.h"

namespace fulcrum::codec {
namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> readFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string outcome(HelloStatus s) {
  return s == HelloStatus::Done ? "done" : s == HelloStatus::NeedMore ? "needmore" : "invalid";
}

TEST(ClientHelloFuzzCorpus, Replay) {
  const fs::path dir = fs::path(__FILE__).parent_path() / "../../../fuzz/client_hello/corpus";
  ASSERT_TRUE(fs::is_directory(dir)) << dir;
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_regular_file()) {
      continue;
    }
    ++files;
    const std::string name = entry.path().filename().string();
    const std::vector<uint8_t> data = readFile(entry.path());
    EXPECT_EQ(fuzz::checkClientHelloProperty(data), "") << name;
    const std::string want = name.substr(0, name.find('_'));
    if (want == "done" || want == "needmore" || want == "invalid") {
      EXPECT_EQ(outcome(parseClientHello(data).status), want) << name << ": " << parseClientHello(data).error;
    }
  }
  EXPECT_GE(files, 10u);
}

}  // namespace
}  // namespace fulcrum::codec
