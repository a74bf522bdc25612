#include "gw/json_writer.h"

#include <cmath>

#include "json_chars.h"

namespace gw::json {

void appendEscaped(std::string& out, std::string_view s) {
  static const char* HEX = "0123456789abcdef";
  out.push_back('"');
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    size_t run = i;
    while (run < n && PLAIN.plain[static_cast<unsigned char>(s[run])]) ++run;
    if (run > i) {
      out.append(s.data() + i, run - i);
      i = run;
      if (i >= n) break;
    }
    auto b = static_cast<unsigned char>(s[i]);
    if (b == '"' || b == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(b));
      ++i;
    } else if (b < 0x20) {
      switch (b) {
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
          out += "\\u00";
          out.push_back(HEX[b >> 4]);
          out.push_back(HEX[b & 0xF]);
      }
      ++i;
    } else {
      // Copy a valid UTF-8 sequence; replace anything else with U+FFFD so the
      // output is always valid JSON text.
      size_t len = (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 0;
      bool valid = len != 0 && i + len <= n;
      for (size_t k = 1; valid && k < len; ++k)
        valid = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
      if (valid) {
        out.append(s.data() + i, len);
        i += len;
      } else {
        out += "\xEF\xBF\xBD";
        ++i;
      }
    }
  }
  out.push_back('"');
}

Writer& Writer::integer(int64_t v) {
  sep();
  char buf[24];
  char* end = buf + sizeof(buf);
  char* p = end;
  uint64_t magnitude = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  do {
    *--p = static_cast<char>('0' + magnitude % 10);
    magnitude /= 10;
  } while (magnitude != 0);
  if (v < 0) *--p = '-';
  out_.append(p, static_cast<size_t>(end - p));
  return *this;
}


Writer& Writer::strings(const std::vector<std::string>& values) {
  beginArray();
  for (const auto& v : values) string(v);
  return endArray();
}

}  // namespace gw::json
