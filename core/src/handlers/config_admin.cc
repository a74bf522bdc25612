// Gateway settings, for the operator (ADMIN_API_KEY only: they apply to
// every tenant):
//   GET /api/ai-gateway/config   the settings in effect, and what the override sets
//   PUT /api/ai-gateway/config   {cache_enabled?, cache_ttl_seconds?, default_fallbacks?, …}
// PUT takes any setting of the table in gw/settings.h that has a key; a null
// removes the override of that setting. What it stores wins over the
// environment variables, and applies in this instance at once, in the others
// at their next config refresh (gateway.config_refresh_ms).
#include "admin_common.h"
#include "config_override.h"
#include "cron_jobs.h"
#include "gw/json_writer.h"
#include "gw/settings.h"
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
  for (const Setting& setting : settingsTable()) {
    if (!setting.adminWritable()) continue;
    w.key(setting.key);
    writeSetting(w, setting, c);
  }
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
    for (uint32_t k = patch_.firstChild(patch_.root()); k != 0; k = patch_.nextSibling(patch_.root(), k + 1)) {
      const Setting* setting = findSetting(patch_.string(k));
      if (setting == nullptr || !setting->adminWritable())
        return s.respondError(invalidRequest("Unknown setting '" + patch_.string(k).substr(0, 60) +
                                                 "'; the settings are those README.md lists under Settings.",
                                             patch_.string(k).substr(0, 60), "unknown_parameter"));
    }
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
