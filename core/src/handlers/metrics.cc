// GET /api/v1/ai/metrics?period=7d|30d|60d|90d  or  ?from=&to=  (dates or ISO times, UTC),
// GET /api/analytics/gateway (one client's), and GET /metrics (Prometheus).
// Requests, success and error rates, cache hit rate, latency p50/p95/p99
// (nearest rank), tokens and cost, in total, per provider, per model and per
// day, from the usage log in D1. ADMIN_API_KEY sees every tenant (or the
// one named by tenantId); any other key sees its own tenant.
#include <algorithm>
#include <cmath>

#include "admin_common.h"
#include "analytics_scope.h"
#include "gw/json_writer.h"
#include "gw/key_record.h"
#include "gw/periods.h"
#include "gw/pricing.h"
#include "handlers.h"

namespace gw::handlers {

namespace {

using json::Kind;

// A statsQuery row's latency (p50, p95, p99: null when no request; the
// mean, rounded), into an open object.
void writeLatency(json::Writer& w, const json::Tape& t, uint32_t row) {
  for (const char* q : {"p50", "p95", "p99"}) {
    const int64_t v = t.integerAt(row, q, -1);
    if (v < 0) w.key(q).null();
    else w.field(q, v);
  }
  const uint32_t mean = t.find(row, "mean_ms");
  if (mean != 0 && t.kind(mean) == Kind::Number) w.field("mean", static_cast<int64_t>(std::llround(t.number(mean))));
  else w.key("mean").null();
}

class Metrics : public Analytics {
 protected:
  void run(Session& s) override {
    auto done = queries(4);
    struct Query {
      std::string_view groupBy, columns;
      int64_t limit;
    };
    static constexpr Query QUERIES[] = {{"", "", 0},
                                        {"provider", "provider", 100},
                                        {"provider, model", "provider, model", 100},
                                        {"day", "date(created_at / 1000, 'unixepoch') AS day", 400}};
    for (size_t i = 0; i < 4; ++i) {
      const Statement q = statsQuery(QUERIES[i].groupBy, QUERIES[i].columns, scope_, QUERIES[i].limit);
      queryRaw(s, done, i, q.sql, q.params);
    }
  }

  void respond(Session& s) override {
    std::string body;
    json::Writer w(body);
    w.beginObject();
    writeHead(w);
    writeScope(w, scope_);
    w.key("totals").beginObject();
    const Answer& all = answers_[0];
    if (all.tape.firstChild(all.rows) != 0) writeStats(w, all.tape, all.tape.firstChild(all.rows));
    w.endObject();
    auto group = [&](const char* name, size_t i, std::initializer_list<const char*> keys) {
      const Answer& a = answers_[i];
      w.key(name).beginArray();
      for (uint32_t row = a.tape.firstChild(a.rows); row != 0; row = a.tape.nextSibling(a.rows, row)) {
        w.beginObject();
        for (const char* k : keys) w.field(k, a.tape.stringAt(row, k));
        writeStats(w, a.tape, row);
        w.endObject();
      }
      w.endArray();
    };
    group("by_provider", 1, {"provider"});
    group("by_model", 2, {"provider", "model"});
    group("daily", 3, {"day"});
    w.endObject();
    s.respondJson(200, body);
  }

  virtual void writeHead(json::Writer& w) { w.field("object", "metrics"); }
};

// GET /api/analytics/gateway?userId=|keyId=: the same statistics for one
// client of a tenant, a user (every key of theirs) or a key. A user's key
// reads itself only, and is itself by default; an admin key may name any
// client of its tenant.
class ClientAnalytics : public Metrics {
 protected:
  void run(Session& s) override {
    const Principal& p = s.principal();
    const std::string& q = s.request().query;
    std::string user = queryParam(q, "userId"), key = queryParam(q, "keyId");
    if (!user.empty() && !key.empty()) return s.respondError(invalidValue("keyId", "Name a userId or a keyId, not both."));
    if (!user.empty() && !access::validId(user)) return s.respondError(access::invalidId("userId"));
    if (!key.empty() && !access::validId(key)) return s.respondError(access::invalidId("keyId"));
    if (user.empty() && key.empty()) {
      if (p.root) return s.respondError(invalidValue("userId", "ADMIN_API_KEY is no client: name a userId or a keyId."));
      // Itself: its user, or the key when it is bound to no user.
      if (!p.userId.empty()) user = p.userId;
      else key = p.keyId;
    } else if (!p.admin && (user.empty() ? key != p.keyId : user != p.userId)) {
      return s.respondError(forbidden("This API key may only read its own analytics.", user.empty() ? "keyId" : "userId",
                                      "client_forbidden"));
    }
    scope_.userId = std::move(user);
    scope_.keyId = std::move(key);
    Metrics::run(s);
  }

  void writeHead(json::Writer& w) override {
    w.field("object", "analytics.client").key("client").beginObject();
    if (scope_.userId.empty()) w.key("userId").null();
    else w.field("userId", scope_.userId);
    if (scope_.keyId.empty()) w.key("keyId").null();
    else w.field("keyId", scope_.keyId);
    w.endObject();
  }
};

// GET /api/v1/ai/metrics/daily: the same statistics per UTC day, in total
// and per provider, from the cron's rollups (gateway_usage_daily): a few rows
// per day however many requests, for a dashboard's series over months. Today
// is as of the last cron run (rolled_up_at).
class DailyMetrics : public Analytics {
 protected:
  void run(Session& s) override {
    if (!scope_.metadata.empty())
      return s.respondError(invalidValue("metadata." + scope_.metadata.front().first,
                                         "The daily rollups do not keep metadata; filter /api/v1/ai/metrics instead."));
    std::string params;
    json::Writer p(params);
    p.beginArray().string(scope_.tenant.empty() ? "*" : scope_.tenant);
    p.integer(scope_.fromMs - scope_.fromMs % 86400000).integer(scope_.toMs).endArray();
    queryRaw(s, queries(1), 0,
             "SELECT date(day / 1000, 'unixepoch') AS day, provider, requests, successes, errors, cache_hits, "
             "input_tokens, output_tokens, cached_tokens, cost_usd_pico, cost_brl_pico, latency_ms_sum * 1.0 / "
             "requests AS mean_ms, p50, p95, p99, rolled_up_at FROM gateway_usage_daily WHERE tenant_id = ? AND "
             "model = '*' AND day >= ? AND day < ? ORDER BY day, provider",
             params);
  }

  void respond(Session& s) override {
    const json::Tape& t = answers_[0].tape;
    const uint32_t rows = answers_[0].rows;
    std::string body;
    json::Writer w(body);
    w.beginObject().field("object", "metrics.daily");
    writeScope(w, scope_);
    int64_t rolledUp = 0;
    for (uint32_t row = t.firstChild(rows); row != 0; row = t.nextSibling(rows, row))
      rolledUp = std::max(rolledUp, t.integerAt(row, "rolled_up_at", 0));
    if (rolledUp > 0) w.field("rolled_up_at", isoTimestamp(rolledUp));
    else w.key("rolled_up_at").null();
    for (const bool total : {true, false}) {
      w.key(total ? "daily" : "by_provider").beginArray();
      for (uint32_t row = t.firstChild(rows); row != 0; row = t.nextSibling(rows, row)) {
        const std::string provider = t.stringAt(row, "provider");
        if ((provider == "*") != total) continue;
        w.beginObject().field("day", t.stringAt(row, "day"));
        if (!total) w.field("provider", provider);
        writeStats(w, t, row);
        w.endObject();
      }
      w.endArray();
    }
    w.endObject();
    s.respondJson(200, body);
  }
};

// GET /api/ai-gateway/latency?period=|from=&to=&interval=hour|day: latency
// p50/p95/p99 (nearest rank) and mean per interval, in total and per
// provider, for the dashboard's latency chart. Hourly up to 31 days; the
// default is hourly up to two days, else daily.
class Latency : public Analytics {
 protected:
  void run(Session& s) override {
    constexpr int64_t HOUR = 3600000;
    const std::string interval = queryParam(s.request().query, "interval");
    const int64_t span = scope_.toMs - scope_.fromMs;
    if (interval.empty()) intervalMs_ = span > 2 * MS_PER_DAY ? MS_PER_DAY : HOUR;
    else if (interval == "hour") intervalMs_ = HOUR;
    else if (interval == "day") intervalMs_ = MS_PER_DAY;
    else return s.respondError(invalidValue("interval", "interval is hour or day."));
    if (intervalMs_ == HOUR && span > 31 * MS_PER_DAY)
      return s.respondError(invalidValue("interval", "An hourly series covers at most 31 days; ask for interval=day."));
    const std::string ms = std::to_string(intervalMs_);
    const std::string bucket = "(created_at / " + ms + ") * " + ms + " AS bucket";
    auto done = queries(2);
    const Statement total = statsQuery("bucket", bucket, scope_, 800);
    queryRaw(s, done, 0, total.sql, total.params);
    const Statement perProvider = statsQuery("provider, bucket", "provider, " + bucket, scope_, 20000);
    queryRaw(s, done, 1, perProvider.sql, perProvider.params);
  }

  void respond(Session& s) override {
    std::string body;
    json::Writer w(body);
    w.beginObject().field("object", "latency");
    writeScope(w, scope_);
    w.field("interval", intervalMs_ == MS_PER_DAY ? "day" : "hour");
    auto point = [&](const json::Tape& t, uint32_t row) {
      w.beginObject().field("at", isoTimestamp(t.integerAt(row, "bucket", 0))).field("requests", t.integerAt(row, "requests", 0));
      writeLatency(w, t, row);
      w.endObject();
    };
    const Answer& all = answers_[0];
    w.key("series").beginArray();
    for (uint32_t row = all.tape.firstChild(all.rows); row != 0; row = all.tape.nextSibling(all.rows, row)) point(all.tape, row);
    w.endArray();
    // Rows come by provider, then time: one series per provider.
    const Answer& per = answers_[1];
    w.key("by_provider").beginArray();
    std::string current;
    bool open = false;
    for (uint32_t row = per.tape.firstChild(per.rows); row != 0; row = per.tape.nextSibling(per.rows, row)) {
      const std::string provider = per.tape.stringAt(row, "provider");
      if (!open || provider != current) {
        if (open) w.endArray().endObject();
        w.beginObject().field("provider", provider).key("series").beginArray();
        current = provider;
        open = true;
      }
      point(per.tape, row);
    }
    if (open) w.endArray().endObject();
    w.endArray().endObject();
    s.respondJson(200, body);
  }

 private:
  int64_t intervalMs_ = 0;
};

// A Prometheus label value: backslash, quote and newline escaped.
void label(std::string& out, std::string_view name, std::string_view value, bool first = false) {
  if (!first) out.push_back(',');
  out.append(name).append("=\"");
  for (char ch : value) {
    if (ch == '\\' || ch == '"') out.push_back('\\');
    if (ch == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(ch);
  }
  out.push_back('"');
}

// GET /metrics: the usage log's lifetime counters (by tenant, provider,
// model, status class and cache status), latency quantiles over the last
// hour, and this instance's view of the circuit breakers, in Prometheus'
// text format. ADMIN_API_KEY or METRICS_TOKEN.
class Prometheus : public Analytics {
 public:
  Access access() const override { return Access::Scrape; }
  // Whole-ledger counters: no analytics scope, so a scraper's stray query
  // string is ignored rather than refused.
  void start(Session& s) override { run(s); }

 protected:
  void run(Session& s) override {
    auto done = queries(2);
    queryRaw(s, done, 0,
             "SELECT tenant_id, COALESCE(provider, '') AS provider, COALESCE(model, '') AS model, (status / 100) || "
             "'xx' AS class, cache_status, COUNT(*) AS requests, SUM(input_tokens) AS input_tokens, "
             "SUM(output_tokens) AS output_tokens, SUM(cached_tokens) AS cached_tokens, SUM(cost_usd_pico) AS "
             "cost_usd_pico FROM gateway_usage_logs GROUP BY 1, 2, 3, 4, 5 LIMIT 10000",
             "[]");
    AnalyticsScope lastHour;
    lastHour.fromMs = s.nowMs() - 3600000;
    lastHour.toMs = s.nowMs() + 1;
    const Statement q = statsQuery("", "", lastHour, 0);
    queryRaw(s, done, 1, q.sql, q.params);
  }

  void respond(Session& s) override {
    const json::Tape &counters = answers_[0].tape, &latency = answers_[1].tape;
    const uint32_t rows = answers_[0].rows;
    std::string out;
    struct Family {
      const char* name;
      const char* help;
      const char* column;
      bool money;
    };
    static constexpr Family FAMILIES[] = {
        {"aigw_requests_total", "Client requests.", "requests", false},
        {"aigw_input_tokens_total", "Input (prompt) tokens.", "input_tokens", false},
        {"aigw_output_tokens_total", "Output (completion) tokens.", "output_tokens", false},
        {"aigw_cached_tokens_total", "Input tokens the provider served from its prompt cache.", "cached_tokens", false},
        {"aigw_cost_usd_total", "What the calls cost, in USD.", "cost_usd_pico", true}};
    for (const Family& f : FAMILIES) {
      out.append("# HELP ").append(f.name).append(" ").append(f.help).append("\n# TYPE ").append(f.name).append(" counter\n");
      for (uint32_t row = counters.firstChild(rows); row != 0; row = counters.nextSibling(rows, row)) {
        out.append(f.name).push_back('{');
        label(out, "tenant", counters.stringAt(row, "tenant_id"), true);
        label(out, "provider", counters.stringAt(row, "provider"));
        label(out, "model", counters.stringAt(row, "model"));
        label(out, "status", counters.stringAt(row, "class"));
        label(out, "cache", counters.stringAt(row, "cache_status"));
        out += "} ";
        const int64_t v = counters.integerAt(row, f.column, 0);
        out += f.money ? formatPico(v) : std::to_string(v);
        out.push_back('\n');
      }
    }
    out += "# HELP aigw_request_latency_ms Request latency over the last hour (nearest rank).\n"
           "# TYPE aigw_request_latency_ms summary\n";
    const uint32_t row = latency.firstChild(answers_[1].rows);
    for (const auto& [quantile, column] : {std::pair{"0.5", "p50"}, {"0.95", "p95"}, {"0.99", "p99"}}) {
      const int64_t v = row != 0 ? latency.integerAt(row, column, -1) : -1;
      out.append("aigw_request_latency_ms{quantile=\"").append(quantile).append("\"} ");
      out += v >= 0 ? std::to_string(v) : "NaN";
      out.push_back('\n');
    }
    out.append("aigw_request_latency_ms_count ").append(std::to_string(row != 0 ? latency.integerAt(row, "requests", 0) : 0));
    out += "\n# HELP aigw_breaker_open Whether this instance holds the target's circuit breaker open (1) or not (0).\n"
           "# TYPE aigw_breaker_open gauge\n";
    for (const auto& [target, health] : s.state().targets) {
      out += "aigw_breaker_open{";
      label(out, "target", target, true);
      out += health.breaker.state(s.nowMs()) == BreakerState::Open ? "} 1\n" : "} 0\n";
    }
    const OvershootCounts& o = s.state().overshoot;
    out += "# HELP aigw_reservation_overshoot_total Requests whose provider used more than was reserved (uncharged), this instance.\n"
           "# TYPE aigw_reservation_overshoot_total counter\naigw_reservation_overshoot_total " +
           std::to_string(o.requests) +
           "\n# HELP aigw_reservation_overshoot_tokens_total Tokens beyond the reservations (uncharged), this instance.\n"
           "# TYPE aigw_reservation_overshoot_tokens_total counter\naigw_reservation_overshoot_tokens_total " +
           std::to_string(o.tokens) +
           "\n# HELP aigw_reservation_overshoot_usd_total USD beyond the reservations (uncharged), this instance.\n"
           "# TYPE aigw_reservation_overshoot_usd_total counter\naigw_reservation_overshoot_usd_total " +
           formatPico(o.picoUsd) +
           "\n# HELP aigw_stream_output_cut_total Streams ended as length once past their reservation, this instance.\n"
           "# TYPE aigw_stream_output_cut_total counter\naigw_stream_output_cut_total " +
           std::to_string(o.streamsCut) + "\n";
    const AdmissionCounts& a = s.state().admissions;
    int64_t held = 0;
    for (const auto& scope : s.state().leases) held += static_cast<int64_t>(scope.second.held.size());
    out += "# HELP aigw_admissions_total Metered requests admitted by this instance: against a credit lease it holds, or by the ledger.\n"
           "# TYPE aigw_admissions_total counter\naigw_admissions_total{via=\"lease\"} " +
           std::to_string(a.viaLease) + "\naigw_admissions_total{via=\"ledger\"} " + std::to_string(a.viaLedger) +
           "\n# HELP aigw_credit_leases_total Credit leases this instance asked for, by the ledger's answer.\n"
           "# TYPE aigw_credit_leases_total counter\naigw_credit_leases_total{result=\"granted\"} " +
           std::to_string(a.leasesGranted) + "\naigw_credit_leases_total{result=\"refused\"} " +
           std::to_string(a.leasesRefused) +
           "\n# HELP aigw_credit_leases_held Credit leases this instance holds now.\n"
           "# TYPE aigw_credit_leases_held gauge\naigw_credit_leases_held " + std::to_string(held) + "\n";
    s.respond(200, "text/plain; version=0.0.4; charset=utf-8", out);
  }
};

}  // namespace

Statement statsQuery(std::string_view groupBy, std::string_view groupColumns, const AnalyticsScope& scope,
                     int64_t limit) {
  Statement out;
  json::Writer params(out.params);
  params.beginArray();
  const std::string partition = groupBy.empty() ? "" : "PARTITION BY " + std::string(groupBy);
  std::string sql = "WITH f AS (SELECT ";
  if (!groupColumns.empty()) sql += std::string(groupColumns) + ", ";
  sql += "status, cache_status, input_tokens, output_tokens, cached_tokens, cost_usd_pico, cost_brl_pico, latency_ms "
         "FROM gateway_usage_logs";
  scopeFilter(scope, sql, params);
  params.endArray();
  sql += "), r AS (SELECT f.*, ROW_NUMBER() OVER (" + partition + " ORDER BY latency_ms) AS rn, COUNT(*) OVER (" +
         partition + ") AS n FROM f) SELECT ";
  if (!groupBy.empty()) sql += std::string(groupBy) + ", ";
  sql += "COUNT(*) AS requests, SUM(status < 400) AS successes, SUM(status >= 400) AS errors, "
         "SUM(cache_status = 'HIT') AS cache_hits, SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS "
         "output_tokens, SUM(cached_tokens) AS cached_tokens, SUM(cost_usd_pico) AS cost_usd_pico, SUM(cost_brl_pico) "
         "AS cost_brl_pico, AVG(latency_ms) AS mean_ms, MIN(CASE WHEN rn >= n * 0.50 THEN latency_ms END) AS p50, "
         "MIN(CASE WHEN rn >= n * 0.95 THEN latency_ms END) AS p95, MIN(CASE WHEN rn >= n * 0.99 THEN latency_ms END) "
         "AS p99 FROM r";
  // A series (over days, or time buckets) reads in time order; other groups busiest first.
  const bool series = groupBy == "day" || (groupBy.size() >= 6 && groupBy.substr(groupBy.size() - 6) == "bucket");
  if (!groupBy.empty())
    sql += " GROUP BY " + std::string(groupBy) + (series ? " ORDER BY " + std::string(groupBy) : " ORDER BY requests DESC") +
           " LIMIT " + std::to_string(limit);
  out.sql = std::move(sql);
  return out;
}

static void fraction(json::Writer& w, std::string_view key, int64_t part, int64_t whole) {
  w.key(key).raw(formatRatio(part, whole));
}

void writeStats(json::Writer& w, const json::Tape& t, uint32_t row) {
  const int64_t requests = t.integerAt(row, "requests", 0), ok = t.integerAt(row, "successes", 0);
  const int64_t errors = t.integerAt(row, "errors", 0), hits = t.integerAt(row, "cache_hits", 0);
  w.field("requests", requests).field("successes", ok).field("errors", errors);
  fraction(w, "success_rate", ok, requests);
  fraction(w, "error_rate", errors, requests);
  w.field("cache_hits", hits);
  fraction(w, "cache_hit_rate", hits, requests);
  w.key("latency_ms").beginObject();
  writeLatency(w, t, row);
  w.endObject();
  const int64_t in = t.integerAt(row, "input_tokens", 0), out = t.integerAt(row, "output_tokens", 0);
  w.key("tokens").beginObject().field("input", in).field("output", out);
  w.field("cached", t.integerAt(row, "cached_tokens", 0)).field("total", in + out).endObject();
  w.key("cost_usd").raw(formatPico(t.integerAt(row, "cost_usd_pico", 0)));
  w.key("cost_brl").raw(formatPico(t.integerAt(row, "cost_brl_pico", 0)));
}

std::unique_ptr<Handler> clientAnalytics() { return std::make_unique<ClientAnalytics>(); }
std::unique_ptr<Handler> metrics() { return std::make_unique<Metrics>(); }
std::unique_ptr<Handler> latency() { return std::make_unique<Latency>(); }
std::unique_ptr<Handler> dailyMetrics() { return std::make_unique<DailyMetrics>(); }
std::unique_ptr<Handler> prometheus() { return std::make_unique<Prometheus>(); }

}  // namespace gw::handlers
