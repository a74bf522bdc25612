#include "authenticate.h"

#include "gw/json_writer.h"
#include "gw/key_record.h"
#include "gw/sha256.h"
#include "leases.h"

namespace gw {

namespace {

constexpr size_t MAX_KEY_CHARS = 256;
constexpr size_t MAX_KEY_CACHE = 10000;

struct Credential {
  std::string_view value;
  std::string param;  // the header it came from
};

bool printable(std::string_view v) {
  for (char c : v)
    if (c <= ' ' || c > '~') return false;
  return true;
}

// Authorization: Bearer <key> or x-api-key: <key> (what the Anthropic SDK
// sends). With both, the one that is a virtual key wins (clients put a
// placeholder in the other), else Authorization.
bool readCredential(const RequestEnvelope& r, Credential& out) {
  std::string_view bearer;
  bool malformed = false;
  std::string_view auth = r.header("authorization");
  if (!auth.empty()) {
    constexpr std::string_view BEARER = "Bearer ";
    malformed = auth.size() <= BEARER.size();
    for (size_t i = 0; i < BEARER.size() && !malformed; ++i)
      if ((auth[i] | 0x20) != (BEARER[i] | 0x20)) malformed = true;
    if (!malformed) bearer = auth.substr(BEARER.size());
    while (!bearer.empty() && bearer.front() == ' ') bearer.remove_prefix(1);
  }
  const std::string_view apiKey = r.header("x-api-key");
  const auto virtualKey = [](std::string_view v) { return v.substr(0, access::KEY_PREFIX.size()) == access::KEY_PREFIX; };
  if (!apiKey.empty() && (auth.empty() || (virtualKey(apiKey) && !virtualKey(bearer)))) {
    out.param = "x-api-key";
    out.value = apiKey;
  } else {
    out.param = "authorization";
    if (malformed) return false;
    out.value = bearer;
  }
  return !out.value.empty() && out.value.size() <= MAX_KEY_CHARS && printable(out.value);
}

// A refusal once the key is known: a metered request still gets its usage
// row and log line, so refused traffic shows in the analytics.
void refuse(Session& s, const ApiError& e, const Headers& extra = {}) {
  s.respondError(e, extra);
  s.finish(e.status, e.code, e);
}

ApiError quotaBlocked(std::string message) {
  ApiError e = invalidRequest(std::move(message), "", "insufficient_quota");
  e.status = 429;
  e.type = "insufficient_quota";
  return e;
}

// Refuses what the tenant's snapshot already knows is out of quota, else
// admits. An empty or unreadable snapshot knows nothing.
void checkSnapshot(Session& s, std::string_view snapshot) {
  json::Tape t;
  if (!t.parse(snapshot) || t.kind(t.root()) != json::Kind::Object) return s.admit();
  s.storeBodyIf(t.booleanAt(t.root(), "store_bodies", false));
  uint32_t enabled = t.find(t.root(), "enabled");
  if (enabled != 0 && t.kind(enabled) == json::Kind::False)
    return refuse(s, serverError(503, "Serving is switched off for this tenant.", "service_unavailable",
                                 "tenant_disabled"));
  uint32_t blocked = t.find(t.root(), "blocked");
  if (blocked == 0 || t.kind(blocked) != json::Kind::Object) return s.admit();
  const Principal& p = s.principal();
  // A lease held here was granted from what the snapshot counts as used.
  if (s.config().access.creditLeases && leases::canAdmit(s.state(), p.ledgerScope(), s.nowMs())) return s.admit();
  for (const std::string& scope : {std::string("tenant"), "user:" + p.accountUser(), "key:" + p.keyId}) {
    uint32_t entry = t.find(blocked, scope);
    if (entry == 0 || t.kind(entry) != json::Kind::Object) continue;
    int64_t untilMs = t.integerAt(entry, "until", 0);
    if (untilMs <= s.nowMs()) continue;
    std::string text = t.stringAt(entry, "message");
    const int64_t retrySeconds = (untilMs - s.nowMs() + 999) / 1000;
    ApiError e = quotaBlocked(text.empty() ? "Quota exhausted." : text);
    if (std::string code = t.stringAt(entry, "code"); !code.empty()) e.code = std::move(code);
    if (std::string type = t.stringAt(entry, "type"); !type.empty()) e.type = std::move(type);
    Headers h = {{"retry-after", std::to_string(retrySeconds)}};
    // A minute's limit: the x-ratelimit-* headers the ledger would have sent.
    if (const int64_t limit = t.integerAt(entry, "limit", -1); limit >= 0 && (e.type == "requests" || e.type == "tokens")) {
      h.emplace_back("x-ratelimit-limit-" + e.type, std::to_string(limit));
      h.emplace_back("x-ratelimit-remaining-" + e.type, "0");
      h.emplace_back("x-ratelimit-reset-" + e.type, formatReset(untilMs - s.nowMs()));
    }
    return refuse(s, e, h);
  }
  s.admit();
}

// The KV snapshot the tenant's ledger publishes (cached per instance for a
// moment): refuse what it already knows is out of quota without a ledger
// call. The ledger stays the judge of everything else.
void fastCheck(Session& s) {
  const std::string& tenant = s.principal().tenantId;
  auto& cache = s.state().snapshotCache;
  auto hit = cache.find(tenant);
  if (hit != cache.end() && s.nowMs() - hit->second.fetchedMs < s.config().access.snapshotCacheMs)
    return checkSnapshot(s, hit->second.text);
  s.kvGet(access::ledgerSnapshot(tenant), [](Session& s, const EffectResult& r) {
    // No snapshot yet (or KV down) is cached too: the ledger decides alone.
    checkSnapshot(s, s.state().cacheSnapshot(s.principal().tenantId, r.ok ? r.data : std::string_view(), s.nowMs()));
  });
}

void admitWithKeys(Session& s, Access access) {
  if (access == Access::Metered) return fastCheck(s);
  s.admit();
}

// The tenant's own provider keys, cached per instance like key records. A
// KV failure refuses the request: serving it on the gateway's key instead
// would bill the operator for what the tenant meant to pay for.
void loadTenantKeys(Session& s, Access access) {
  const std::string& tenant = s.principal().tenantId;
  auto& cache = s.state().tenantVaults;
  if (auto hit = cache.find(tenant); hit != cache.end() && s.nowMs() - hit->second.fetchedMs < s.config().access.keyCacheMs) {
    s.principal().tenantKeys = hit->second.keys;
    return admitWithKeys(s, access);
  }
  s.kvGet(vault::tenantDoc(tenant), [access](Session& s, const EffectResult& r) {
    vault::Keys keys;
    if (!vault::parseRead(r.ok, r.message, r.data, keys))
      return refuse(s, serverError(503, "Could not read this tenant's provider keys; try again.", "service_unavailable",
                                   "credentials_unavailable"));
    s.principal().tenantKeys = s.state().cacheTenantKeys(s.principal().tenantId, std::move(keys), s.nowMs());
    admitWithKeys(s, access);
  });
}

void admitKey(Session& s, Access access, const access::KeyRecord& k, const Credential& cred) {
  if (k.revokedAtMs >= 0 || (k.expiresAtMs >= 0 && k.expiresAtMs <= s.nowMs()))
    return refuse(s, invalidApiKey(cred.param));
  Principal& p = s.principal();
  p.authenticated = true;
  p.keyId = k.id;
  p.tenantId = k.tenantId;
  p.userId = k.userId;
  p.agentId = k.agentId;
  p.admin = k.admin;
  p.models = k.models;
  p.limits = k.limits;
  if (access == Access::Admin && !p.admin)
    return refuse(s, forbidden("This API key cannot use admin routes.", "authorization", "admin_required"));
  if (ApiError e = narrowAttribution("x-aigw-user", s.request().header("x-aigw-user"), p.userId)) return refuse(s, e);
  if (ApiError e = narrowAttribution("x-aigw-agent", s.request().header("x-aigw-agent"), p.agentId)) return refuse(s, e);
  if (access == Access::Metered || access == Access::Client) return loadTenantKeys(s, access);
  s.admit();
}

}  // namespace

ApiError narrowAttribution(std::string_view param, std::string_view claimed, std::string& bound) {
  if (claimed.empty()) return {};
  if (!access::validId(claimed)) return access::invalidId(std::string(param));
  if (!bound.empty() && claimed != bound)
    return forbidden("This API key is bound to another " +
                         std::string(param.find("user") != std::string_view::npos ? "user" : "agent") + "; " +
                         std::string(param) + " may only narrow it.",
                     std::string(param), "attribution_not_allowed");
  bound = std::string(claimed);
  return {};
}

ApiError invalidApiKey(std::string param) {
  ApiError e = invalidRequest("Invalid or missing API key. Send it as 'Authorization: Bearer <key>' or 'x-api-key'.",
                              std::move(param), "invalid_api_key");
  e.status = 401;
  return e;
}

void authenticate(Session& s, Access access) {
  const AccessConfig& cfg = s.config().access;
  if (!cfg.servingEnabled && access != Access::Admin && access != Access::Scrape)
    return refuse(s, serverError(503, "The AI gateway is switched off (ENABLE_AI_GATEWAY=false).",
                                      "service_unavailable", "gateway_disabled"));
  Credential cred;
  if (!readCredential(s.request(), cred)) return refuse(s, invalidApiKey(cred.param));
  const std::string digest = sha256Hex(cred.value);
  if (access == Access::Scrape && !cfg.metricsTokenDigest.empty() && constantTimeEquals(digest, cfg.metricsTokenDigest)) {
    Principal& p = s.principal();
    p.authenticated = p.root = true;  // reads every tenant's counters, changes nothing
    p.userId = "metrics";
    return s.admit();
  }
  if (!cfg.adminKeyDigest.empty() && constantTimeEquals(digest, cfg.adminKeyDigest)) {
    Principal& p = s.principal();
    p.authenticated = p.root = p.admin = true;
    p.userId = "admin";
    if (access == Access::Metered)
      return refuse(s, forbidden("ADMIN_API_KEY manages the gateway; create a virtual key with "
                                      "POST /api/v1/ai/admin/keys to call models.",
                                      cred.param, "admin_key_not_for_inference"));
    return s.admit();
  }
  if (access == Access::Scrape || cred.value.substr(0, access::KEY_PREFIX.size()) != access::KEY_PREFIX)
    return refuse(s, invalidApiKey(cred.param));

  auto& cache = s.state().keyCache;
  auto hit = cache.find(digest);
  if (hit != cache.end() && s.nowMs() - hit->second.fetchedMs < cfg.keyCacheMs)
    return admitKey(s, access, hit->second.key, cred);
  s.kvGet(access::keyByDigest(digest), [access, digest, cred](Session& s, const EffectResult& r) {
    access::KeyRecord k;
    if (!r.ok || !parseKeyRecord(r.data, k) || k.digest != digest) return refuse(s, invalidApiKey(cred.param));
    auto& cache = s.state().keyCache;
    if (cache.size() >= MAX_KEY_CACHE) cache.clear();
    CachedKey& entry = cache[digest];
    entry = CachedKey{std::move(k), s.nowMs()};
    admitKey(s, access, entry.key, cred);
  });
}

}  // namespace gw
