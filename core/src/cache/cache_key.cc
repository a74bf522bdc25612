#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "gw/cache.h"
#include "gw/json_writer.h"
#include "gw/sha256.h"

namespace gw::cache {

namespace {

using json::Kind;

void canonicalNumber(const json::Tape& t, uint32_t node, std::string& out) {
  int64_t i = 0;
  if (t.isInteger(node, &i)) {
    out += std::to_string(i);
    return;
  }
  const double d = t.number(node);
  if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9007199254740992.0) {
    out += std::to_string(static_cast<int64_t>(d));  // also turns -0 into 0
    return;
  }
  // The shortest %g spelling that reads back as the same double.
  char buf[32];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, d);
    if (std::strtod(buf, nullptr) == d) break;
  }
  out += buf;
}


// An object's members sorted by decoded key, those `skip` names left out.
template <typename Skip>
void sortedMembers(const json::Tape& t, uint32_t node, std::string& out, Skip skip) {
  std::vector<std::pair<std::string, uint32_t>> members;
  for (uint32_t k = t.firstChild(node); k != 0; k = t.nextSibling(node, k + 1)) {
    std::string name = t.string(k);
    if (!skip(name)) members.emplace_back(std::move(name), k + 1);
  }
  std::stable_sort(members.begin(), members.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
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
