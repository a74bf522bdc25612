// The scheduled job (wrangler.toml [triggers] crons, every 5 minutes),
// reached only through the host's internal envelope:
// - every tenant's ledger rolls its periods over, drops holds of requests
//   that died, and hands back budget alerts still waiting to be posted;
// - every enabled, configured provider is probed with a cheap GET of its
//   model list (no tokens spent); the outcome feeds the provider's health
//   statistics and is appended to its history in KV (health:history:<id>,
//   the last HEALTH_HISTORY probes), which GET /api/v1/ai/health?history=true shows;
// - the jobs of cron_jobs.h: daily rollups, the pricing sync, the health alert,
//   the request log's bodies past their retention.
// The answer has one member per part; any part failing makes it a 503.
#include "wire/wire_format.h"
#include "admin_common.h"
#include "cron_jobs.h"
#include <algorithm>

#include "gw/cache_store.h"
#include "gw/json_writer.h"
#include "gw/key_record.h"
#include "handlers.h"
#include "wire/provider_fetch.h"

namespace gw::handlers {

namespace {

using json::Kind;

constexpr int64_t PROBE_TIMEOUT_MS = 10000;

constexpr size_t MAX_FETCH_BODY = 2 << 20;

class Cron : public Handler, public scheduled::Run {
 public:
  Access access() const override { return Access::Public; }
  void start(Session& s) override {
    if (!s.request().internal) {
      return s.respondError(
          notFoundError("Unknown endpoint: " + s.request().method + " " + s.request().path, "", "not_found"));
    }
    cache::flushHits(s);  // this instance's counted cache hits, if a second has passed
    // Every part reports once through finish(); none can end the run early.
    report_.beginObject();
    pending_ = 6;
    startProbes(s);
    tickLedgers(s);
    scheduled::rollUpUsage(s, *this);
    scheduled::syncPricing(s, *this);
    scheduled::checkAlerts(s, *this);
    scheduled::expireBodies(s, *this);
  }

  void fetch(Session& s, const FetchSpec& spec, scheduled::FetchThen then) override {
    s.fetchWhole(spec, MAX_FETCH_BODY, std::move(then));
  }

  void finish(Session& s, std::string_view name, std::string summary, bool failed) override {
    report_.key(name).raw(summary);
    failed_ = failed_ || failed;
    if (--pending_ > 0) return;
    report_.field("complete", !failed_).endObject();
    s.respondJson(failed_ ? 503 : 200, body_);
    s.log(failed_ ? "error" : "info", R"({"event":"cron",)" + body_.substr(1));
  }

 private:

  void tickLedgers(Session& s) {
    s.kvList("tenant:", 1000, [this](Session& s, const EffectResult& r) {
      std::vector<std::string> tenants;
      if (!listedNames(r, tenants)) return finish(s, "tenants", "0", true);
      for (auto& name : tenants) name.erase(0, std::string_view("tenant:").size());
      const std::string count = std::to_string(tenants.size());
      if (tenants.empty()) return finish(s, "tenants", count, false);
      auto j = join(static_cast<int>(tenants.size()),
                    [this, count](Session& s, bool failed) { finish(s, "tenants", count, failed); });
      for (const auto& tenant : tenants) s.ledger(tenant, R"({"op":"tick"})", arrive(j));
    });
  }

  void startProbes(Session& s) {
    startedMs_ = s.nowMs();
    for (const auto& p : s.config().providers) {
      if (!p.enabled || !p.configured() || p.builtinDemo || p.urlStyle != UrlStyle::Plain) continue;
      FetchSpec f = providerFetch(p, false);
      f.method = "GET";
      f.url = endpointUrl(p, "", "models");
      f.timeoutMs = PROBE_TIMEOUT_MS;
      ++probes_;
      fetch(s, f, [this, id = p.id](Session& s, const scheduled::FetchOutcome& o) { finishProbe(s, id, o); });
    }
    if (probes_ == 0) probesDone(s);
  }

  void finishProbe(Session& s, const std::string& provider, const scheduled::FetchOutcome& o) {
    const bool ok = o.ok();
    const std::string error = ok ? "" : o.failure();
    healthy_ += ok;
    const double latency = static_cast<double>(s.nowMs() - startedMs_);
    s.state().recordAttempt(provider, s.nowMs(), o.status, ok, latency, error);
    // Append to the provider's history (read, append, trim, write).
    std::string entry;
    json::Writer w(entry);
    w.beginObject().field("at", s.nowMs()).field("ok", ok).field("status", o.status);
    w.field("latency_ms", static_cast<int64_t>(latency));
    if (!ok) w.field("error", error);
    w.endObject();
    const std::string key = healthHistoryKey(provider);
    s.kvGet(key, [this, key, entry](Session& s, const EffectResult& r) {
      std::string next = appendHistory(r.ok ? r.data : std::string_view(), entry);
      s.kvPut(key, next, [this](Session& s, const EffectResult&) {
        if (++probed_ == probes_) probesDone(s);
      });
    });
  }

  void probesDone(Session& s) {
    std::string summary;
    json::Writer(summary).beginObject().field("probed", probes_).field("healthy", healthy_).endObject();
    finish(s, "providers", summary, false);
  }

  static std::string appendHistory(std::string_view current, const std::string& entry) {
    json::Tape t;
    std::vector<std::string_view> kept;
    if (!current.empty() && t.parse(current) && t.kind(t.root()) == Kind::Array)
      for (uint32_t v = t.firstChild(t.root()); v != 0; v = t.nextSibling(t.root(), v))
        if (t.kind(v) == Kind::Object) kept.push_back(t.raw(v));
    const size_t drop = kept.size() + 1 > HEALTH_HISTORY ? kept.size() + 1 - HEALTH_HISTORY : 0;
    std::string out = "[";
    for (size_t i = drop; i < kept.size(); ++i) out.append(kept[i]).push_back(',');
    out += entry;
    out.push_back(']');
    return out;
  }

  std::string body_;
  json::Writer report_{body_};
  int pending_ = 0;
  bool failed_ = false;
  int64_t startedMs_ = 0;
  int64_t probes_ = 0, probed_ = 0, healthy_ = 0;
};

}  // namespace

std::string healthHistoryKey(std::string_view provider) { return "health:history:" + std::string(provider); }

std::unique_ptr<Handler> cron() { return std::make_unique<Cron>(); }

}  // namespace gw::handlers
