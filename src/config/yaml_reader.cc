// The YAML parsing and generic readers behind the config loader (see yaml_reader.h).
#include "config/yaml_reader.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "config/address.h"
#include "config/cidr.h"
#include "config/duration.h"

namespace fulcrum::config::detail {
namespace {

size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

Pos toPos(const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0 || mark.column < 0) {
    return {};
  }
  return {mark.line + 1, mark.column + 1};
}

std::string quote(std::string_view text) {
  constexpr size_t kMax = 60;
  std::string out = "\"";
  for (char c : text.substr(0, kMax)) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  if (text.size() > kMax) {
    out += "...";
  }
  return out + "\"";
}

// "got ..." wording for type errors.
std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Scalar:
      return quote(node.Scalar());
    default:
      return "an empty value";
  }
}

std::string joined(const std::vector<std::string_view>& words) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    out += (i == 0 ? "" : ", ");
    out += words[i];
  }
  return out;
}

// The closest accepted word to a typo, if it is close enough to be a plausible intent.
std::optional<std::string_view> suggest(std::string_view typo, const std::vector<std::string_view>& words) {
  std::optional<std::string_view> best;
  size_t bestDistance = std::max<size_t>(2, typo.size() / 3) + 1;
  for (auto word : words) {
    size_t d = editDistance(typo, word);
    if (d < bestDistance) {
      best = word;
      bestDistance = d;
    }
  }
  return best;
}

bool isValidName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

bool isDigits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool isToken(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

Entry asEntry(const Item& item) {
  Entry e;
  e.path = item.path;
  e.value = item.node;
  e.keyPos = item.pos;
  e.pos = item.pos;
  return e;
}

void YamlReader::error(Pos at, std::string message) {
  errors_.push_back(Diagnostic{source_, at.line, at.column, std::move(message)});
}

std::string YamlReader::resolvePath(const std::string& name) const {
  if (name.empty() || name[0] == '/') {
    return name;
  }
  size_t slash = source_.rfind('/');
  return slash == std::string::npos ? name : source_.substr(0, slash + 1) + name;
}

// YAML is UTF-8 text. yaml-cpp 0.7 can loop forever on some invalid byte sequences
// (found by fuzz/config), so such input is refused before it reaches the parser.
bool YamlReader::checkText() {
  int line = 1, column = 1;
  size_t i = 0;
  while (i < text_.size()) {
    auto c = static_cast<unsigned char>(text_[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    bool ok = len != 0 && i + len <= text_.size();
    for (size_t k = 1; ok && k < len; ++k) {
      ok = (static_cast<unsigned char>(text_[i + k]) & 0xc0) == 0x80;
    }
    if (ok && len == 1 && c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
      error({line, column}, "control character " + std::to_string(c) + " in the file; expected printable text");
      return false;
    }
    if (!ok) {
      error({line, column}, "invalid UTF-8 byte sequence; expected a UTF-8 text file");
      return false;
    }
    if (c == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
    i += len;
  }
  return true;
}

// The line of a '---' that starts a second document (one after some content), if any.
std::optional<int> YamlReader::secondDocumentLine() const {
  bool content = false;
  int line = 0;
  size_t start = 0;
  while (start <= text_.size()) {
    size_t end = text_.find('\n', start);
    std::string_view row = text_.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    ++line;
    bool marker = row.substr(0, 3) == "---" && (row.size() == 3 || row[3] == ' ' || row[3] == '\r' || row[3] == '\t');
    if (marker && content) {
      return line;
    }
    size_t first = row.find_first_not_of(" \t\r");
    if (!marker && first != std::string_view::npos && row[first] != '#' && row[first] != '%') {
      content = true;
    }
    if (end == std::string_view::npos) {
      break;
    }
    start = end + 1;
  }
  return std::nullopt;
}

bool YamlReader::parse(std::vector<YAML::Node>& docs) {
  if (!checkText()) {
    return false;
  }
  try {
    // One document only: yaml-cpp 0.7's LoadAll() never ends on some inputs (a stray ','
    // at the top level yields endless empty documents; found by fuzz/config).
    docs.push_back(YAML::Load(std::string(text_)));
    if (auto second = secondDocumentLine()) {
      error({*second, 1}, "expected a single YAML document, found a second one (remove the '---' separator)");
    }
    return true;
  } catch (const YAML::ParserException& e) {
    Pos at = toPos(e.mark);
    if (at.line == 0) {
      at = {1, 1};
    }
    // yaml-cpp's messages for a few common slips are cryptic ("illegal map value"); name the slip.
    std::string_view row = lineText(at.line);
    size_t bracket = unquotedBracketedAddress(row);
    if (std::optional<Pos> tab = tabIndentBefore(at.line)) {
      error(*tab,
            "tab character in indentation; expected spaces (YAML does not allow tabs for indentation)");
    } else if (bracket != std::string_view::npos) {
      error({at.line, static_cast<int>(bracket) + 1},
            "invalid YAML: an IPv6 address must be quoted, e.g. \"[::1]:8080\" (an unquoted '[' starts a "
            "list)");
    } else if (e.msg == YAML::ErrorMsg::UNKNOWN_ANCHOR && static_cast<size_t>(at.column) < row.size() &&
               row.substr(at.column - 1, 2) == "*:") {
      error(at,
            "invalid YAML: an address starting with * must be quoted, e.g. \"*:8080\" (an unquoted '*' "
            "starts an alias)");
    } else {
      error(at, "invalid YAML: " + e.msg + syntaxHint(e.msg));
    }
  } catch (const std::exception& e) {
    error({1, 1}, std::string("invalid YAML: ") + e.what());
  }
  return false;
}

std::string YamlReader::syntaxHint(const std::string& msg) {
  if (msg == YAML::ErrorMsg::END_OF_SEQ_FLOW) {
    return "; expected ']' to close the list";
  }
  if (msg == YAML::ErrorMsg::END_OF_MAP_FLOW) {
    return "; expected '}' to close the map";
  }
  if (msg == YAML::ErrorMsg::MAP_VALUE || msg == YAML::ErrorMsg::MAP_KEY ||
      msg == YAML::ErrorMsg::END_OF_MAP || msg == YAML::ErrorMsg::END_OF_SEQ ||
      msg == YAML::ErrorMsg::BLOCK_ENTRY) {
    return "; expected consistent indentation and a space after each ':'";
  }
  if (msg == YAML::ErrorMsg::UNKNOWN_ANCHOR) {
    return "; expected an anchor (&name) defined before this alias";
  }
  return "; expected valid YAML";
}

std::string_view YamlReader::lineText(int line) const {
  size_t start = 0;
  for (int current = 1; current < line; ++current) {
    start = text_.find('\n', start);
    if (start == std::string_view::npos) {
      return {};
    }
    ++start;
  }
  size_t end = text_.find('\n', start);
  return text_.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
}

// Offset of a '[' that starts an unquoted "[v6]:port" value in `row`, or npos.
size_t YamlReader::unquotedBracketedAddress(std::string_view row) {
  for (size_t close = row.find("]:"); close != std::string_view::npos; close = row.find("]:", close + 1)) {
    size_t open = row.rfind('[', close);
    if (open == std::string_view::npos || close + 2 >= row.size() || row[close + 2] < '0' ||
        row[close + 2] > '9') {
      continue;
    }
    bool startsValue = open == 0 || row[open - 1] == ' ' || row[open - 1] == '\t';
    if (startsValue && row.substr(open + 1, close - open - 1).find(':') != std::string_view::npos) {
      return open;
    }
  }
  return std::string_view::npos;
}

// The first line at or before `line` whose indentation contains a tab.
std::optional<Pos> YamlReader::tabIndentBefore(int line) const {
  int current = 1;
  size_t i = 0;
  while (i < text_.size() && current <= line) {
    size_t end = text_.find('\n', i);
    if (end == std::string_view::npos) {
      end = text_.size();
    }
    std::string_view row = text_.substr(i, end - i);
    size_t firstNonBlank = row.find_first_not_of(" \t");
    bool content = firstNonBlank != std::string_view::npos && row[firstNonBlank] != '#';
    size_t tab = row.find('\t');
    if (content && tab != std::string_view::npos && tab < firstNonBlank) {
      return Pos{current, static_cast<int>(tab) + 1};
    }
    i = end + 1;
    ++current;
  }
  return std::nullopt;
}

// Converts a byte offset into the source to a position.
Pos YamlReader::offsetToPos(size_t offset) const {
  Pos pos{1, 1};
  for (size_t i = 0; i < offset && i < text_.size(); ++i) {
    if (text_[i] == '\n') {
      ++pos.line;
      pos.column = 1;
    } else {
      ++pos.column;
    }
  }
  return pos;
}

// yaml-cpp marks an empty list item ("-" alone) at the token after it; find the '-' itself.
Pos YamlReader::emptyItemPos(const YAML::Node& item, Pos fallback) const {
  YAML::Mark mark = item.Mark();
  if (mark.is_null() || mark.pos < 0) {
    return fallback;
  }
  size_t i = std::min(static_cast<size_t>(mark.pos), text_.size());
  while (i > 0) {
    --i;
    char c = text_[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      continue;
    }
    // Skip a comment at the end of this line, if `c` is inside one.
    size_t lineStart = text_.rfind('\n', i);
    lineStart = lineStart == std::string_view::npos ? 0 : lineStart + 1;
    size_t hash = std::string_view::npos;
    for (size_t j = lineStart; j <= i; ++j) {
      if (text_[j] == '#' && (j == lineStart || text_[j - 1] == ' ' || text_[j - 1] == '\t')) {
        hash = j;
        break;
      }
    }
    if (hash != std::string_view::npos) {
      i = hash;
      continue;
    }
    return c == '-' ? offsetToPos(i) : fallback;
  }
  return fallback;
}

bool YamlReader::readDocument(YAML::Node& root) {
  std::vector<YAML::Node> docs;
  if (!parse(docs)) {
    return false;
  }
  if (docs.empty() || (docs.size() == 1 && docs[0].IsNull())) {
    bool blank = true;
    for (size_t start = 0; start < text_.size() && blank;) {
      size_t end = std::min(text_.find('\n', start), text_.size());
      std::string_view row = text_.substr(start, end - start);
      size_t first = row.find_first_not_of(" \t\r");
      blank = first == std::string_view::npos || row[first] == '#' || row.substr(first, 3) == "---";
      start = end + 1;
    }
    error({1, 1}, blank ? "the config is empty; expected a map with at least 'listeners' and 'pools'"
                        : "no YAML value could be read; expected a map with at least 'listeners' and 'pools'");
    return false;
  }
  if (docs.size() > 1) {
    Pos at = toPos(docs[1].Mark());
    error(at.line == 0 ? Pos{1, 1} : at,
          "expected a single YAML document, found a second one (remove the '---' separator)");
  }
  root = docs[0];
  return true;
}

// --- generic readers: each reports its own errors and returns false / nullopt on failure ---

std::optional<MapView> YamlReader::readMap(const YAML::Node& node, Pos at, const std::string& path,
                                           const std::vector<std::string_view>& accepted) {
  return readMapImpl(node, at, path, &accepted);
}

std::optional<MapView> YamlReader::readFreeMap(const Entry& e) {
  if (e.value.IsNull()) {
    return MapView{e.path, e.pos, {}};
  }
  return readMapImpl(e.value, e.pos, e.path, nullptr);
}

// `accepted` == nullptr: any key.
std::optional<MapView> YamlReader::readMapImpl(const YAML::Node& node, Pos at, const std::string& path,
                                               const std::vector<std::string_view>* accepted) {
  if (!node.IsMap()) {
    if (path.empty()) {
      error(at, "expected a map at the top level (with keys such as listeners and pools), got " +
                    describe(node));
    } else {
      error(at, path + ": expected a map, got " + describe(node));
    }
    return std::nullopt;
  }
  MapView map;
  map.path = path;
  map.pos = at;
  std::string prefix = path.empty() ? "" : path + ": ";
  for (auto it = node.begin(); it != node.end(); ++it) {
    // Copies: it-> yields a temporary pair, so references into it would dangle.
    YAML::Node keyNode = it->first;
    YAML::Node valueNode = it->second;
    Pos keyPos = toPos(keyNode.Mark());
    if (!keyNode.IsScalar()) {
      error(keyPos, prefix + "expected a plain string as a key, got " + describe(keyNode));
      ++map.rejected;
      continue;
    }
    Entry entry;
    entry.key = keyNode.Scalar();
    entry.path = path.empty() ? entry.key : path + "." + entry.key;
    entry.value = valueNode;
    entry.keyPos = keyPos;
    entry.pos = toPos(entry.value.Mark());
    // An empty value ("key:" at the end of a line) is marked at the next token, which may be on
    // a later line: report it at the key instead.
    if (entry.value.IsNull() || entry.pos.line == 0) {
      if (entry.pos.line != keyPos.line) {
        entry.pos = keyPos;
      }
    }
    if (const Entry* first = map.find(entry.key)) {
      error(keyPos, prefix + "duplicate key " + quote(entry.key) + " (first given at line " +
                        std::to_string(first->keyPos.line) + "); expected each key once");
      ++map.rejected;
      continue;
    }
    if (accepted != nullptr && std::find(accepted->begin(), accepted->end(), entry.key) == accepted->end()) {
      std::string message = prefix + "unknown key " + quote(entry.key);
      if (auto guess = suggest(entry.key, *accepted)) {
        message += " (did you mean " + quote(*guess) + "?)";
      }
      error(keyPos, message + "; expected one of: " + joined(*accepted));
      ++map.rejected;
      continue;
    }
    map.entries.push_back(std::move(entry));
  }
  return map;
}

std::optional<MapView> YamlReader::readSection(const Entry& e, const std::vector<std::string_view>& accepted) {
  if (e.value.IsNull()) {
    return MapView{e.path, e.pos, {}};
  }
  return readMap(e.value, e.pos, e.path, accepted);
}

bool YamlReader::requireKey(const MapView& map, std::string_view key, std::string_view hint) {
  if (map.find(key) != nullptr) {
    return true;
  }
  error(map.pos, (map.path.empty() ? "" : map.path + ": ") + "missing required key " + quote(key) +
                     (hint.empty() ? "" : " (" + std::string(hint) + ")"));
  return false;
}

std::optional<std::vector<Item>> YamlReader::readList(const Entry& e, std::string_view itemWhat, bool allowEmpty) {
  if (!e.value.IsSequence()) {
    error(e.pos, e.path + ": expected a list of " + std::string(itemWhat) + ", got " + describe(e.value));
    return std::nullopt;
  }
  if (e.value.size() == 0 && !allowEmpty) {
    error(e.pos, e.path + ": expected at least one entry in the list of " + std::string(itemWhat) +
                     ", got an empty list");
    return std::nullopt;
  }
  std::vector<Item> items;
  Pos listPos = e.pos;
  for (size_t i = 0; i < e.value.size(); ++i) {
    YAML::Node node = e.value[i];
    Pos pos = toPos(node.Mark());
    if (node.IsNull() || pos.line == 0) {
      pos = emptyItemPos(node, listPos);
    }
    items.push_back(Item{node, pos, e.path + "[" + std::to_string(i) + "]"});
  }
  return items;
}

bool YamlReader::readScalar(const Entry& e, std::string_view expected, std::string& out) {
  if (!e.value.IsScalar()) {
    error(e.pos, e.path + ": expected " + std::string(expected) + ", got " + describe(e.value));
    return false;
  }
  out = e.value.Scalar();
  return true;
}

std::optional<std::vector<Item>> YamlReader::readOneOrList(const Entry& e, std::string_view itemWhat) {
  if (e.value.IsSequence()) {
    return readList(e, itemWhat, false);
  }
  return std::vector<Item>{Item{e.value, e.pos, e.path}};
}

bool YamlReader::readString(const Entry& e, std::string& out) { return readScalar(e, "a string", out); }

bool YamlReader::readName(const Entry& e, std::string& out) {
  std::string text;
  if (!readScalar(e, "a name", text)) {
    return false;
  }
  if (!isValidName(text)) {
    error(e.pos, e.path + ": invalid name " + quote(text) +
                     "; expected 1 to 64 characters from A-Z, a-z, 0-9, '_', '.' and '-'");
    return false;
  }
  out = std::move(text);
  return true;
}

bool YamlReader::readBool(const Entry& e, bool& out) {
  std::string text;
  if (e.value.IsScalar()) {
    text = e.value.Scalar();
    if (text == "true" || text == "True" || text == "TRUE") {
      out = true;
      return true;
    }
    if (text == "false" || text == "False" || text == "FALSE") {
      out = false;
      return true;
    }
  }
  error(e.pos, e.path + ": expected a boolean (true/false), got " + describe(e.value));
  return false;
}

std::optional<YamlReader::IntegerText> YamlReader::readIntegerText(const Entry& e, const std::string& range) {
  std::string text = e.value.IsScalar() ? e.value.Scalar() : "";
  std::string_view digits = text;
  bool negative = !digits.empty() && digits.front() == '-';
  if (negative || (!digits.empty() && digits.front() == '+')) {
    digits.remove_prefix(1);
  }
  if (!e.value.IsScalar() || !isDigits(digits)) {
    error(e.pos, e.path + ": expected an integer in " + range + ", got " + describe(e.value));
    return std::nullopt;
  }
  return IntegerText{std::move(text), negative};
}

void YamlReader::outOfRange(const Entry& e, const std::string& lo, const std::string& hi, const std::string& text) {
  error(e.pos, e.path + ": must be between " + lo + " and " + hi + ", got " + text);
}

bool YamlReader::readUint(const Entry& e, int64_t lo, int64_t hi, uint32_t& out) {
  auto integer = readIntegerText(e, std::to_string(lo) + ".." + std::to_string(hi));
  if (!integer) {
    return false;
  }
  std::string_view digits = integer->digits();
  // Anything longer than 12 digits is out of every range here; avoid overflow while parsing.
  int64_t value = digits.size() > 12 ? INT64_MAX : std::stoll(std::string(digits));
  if (integer->negative) {
    value = -value;
  }
  if (value < lo || value > hi) {
    outOfRange(e, std::to_string(lo), std::to_string(hi), integer->text);
    return false;
  }
  out = static_cast<uint32_t>(value);
  return true;
}

bool YamlReader::readUint64(const Entry& e, uint64_t lo, uint64_t hi, uint64_t& out) {
  auto integer = readIntegerText(e, std::to_string(lo) + ".." + std::to_string(hi));
  if (!integer) {
    return false;
  }
  std::string_view digits = integer->digits();
  size_t first = std::min(digits.find_first_not_of('0'), digits.size());
  std::string_view significant = digits.substr(first);
  bool zero = significant.empty();
  // 19 digits always fit in uint64_t; longer numbers are out of every range here.
  uint64_t value = significant.size() > 19 ? UINT64_MAX : zero ? 0 : std::stoull(std::string(significant));
  if ((integer->negative && !zero) || value < lo || value > hi) {
    outOfRange(e, std::to_string(lo), std::to_string(hi), integer->text);
    return false;
  }
  out = value;
  return true;
}

bool YamlReader::readDuration(const Entry& e, Millis& out) { return readDuration(e, kMinTimeout, kMaxTimeout, out); }

bool YamlReader::readDuration(const Entry& e, Millis lo, Millis hi, Millis& out) {
  std::string text;
  if (!readScalar(e, "a duration such as 250ms, 5s, 2m or 1h", text)) {
    return false;
  }
  Millis value{};
  std::string why;
  if (!parseDuration(text, value, why)) {
    error(e.pos, e.path + ": " + why);
    return false;
  }
  if (value < lo || value > hi) {
    error(e.pos, e.path + ": must be between " + formatDuration(lo) + " and " + formatDuration(hi) +
                     ", got " + text);
    return false;
  }
  out = value;
  return true;
}

std::optional<size_t> YamlReader::readChoice(const Entry& e, const std::vector<std::string_view>& choices,
                                 bool hint) {
  std::string text;
  if (!readScalar(e, "one of: " + joined(choices), text)) {
    return std::nullopt;
  }
  for (size_t i = 0; i < choices.size(); ++i) {
    if (text == choices[i]) {
      return i;
    }
  }
  std::string message = e.path + ": unknown value " + quote(text);
  std::optional<std::string_view> guess;
  if (hint) {
    auto sameLetters = [&](std::string_view word) {
      return std::equal(text.begin(), text.end(), word.begin(), word.end(),
                        [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) ==
                                                    std::tolower(static_cast<unsigned char>(b)); });
    };
    auto it = std::find_if(choices.begin(), choices.end(), sameLetters);
    guess = it != choices.end() ? std::optional<std::string_view>(*it) : suggest(text, choices);
  }
  if (guess) {
    message += " (did you mean " + quote(*guess) + "?)";
  }
  error(e.pos, message + "; expected one of: " + joined(choices));
  return std::nullopt;
}

bool YamlReader::readPort(const Entry& e, int64_t lo, uint16_t& out) {
  uint32_t value = 0;
  if (!readUint(e, lo, 65535, value)) {
    return false;
  }
  out = static_cast<uint16_t>(value);
  return true;
}

bool YamlReader::readAddress(const Entry& e, SocketAddress& out) {
  if (!e.value.IsScalar()) {
    // Usually an unquoted [::1]:8080, which YAML reads as a list or a map.
    error(e.pos, e.path +
                     ": expected host:port such as 127.0.0.1:8080 or \"[::1]:8080\" (quote IPv6 "
                     "addresses), got " +
                     describe(e.value));
    return false;
  }
  std::string text = e.value.Scalar();
  std::string why;
  if (!parseSocketAddress(text, out, why)) {
    error(e.pos, e.path + ": " + why);
    return false;
  }
  return true;
}

void YamlReader::readCidrList(const Entry& e, std::vector<Cidr>& out) {
  auto items = readList(e, "addresses or CIDR ranges", true);
  if (!items) {
    return;
  }
  for (const Item& item : *items) {
    if (!item.node.IsScalar()) {
      error(item.pos, item.path + ": expected an address or CIDR range such as 10.0.0.0/8, got " +
                          describe(item.node));
      continue;
    }
    Cidr cidr;
    std::string why;
    if (!parseCidr(item.node.Scalar(), cidr, why)) {
      error(item.pos, item.path + ": " + why);
      continue;
    }
    out.push_back(std::move(cidr));
  }
}

}  // namespace fulcrum::config::detail
