#include "gw/key_record.h"

#include "gw/json_tape.h"
#include "gw/periods.h"

namespace gw::access {

using json::Kind;

bool parseKeyRecord(std::string_view text, KeyRecord& k) {
  json::Tape t;
  if (!t.parse(text) || t.kind(t.root()) != Kind::Object) return false;
  const uint32_t r = t.root();
  k.id = t.stringAt(r, "id");
  k.digest = t.stringAt(r, "digest");
  k.prefix = t.stringAt(r, "prefix");
  k.name = t.stringAt(r, "name");
  k.tenantId = t.stringAt(r, "tenant_id");
  k.userId = t.stringAt(r, "user_id");
  k.agentId = t.stringAt(r, "agent_id");
  k.admin = t.stringAt(r, "role") == "admin";
  uint32_t models = t.find(r, "models");
  if (models != 0 && t.kind(models) == Kind::Array)
    for (uint32_t m = t.firstChild(models); m != 0; m = t.nextSibling(models, m))
      if (t.kind(m) == Kind::String) k.models.push_back(t.string(m));
  k.limits = readQuotaLimitsWire(t, t.find(r, "limits"));
  k.expiresAtMs = t.integerAt(r, "expires_at", -1);
  k.createdAtMs = t.integerAt(r, "created_at", 0);
  k.revokedAtMs = t.integerAt(r, "revoked_at", -1);
  return !k.id.empty() && validId(k.tenantId);
}

std::string writeKeyRecord(const KeyRecord& k) {
  std::string out;
  json::Writer w(out);
  w.beginObject().field("id", k.id).field("digest", k.digest).field("prefix", k.prefix).field("name", k.name);
  w.field("tenant_id", k.tenantId).field("user_id", k.userId).field("agent_id", k.agentId);
  w.field("role", k.admin ? "admin" : "user").key("models").strings(k.models).key("limits");
  writeQuotaLimitsWire(w, k.limits);
  if (k.expiresAtMs >= 0) w.field("expires_at", k.expiresAtMs);
  w.field("created_at", k.createdAtMs);
  if (k.revokedAtMs >= 0) w.field("revoked_at", k.revokedAtMs);
  w.endObject();
  return out;
}

void writeKeyApi(json::Writer& w, const KeyRecord& k) {
  w.field("id", k.id).field("object", "api_key").field("prefix", k.prefix);
  if (!k.name.empty()) w.field("name", k.name);
  w.field("tenantId", k.tenantId);
  if (!k.userId.empty()) w.field("userId", k.userId);
  else w.key("userId").null();
  if (!k.agentId.empty()) w.field("agentId", k.agentId);
  else w.key("agentId").null();
  w.field("role", k.admin ? "admin" : "user").key("models").strings(k.models).key("limits");
  writeQuotaLimitsApi(w, k.limits);
  w.field("createdAt", isoTimestamp(k.createdAtMs));
  if (k.expiresAtMs >= 0) w.field("expiresAt", isoTimestamp(k.expiresAtMs));
  else w.key("expiresAt").null();
  w.field("revoked", k.revokedAtMs >= 0);
  if (k.revokedAtMs >= 0) w.field("revokedAt", isoTimestamp(k.revokedAtMs));
}

std::string keyByDigest(std::string_view digest) { return "key:" + std::string(digest); }
std::string keyById(std::string_view tenant, std::string_view id) {
  return "keys:" + std::string(tenant) + ":" + std::string(id);
}
std::string keysOfTenant(std::string_view tenant) { return "keys:" + std::string(tenant) + ":"; }
std::string keyTenantIndex(std::string_view id) { return "keyid:" + std::string(id); }
std::string tenantRecord(std::string_view tenant) { return "tenant:" + std::string(tenant); }
std::string ledgerSnapshot(std::string_view tenant) { return "ledger:" + std::string(tenant); }

ApiError invalidId(std::string param) {
  return invalidValue(std::move(param), "expected 1-64 characters of A-Z a-z 0-9 . _ - @.");
}

bool validId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-' || c == '@';
    if (!ok) return false;
  }
  return true;
}

}  // namespace gw::access
