// Daily rollups (gateway_usage_daily): one row per UTC day and tenant,
// provider and model, and the totals over each of those ('*'), so the
// percentiles of every level are exact rather than averaged. Recomputing
// from the last rolled day makes a run idempotent and lets late rows (a
// stream that ended after midnight) land in the day they started.
#include <algorithm>

#include "cron_jobs.h"
#include "gw/json_writer.h"
#include "gw/periods.h"

namespace gw::handlers::scheduled {

namespace {

constexpr int64_t MAX_DAYS = 90;

constexpr std::string_view ROLLUP =
    "INSERT OR REPLACE INTO gateway_usage_daily (day, tenant_id, provider, model, requests, successes, errors, "
    "cache_hits, input_tokens, output_tokens, cached_tokens, cost_usd_pico, cost_brl_pico, latency_ms_sum, p50, p95, "
    "p99, rolled_up_at) "
    "WITH b AS (SELECT created_at - created_at % 86400000 AS day, tenant_id, COALESCE(provider, '') AS provider, "
    "COALESCE(model, '') AS model, status, cache_status, input_tokens, output_tokens, cached_tokens, cost_usd_pico, "
    "cost_brl_pico, latency_ms FROM gateway_usage_logs WHERE created_at >= ? AND created_at < ?), "
    "l AS (SELECT * FROM b "
    "UNION ALL SELECT day, tenant_id, provider, '*', status, cache_status, input_tokens, output_tokens, "
    "cached_tokens, cost_usd_pico, cost_brl_pico, latency_ms FROM b "
    "UNION ALL SELECT day, tenant_id, '*', '*', status, cache_status, input_tokens, output_tokens, cached_tokens, "
    "cost_usd_pico, cost_brl_pico, latency_ms FROM b "
    "UNION ALL SELECT day, '*', provider, '*', status, cache_status, input_tokens, output_tokens, cached_tokens, "
    "cost_usd_pico, cost_brl_pico, latency_ms FROM b "
    "UNION ALL SELECT day, '*', '*', '*', status, cache_status, input_tokens, output_tokens, cached_tokens, "
    "cost_usd_pico, cost_brl_pico, latency_ms FROM b), "
    "r AS (SELECT l.*, ROW_NUMBER() OVER (PARTITION BY day, tenant_id, provider, model ORDER BY latency_ms) AS rn, "
    "COUNT(*) OVER (PARTITION BY day, tenant_id, provider, model) AS n FROM l) "
    "SELECT day, tenant_id, provider, model, COUNT(*), SUM(status < 400), SUM(status >= 400), "
    "SUM(cache_status = 'HIT'), SUM(input_tokens), SUM(output_tokens), SUM(cached_tokens), SUM(cost_usd_pico), "
    "SUM(cost_brl_pico), SUM(latency_ms), MIN(CASE WHEN rn >= n * 0.50 THEN latency_ms END), "
    "MIN(CASE WHEN rn >= n * 0.95 THEN latency_ms END), MIN(CASE WHEN rn >= n * 0.99 THEN latency_ms END), ? "
    "FROM r GROUP BY day, tenant_id, provider, model";

std::string dayName(int64_t dayMs) { return isoTimestamp(dayMs).substr(0, 10); }

}  // namespace

void rollUpUsage(Session& s, Run& run) {
  s.d1("SELECT MAX(day) AS last FROM gateway_usage_daily", "[]", [&run](Session& s, const EffectResult& r) {
    json::Tape t;
    const uint32_t rows = r.ok && t.parse(r.data) ? t.find(t.root(), "rows") : 0;
    if (rows == 0) return run.finish(s, "rollup", R"({"ok":false,"error":"database unavailable"})", true);
    const uint32_t first = t.firstChild(rows);
    const int64_t last = first != 0 ? t.integerAt(first, "last", -1) : -1;
    const int64_t today = s.nowMs() - s.nowMs() % DAY_MS;
    const int64_t oldest = today - (MAX_DAYS - 1) * DAY_MS;
    // Yesterday at least (late rows); further back when runs were missed.
    const int64_t from = std::max(oldest, last < 0 ? oldest : std::min(last, today - DAY_MS));
    std::string params;
    json::Writer(params).beginArray().integer(from).integer(s.nowMs() + 1).integer(s.nowMs()).endArray();
    s.d1(ROLLUP, params, [&run, from](Session& s, const EffectResult& r) {
      if (!r.ok) return run.finish(s, "rollup", R"({"ok":false,"error":"database unavailable"})", true);
      json::Tape result;
      const int64_t changed = result.parse(r.data) ? result.integerAt(result.root(), "changes", 0) : 0;
      std::string summary;
      json::Writer(summary).beginObject().field("ok", true).field("from", dayName(from)).field("rows", changed).endObject();
      run.finish(s, "rollup", summary, false);
    });
  });
}

}  // namespace gw::handlers::scheduled
