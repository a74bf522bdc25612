// Pricing sync: when PRICING_URL is set, every pricing_sync_hours the run
// fetches it and writes the prices it gives into the registry's KV override.
// The document has the registry's shape ({"models":[{"id","price":{...}}]},
// so a hosted copy of config/models.json works); only `price` is taken, for
// registered models (by id or alias). The whole sync is validated as one
// change: a bad price rejects it and leaves the registry as it was. The
// outcome is kept in KV (pricing:sync) for GET /api/ai-gateway/config.
#include <vector>

#include "config_override.h"
#include "cron_jobs.h"
#include "gw/json_writer.h"
#include "gw/periods.h"

namespace gw::handlers::scheduled {

namespace {

using json::Kind;

constexpr int64_t FETCH_TIMEOUT_MS = 15000;

struct PriceChange {
  std::string id;
  std::string patch;  // {"price": {...}}
};

struct Sync {
  std::vector<PriceChange> changes;
  int64_t unknown = 0;
  int64_t changed = 0;
};

// Reads the document into `sync`; false (with `error`) when it is not one.
bool readPrices(const Config& c, std::string_view body, Sync& sync, std::string& error) {
  json::Tape t;
  const uint32_t models = t.parse(body) && t.kind(t.root()) == Kind::Object ? t.find(t.root(), "models") : 0;
  if (models == 0 || t.kind(models) != Kind::Array) {
    error = "expected a JSON object with a \"models\" array";
    return false;
  }
  for (uint32_t row = t.firstChild(models); row != 0; row = t.nextSibling(models, row)) {
    const uint32_t price = t.kind(row) == Kind::Object ? t.find(row, "price") : 0;
    if (price == 0) continue;
    const ModelConfig* m = c.model(t.stringAt(row, "id"));
    if (m == nullptr) {
      ++sync.unknown;
      continue;
    }
    PriceChange change;
    change.id = m->id;
    change.patch = "{\"price\":";
    change.patch.append(t.raw(price)).push_back('}');
    sync.changes.push_back(std::move(change));
  }
  return true;
}

bool samePrice(const Price& a, const Price& b) {
  return a.input == b.input && a.output == b.output && a.cachedInput == b.cachedInput && a.cacheWrite == b.cacheWrite;
}

void report(Session& s, Run& run, std::string_view status, const Sync& sync, std::string_view error) {
  std::string record;
  json::Writer w(record);
  w.beginObject().field("at", s.nowMs()).field("time", isoTimestamp(s.nowMs())).field("status", status);
  w.field("updated", sync.changed).field("unknown_models", sync.unknown);
  if (!error.empty()) w.field("error", error.substr(0, 300));
  w.endObject();
  s.kvPut(PRICING_SYNC_KEY, record, [](Session&, const EffectResult&) {});
  if (status == "failed") s.log("error", R"({"event":"pricing_sync",)" + record.substr(1));
  run.finish(s, "pricing", record, status == "failed");
}

void apply(Session& s, Run& run, std::string_view body) {
  auto sync = std::make_shared<Sync>();
  std::string error;
  if (!readPrices(s.config(), body, *sync, error)) return report(s, run, "failed", *sync, error);
  if (sync->changes.empty()) return report(s, run, "ok", *sync, "");
  storeOverride(
      s,
      [sync](std::string_view current) {
        std::string next(current);
        json::Tape patch;
        for (const PriceChange& c : sync->changes)
          if (patch.parse(c.patch)) next = mergeOverrideRow(next, "models", c.id, patch);
        return next;
      },
      [&run, sync, before = s.state().config](Session& s, const ApiError& failure) {
        if (failure) return report(s, run, "failed", *sync, failure.message);
        for (const PriceChange& c : sync->changes) {
          const ModelConfig* was = before->model(c.id);
          const ModelConfig* now = s.state().config->model(c.id);
          if (was == nullptr || now == nullptr || !samePrice(was->price, now->price)) ++sync->changed;
        }
        report(s, run, "ok", *sync, "");
      });
}

}  // namespace

void syncPricing(Session& s, Run& run) {
  if (s.config().pricingUrl.empty()) return run.finish(s, "pricing", R"({"status":"off"})", false);
  s.kvGet(PRICING_SYNC_KEY, [&run](Session& s, const EffectResult& r) {
    json::Tape last;
    const int64_t lastMs = r.ok && last.parse(r.data) && last.kind(last.root()) == Kind::Object ? last.integerAt(last.root(), "at", 0) : 0;
    if (s.nowMs() - lastMs < s.config().pricingSyncHours * 3600000) {
      std::string summary;
      json::Writer(summary).beginObject().field("status", "not_due").field("last_sync_at", lastMs).endObject();
      return run.finish(s, "pricing", summary, false);
    }
    FetchSpec f;
    f.method = "GET";
    f.url = s.config().pricingUrl;
    f.headers = {{"accept", "application/json"}};
    f.timeoutMs = FETCH_TIMEOUT_MS;
    run.fetch(s, f, [&run](Session& s, const FetchOutcome& o) {
      if (!o.ok()) return report(s, run, "failed", Sync{}, o.failure());
      apply(s, run, o.body);
    });
  });
}

}  // namespace gw::handlers::scheduled
