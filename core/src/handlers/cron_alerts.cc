// The health alert: over the last alert_window_minutes of the usage log
// (every tenant), the error rate and the p95 latency are checked against
// their thresholds. A condition that starts is posted to
// GATEWAY_ALERT_WEBHOOK_URL, again every alert_repeat_minutes while it
// lasts, and once more when it clears. What was posted is kept in KV
// (alert:state), written only after the webhook accepted the post, so a
// failed post is retried by the next run.
#include <memory>

#include "admin_common.h"
#include "analytics_scope.h"
#include "cron_jobs.h"
#include "gw/json_writer.h"
#include "gw/periods.h"
#include "gw/pricing.h"

namespace gw::handlers::scheduled {

namespace {

using json::Kind;

constexpr std::string_view STATE_KEY = "alert:state";
constexpr std::string_view WEBHOOK_SECRET = "GATEWAY_ALERT_WEBHOOK_URL";

struct Window {
  std::string totals, providers, previous;
};

struct Condition {
  const char* name;
  bool firing;
  std::string value, threshold;
  // From the stored state:
  bool wasFiring = false;
  int64_t sinceMs = 0, sentMs = 0;
  const char* post = nullptr;  // "firing" | "resolved" | none
};


std::string payload(Session& s, const json::Tape& totals, uint32_t row, const json::Tape& providers,
                    const std::vector<Condition>& conditions) {
  const AlertConfig& a = s.config().alerts;
  std::string out;
  json::Writer w(out);
  w.beginObject().field("event", "gateway.alert").field("at", isoTimestamp(s.nowMs()));
  w.field("window_minutes", a.windowMinutes).key("alerts").beginArray();
  for (const Condition& c : conditions) {
    if (c.post == nullptr) continue;
    w.beginObject().field("alert", c.name).field("state", c.post);
    w.key("value").raw(c.value).key("threshold").raw(c.threshold);
    w.field("since", isoTimestamp(c.sinceMs)).endObject();
  }
  w.endArray().key("window").beginObject();
  if (row != 0) writeStats(w, totals, row);
  w.endObject().key("providers").beginArray();
  const uint32_t list = providers.find(providers.root(), "rows");
  for (uint32_t p = list != 0 ? providers.firstChild(list) : 0; p != 0; p = providers.nextSibling(list, p)) {
    w.beginObject().field("provider", providers.stringAt(p, "provider"));
    writeStats(w, providers, p);
    w.endObject();
  }
  w.endArray().endObject();
  return out;
}

std::string stateDocument(const std::vector<Condition>& conditions, int64_t nowMs) {
  std::string out;
  json::Writer w(out);
  w.beginObject();
  for (const Condition& c : conditions) {
    w.key(c.name).beginObject().field("firing", c.firing);
    w.field("since", c.firing ? (c.wasFiring ? c.sinceMs : nowMs) : 0);
    w.field("sent_at", c.post != nullptr ? nowMs : c.sentMs).endObject();
  }
  w.endObject();
  return out;
}

void evaluate(Session& s, Run& run, const Window& win) {
  const AlertConfig& a = s.config().alerts;
  json::Tape totals, providers, previous;
  const uint32_t rows = totals.parse(win.totals) ? totals.find(totals.root(), "rows") : 0;
  if (rows == 0 || !providers.parse(win.providers))
    return run.finish(s, "alerts", R"({"status":"failed","error":"database unavailable"})", true);
  const uint32_t row = totals.firstChild(rows);
  const int64_t requests = row != 0 ? totals.integerAt(row, "requests", 0) : 0;
  const int64_t errors = row != 0 ? totals.integerAt(row, "errors", 0) : 0;
  const int64_t p95 = row != 0 ? totals.integerAt(row, "p95", 0) : 0;
  const bool enough = requests >= a.minRequests;
  std::vector<Condition> conditions = {
      {"error_rate", enough && errors * 100 > a.errorRatePercent * requests,
       formatRatio(errors, requests), formatRatio(a.errorRatePercent, 100)},
      {"latency_p95", enough && a.latencyP95Ms > 0 && p95 > a.latencyP95Ms, std::to_string(p95),
       std::to_string(a.latencyP95Ms)}};
  const bool known = !win.previous.empty() && previous.parse(win.previous) && previous.kind(previous.root()) == Kind::Object;
  bool posting = false;
  for (Condition& c : conditions) {
    const uint32_t was = known ? previous.find(previous.root(), c.name) : 0;
    if (was != 0 && previous.kind(was) == Kind::Object) {
      c.wasFiring = previous.kind(previous.find(was, "firing")) == Kind::True;
      c.sinceMs = previous.integerAt(was, "since", 0);
      c.sentMs = previous.integerAt(was, "sent_at", 0);
    }
    if (!c.wasFiring) c.sinceMs = s.nowMs();
    if (c.firing && (!c.wasFiring || s.nowMs() - c.sentMs >= a.repeatMinutes * 60000)) c.post = "firing";
    if (!c.firing && c.wasFiring) c.post = "resolved";
    posting = posting || c.post != nullptr;
  }
  auto summary = [&](std::string_view status) {
    std::string out;
    json::Writer w(out);
    w.beginObject().field("status", status).field("requests", requests).key("error_rate").raw(conditions[0].value);
    w.field("p95_ms", p95).key("firing").beginArray();
    for (const Condition& c : conditions)
      if (c.firing) w.string(c.name);
    w.endArray().key("posted").beginArray();
    for (const Condition& c : conditions)
      if (c.post != nullptr) w.string(std::string(c.name) + ":" + c.post);
    w.endArray().endObject();
    return out;
  };
  if (!posting) return run.finish(s, "alerts", summary("ok"), false);
  FetchSpec f;
  f.urlSecret = std::string(WEBHOOK_SECRET);
  f.headers = {{"content-type", "application/json"}};
  f.body = payload(s, totals, row, providers, conditions);
  f.timeoutMs = 10000;
  run.fetch(s, f, [&run, state = stateDocument(conditions, s.nowMs()), sent = summary("sent"),
                   unsent = summary("post_failed")](Session& s, const FetchOutcome& o) {
    if (!o.ok()) {
      std::string record;
      json::Writer(record).beginObject().field("event", "alert_post_failed").field("error", o.failure()).endObject();
      s.log("error", record);
      return run.finish(s, "alerts", unsent, true);
    }
    s.kvPut(STATE_KEY, state, [&run, sent](Session& s, const EffectResult&) { run.finish(s, "alerts", sent, false); });
  });
}

}  // namespace

void checkAlerts(Session& s, Run& run) {
  const AlertConfig& a = s.config().alerts;
  if (!a.webhookSet) return run.finish(s, "alerts", R"({"status":"off"})", false);
  auto win = std::make_shared<Window>();
  auto all = join(3, [&run, win](Session& s, bool failed) {
    if (failed) return run.finish(s, "alerts", R"({"status":"failed","error":"database unavailable"})", true);
    evaluate(s, run, *win);
  });
  AnalyticsScope scope;
  scope.fromMs = s.nowMs() - a.windowMinutes * 60000;
  scope.toMs = s.nowMs() + 1;
  for (std::string* into : {&win->totals, &win->providers}) {
    const Statement q =
        into == &win->totals ? statsQuery("", "", scope, 0) : statsQuery("provider", "provider", scope, 20);
    s.d1(q.sql, q.params, [all, into](Session& s, const EffectResult& r) {
      *into = std::string(r.data);
      arrive(all)(s, r);
    });
  }
  s.kvGet(STATE_KEY, [all, win](Session& s, const EffectResult& r) {
    if (r.ok) win->previous = std::string(r.data);
    EffectResult found;
    found.ok = true;  // no state yet is no failure
    arrive(all)(s, found);
  });
}

}  // namespace gw::handlers::scheduled
