#include "admin/json_input.h"

#include <set>

namespace fulcrum::admin {

using nlohmann::json;

namespace {

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The end (one past the closing quote) of the string token that starts at `at`.
size_t stringEnd(std::string_view t, size_t at) {
  size_t k = at + 1;
  while (k < t.size() && t[k] != '"') {
    k += t[k] == '\\' ? 2 : 1;
  }
  return std::min(k + 1, t.size());
}

// A key token as text; nlohmann decodes the escapes.
std::string decodeKey(std::string_view token) {
  json j = json::parse(token, nullptr, false);
  return j.is_string() ? j.get<std::string>() : std::string(token);
}

// One pass over valid JSON without recursion (a 1 MiB body may nest a million deep).
// Reports duplicate keys and excessive depth; with `target`, records where its value starts.
class Walker {
 public:
  Walker(std::string_view text, const std::vector<std::string>* target) : t_(text), target_(target) {}

  std::optional<JsonError> run() {
    size_t i = 0;
    while (i < t_.size()) {
      char c = t_[i];
      if (isSpace(c) || c == ':') {
        ++i;
        continue;
      }
      if (c == ',') {
        if (!frames_.empty() && frames_.back().object) frames_.back().expect_key = true;
        ++i;
        continue;
      }
      if (c == '}' || c == ']') {
        if (!frames_.empty()) frames_.pop_back();
        ++i;
        continue;
      }
      if (c == '"' && !frames_.empty() && frames_.back().object && frames_.back().expect_key) {
        size_t end = stringEnd(t_, i);
        Frame& f = frames_.back();
        f.key = decodeKey(t_.substr(i, end - i));
        f.expect_key = false;
        if (!f.keys.insert(f.key).second) {
          return JsonError{i, "duplicate key \"" + f.key + "\""};
        }
        i = end;
        continue;
      }
      valueStarts(i);
      if (c == '{' || c == '[') {
        if (frames_.size() >= kMaxJsonDepth) {
          too_deep_ = true;
          return JsonError{i, "nested more than " + std::to_string(kMaxJsonDepth) + " levels deep"};
        }
        frames_.push_back(Frame{c == '{', c == '{', {}, {}});
        ++i;
      } else if (c == '"') {
        i = stringEnd(t_, i);
      } else {
        while (i < t_.size() && !isSpace(t_[i]) && t_[i] != ',' && t_[i] != ']' && t_[i] != '}') ++i;
      }
    }
    return std::nullopt;
  }

  size_t found() const { return found_; }
  bool tooDeep() const { return too_deep_; }

 private:
  struct Frame {
    bool object;
    bool expect_key;
    std::string key;  // of the member being read
    std::set<std::string> keys;
  };

  void valueStarts(size_t at) {
    if (target_ == nullptr || found_ != std::string_view::npos || frames_.size() != target_->size()) {
      return;
    }
    for (size_t k = 0; k < frames_.size(); ++k) {
      if (!frames_[k].object || frames_[k].key != (*target_)[k]) return;
    }
    found_ = at;
  }

  std::string_view t_;
  const std::vector<std::string>* target_;
  std::vector<Frame> frames_;
  size_t found_ = std::string_view::npos;
  bool too_deep_ = false;
};

}  // namespace

std::optional<JsonError> parseStrictJson(std::string_view text, json& out) {
  // Depth first: nlohmann's parser would build a value a million deep. The walker assumes
  // valid JSON, so otherwise a syntax error (nlohmann's) is reported before a duplicate key.
  Walker walker(text, nullptr);
  std::optional<JsonError> shape = walker.run();
  if (walker.tooDeep()) {
    return shape;
  }
  try {
    out = json::parse(text);
  } catch (const json::parse_error& e) {
    // "[json.exception.parse_error.101] parse error at line 1, column 5: syntax error ..."
    std::string what = e.what();
    size_t colon = what.find(": ");
    std::string reason = colon == std::string::npos ? what : what.substr(colon + 2);
    return JsonError{e.byte > 0 ? e.byte - 1 : 0, reason};
  }
  return shape;
}

size_t locateJsonValue(std::string_view text, const std::vector<std::string>& path) {
  Walker w(text, &path);
  w.run();
  return w.found();
}

std::pair<size_t, size_t> lineAndColumn(std::string_view text, size_t offset) {
  size_t line = 1;
  size_t col = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return {line, col};
}

std::string lineColumn(std::string_view text, size_t offset) {
  auto [line, col] = lineAndColumn(text, offset);
  return std::to_string(line) + ":" + std::to_string(col);
}

}  // namespace fulcrum::admin
