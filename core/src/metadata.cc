#include "gw/metadata.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "gw/json_tape.h"
#include "gw/json_writer.h"

namespace gw::metadata {

namespace {

ApiError bad(std::string why) {
  return invalidRequest("x-aigw-metadata " + why, std::string(HEADER), "invalid_metadata");
}

}  // namespace

bool validKey(std::string_view key) {
  if (key.empty() || key.size() > MAX_KEY_CHARS) return false;
  for (char c : key)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
      return false;
  return true;
}

ApiError parse(std::string_view header, std::string& out) {
  out.clear();
  if (header.empty()) return {};
  if (header.size() > MAX_BYTES) return bad("is over " + std::to_string(MAX_BYTES) + " bytes.");
  json::Tape t;
  if (!t.parse(header, {.maxDepth = 3, .maxNodes = 512}) || t.kind(t.root()) != json::Kind::Object)
    return bad(t.error().duplicateKey.empty() ? std::string("must be a JSON object.")
                                              : "must name each key once; '" + t.error().duplicateKey + "' is there twice.");
  const uint32_t root = t.root();
  std::vector<std::pair<std::string, std::string>> members;
  for (uint32_t k = t.firstChild(root); k != 0; k = t.nextSibling(root, k + 1)) {
    std::string key = t.string(k);
    if (!validKey(key))
      return bad("keys are 1 to " + std::to_string(MAX_KEY_CHARS) + " letters, digits, _ or -; got '" +
                 key.substr(0, MAX_KEY_CHARS) + "'.");
    const uint32_t v = k + 1;
    std::string value;
    switch (t.kind(v)) {
      case json::Kind::String: value = t.string(v); break;
      case json::Kind::Number: value = std::string(t.raw(v)); break;
      case json::Kind::True: value = "true"; break;
      case json::Kind::False: value = "false"; break;
      default: return bad("values are strings, numbers or booleans; '" + key + "' is not.");
    }
    if (value.size() > MAX_VALUE_CHARS)
      return bad("values are at most " + std::to_string(MAX_VALUE_CHARS) + " characters; '" + key + "' is longer.");
    members.emplace_back(std::move(key), std::move(value));
  }
  if (members.size() > MAX_KEYS) return bad("has more than " + std::to_string(MAX_KEYS) + " members.");
  if (members.empty()) return {};
  std::sort(members.begin(), members.end());
  json::Writer w(out);
  w.beginObject();
  for (const auto& [key, value] : members) w.field(key, value);
  w.endObject();
  return {};
}

std::string member(std::string_view stored, std::string_view key) {
  if (stored.empty()) return {};
  json::Tape t;
  if (!t.parse(stored)) return {};
  return t.stringAt(t.root(), key);
}

}  // namespace gw::metadata
