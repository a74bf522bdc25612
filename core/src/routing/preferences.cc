#include "gw/preferences.h"

#include "gw/json_writer.h"

namespace gw::preferences {

namespace {

constexpr std::string_view SELECT_ONE =
    "SELECT provider, model FROM user_preferences WHERE tenant_id = ? AND user_id = ? AND context = ?";
constexpr std::string_view COUNT_USE =
    "UPDATE user_preferences SET usage_count = usage_count + 1, last_used_at = ? "
    "WHERE tenant_id = ? AND user_id = ? AND context = ?";

}  // namespace

bool validContext(std::string_view context) {
  if (context.empty() || context.size() > 64) return false;
  for (char ch : context) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
                    ch == '_' || ch == ':' || ch == '-';
    if (!ok) return false;
  }
  return true;
}

ApiError invalidContext(std::string param) {
  return invalidValue(std::move(param), "A context is 1-64 characters of letters, digits, '.', '_', ':' and '-'.");
}

std::string cacheKey(std::string_view tenant, std::string_view user, std::string_view context) {
  std::string key;
  key.reserve(tenant.size() + user.size() + context.size() + 2);
  key.append(tenant).push_back('\n');
  key.append(user).push_back('\n');
  key.append(context);
  return key;
}

ApiError resolve(const Config& c, std::string_view provider, std::string_view model, Target& out) {
  const ProviderConfig* p = c.provider(provider);
  if (p == nullptr)
    return invalidRequest("Unknown provider '" + std::string(provider.substr(0, 64)) + "'.", "provider",
                          "provider_not_found");
  Target t;
  ApiError e = resolveModel(c, model, ModelKind::Chat, t);
  if ((e || t.provider != p) && p->selfHosted) {
    // A model the self-hosted server serves, registered or not.
    Target own;
    if (!resolveModel(c, std::string(provider) + "/" + std::string(model), ModelKind::Chat, own)) {
      out = std::move(own);
      return {};
    }
  }
  if (e) return e;
  if (t.provider != p)
    return invalidRequest("The model '" + std::string(model) + "' is served by '" + t.provider->id + "', not '" +
                              p->id + "'.",
                          "provider", "provider_mismatch");
  out = std::move(t);
  return {};
}

void remember(GatewayState& st, const std::string& key, std::string provider, std::string model, int64_t nowMs) {
  // A bound on memory, not an eviction policy: copies are cheap to re-read.
  if (st.preferenceCache.size() >= CACHE_LIMIT && st.preferenceCache.count(key) == 0) st.preferenceCache.clear();
  CachedPreference& c = st.preferenceCache[key];
  c.provider = std::move(provider);
  c.model = std::move(model);
  c.fetchedMs = nowMs;
}

void forgetUser(GatewayState& st, std::string_view tenant, std::string_view user) {
  const std::string prefix = cacheKey(tenant, user, "");
  auto it = st.preferenceCache.lower_bound(prefix);
  while (it != st.preferenceCache.end() && it->first.compare(0, prefix.size(), prefix) == 0)
    it = st.preferenceCache.erase(it);
}

void load(Session& s, const std::string& tenant, const std::string& user, const std::string& context,
          MoveFunction<void(Session&, const CachedPreference*)> then) {
  std::string key = cacheKey(tenant, user, context);
  auto cached = s.state().preferenceCache.find(key);
  if (cached != s.state().preferenceCache.end() && s.nowMs() - cached->second.fetchedMs < CACHE_MS)
    return then(s, cached->second.provider.empty() ? nullptr : &cached->second);
  std::string params;
  json::Writer w(params);
  w.beginArray().string(tenant).string(user).string(context).endArray();
  s.d1(SELECT_ONE, params, [key = std::move(key), then = std::move(then)](Session& s, const EffectResult& r) {
    json::Tape t;
    uint32_t rows = 0;
    if (!r.ok || !t.parse(r.data) || (rows = t.find(t.root(), "rows")) == 0 || t.kind(rows) != json::Kind::Array) {
      std::string record;
      json::Writer lw(record);
      lw.beginObject().field("event", "preference_unavailable").field("error", r.message).endObject();
      s.log("warn", record);
      return then(s, nullptr);
    }
    uint32_t row = t.firstChild(rows);
    remember(s.state(), key, row != 0 ? t.stringAt(row, "provider") : std::string(),
             row != 0 ? t.stringAt(row, "model") : std::string(), s.nowMs());
    const CachedPreference& saved = s.state().preferenceCache[key];
    then(s, saved.provider.empty() ? nullptr : &saved);
  });
}

void noteUsed(Session& s, const std::string& tenant, const std::string& user, const std::string& context) {
  std::string params;
  json::Writer w(params);
  w.beginArray().integer(s.nowMs()).string(tenant).string(user).string(context).endArray();
  s.d1Detached(COUNT_USE, params);
}

}  // namespace gw::preferences
