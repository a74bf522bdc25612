#pragma once
// Appends compact JSON to a string. Used for effects, errors and synthesized
// responses: cheaper than building a DOM, and the output is always valid
// (strings are escaped, invalid UTF-8 is replaced).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gw::json {

void appendEscaped(std::string& out, std::string_view s);  // with quotes

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  // Continues an object whose '{' is already written (no leading comma).
  Writer(std::string& out, bool inside) : out_(out), first_(inside) {}

  Writer& beginObject() { sep(); out_.push_back('{'); first_ = true; return *this; }
  Writer& endObject() { out_.push_back('}'); first_ = false; return *this; }
  Writer& beginArray() { sep(); out_.push_back('['); first_ = true; return *this; }
  Writer& endArray() { out_.push_back(']'); first_ = false; return *this; }
  Writer& key(std::string_view k) {
    sep();
    appendEscaped(out_, k);
    out_.push_back(':');
    afterKey_ = true;
    return *this;
  }
  Writer& string(std::string_view s) { sep(); appendEscaped(out_, s); return *this; }
  Writer& integer(int64_t v);
  Writer& boolean(bool v) { sep(); out_ += v ? "true" : "false"; return *this; }
  Writer& null() { sep(); out_ += "null"; return *this; }
  // An array of strings.
  Writer& strings(const std::vector<std::string>& values);
  // Inserts already-valid JSON text as a value.
  Writer& raw(std::string_view json) { sep(); out_ += json; return *this; }

  Writer& field(std::string_view k, std::string_view v) { return key(k).string(v); }
  Writer& field(std::string_view k, const char* v) { return key(k).string(v); }
  Writer& field(std::string_view k, int64_t v) { return key(k).integer(v); }
  Writer& field(std::string_view k, int v) { return key(k).integer(v); }
  Writer& field(std::string_view k, uint32_t v) { return key(k).integer(v); }
  Writer& field(std::string_view k, bool v) { return key(k).boolean(v); }

 private:
  void sep() {
    if (afterKey_) {
      afterKey_ = false;
      first_ = false;
      return;
    }
    if (!first_) out_.push_back(',');
    first_ = false;
  }
  std::string& out_;
  bool first_ = true;
  bool afterKey_ = false;
};

}  // namespace gw::json
