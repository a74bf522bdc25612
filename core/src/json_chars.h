#pragma once
// Byte classes shared by the JSON reader and writer.
namespace gw::json {

// Bytes that sit inside a JSON string as-is: printable ASCII other than '"'
// and '\\'. Scans skip runs of them with one table load per byte.
struct PlainTable {
  bool plain[256];
  constexpr PlainTable() : plain() {
    for (int c = 0x20; c < 0x80; ++c) plain[c] = c != '"' && c != '\\';
  }
};
inline constexpr PlainTable PLAIN;

}  // namespace gw::json
