#include <algorithm>
#include <vector>

#include "gw/cache.h"
#include "gw/json_writer.h"
#include "gw/sha256.h"
#include "gw/stable_sort.h"

namespace gw::cache {

namespace {

using json::Kind;

// A number in one spelling, from its decimal text (no floating point, so no
// printf in the module): integers plainly ("1e2", "100.0" → "100"; "-0" →
// "0"), others in C's %g form over exactly their significant digits
// ("0.70" → "0.7", "5e-1" → "0.5", "1.5e-7" → "1.5e-07"). For the usual
// spellings (shortest digits, below 10^16) that is the text earlier
// versions hashed (the shortest %g that reads back as the same double).
void canonicalNumber(const json::Tape& t, uint32_t node, std::string& out) {
  const std::string_view text = t.raw(node);
  size_t i = 0;
  const bool negative = !text.empty() && text[0] == '-';
  if (negative) ++i;
  std::string digits;  // significant digits, leading zeros dropped
  int64_t pointAt = 0;  // the decimal point's place after digits[0..pointAt)
  bool fraction = false;
  for (; i < text.size() && text[i] != 'e' && text[i] != 'E'; ++i) {
    if (text[i] == '.') {
      fraction = true;
      continue;
    }
    if (digits.empty() && text[i] == '0') {
      if (fraction) --pointAt;
      continue;
    }
    digits.push_back(text[i]);
    if (!fraction) ++pointAt;
  }
  int64_t exponent = 0;
  if (i < text.size()) {
    ++i;
    const bool negExp = i < text.size() && text[i] == '-';
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
    for (; i < text.size() && exponent < 100000; ++i) exponent = exponent * 10 + (text[i] - '0');
    if (negExp) exponent = -exponent;
  }
  while (!digits.empty() && digits.back() == '0') digits.pop_back();
  if (digits.empty()) {
    out += '0';
    return;
  }
  if (negative) out += '-';
  const int64_t point = pointAt + exponent;  // value = 0.digits × 10^point
  const int64_t count = static_cast<int64_t>(digits.size());
  if (point >= count && point <= 16) {  // an integer below 10^16: plain
    out += digits;
    out.append(static_cast<size_t>(point - count), '0');
    return;
  }
  const int64_t x = point - 1;  // value = d.ddd × 10^x
  if (x < -4 || x >= count) {
    out += digits[0];
    if (count > 1) out.append(".").append(digits, 1, std::string::npos);
    out += x < 0 ? "e-" : "e+";
    const std::string e = std::to_string(x < 0 ? -x : x);
    if (e.size() < 2) out += '0';
    out += e;
  } else if (x < 0) {
    out.append("0.").append(static_cast<size_t>(-x - 1), '0').append(digits);
  } else {
    out.append(digits, 0, static_cast<size_t>(x + 1));
    if (x + 1 < count) out.append(".").append(digits, static_cast<size_t>(x + 1), std::string::npos);
  }
}


// An object's members sorted by decoded key, those `skip` names left out.
template <typename Skip>
void sortedMembers(const json::Tape& t, uint32_t node, std::string& out, Skip skip) {
  std::vector<std::pair<std::string, uint32_t>> members;
  for (uint32_t k = t.firstChild(node); k != 0; k = t.nextSibling(node, k + 1)) {
    std::string name = t.string(k);
    if (!skip(name)) members.emplace_back(std::move(name), k + 1);
  }
  stableSort(members, [](const auto& a, const auto& b) { return a.first < b.first; });
  out.push_back('{');
  for (size_t i = 0; i < members.size(); ++i) {
    if (i > 0) out.push_back(',');
    json::appendEscaped(out, members[i].first);
    out.push_back(':');
    canonicalJson(t, members[i].second, out);
  }
  out.push_back('}');
}

}  // namespace

void canonicalJson(const json::Tape& t, uint32_t node, std::string& out) {
  switch (t.kind(node)) {
    case Kind::Object:
      return sortedMembers(t, node, out, [](std::string_view) { return false; });
    case Kind::Array: {
      out.push_back('[');
      bool first = true;
      for (uint32_t e = t.firstChild(node); e != 0; e = t.nextSibling(node, e)) {
        if (!first) out.push_back(',');
        first = false;
        canonicalJson(t, e, out);
      }
      out.push_back(']');
      return;
    }
    case Kind::String: return json::appendEscaped(out, t.string(node));
    case Kind::Number: return canonicalNumber(t, node, out);
    case Kind::True: out += "true"; return;
    case Kind::False: out += "false"; return;
    case Kind::Null: out += "null"; return;
  }
}

bool ignoredField(std::string_view name) {
  static constexpr std::string_view IGNORED[] = {"model",         "models",          "stream",
                                                 "stream_options", "user",            "metadata",
                                                 "store",          "safety_identifier", "prompt_cache_key",
                                                 "service_tier",   "request_id"};
  return std::find(std::begin(IGNORED), std::end(IGNORED), name) != std::end(IGNORED);
}

std::string keyDocument(const KeyInput& in) {
  const json::Tape& t = *in.request;
  std::string request;
  if (t.kind(t.root()) == Kind::Object) sortedMembers(t, t.root(), request, ignoredField);
  else request = "{}";
  std::string doc;
  json::Writer w(doc);
  // Members in sorted order, so the document is canonical as a whole.
  w.beginObject().field("endpoint", in.endpoint).field("model", in.upstreamModel).field("provider", in.provider);
  w.key("request").raw(request).field("scope", in.scope).field("v", 1).endObject();
  return doc;
}

std::string key(const KeyInput& in) { return sha256Hex(keyDocument(in)); }

std::string storageKey(std::string_view scope, std::string_view key) {
  std::string out(STORAGE_PREFIX);
  out.append(scope).push_back(':');
  out.append(key);
  return out;
}

std::string scopeFor(const CacheConfig& c, std::string_view tenant) {
  for (const auto& shared : c.sharedTenants)
    if (shared == tenant) return std::string(SHARED_SCOPE);
  return std::string(tenant);
}

}  // namespace gw::cache
