// Provider keys in the vault (README: Provider keys):
//   GET    /api/v1/ai/admin/credentials[?tenantId=]    masked: provider, hint, who set it and when
//   PUT    /api/v1/ai/admin/credentials/:provider      {key, tenantId?, allowGatewayFallback?}
//   DELETE /api/v1/ai/admin/credentials/:provider[?tenantId=]
//   POST   /api/v1/ai/admin/credentials/rotate         (ADMIN_API_KEY) rewrap every key under the current master
// ADMIN_API_KEY naming no tenant acts on the gateway's own keys; a tenant's
// admin key on its tenant's. A key is sealed by the host before it is
// stored and never leaves again: answers carry its last four characters.
#include <map>

#include "admin_common.h"
#include "gw/http.h"
#include "gw/json_writer.h"
#include "gw/periods.h"
#include "gw/vault.h"
#include "handlers.h"

namespace gw::handlers {

namespace {

using json::Kind;

// The scope a call acts on: "" for the gateway's keys (ADMIN_API_KEY naming
// no tenant), else a tenant, as the other admin endpoints decide it.
ApiError scopeFor(const Session& s, const std::string& requested, std::string& tenant) {
  if (s.principal().root && requested.empty()) {
    tenant.clear();
    return {};
  }
  return tenantFor(s, requested, tenant);
}

std::string docFor(const std::string& tenant) {
  return tenant.empty() ? std::string(vault::GATEWAY_DOC) : vault::tenantDoc(tenant);
}

ApiError vaultNotConfigured() {
  return serverError(503,
                     "Provider keys cannot be stored: set GATEWAY_ENCRYPTION_KEY (a key id and 32 random bytes in "
                     "base64, e.g. k1:<base64>) and restart.",
                     "server_error", "vault_not_configured");
}

ApiError storageFailed() {
  return serverError(503, "Could not read or store the provider keys; try again.", "service_unavailable",
                     "kv_unavailable");
}

void writeKey(json::Writer& w, std::string_view provider, const std::string& tenant, const vault::StoredKey& k) {
  w.beginObject().field("object", "credential").field("provider", provider);
  w.field("scope", tenant.empty() ? "gateway" : "tenant");
  if (!tenant.empty()) w.field("tenant_id", tenant);
  w.field("hint", k.hint).field("key_id", k.keyId).field("set_by", k.setBy).field("set_at", isoTimestamp(k.setAtMs));
  if (!tenant.empty()) w.field("allow_gateway_fallback", k.allowGatewayFallback);
  w.endObject();
}

// Serves a changed document in this instance at once (others read it within
// key_cache_ms for a tenant's, config_refresh_ms for the gateway's).
void applyHere(Session& s, const std::string& tenant, const std::string& doc, vault::Keys keys) {
  GatewayState& st = s.state();
  if (!tenant.empty()) {
    st.cacheTenantKeys(tenant, std::move(keys), s.nowMs());
    return;
  }
  st.setGatewayKeys(doc);
  st.rebuild(st.overrideConfig);
}

// Reads the scope's stored keys, lets `change` edit them (an error stops
// it), stores the result and serves it here; `done` answers.
using KeysChange = MoveFunction<ApiError(vault::Keys&)>;
void changeKeys(Session& s, const std::string& tenant, KeysChange change, MoveFunction<void(Session&)> done) {
  s.kvGet(docFor(tenant), [tenant, change = std::move(change), done = std::move(done)](Session& s,
                                                                                      const EffectResult& r) mutable {
    vault::Keys keys;
    if (!vault::parseRead(r.ok, r.message, r.data, keys)) return s.respondError(storageFailed());
    if (ApiError e = change(keys)) return s.respondError(e);
    std::string doc = keys.empty() ? std::string() : vault::write(keys);
    auto stored = [tenant, doc, keys, done = std::move(done)](Session& s, const EffectResult& r) mutable {
      if (!r.ok) return s.respondError(storageFailed());
      applyHere(s, tenant, doc, std::move(keys));
      done(s);
    };
    if (doc.empty()) s.kvDelete(docFor(tenant), std::move(stored));
    else s.kvPut(docFor(tenant), doc, std::move(stored));
  });
}

ApiError unknownProvider(const std::string& id) {
  return notFoundError("No provider '" + id + "'. GET /api/v1/ai/admin/providers lists them.", "provider",
                       "provider_not_found");
}

class PutCredential : public Handler {
 public:
  explicit PutCredential(std::string provider) : provider_(std::move(provider)) {}
  Access access() const override { return Access::Admin; }
  void start(Session& s) override {
    const ProviderConfig* p = s.config().provider(provider_);
    if (p == nullptr) return s.respondError(unknownProvider(provider_));
    if (p->authStyle == AuthStyle::None || p->builtinDemo)
      return s.respondError(invalidValue("provider", "The provider '" + provider_ + "' takes no API key."));
    json::Tape t;
    if (ApiError e = parseObject(s.body(), t)) return s.respondError(e);
    const uint32_t root = t.root();
    const uint32_t tenantField = t.find(root, "tenantId");
    std::string requested = queryParam(s.request().query, "tenantId");
    if (tenantField != 0 && t.kind(tenantField) != Kind::Null) {
      if (t.kind(tenantField) != Kind::String) return s.respondError(invalidType("tenantId", "a string", "another type"));
      requested = t.string(tenantField);
    }
    if (ApiError e = scopeFor(s, requested, tenant_)) return s.respondError(e);
    const uint32_t key = t.find(root, "key");
    if (key == 0) return s.respondError(missingParameter("key"));
    if (t.kind(key) != Kind::String) return s.respondError(invalidType("key", "a string", "another type"));
    std::string value = t.string(key);
    if (!vault::wellFormed(value))
      return s.respondError(invalidValue("key", "expected the provider's API key: 1 to " +
                                                    std::to_string(vault::MAX_KEY_CHARS) +
                                                    " printable characters without spaces."));
    if (const uint32_t fallback = t.find(root, "allowGatewayFallback"); fallback != 0 && t.kind(fallback) != Kind::Null) {
      if (t.kind(fallback) != Kind::True && t.kind(fallback) != Kind::False)
        return s.respondError(invalidType("allowGatewayFallback", "a boolean", "another type"));
      if (tenant_.empty())
        return s.respondError(invalidValue("allowGatewayFallback", "Only a tenant's own key can fall back to the gateway's."));
      allowFallback_ = t.kind(fallback) == Kind::True;
    }
    if (s.state().env.vaultKeyIds.empty()) return s.respondError(vaultNotConfigured());
    hint_ = vault::hint(value);
    auto seal = [this, value = std::move(value)](Session& s) {
      s.vaultSeal(value, vault::context(tenant_, provider_), [this](Session& s, const EffectResult& r) {
        if (!r.ok || r.data.empty())
          return s.respondError(serverError(503, "The key could not be sealed: " + r.message, "server_error",
                                            "vault_unavailable"));
        stored_.sealed = std::string(r.data);
        stored_.keyId = r.keyId;
        store(s);
      });
    };
    if (tenant_.empty()) return seal(s);
    requireTenant(s, tenant_, std::move(seal));
  }

 private:
  void store(Session& s) {
    stored_.hint = hint_;
    stored_.setBy = s.principal().root ? "admin" : s.principal().keyId;
    stored_.setAtMs = s.nowMs();
    stored_.allowGatewayFallback = allowFallback_;
    changeKeys(
        s, tenant_,
        [this](vault::Keys& keys) {
          keys[provider_] = stored_;
          return ApiError{};
        },
        [this](Session& s) {
          std::string body;
          json::Writer w(body);
          writeKey(w, provider_, tenant_, stored_);
          s.respondJson(200, body);
        });
  }

  std::string provider_, tenant_, hint_;
  bool allowFallback_ = false;
  vault::StoredKey stored_;
};

class DeleteCredential : public Handler {
 public:
  explicit DeleteCredential(std::string provider) : provider_(std::move(provider)) {}
  Access access() const override { return Access::Admin; }
  void start(Session& s) override {
    if (ApiError e = scopeFor(s, queryParam(s.request().query, "tenantId"), tenant_)) return s.respondError(e);
    changeKeys(
        s, tenant_,
        [this](vault::Keys& keys) {
          if (keys.erase(provider_) == 0)
            return notFoundError("No stored key for provider '" + provider_ + "' here.", "provider",
                                 "credential_not_found");
          return ApiError{};
        },
        [this](Session& s) {
          std::string body;
          json::Writer(body).beginObject().field("object", "credential.deleted").field("provider", provider_)
              .field("deleted", true).endObject();
          s.respondJson(200, body);
        });
  }

 private:
  std::string provider_, tenant_;
};

class ListCredentials : public Handler {
 public:
  Access access() const override { return Access::Admin; }
  void start(Session& s) override {
    if (ApiError e = scopeFor(s, queryParam(s.request().query, "tenantId"), tenant_)) return s.respondError(e);
    // The gateway's keys always (their hints for ADMIN_API_KEY only), the tenant's when it acts on one.
    s.kvGet(vault::GATEWAY_DOC, [this](Session& s, const EffectResult& r) {
      if (!vault::parseRead(r.ok, r.message, r.data, gateway_)) return s.respondError(storageFailed());
      if (tenant_.empty()) return respond(s);
      s.kvGet(vault::tenantDoc(tenant_), [this](Session& s, const EffectResult& r) {
        if (!vault::parseRead(r.ok, r.message, r.data, own_)) return s.respondError(storageFailed());
        respond(s);
      });
    });
  }

 private:
  void respond(Session& s) {
    const bool root = s.principal().root;
    const Environment& env = s.state().env;
    std::string body;
    json::Writer w(body);
    w.beginObject().field("object", "list").field("scope", tenant_.empty() ? "gateway" : "tenant");
    if (!tenant_.empty()) w.field("tenant_id", tenant_);
    w.field("vault_configured", !env.vaultKeyIds.empty());
    if (!env.vaultKeyIds.empty()) w.field("key_id", env.vaultKeyIds.front());
    w.key("data").beginArray();
    for (const auto& [provider, k] : tenant_.empty() ? gateway_ : own_) writeKey(w, provider, tenant_, k);
    w.endArray();
    // What serves where the scope has no key of its own: per provider, the
    // gateway's vault key or its secret (by name), never a value.
    w.key("gateway").beginArray();
    for (const ProviderConfig& p : s.config().providers) {
      if (p.authStyle == AuthStyle::None || p.builtinDemo) continue;
      auto stored = gateway_.find(p.id);
      const bool secret = env.secrets.count(p.apiKeySecret) > 0;
      if (stored == gateway_.end() && !secret) continue;
      w.beginObject().field("provider", p.id).field("source", stored != gateway_.end() ? "vault" : "env");
      if (stored != gateway_.end() && root) w.field("hint", stored->second.hint);
      if (stored == gateway_.end()) w.field("secret", p.apiKeySecret);
      w.endObject();
    }
    w.endArray();
    // The providers a key can be entered for.
    w.key("providers").beginArray();
    for (const ProviderConfig& p : s.config().providers)
      if (p.authStyle != AuthStyle::None && !p.builtinDemo)
        w.beginObject().field("id", p.id).field("name", p.name).endObject();
    w.endArray().endObject();
    s.respondJson(200, body);
  }

  std::string tenant_;
  vault::Keys gateway_, own_;
};

// Rewraps every stored key not sealed under the current master key (the
// first of GATEWAY_ENCRYPTION_KEY's), one document at a time, so the old
// master can then be removed. At most MAX_DOCS tenants per call:
// `complete` says whether to call again.
class RotateCredentials : public Handler {
 public:
  Access access() const override { return Access::Admin; }
  void start(Session& s) override {
    if (ApiError e = rootOnly(s, "The vault's master key is the gateway's.")) return s.respondError(e);
    const auto& ids = s.state().env.vaultKeyIds;
    if (ids.empty()) return s.respondError(vaultNotConfigured());
    current_ = ids.front();
    docs_.push_back("");
    s.kvList("vault:tenant:", MAX_DOCS, [this](Session& s, const EffectResult& r) {
      std::vector<std::string> names;
      if (!listedNames(r, names)) return s.respondError(storageFailed());
      complete_ = names.size() < static_cast<size_t>(MAX_DOCS);
      constexpr std::string_view PREFIX = "vault:tenant:";
      for (const std::string& name : names) docs_.push_back(name.substr(PREFIX.size()));
      next(s);
    });
  }

 private:
  static constexpr int64_t MAX_DOCS = 1000;

  void next(Session& s) {
    if (doc_ == docs_.size()) return respond(s);
    const std::string tenant = docs_[doc_];
    s.kvGet(docFor(tenant), [this, tenant](Session& s, const EffectResult& r) {
      keys_.clear();
      if (!vault::parseRead(r.ok, r.message, r.data, keys_)) return s.respondError(storageFailed());
      pending_.clear();
      for (const auto& [provider, k] : keys_)
        if (k.keyId != current_) pending_.push_back(provider);
      if (pending_.empty()) return advance(s);
      reseal(s, tenant, 0);
    });
  }

  void reseal(Session& s, const std::string& tenant, size_t i) {
    if (i == pending_.size()) {
      // Written into the document as it is now: a key an admin replaced
      // meanwhile is kept (it was sealed under the current master anyway).
      std::map<std::string, std::pair<std::string, vault::StoredKey>> changes;  // provider -> (sealed before, after)
      for (const std::string& p : pending_) changes[p] = {originals_[p], keys_[p]};
      return changeKeys(
          s, tenant,
          [changes](vault::Keys& keys) {
            for (const auto& [provider, change] : changes)
              if (auto stored = keys.find(provider); stored != keys.end() && stored->second.sealed == change.first)
                stored->second = change.second;
            return ApiError{};
          },
          [this](Session& s) {
            ++documents_;
            advance(s);
          });
    }
    vault::StoredKey& k = keys_[pending_[i]];
    originals_[pending_[i]] = k.sealed;
    s.vaultReseal(k.sealed, vault::context(tenant, pending_[i]), [this, tenant, i](Session& s, const EffectResult& r) {
      if (!r.ok || r.data.empty())
        return s.respondError(serverError(503,
                                          "Could not rewrap the key for '" + pending_[i] + "'" +
                                              (tenant.empty() ? std::string() : " of tenant '" + tenant + "'") + ": " +
                                              r.message + " Keys rewrapped so far stay rewrapped; call again.",
                                          "server_error", "vault_unavailable"));
      vault::StoredKey& k = keys_[pending_[i]];
      k.sealed = std::string(r.data);
      k.keyId = r.keyId;
      ++rewrapped_;
      reseal(s, tenant, i + 1);
    });
  }

  void advance(Session& s) {
    ++doc_;
    next(s);
  }

  void respond(Session& s) {
    std::string body;
    json::Writer(body)
        .beginObject()
        .field("object", "vault.rotation")
        .field("key_id", current_)
        .field("rewrapped", rewrapped_)
        .field("documents", documents_)
        .field("complete", complete_)
        .endObject();
    s.respondJson(200, body);
  }

  std::string current_;
  std::vector<std::string> docs_;  // "" is the gateway's
  size_t doc_ = 0;
  vault::Keys keys_;
  std::vector<std::string> pending_;
  std::map<std::string, std::string> originals_;  // provider -> its sealed text as read
  int64_t rewrapped_ = 0, documents_ = 0;
  bool complete_ = true;
};

}  // namespace

std::unique_ptr<Handler> listCredentials() { return std::make_unique<ListCredentials>(); }
std::unique_ptr<Handler> credential(const std::string& method, std::string provider) {
  if (method == "PUT") return std::make_unique<PutCredential>(std::move(provider));
  return std::make_unique<DeleteCredential>(std::move(provider));
}
std::unique_ptr<Handler> rotateCredentials() { return std::make_unique<RotateCredentials>(); }

}  // namespace gw::handlers
