// The scheduled job (wrangler.toml [triggers] crons, every 5 minutes),
// reached only through the host's internal envelope:
// - every tenant's ledger rolls its periods over, drops holds of requests
//   that died, and hands back budget alerts still waiting to be posted;
// - every enabled, configured provider is probed with a cheap GET of its
//   model list (no tokens spent); the outcome feeds the provider's health
//   statistics and is appended to its history in KV (health:history:<id>,
//   the last HEALTH_HISTORY probes), which GET /api/v1/ai/health?history=true shows.
#include "../../providers/wire_format.h"
#include "admin_common.h"
#include "gw/cache_store.h"
#include "gw/json_writer.h"
#include "gw/key_record.h"
#include "handlers.h"
#include "upstream_call.h"

namespace gw::handlers {

namespace {

using json::Kind;

constexpr int64_t PROBE_TIMEOUT_MS = 10000;

struct Probe {
  std::string provider;
  uint32_t fetchId = 0;
  int status = 0;
  bool done = false;
  bool ok = false;
  std::string error;
};

class Cron : public Handler {
 public:
  Access access() const override { return Access::Public; }
  void start(Session& s) override {
    if (!s.request().internal) {
      return s.respondError(
          notFoundError("Unknown endpoint: " + s.request().method + " " + s.request().path, "", "not_found"));
    }
    cache::flushHits(s);  // this instance's counted cache hits, if a second has passed
    startProbes(s);
    ++pending_;
    s.kvList("tenant:", 1000, [this](Session& s, const EffectResult& r) {
      std::vector<std::string> tenants;
      if (!listedNames(r, tenants)) {
        ledgersFailed_ = true;
        return partDone(s);
      }
      for (auto& name : tenants) name.erase(0, std::string_view("tenant:").size());
      tenants_ = static_cast<int64_t>(tenants.size());
      if (tenants.empty()) return partDone(s);
      auto j = join(static_cast<int>(tenants.size()), [this](Session& s, bool failed) {
        ledgersFailed_ = failed;
        partDone(s);
      });
      for (const auto& tenant : tenants) s.ledger(tenant, R"({"op":"tick"})", arrive(j));
    });
  }

  void onFetchHead(Session&, uint32_t id, int status, const json::Tape&, uint32_t) override {
    if (Probe* p = probe(id)) p->status = status;
  }
  void onFetchEnd(Session& s, uint32_t id) override {
    if (Probe* p = probe(id)) finishProbe(s, *p, p->status >= 200 && p->status < 300, "");
  }
  void onFetchError(Session& s, uint32_t id, std::string_view reason, std::string_view message) override {
    if (Probe* p = probe(id)) finishProbe(s, *p, false, message.empty() ? reason : message);
  }

 private:
  void startProbes(Session& s) {
    for (const auto& p : s.config().providers) {
      if (!p.enabled || !p.configured() || p.builtinDemo || p.urlStyle != UrlStyle::Plain) continue;
      FetchSpec f = providerFetch(p, false);
      f.method = "GET";
      f.url = endpointUrl(p, "", "models");
      f.timeoutMs = PROBE_TIMEOUT_MS;
      ++pending_;
      Probe probe;
      probe.provider = p.id;
      probe.fetchId = s.fetch(f);
      probes_.push_back(std::move(probe));
    }
    startedMs_ = s.nowMs();
  }

  Probe* probe(uint32_t id) {
    for (auto& p : probes_)
      if (p.fetchId == id && !p.done) return &p;
    return nullptr;
  }

  void finishProbe(Session& s, Probe& p, bool ok, std::string_view error) {
    p.done = true;
    p.ok = ok;
    p.error = ok ? "" : (error.empty() ? "HTTP " + std::to_string(p.status) : std::string(error.substr(0, 200)));
    const double latency = static_cast<double>(s.nowMs() - startedMs_);
    s.state().recordAttempt(p.provider, s.nowMs(), p.status, ok, latency, p.error);
    // Append to the provider's history (read, append, trim, write).
    const std::string key = healthHistoryKey(p.provider);
    s.kvGet(key, [this, key, entry = historyEntry(s, p, latency)](Session& s, const EffectResult& r) {
      std::string next = appendHistory(r.ok ? r.data : std::string_view(), entry);
      s.kvPut(key, next, [this](Session& s, const EffectResult&) { partDone(s); });
    });
  }

  static std::string historyEntry(Session& s, const Probe& p, double latency) {
    std::string e;
    json::Writer w(e);
    w.beginObject().field("at", s.nowMs()).field("ok", p.ok).field("status", p.status);
    w.field("latency_ms", static_cast<int64_t>(latency));
    if (!p.ok) w.field("error", p.error);
    w.endObject();
    return e;
  }

  static std::string appendHistory(std::string_view current, const std::string& entry) {
    json::Tape t;
    std::vector<std::string_view> kept;
    if (!current.empty() && t.parse(current) && t.kind(0) == Kind::Array)
      for (uint32_t v = t.firstChild(0); v != 0; v = t.nextSibling(0, v))
        if (t.kind(v) == Kind::Object) kept.push_back(t.raw(v));
    const size_t drop = kept.size() + 1 > HEALTH_HISTORY ? kept.size() + 1 - HEALTH_HISTORY : 0;
    std::string out = "[";
    for (size_t i = drop; i < kept.size(); ++i) out.append(kept[i]).push_back(',');
    out += entry;
    out.push_back(']');
    return out;
  }

  void partDone(Session& s) {
    if (--pending_ > 0) return;
    int64_t healthy = 0;
    for (const auto& p : probes_) healthy += p.ok;
    std::string body;
    json::Writer w(body);
    w.beginObject().field("tenants", tenants_).field("complete", !ledgersFailed_);
    w.field("providers_probed", static_cast<int64_t>(probes_.size())).field("providers_healthy", healthy).endObject();
    s.respondJson(ledgersFailed_ ? 503 : 200, body);
    s.log(ledgersFailed_ ? "error" : "info", R"({"event":"cron",)" + body.substr(1));
  }

  std::vector<Probe> probes_;
  int pending_ = 0;
  int64_t startedMs_ = 0;
  int64_t tenants_ = 0;
  bool ledgersFailed_ = false;
};

}  // namespace

std::string healthHistoryKey(std::string_view provider) { return "health:history:" + std::string(provider); }

std::unique_ptr<Handler> cron() { return std::make_unique<Cron>(); }

}  // namespace gw::handlers
