#pragma once
// A strict, allocation-light JSON reader for the hot path. It validates the
// whole document once (RFC 8259) and records every value as a node on a flat
// tape, so fields can be looked up and byte spans spliced without building a
// DOM or re-serialising the request (a full nlohmann round trip of 1 KB costs
// ~45 µs in wasm; this costs a small fraction of that).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gw::json {

enum class Kind : uint8_t { Object, Array, String, Number, True, False, Null };

struct Node {
  Kind kind;
  bool hasEscapes = false;  // strings only: content needs unescaping
  uint32_t begin = 0;       // byte offset of the value's first byte
  uint32_t end = 0;         // one past the value's last byte
  uint32_t next = 0;        // tape index just after this subtree
  uint32_t count = 0;       // members (object) or elements (array)
};

struct ParseError {
  uint32_t offset = 0;
  const char* what = "";
  // A key repeated within one object: its path from the root, such as
  // `messages[0].role`. Readers disagree on which occurrence wins (this one
  // would read the first, most providers the last), so a document with a
  // repeated key is refused rather than read either way.
  std::string duplicateKey;
};

struct Limits {
  uint32_t maxDepth = 64;
  uint32_t maxNodes = 1u << 20;
};

// A parsed document. Object members are stored as key node, value node pairs.
class Tape {
 public:
  bool parse(std::string_view text, Limits limits = {});
  const ParseError& error() const { return error_; }
  std::string_view text() const { return text_; }

  // The document's value. Index 0 is a placeholder that stands for "absent"
  // (a Null no lookup ever returns), so a lookup on an absent value is
  // absent too: find(find(root, "metadata"), "user_id") is never the
  // root's own "user_id".
  uint32_t root() const { return 1; }
  const Node& node(uint32_t i) const { return nodes_[i]; }
  Kind kind(uint32_t i) const { return nodes_[i].kind; }
  std::string_view raw(uint32_t i) const {
    return text_.substr(nodes_[i].begin, nodes_[i].end - nodes_[i].begin);
  }

  // Member lookup on an object node; returns 0 (absent) when there is none.
  uint32_t find(uint32_t object, std::string_view key) const;

  // Iteration: first child / next sibling; 0 means none.
  uint32_t firstChild(uint32_t container) const;
  uint32_t nextSibling(uint32_t container, uint32_t child) const;

  // String helpers: content without quotes; decoded value (handles escapes).
  std::string_view rawString(uint32_t i) const {
    return text_.substr(nodes_[i].begin + 1, nodes_[i].end - nodes_[i].begin - 2);
  }
  std::string string(uint32_t i) const;
  bool stringEquals(uint32_t i, std::string_view s) const;

  // Numbers: the double strtod would give for up to 15 significant digits and
  // powers of ten within ±22, within a few ULP beyond; isInteger is true for
  // integral values (2.0 and 1e3 too) that fit in int64.
  double number(uint32_t i) const;
  bool isInteger(uint32_t i, int64_t* out) const;

  // Member shortcuts: the decoded string (empty when absent or not a
  // string) and the integer (`fallback` when absent or not an integer).
  std::string stringAt(uint32_t object, std::string_view key) const;
  int64_t integerAt(uint32_t object, std::string_view key, int64_t fallback = 0) const;
  bool booleanAt(uint32_t object, std::string_view key, bool fallback) const;
  // The integer elements of the array at `key` (others skipped).
  std::vector<int64_t> integersAt(uint32_t object, std::string_view key) const;

 private:
  bool fail(uint32_t offset, const char* what);
  bool parseValue(uint32_t depth);
  // Fails when two members of the object at tape index `object` share a key.
  bool checkUniqueKeys(uint32_t object);
  // While a duplicate-key failure unwinds, each container adds its step.
  void prependPath(std::string_view step);
  bool parseString();
  bool parseNumber();
  bool parseLiteral(std::string_view word, Kind kind);
  void skipWs();

  std::string_view text_;
  uint32_t pos_ = 0;
  Limits limits_;
  std::vector<Node> nodes_;
  ParseError error_;
};

// Decodes JSON string content (without quotes) into UTF-8.
bool unescape(std::string_view content, std::string& out);

}  // namespace gw::json
