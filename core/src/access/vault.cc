#include "gw/vault.h"

#include "gw/json_tape.h"
#include "gw/json_writer.h"

namespace gw::vault {

std::string tenantDoc(std::string_view tenant) { return "vault:tenant:" + std::string(tenant); }

bool parse(std::string_view doc, Keys& out) {
  out.clear();
  if (doc.empty()) return true;
  json::Tape t;
  if (!t.parse(doc) || t.kind(t.root()) != json::Kind::Object) return false;
  const uint32_t keys = t.find(t.root(), "keys");
  if (keys == 0 || t.kind(keys) != json::Kind::Object) return false;
  for (uint32_t k = t.firstChild(keys); k != 0; k = t.nextSibling(keys, k + 1)) {
    const uint32_t v = k + 1;
    if (t.kind(v) != json::Kind::Object) continue;
    StoredKey s;
    s.sealed = t.stringAt(v, "sealed");
    if (s.sealed.empty()) continue;
    s.keyId = t.stringAt(v, "key_id");
    s.hint = t.stringAt(v, "hint");
    s.setBy = t.stringAt(v, "set_by");
    s.setAtMs = t.integerAt(v, "set_at", 0);
    const uint32_t fallback = t.find(v, "allow_gateway_fallback");
    s.allowGatewayFallback = fallback != 0 && t.kind(fallback) == json::Kind::True;
    out.emplace(t.string(k), std::move(s));
  }
  return true;
}

std::string write(const Keys& keys) {
  std::string out;
  json::Writer w(out);
  w.beginObject().key("keys").beginObject();
  for (const auto& [provider, k] : keys) {
    w.key(provider).beginObject().field("sealed", k.sealed).field("key_id", k.keyId).field("hint", k.hint);
    w.field("set_by", k.setBy).field("set_at", k.setAtMs).field("allow_gateway_fallback", k.allowGatewayFallback);
    w.endObject();
  }
  w.endObject().endObject();
  return out;
}

std::string context(std::string_view tenant, std::string_view provider) {
  return (tenant.empty() ? std::string("gateway") : "tenant:" + std::string(tenant)) + "/" + std::string(provider);
}

std::string hint(std::string_view key) {
  // A short key shows less of itself: never more than a third of it.
  const size_t shown = std::min<size_t>(4, key.size() / 3);
  return "…" + std::string(key.substr(key.size() - shown));
}

bool wellFormed(std::string_view key) {
  if (key.empty() || key.size() > MAX_KEY_CHARS) return false;
  for (char c : key)
    if (c <= ' ' || c > '~') return false;
  return true;
}

}  // namespace gw::vault
