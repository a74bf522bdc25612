// GET /api/v1/ai/health: gateway status, config validity, and per provider
// whether it is configured and how its recent upstream calls went.
#include <algorithm>
#include <map>

#include "admin_common.h"
#include "gw/gateway.h"
#include "gw/http.h"
#include "gw/json_writer.h"
#include "gw/periods.h"
#include "gw/pricing.h"
#include "handlers.h"

namespace gw::handlers {

namespace {

constexpr std::string_view VERSION = "0.1.0";

std::string_view providerStatus(const ProviderConfig& p, const ProviderStats* stats, const Config& c) {
  if (p.builtinDemo) return "ok";
  if (!p.configured()) return c.demoMode == DemoMode::Auto ? "demo" : "unconfigured";
  if (stats == nullptr || stats->requests == 0) return "unknown";
  if (stats->consecutiveFailures >= 3) return "down";
  if (stats->consecutiveFailures > 0) return "degraded";
  return "ok";
}

// The probe history as stored, less the providers' error texts: only the
// public health view shows it (the route needs no key).
void writeHistory(json::Writer& w, std::string_view stored) {
  json::Tape t;
  if (!t.parse(stored) || t.kind(t.root()) != json::Kind::Array) {
    w.raw("[]");
    return;
  }
  w.beginArray();
  for (uint32_t probe = t.firstChild(t.root()); probe != 0; probe = t.nextSibling(t.root(), probe)) {
    if (t.kind(probe) != json::Kind::Object) continue;
    w.beginObject();
    for (uint32_t k = t.firstChild(probe); k != 0; k = t.nextSibling(probe, k + 1))
      if (!t.stringEquals(k, "error")) w.key(t.string(k)).raw(t.raw(k + 1));
    w.endObject();
  }
  w.endArray();
}

// ?history=true adds each provider's probe history (read from KV).
class Health : public Handler {
 public:
  bool needsConfig() const override { return false; }
  Access access() const override { return Access::Public; }
  void start(Session& s) override {
    GatewayState& st = s.state();
    // The breakers other instances published (this one may be new, and
    // know none while calls are refused): read at most every BREAKER_READ_MS.
    if (st.config != nullptr && s.nowMs() - st.breakersListedMs >= BREAKER_READ_MS) {
      st.breakersListedMs = s.nowMs();
      return s.kvList(BREAKER_KEY_PREFIX, 200, [this](Session& s, const EffectResult& r) { readBreakers(s, r); });
    }
    readHistory(s);
  }

 private:
  void readBreakers(Session& s, const EffectResult& listed) {
    std::vector<std::string> keys;
    if (!listedNames(listed, keys)) return readHistory(s);
    // A tenant's own key's breakers are not the provider's health.
    keys.erase(std::remove_if(keys.begin(), keys.end(), [](const std::string& k) { return k.find('#') != std::string::npos; }),
               keys.end());
    if (keys.empty()) return readHistory(s);
    auto j = join(static_cast<int>(keys.size()), [this](Session& s, bool) { readHistory(s); });
    for (const auto& key : keys)
      s.kvGet(key, [done = arrive(j), target = key.substr(BREAKER_KEY_PREFIX.size())](Session& s, const EffectResult& r) {
        json::Tape t;
        if (r.ok && t.parse(r.data)) {
          TargetHealth& health = s.state().targets[target];
          health.breaker.adoptShared(t, t.root());
          health.sharedReadMs = s.nowMs();
        }
        done(s, r);
      });
  }

  void readHistory(Session& s) {
    const GatewayState& st = s.state();
    if (queryParam(s.request().query, "history") != "true" || st.config == nullptr) return respond(s);
    const auto& providers = st.config->providers;
    auto j = join(static_cast<int>(providers.size()), [this](Session& s, bool) { respond(s); });
    for (const auto& p : providers)
      s.kvGet(healthHistoryKey(p.id), [this, done = arrive(j), id = p.id](Session& s, const EffectResult& r) {
        json::Tape t;
        history_[id] = r.ok && t.parse(r.data) && t.kind(t.root()) == json::Kind::Array ? std::string(r.data) : "[]";
        done(s, r);
      });
  }

  void respond(Session& s) {
    const GatewayState& st = s.state();
    std::string body;
    json::Writer w(body);
    const bool ok = st.config != nullptr;
    w.beginObject().field("status", ok ? "ok" : "error").field("version", VERSION).field("abi", ABI_VERSION);
    w.key("config").beginObject().field("valid", ok);
    w.key("error");
    if (ok) w.null(); else w.string(st.configStatus.message);
    w.field("override", !st.overrideConfig.empty()).endObject();
    w.key("instance").beginObject();
    w.field("uptime_ms", st.startedMs < 0 ? 0 : s.nowMs() - st.startedMs);
    w.field("requests_served", st.requestsServed);
    w.endObject();
    w.key("providers").beginArray();
    if (ok)
      for (const auto& p : st.config->providers) {
        auto h = history_.find(p.id);
        writeProviderState(w, p, st, s.nowMs(), ProviderView::Public,
                           h == history_.end() ? std::string_view() : std::string_view(h->second));
      }
    w.endArray().endObject();
    s.respondJson(ok ? 200 : 503, body, {{"cache-control", "no-store"}});
  }

  std::map<std::string, std::string> history_;
};

}  // namespace

void writeProviderState(json::Writer& w, const ProviderConfig& p, const GatewayState& st, int64_t nowMs,
                        ProviderView view, std::string_view history) {
  auto it = st.providerStats.find(p.id);
  const ProviderStats* stats = it == st.providerStats.end() ? nullptr : &it->second;
  w.beginObject().field("id", p.id).field("name", p.name);
  w.field("status", st.config ? providerStatus(p, stats, *st.config) : "unknown");
  w.field("enabled", p.enabled).field("configured", p.configured());
  // What to set to configure it: a name, never a value.
  if (p.configured() || p.builtinDemo) w.key("needs").null();
  else w.field("needs", providerNeeds(p));
  if (!p.builtinDemo) w.field("base_url", p.baseUrl);
  w.field("timeout_ms", p.timeoutMs).field("first_byte_timeout_ms", p.firstByteTimeoutMs);
  w.field("stream_idle_timeout_ms", p.streamIdleTimeoutMs);
  const int64_t requests = stats ? stats->requests : 0, failures = stats ? stats->failures : 0;
  w.field("requests", requests).field("failures", failures);
  w.key("error_rate").raw(formatRatio(failures, requests));
  w.field("consecutive_failures", stats ? stats->consecutiveFailures : 0);
  w.field("latency_ewma_ms", static_cast<int64_t>(stats ? stats->latencyEwmaMs + 0.5 : 0));
  if (view == ProviderView::Admin) {
    w.key("last_error");
    if (stats && !stats->lastError.empty()) w.string(stats->lastError); else w.null();
  }
  // This instance's breakers for the provider's targets (shared ones included once read).
  w.key("breakers").beginArray();
  const std::string prefix = p.id + "/";
  for (auto t = st.targets.lower_bound(prefix); t != st.targets.end() && t->first.rfind(prefix, 0) == 0; ++t) {
    if (t->first.find('#') != std::string::npos) continue;  // a tenant's own key: its business, not the provider's
    const CircuitBreaker& b = t->second.breaker;
    w.beginObject().field("target", t->first).field("state", breakerStateName(b.state(nowMs)));
    if (b.openUntilMs() > 0) w.field("open_until", isoTimestamp(b.openUntilMs()));
    w.endObject();
  }
  w.endArray();
  if (!history.empty()) writeHistory(w.key("history"), history);
  w.endObject();
}

std::unique_ptr<Handler> health() { return std::make_unique<Health>(); }

}  // namespace gw::handlers
