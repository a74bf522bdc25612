#include "gw/json_tape.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "gw/stable_sort.h"
#include "json_chars.h"

namespace gw::json {

namespace {

bool isWs(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
bool isDigit(char c) { return c >= '0' && c <= '9'; }

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void appendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Length of a valid UTF-8 sequence starting at s[i], or 0 if invalid.
size_t utf8SequenceLength(std::string_view s, size_t i) {
  auto b = static_cast<unsigned char>(s[i]);
  size_t len;
  uint32_t cp;
  if (b < 0x80) return 1;
  if ((b & 0xE0) == 0xC0) { len = 2; cp = b & 0x1F; }
  else if ((b & 0xF0) == 0xE0) { len = 3; cp = b & 0x0F; }
  else if ((b & 0xF8) == 0xF0) { len = 4; cp = b & 0x07; }
  else return 0;
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (c & 0x3F);
  }
  // Reject overlong forms, surrogates and values past U+10FFFF.
  if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return 0;
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

}  // namespace

bool Tape::fail(uint32_t offset, const char* what) {
  error_.offset = offset;
  error_.what = what;
  return false;
}

void Tape::skipWs() {
  while (pos_ < text_.size() && isWs(text_[pos_])) ++pos_;
}

bool Tape::parse(std::string_view text, Limits limits) {
  text_ = text;
  pos_ = 0;
  limits_ = limits;
  nodes_.clear();
  nodes_.reserve(text.size() / 8 + 8);
  nodes_.push_back({Kind::Null, false, 0, 0, 1, 0});  // index 0: absent
  error_ = {};
  if (text.size() > 0xFFFFFFF0u) return fail(0, "document too large");
  skipWs();
  if (pos_ >= text_.size()) return fail(pos_, "empty document");
  if (!parseValue(0)) return false;
  skipWs();
  if (pos_ != text_.size()) return fail(pos_, "unexpected data after the JSON value");
  return true;
}

bool Tape::parseValue(uint32_t depth) {
  if (pos_ >= text_.size()) return fail(pos_, "unexpected end of input");
  if (nodes_.size() >= limits_.maxNodes) return fail(pos_, "too many values");
  char c = text_[pos_];
  switch (c) {
    case '{':
    case '[': {
      if (depth >= limits_.maxDepth) return fail(pos_, "nesting too deep");
      bool isObject = c == '{';
      char close = isObject ? '}' : ']';
      uint32_t self = static_cast<uint32_t>(nodes_.size());
      nodes_.push_back({isObject ? Kind::Object : Kind::Array, false, pos_, 0, 0, 0});
      ++pos_;
      skipWs();
      uint32_t count = 0;
      if (pos_ < text_.size() && text_[pos_] == close) {
        ++pos_;
      } else {
        for (;;) {
          const uint32_t keyNode = static_cast<uint32_t>(nodes_.size());
          if (isObject) {
            if (pos_ >= text_.size() || text_[pos_] != '"') return fail(pos_, "expected a string key");
            if (!parseString()) return false;
            skipWs();
            if (pos_ >= text_.size() || text_[pos_] != ':') return fail(pos_, "expected ':'");
            ++pos_;
            skipWs();
          }
          if (!parseValue(depth + 1)) {
            if (!error_.duplicateKey.empty()) {
              if (isObject) prependPath(string(keyNode));
              else prependPath("[" + std::to_string(count) + "]");
            }
            return false;
          }
          ++count;
          skipWs();
          if (pos_ >= text_.size()) return fail(pos_, "unexpected end of input");
          if (text_[pos_] == ',') {
            ++pos_;
            skipWs();
            continue;
          }
          if (text_[pos_] == close) {
            ++pos_;
            break;
          }
          return fail(pos_, isObject ? "expected ',' or '}'" : "expected ',' or ']'");
        }
      }
      Node& n = nodes_[self];
      n.end = pos_;
      n.count = count;
      n.next = static_cast<uint32_t>(nodes_.size());
      return !isObject || count < 2 || checkUniqueKeys(self);
    }
    case '"':
      return parseString();
    case 't':
      return parseLiteral("true", Kind::True);
    case 'f':
      return parseLiteral("false", Kind::False);
    case 'n':
      return parseLiteral("null", Kind::Null);
    default:
      if (c == '-' || isDigit(c)) return parseNumber();
      return fail(pos_, "unexpected character");
  }
}

// Built for size although this file is built for speed: most objects have
// a handful of members, and the rest of the check is rare.
#if defined(__clang__)
#define GW_MINSIZE __attribute__((minsize))
#else
#define GW_MINSIZE
#endif

GW_MINSIZE bool Tape::checkUniqueKeys(uint32_t object) {
  const uint32_t stop = nodes_[object].next;
  // "a" and "\u0061" are the same key: escaped keys compare decoded.
  const auto compare = [this](uint32_t a, uint32_t b) {
    if (!nodes_[a].hasEscapes && !nodes_[b].hasEscapes) return rawString(a).compare(rawString(b));
    return string(a).compare(string(b));
  };
  // Equality alone, lengths first: most keys of an object differ in length.
  const auto same = [this](uint32_t a, uint32_t b) {
    if (!nodes_[a].hasEscapes && !nodes_[b].hasEscapes) return rawString(a) == rawString(b);
    return string(a) == string(b);
  };
  uint32_t repeated = 0;
  if (nodes_[object].count <= 16) {
    // Small objects (nearly all): pairwise, in place, no allocation.
    for (uint32_t k = nodes_[object + 1 + 1].next; k < stop && repeated == 0; k = nodes_[k + 1].next)
      for (uint32_t j = object + 1; j < k && repeated == 0; j = nodes_[j + 1].next)
        if (same(j, k)) repeated = k;
  } else {
    // Large ones sorted (a hostile body must not make this quadratic);
    // stably, so of equal keys the later follows and is the one named.
    std::vector<uint32_t> keys;
    keys.reserve(nodes_[object].count);
    for (uint32_t k = object + 1; k < stop; k = nodes_[k + 1].next) keys.push_back(k);
    stableSort(keys, [&compare](uint32_t a, uint32_t b) { return compare(a, b) < 0; });
    for (size_t i = 1; i < keys.size(); ++i)
      if (same(keys[i - 1], keys[i]) && (repeated == 0 || keys[i] < repeated)) repeated = keys[i];
  }
  if (repeated == 0) return true;
  fail(nodes_[repeated].begin, "duplicate key");
  error_.duplicateKey.clear();
  prependPath(string(repeated));
  return false;
}

GW_MINSIZE void Tape::prependPath(std::string_view step) {
  if (step.empty()) step = "\"\"";  // the empty key, still named
  std::string& path = error_.duplicateKey;
  const bool joined = !path.empty() && path.front() != '[';
  path.insert(0, joined ? std::string(step) + "." : std::string(step));
}

bool Tape::parseString() {
  uint32_t start = pos_;
  ++pos_;  // opening quote
  bool escapes = false;
  const size_t size = text_.size();
  for (;;) {
    // Fast scan over plain ASCII.
    const char* p = text_.data();
    while (pos_ < size && PLAIN.plain[static_cast<unsigned char>(p[pos_])]) ++pos_;
    if (pos_ >= size) return fail(start, "unterminated string");
    auto b = static_cast<unsigned char>(text_[pos_]);
    if (b == '"') break;
    if (b < 0x20) return fail(pos_, "control character in string");
    if (b == '\\') {
      escapes = true;
      if (pos_ + 1 >= size) return fail(pos_, "unterminated escape");
      char e = text_[pos_ + 1];
      if (e == 'u') {
        if (pos_ + 6 > size) return fail(pos_, "bad \\u escape");
        for (int k = 2; k < 6; ++k)
          if (hexValue(text_[pos_ + k]) < 0) return fail(pos_, "bad \\u escape");
        pos_ += 6;
      } else if (std::strchr("\"\\/bfnrt", e) != nullptr && e != '\0') {
        pos_ += 2;
      } else {
        return fail(pos_, "bad escape");
      }
      continue;
    }
    size_t len = utf8SequenceLength(text_, pos_);
    if (len == 0) return fail(pos_, "invalid UTF-8 in string");
    pos_ += static_cast<uint32_t>(len);
  }
  ++pos_;  // closing quote
  uint32_t self = static_cast<uint32_t>(nodes_.size());
  nodes_.push_back({Kind::String, escapes, start, pos_, self + 1, 0});
  return true;
}

bool Tape::parseNumber() {
  uint32_t start = pos_;
  const size_t size = text_.size();
  if (text_[pos_] == '-') ++pos_;
  if (pos_ >= size) return fail(start, "bad number");
  if (text_[pos_] == '0') {
    ++pos_;
  } else if (isDigit(text_[pos_])) {
    while (pos_ < size && isDigit(text_[pos_])) ++pos_;
  } else {
    return fail(start, "bad number");
  }
  if (pos_ < size && text_[pos_] == '.') {
    ++pos_;
    if (pos_ >= size || !isDigit(text_[pos_])) return fail(start, "bad number");
    while (pos_ < size && isDigit(text_[pos_])) ++pos_;
  }
  if (pos_ < size && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
    ++pos_;
    if (pos_ < size && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
    if (pos_ >= size || !isDigit(text_[pos_])) return fail(start, "bad number");
    while (pos_ < size && isDigit(text_[pos_])) ++pos_;
  }
  uint32_t self = static_cast<uint32_t>(nodes_.size());
  nodes_.push_back({Kind::Number, false, start, pos_, self + 1, 0});
  return true;
}

bool Tape::parseLiteral(std::string_view word, Kind kind) {
  if (text_.substr(pos_, word.size()) != word) return fail(pos_, "unexpected character");
  uint32_t self = static_cast<uint32_t>(nodes_.size());
  nodes_.push_back({kind, false, pos_, static_cast<uint32_t>(pos_ + word.size()), self + 1, 0});
  pos_ += static_cast<uint32_t>(word.size());
  return true;
}

uint32_t Tape::firstChild(uint32_t container) const {
  return nodes_[container].count > 0 ? container + 1 : 0;
}

uint32_t Tape::nextSibling(uint32_t container, uint32_t child) const {
  uint32_t n = nodes_[child].next;
  return n < nodes_[container].next ? n : 0;
}

uint32_t Tape::find(uint32_t object, std::string_view key) const {
  if (nodes_[object].kind != Kind::Object) return 0;
  const uint32_t stop = nodes_[object].next;
  uint32_t k = object + 1;
  while (k < stop) {
    uint32_t v = k + 1;
    if (stringEquals(k, key)) return v;
    k = nodes_[v].next;
  }
  return 0;
}

std::string Tape::stringAt(uint32_t object, std::string_view key) const {
  uint32_t v = find(object, key);
  return v != 0 && nodes_[v].kind == Kind::String ? string(v) : std::string();
}

int64_t Tape::integerAt(uint32_t object, std::string_view key, int64_t fallback) const {
  uint32_t v = find(object, key);
  int64_t out = fallback;
  if (v != 0 && nodes_[v].kind == Kind::Number && isInteger(v, &out)) return out;
  return fallback;
}

bool Tape::booleanAt(uint32_t object, std::string_view key, bool fallback) const {
  uint32_t v = find(object, key);
  if (v == 0) return fallback;
  return nodes_[v].kind == Kind::True ? true : nodes_[v].kind == Kind::False ? false : fallback;
}

std::vector<int64_t> Tape::integersAt(uint32_t object, std::string_view key) const {
  std::vector<int64_t> out;
  uint32_t a = find(object, key);
  if (a == 0 || nodes_[a].kind != Kind::Array) return out;
  for (uint32_t v = firstChild(a); v != 0; v = nextSibling(a, v)) {
    int64_t n = 0;
    if (nodes_[v].kind == Kind::Number && isInteger(v, &n)) out.push_back(n);
  }
  return out;
}

std::string Tape::string(uint32_t i) const {
  std::string out;
  std::string_view content = rawString(i);
  if (!nodes_[i].hasEscapes) return std::string(content);
  unescape(content, out);
  return out;
}

bool Tape::stringEquals(uint32_t i, std::string_view s) const {
  if (nodes_[i].kind != Kind::String) return false;
  if (!nodes_[i].hasEscapes) return rawString(i) == s;
  return string(i) == s;
}

double Tape::number(uint32_t i) const {
  // The span is a validated JSON number. Up to 19 significant digits are
  // kept; with at most 15 of them and a power of ten within ±22 (every value
  // the gateway reads: prices, temperatures, limits) one exact operation
  // gives the correctly rounded double, as strtod would. Beyond that the
  // result is within a few ULP. No strtod: it links musl's long-double scanner.
  static constexpr double POW10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                     1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  const std::string_view r = raw(i);
  size_t k = r[0] == '-' ? 1 : 0;
  uint64_t mantissa = 0;
  int digits = 0;
  int64_t exp10 = 0;
  bool fraction = false;
  for (; k < r.size() && r[k] != 'e' && r[k] != 'E'; ++k) {
    if (r[k] == '.') {
      fraction = true;
    } else if (mantissa == 0 && r[k] == '0') {
      exp10 -= fraction;
    } else if (digits < 19) {
      mantissa = mantissa * 10 + static_cast<uint64_t>(r[k] - '0');
      ++digits;
      exp10 -= fraction;
    } else {
      exp10 += !fraction;
    }
  }
  if (k < r.size()) {
    ++k;
    const bool negative = r[k] == '-';
    if (r[k] == '-' || r[k] == '+') ++k;
    int64_t e = 0;
    for (; k < r.size(); ++k) e = std::min<int64_t>(e * 10 + (r[k] - '0'), 100000);
    exp10 += negative ? -e : e;
  }
  double v = static_cast<double>(mantissa);
  if (mantissa != 0) {
    for (; exp10 > 22; exp10 -= 22) v *= 1e22;
    for (; exp10 < -22; exp10 += 22) v /= 1e22;
    v = exp10 >= 0 ? v * POW10[exp10] : v / POW10[-exp10];
  }
  return r[0] == '-' ? -v : v;
}

bool Tape::isInteger(uint32_t i, int64_t* out) const {
  if (nodes_[i].kind != Kind::Number) return false;
  std::string_view r = raw(i);
  size_t k = 0;
  bool negative = false;
  if (r[0] == '-') {
    negative = true;
    k = 1;
  }
  uint64_t value = 0;
  for (; k < r.size(); ++k) {
    char c = r[k];
    if (!isDigit(c)) {
      // Accept 2.0 or 1e3 as integers the way JSON schema does.
      double d = number(i);
      // Range first: converting an out-of-range double to an integer is undefined.
      if (!(d <= 9.0e18 && d >= -9.0e18) || d != static_cast<double>(static_cast<int64_t>(d))) return false;
      if (out) *out = static_cast<int64_t>(d);
      return true;
    }
    if (value > (UINT64_MAX - 9) / 10) return false;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (value > static_cast<uint64_t>(INT64_MAX)) return false;
  if (out) *out = negative ? -static_cast<int64_t>(value) : static_cast<int64_t>(value);
  return true;
}

bool unescape(std::string_view s, std::string& out) {
  out.reserve(out.size() + s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (++i >= s.size()) return false;
    switch (s[i]) {
      case '"': out.push_back('"'); break;
      case '\\': out.push_back('\\'); break;
      case '/': out.push_back('/'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'u': {
        auto readHex = [&](size_t at, uint32_t* cp) {
          if (at + 4 > s.size()) return false;
          uint32_t v = 0;
          for (size_t k = 0; k < 4; ++k) {
            int h = hexValue(s[at + k]);
            if (h < 0) return false;
            v = (v << 4) | static_cast<uint32_t>(h);
          }
          *cp = v;
          return true;
        };
        uint32_t cp;
        if (!readHex(i + 1, &cp)) return false;
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 < s.size() && s[i + 1] == '\\' && s[i + 2] == 'u') {
          uint32_t low;
          if (readHex(i + 3, &low) && low >= 0xDC00 && low <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            i += 6;
          }
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;  // lone surrogate
        appendUtf8(out, cp);
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

}  // namespace gw::json
