// Virtual keys:
//   POST   /api/v1/ai/admin/keys            {tenantId, userId?, agentId?, role?, models?, limits?, expiresAt?, name?}
//   GET    /api/v1/ai/admin/keys?tenantId=  (never the key)
//   DELETE /api/v1/ai/admin/keys/:id        (revokes at once, through the ledger)
// The key is shown once, in the create answer; only its SHA-256 is stored.
#include <algorithm>

#include "gw/key_record.h"
#include "admin_common.h"
#include "gw/json_writer.h"
#include "gw/periods.h"
#include "gw/sha256.h"
#include "handlers.h"
#include "gw/stable_sort.h"

namespace gw::handlers {

namespace {

using json::Kind;

std::string optionalId(const json::Tape& t, std::string_view field, std::string& out) {
  uint32_t v = t.find(t.root(), field);
  if (v == 0 || t.kind(v) == Kind::Null) return {};
  if (t.kind(v) != Kind::String || !access::validId(t.string(v))) return std::string(field);
  out = t.string(v);
  return {};
}

class CreateKey : public Handler {
 public:
  Access access() const override { return Access::Admin; }
  void start(Session& s) override {
    json::Tape t;
    if (ApiError e = parseObject(s.body(), t)) return s.respondError(e);
    if (ApiError e = read(s, t)) return s.respondError(e);
    if (s.request().entropyBytes < 32)
      return s.respondError(serverError(500, "The host supplied too little entropy to mint a key.", "server_error",
                                        "insufficient_entropy"));
    requireTenant(s, key_.tenantId, [this](Session& s) { mint(s); });
  }

 private:
  ApiError read(Session& s, const json::Tape& t) {
    const uint32_t root = t.root();
    if (ApiError e = tenantFor(s, t, "", key_.tenantId)) return e;
    for (auto [field, out] : {std::pair<const char*, std::string*>{"userId", &key_.userId}, {"agentId", &key_.agentId}})
      if (std::string bad = optionalId(t, field, *out); !bad.empty())
        return access::invalidId(bad);
    uint32_t role = t.find(root, "role");
    if (role != 0) {
      if (t.kind(role) != Kind::String || (!t.stringEquals(role, "admin") && !t.stringEquals(role, "user")))
        return invalidValue("role", "role must be \"admin\" or \"user\".");
      key_.admin = t.stringEquals(role, "admin");
    }
    uint32_t name = t.find(root, "name");
    if (name != 0) {
      if (t.kind(name) != Kind::String || t.rawString(name).size() > 100)
        return invalidValue("name", "expected a string of at most 100 characters.");
      key_.name = t.string(name);
    }
    uint32_t models = t.find(root, "models");
    if (models != 0 && t.kind(models) != Kind::Null) {
      if (t.kind(models) != Kind::Array || t.node(models).count > 100)
        return invalidType("models", "an array of at most 100 model names", "another type");
      uint32_t i = 0;
      for (uint32_t m = t.firstChild(models); m != 0; m = t.nextSibling(models, m), ++i) {
        if (t.kind(m) != Kind::String || t.rawString(m).empty() || t.rawString(m).size() > 128)
          return invalidValue("models[" + std::to_string(i) + "]", "expected a model name.");
        key_.models.push_back(t.string(m));
      }
    }
    uint32_t limits = t.find(root, "limits");
    if (limits != 0 && t.kind(limits) != Kind::Null)
      if (ApiError e = readQuotaLimits(t, limits, "limits", key_.limits)) return e;
    uint32_t expires = t.find(root, "expiresAt");
    if (expires != 0 && t.kind(expires) != Kind::Null) {
      int64_t ms = 0;
      bool ok = t.kind(expires) == Kind::String ? parseIsoTimestamp(t.string(expires), ms)
                                                : t.kind(expires) == Kind::Number && t.isInteger(expires, &ms);
      if (!ok) return invalidValue("expiresAt", "expected an ISO 8601 UTC time (2026-12-31T00:00:00Z) or epoch milliseconds.");
      if (ms <= s.nowMs()) return invalidValue("expiresAt", "expiresAt must be in the future.");
      key_.expiresAtMs = ms;
    }
    return {};
  }

  // The key comes from the host's entropy bytes 16-31, which nothing else
  // reveals (the request id shows bytes 0-11).
  void mint(Session& s) {
    const auto* entropy = s.request().entropy;
    std::string material(reinterpret_cast<const char*>(entropy + 16), 16);
    auto secret = Sha256().update("aigw-key").update(material).finish();
    auto id = Sha256().update("aigw-key-id").update(material).finish();
    secret_ = std::string(access::KEY_PREFIX) + toHex(secret.data(), 20);
    key_.id = "key_" + toHex(id.data(), 8);
    key_.digest = sha256Hex(secret_);
    key_.prefix = secret_.substr(0, access::KEY_PREFIX.size() + 4);
    key_.createdAtMs = s.nowMs();
    const std::string record = writeKeyRecord(key_);
    auto j = join(3, [this](Session& s, bool failed) {
      if (failed) return s.respondError(serverError(503, "Could not store the key; try again.", "service_unavailable", "kv_unavailable"));
      std::string body;
      json::Writer w(body);
      w.beginObject();
      writeKeyApi(w, key_);
      w.field("key", secret_).endObject();
      s.respondJson(201, body);
    });
    s.kvPut(access::keyByDigest(key_.digest), record, arrive(j));
    s.kvPut(access::keyById(key_.tenantId, key_.id), record, arrive(j));
    s.kvPut(access::keyTenantIndex(key_.id), key_.tenantId, arrive(j));
  }

  access::KeyRecord key_;
  std::string secret_;
};

class ListKeys : public Handler {
 public:
  Access access() const override { return Access::Admin; }
  void start(Session& s) override {
    if (ApiError e = tenantFor(s, queryParam(s.request().query, "tenantId"), tenant_)) return s.respondError(e);
    requireTenant(s, tenant_, [this](Session& s) {
      s.kvList(access::keysOfTenant(tenant_), 1000, [this](Session& s, const EffectResult& r) { fetchAll(s, r); });
    });
  }

 private:
  void fetchAll(Session& s, const EffectResult& r) {
    std::vector<std::string> names;
    if (!listedNames(r, names))
      return s.respondError(serverError(503, "Could not list keys; try again.", "service_unavailable", "kv_unavailable"));
    records_.resize(names.size());
    if (names.empty()) return respond(s);
    auto j = join(static_cast<int>(names.size()), [this](Session& s, bool) { respond(s); });
    for (size_t i = 0; i < names.size(); ++i)
      s.kvGet(names[i], [this, i, j](Session& s, const EffectResult& r) {
        if (r.ok) records_[i] = std::string(r.data);
        arrive(j)(s, r);
      });
  }

  void respond(Session& s) {
    std::vector<access::KeyRecord> keys;
    for (const auto& text : records_) {
      access::KeyRecord k;
      if (!text.empty() && parseKeyRecord(text, k) && k.tenantId == tenant_) keys.push_back(std::move(k));
    }
    stableSort(keys, [](const auto& a, const auto& b) { return a.createdAtMs < b.createdAtMs; });
    std::string body;
    json::Writer w(body);
    w.beginObject().field("object", "list").field("tenantId", tenant_).key("data").beginArray();
    for (const auto& k : keys) {
      w.beginObject();
      writeKeyApi(w, k);
      w.endObject();
    }
    w.endArray().endObject();
    s.respondJson(200, body);
  }

  std::string tenant_;
  std::vector<std::string> records_;
};

class RevokeKey : public Handler {
 public:
  explicit RevokeKey(std::string id) : id_(std::move(id)) {}
  Access access() const override { return Access::Admin; }
  void start(Session& s) override {
    if (id_.size() > 64 || id_.rfind("key_", 0) != 0) return s.respondError(missing());
    s.kvGet(access::keyTenantIndex(id_), [this](Session& s, const EffectResult& r) {
      tenant_ = std::string(r.data);
      // Another tenant's key is reported as missing: its existence is not ours to reveal.
      if (!r.ok || (!s.principal().root && tenant_ != s.principal().tenantId)) return s.respondError(missing());
      s.kvGet(access::keyById(tenant_, id_), [this](Session& s, const EffectResult& r) {
        if (!r.ok || !parseKeyRecord(r.data, key_)) return s.respondError(missing());
        revoke(s);
      });
    });
  }

 private:
  ApiError missing() const { return notFoundError("No API key '" + id_.substr(0, 64) + "'.", "id", "key_not_found"); }

  void revoke(Session& s) {
    if (key_.revokedAtMs < 0) key_.revokedAtMs = s.nowMs();
    s.state().keyCache.erase(key_.digest);
    const std::string record = writeKeyRecord(key_);
    std::string op;
    json::Writer(op).beginObject().field("op", "revoke").field("key", key_.id).endObject();
    auto j = join(3, [this](Session& s, bool failed) {
      if (failed)
        return s.respondError(serverError(503, "Could not revoke the key everywhere; try again.", "service_unavailable",
                                          "revoke_incomplete"));
      std::string body;
      json::Writer w(body);
      w.beginObject();
      writeKeyApi(w, key_);
      w.endObject();
      s.respondJson(200, body);
    });
    // The ledger refuses the key at once; KV catches up everywhere else.
    s.ledger(tenant_, op, arrive(j));
    s.kvPut(access::keyByDigest(key_.digest), record, arrive(j));
    s.kvPut(access::keyById(tenant_, key_.id), record, arrive(j));
  }

  std::string id_;
  std::string tenant_;
  access::KeyRecord key_;
};

}  // namespace

std::unique_ptr<Handler> createKey() { return std::make_unique<CreateKey>(); }
std::unique_ptr<Handler> listKeys() { return std::make_unique<ListKeys>(); }
std::unique_ptr<Handler> revokeKey(std::string id) { return std::make_unique<RevokeKey>(std::move(id)); }

}  // namespace gw::handlers
