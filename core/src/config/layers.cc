#include "layers.h"

namespace gw::config {

bool parseEnvInteger(const std::string& text, int64_t min, int64_t max, int64_t& out) {
  if (text.empty() || text.size() > 18) return false;
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (v < min || v > max) return false;
  out = v;
  return true;
}

bool validBaseUrl(const std::string& url) {
  return (url.rfind("https://", 0) == 0 && url.size() > 8) || (url.rfind("http://", 0) == 0 && url.size() > 7);
}

Rows readRows(const Tape& bundled, const Tape* patch, std::string_view key, std::vector<View>& rows) {
  const uint32_t b = bundled.find(bundled.root(), key);
  const uint32_t p = patch != nullptr ? patch->find(patch->root(), key) : 0;
  auto append = [&rows](const Tape& t, uint32_t array) {
    for (uint32_t e = t.firstChild(array); e != 0; e = t.nextSibling(array, e)) rows.emplace_back(&t, e);
  };
  if (p != 0 && (patch->kind(p) != Kind::Array || b == 0 || bundled.kind(b) != Kind::Array)) {
    if (patch->kind(p) == Kind::Null) return Rows::Absent;
    if (patch->kind(p) != Kind::Array) return Rows::NotArray;
    append(*patch, p);
    return Rows::Read;
  }
  if (b == 0) return Rows::Absent;
  if (bundled.kind(b) != Kind::Array) return Rows::NotArray;
  append(bundled, b);
  if (p == 0) return Rows::Read;
  for (uint32_t e = patch->firstChild(p); e != 0; e = patch->nextSibling(p, e)) {
    const uint32_t id = patch->kind(e) == Kind::Object ? patch->find(e, "id") : 0;
    auto same = std::find_if(rows.begin(), rows.end(), [&](const View& row) {
      if (id == 0 || row.kind() != Kind::Object) return false;
      View other = row.member("id");
      return other.present() && other.tape().raw(other.node()) == patch->raw(id);
    });
    if (same != rows.end()) same->add(patch, e);
    else rows.emplace_back(patch, e);
  }
  return Rows::Read;
}


}  // namespace gw::config
