#pragma once
// PRIVATE to src/config: the YAML parsing and the generic, error-reporting value readers that the
// config loader and its section readers (schema.h) are built on. It includes
// yaml-cpp, which must stay invisible outside this folder: never include this header from
// anything outside src/config (config/loader.h is the public interface).
//
// Every reader reports its own problems as "path: what was wrong; expected ..." at the value's
// file:line:column and returns false / nullopt on failure, so callers just skip the value.
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/loader.h"
#include "config/model.h"

namespace fulcrum::config::detail {

inline constexpr size_t kMaxNameLength = 64;
inline constexpr Millis kMinTimeout{1};
inline constexpr Millis kMaxTimeout = std::chrono::hours(24);

// 1-based position in the file; line 0 means "unknown".
struct Pos {
  int line = 0;
  int column = 0;
};

Pos toPos(const YAML::Mark& mark);

// `text` in double quotes for messages (newlines and quotes escaped, cut after 60 characters).
std::string quote(std::string_view text);

// "got ..." wording for type errors: "a list", "a map", the quoted scalar or "an empty value".
std::string describe(const YAML::Node& node);

// "a, b, c".
std::string joined(const std::vector<std::string_view>& words);

// The closest accepted word to a typo, if it is close enough to be a plausible intent.
std::optional<std::string_view> suggest(std::string_view typo, const std::vector<std::string_view>& words);

// 1 to 64 characters from A-Z, a-z, 0-9, '_', '.' and '-'.
bool isValidName(std::string_view name);

bool isDigits(std::string_view text);

// An HTTP token (RFC 9110): header and cookie names, methods.
bool isToken(std::string_view text);

// One key of a YAML map, with the positions where its errors are reported.
struct Entry {
  std::string key;
  std::string path;  // e.g. "listeners[0].bind": prefixes every message about this value
  YAML::Node value;
  Pos keyPos;
  Pos pos;  // the value's position, or the key's when the value is empty
};

struct MapView {
  std::string path;
  Pos pos;
  std::vector<Entry> entries;  // in file order
  size_t rejected = 0;         // keys left out after an error (unknown, duplicate or not a string)

  const Entry* find(std::string_view key) const {
    for (const auto& e : entries) {
      if (e.key == key) {
        return &e;
      }
    }
    return nullptr;
  }
};

// One element of a YAML list.
struct Item {
  YAML::Node node;
  Pos pos;
  std::string path;  // e.g. "pools[0].servers[2]"
};

// A list item seen as a map entry (empty key), so that the Entry readers can read it.
Entry asEntry(const Item& item);

class YamlReader {
 public:
  YamlReader(std::string_view text, std::string source) : text_(text), source_(std::move(source)) {}

  void error(Pos at, std::string message);
  // "file:line:column" of a position, for messages given later (certificates loaded by tls/).
  std::string where(Pos at) const {
    return source_ + ":" + std::to_string(at.line) + ":" + std::to_string(at.column);
  }
  // A file named in the config: relative names are relative to the config file's directory.
  std::string resolvePath(const std::string& name) const;

  // Parses the text as one YAML document. False (after reporting why) when there is nothing to read.
  bool readDocument(YAML::Node& root);

  // --- generic readers: each reports its own errors and returns false / nullopt on failure ---

  // A map whose keys must be among `accepted` (others: "unknown key ... did you mean").
  std::optional<MapView> readMap(const YAML::Node& node, Pos at, const std::string& path,
                                 const std::vector<std::string_view>& accepted);
  // A map with any (scalar, unique) keys, e.g. header names.
  std::optional<MapView> readFreeMap(const Entry& e);
  // Optional sections written as "timeouts:" with nothing under them count as empty.
  std::optional<MapView> readSection(const Entry& e, const std::vector<std::string_view>& accepted);
  bool requireKey(const MapView& map, std::string_view key, std::string_view hint);
  std::optional<std::vector<Item>> readList(const Entry& e, std::string_view itemWhat, bool allowEmpty);
  // A single value or a non-empty list of them; a single value is returned as one item.
  std::optional<std::vector<Item>> readOneOrList(const Entry& e, std::string_view itemWhat);
  bool readScalar(const Entry& e, std::string_view expected, std::string& out);
  bool readString(const Entry& e, std::string& out);
  bool readName(const Entry& e, std::string& out);
  bool readBool(const Entry& e, bool& out);
  bool readUint(const Entry& e, int64_t lo, int64_t hi, uint32_t& out);
  bool readUint64(const Entry& e, uint64_t lo, uint64_t hi, uint64_t& out);
  bool readDuration(const Entry& e, Millis& out);  // kMinTimeout..kMaxTimeout
  bool readDuration(const Entry& e, Millis lo, Millis hi, Millis& out);
  // Returns the index of the value in `choices`, or nullopt after reporting an error.
  // With `hint`, a close misspelling gets a "did you mean" (for long lists of long names).
  std::optional<size_t> readChoice(const Entry& e, const std::vector<std::string_view>& choices, bool hint = false);
  bool readPort(const Entry& e, int64_t lo, uint16_t& out);
  bool readAddress(const Entry& e, SocketAddress& out);
  // A list (possibly empty) of addresses or CIDR ranges; bad items are reported and skipped.
  void readCidrList(const Entry& e, std::vector<Cidr>& out);

 protected:
  std::string_view text_;
  std::string source_;
  std::vector<Diagnostic> errors_;

 private:
  // An integer's text as written ("-05", "+3", "12"): the sign is kept for messages.
  struct IntegerText {
    std::string text;
    bool negative = false;
    std::string_view digits() const { return std::string_view(text).substr(text[0] == '-' || text[0] == '+' ? 1 : 0); }
  };
  // The text of an integer scalar; nullopt after "expected an integer in `range`" for anything else.
  std::optional<IntegerText> readIntegerText(const Entry& e, const std::string& range);
  void outOfRange(const Entry& e, const std::string& lo, const std::string& hi, const std::string& text);

  bool checkText();
  std::optional<int> secondDocumentLine() const;
  bool parse(std::vector<YAML::Node>& docs);
  static std::string syntaxHint(const std::string& msg);
  std::string_view lineText(int line) const;
  static size_t unquotedBracketedAddress(std::string_view row);
  std::optional<Pos> tabIndentBefore(int line) const;
  Pos offsetToPos(size_t offset) const;
  Pos emptyItemPos(const YAML::Node& item, Pos fallback) const;
  std::optional<MapView> readMapImpl(const YAML::Node& node, Pos at, const std::string& path,
                                     const std::vector<std::string_view>* accepted);
};

}  // namespace fulcrum::config::detail
