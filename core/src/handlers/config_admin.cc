// Gateway settings, for the operator (ADMIN_API_KEY only: they apply to
// every tenant):
//   GET /api/ai-gateway/config   the settings in effect, and what the override sets
//   PUT /api/ai-gateway/config   {cache_enabled?, cache_ttl_seconds?, default_fallbacks?, …}
// PUT takes any setting of config/gateway.json's "gateway" object; a null
// removes the override of that setting. What it stores wins over the
// environment variables, and applies in this instance at once, in the others
// at their next config refresh (gateway.config_refresh_ms).
#include "admin_common.h"
#include "config_override.h"
#include "cron_jobs.h"
#include "gw/json_writer.h"
#include "handlers.h"

namespace gw::handlers {

namespace {

using json::Kind;

constexpr const char* ROOT_ONLY = "Gateway settings apply to every tenant: only ADMIN_API_KEY may read or change them.";

void writeSettings(Session& s, std::string_view pricingSync) {
  const GatewayState& st = s.state();
  const Config& c = *st.config;
  std::string body;
  json::Writer w(body);
  w.beginObject().field("object", "gateway.config").key("settings").beginObject();
  w.field("cache_enabled", c.cache.enabled).field("cache_ttl_seconds", c.cache.ttlSeconds);
  w.field("cache_nonzero_temperature", c.cache.nonzeroTemperature).field("cache_multiple_choices", c.cache.multipleChoices);
  w.field("cache_max_entry_bytes", c.cache.maxEntryBytes).field("cache_memory_ms", c.cache.memoryMs);
  w.key("cache_shared_tenants").strings(c.cache.sharedTenants).key("default_fallbacks").strings(c.defaultFallbacks);
  w.field("default_model", c.defaultModel).field("routing_policy", routePolicyName(c.routePolicy));
  w.field("request_timeout_ms", c.requestTimeoutMs).field("max_retries", static_cast<int64_t>(c.maxRetries));
  w.field("config_refresh_ms", c.configRefreshMs);
  w.field("alert_error_rate_percent", c.alerts.errorRatePercent).field("alert_latency_p95_ms", c.alerts.latencyP95Ms);
  w.field("alert_window_minutes", c.alerts.windowMinutes).field("alert_min_requests", c.alerts.minRequests);
  w.field("alert_repeat_minutes", c.alerts.repeatMinutes).field("pricing_sync_hours", c.pricingSyncHours);
  w.endObject();
  // Where the cron's jobs stand (names only: the webhook URL is a secret).
  w.field("alert_webhook_configured", c.alerts.webhookSet).field("pricing_url", c.pricingUrl);
  w.key("pricing_sync");
  json::Tape sync;
  if (!pricingSync.empty() && sync.parse(pricingSync) && sync.kind(sync.root()) == Kind::Object) w.raw(pricingSync);
  else w.null();
  w.key("override");
  json::Tape o;
  const uint32_t g = !st.overrideConfig.empty() && o.parse(st.overrideConfig) && o.kind(o.root()) == Kind::Object
                         ? o.find(o.root(), "gateway")
                         : 0;
  if (g != 0 && o.kind(g) == Kind::Object) w.raw(o.raw(g));
  else w.beginObject().endObject();
  w.endObject();
  s.respondJson(200, body, {{"cache-control", "no-store"}});
}

void respondSettings(Session& s) {
  s.kvGet(scheduled::PRICING_SYNC_KEY,
          [](Session& s, const EffectResult& r) { writeSettings(s, r.ok ? r.data : std::string_view()); });
}

class GetSettings : public Handler {
 public:
  Access access() const override { return Access::Admin; }
  void start(Session& s) override {
    if (ApiError e = rootOnly(s, ROOT_ONLY)) return s.respondError(e);
    respondSettings(s);
  }
};

class PutSettings : public Handler {
 public:
  Access access() const override { return Access::Admin; }
  void start(Session& s) override {
    if (ApiError e = rootOnly(s, ROOT_ONLY)) return s.respondError(e);
    if (ApiError e = parseObject(s.body(), patch_)) return s.respondError(e);
    // The settings are the bundled gateway object's members.
    json::Tape bundled;
    bundled.parse(s.state().bundledConfig);
    const uint32_t known = bundled.find(bundled.root(), "gateway");
    for (uint32_t k = patch_.firstChild(patch_.root()); k != 0; k = patch_.nextSibling(patch_.root(), k + 1))
      if (known == 0 || bundled.find(known, patch_.string(k)) == 0)
        return s.respondError(invalidRequest("Unknown setting '" + patch_.string(k).substr(0, 60) +
                                                 "'; the settings are those of config/gateway.json.",
                                             patch_.string(k).substr(0, 60), "unknown_parameter"));
    changeOverride(
        s,
        [this](std::string_view current) { return mergeOverrideObject(current, "gateway", patch_); },
        respondSettings);
  }

 private:
  json::Tape patch_;
};

}  // namespace

std::unique_ptr<Handler> gatewaySettings(const std::string& method) {
  if (method == "PUT") return std::make_unique<PutSettings>();
  return std::make_unique<GetSettings>();
}

}  // namespace gw::handlers
