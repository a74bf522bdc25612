#include "analytics_scope.h"

#include "admin_common.h"
#include "gw/key_record.h"
#include "gw/periods.h"

namespace gw::handlers {

ApiError readAnalyticsScope(const Session& s, AnalyticsScope& out) {
  const std::string& q = s.request().query;
  if (s.principal().root) {
    out.tenant = queryParam(q, "tenantId");
    if (!out.tenant.empty() && !access::validId(out.tenant)) return access::invalidId("tenantId");
  } else if (ApiError e = tenantFor(s, queryParam(q, "tenantId"), out.tenant)) {
    return e;
  }
  const std::string period = queryParam(q, "period"), from = queryParam(q, "from"), to = queryParam(q, "to");
  out.toMs = s.nowMs();
  if (!from.empty() || !to.empty()) {
    if (!period.empty()) return invalidValue("period", "Give either period or from/to, not both.");
    if (from.empty() || !parseIsoTimestamp(from, out.fromMs))
      return invalidValue("from", "from must be a UTC date (2026-11-01) or time (2026-11-01T10:00:00Z).");
    if (!to.empty()) {
      if (!parseIsoTimestamp(to, out.toMs))
        return invalidValue("to", "to must be a UTC date (2026-11-30) or time (2026-11-30T10:00:00Z).");
      if (to.size() == 10) out.toMs += MS_PER_DAY;  // a bare date names the whole day
    }
    if (out.toMs <= out.fromMs) return invalidValue("to", "to must be after from.");
    out.period = "custom";
    return {};
  }
  out.period = period.empty() ? "7d" : period;
  int64_t days = 0;
  if (out.period == "7d") days = 7;
  else if (out.period == "30d") days = 30;
  else if (out.period == "60d") days = 60;
  else if (out.period == "90d") days = 90;
  else return invalidValue("period", "period must be one of 7d, 30d, 60d, 90d.");
  out.fromMs = out.toMs - days * MS_PER_DAY;
  return {};
}

void scopeFilter(const AnalyticsScope& scope, std::string& sql, json::Writer& params) {
  sql += " WHERE created_at >= ? AND created_at < ?";
  params.integer(scope.fromMs).integer(scope.toMs);
  if (!scope.tenant.empty()) {
    sql += " AND tenant_id = ?";
    params.string(scope.tenant);
  }
}

ApiError usageStoreUnavailable() {
  return serverError(503, "The usage store (D1) is unavailable; try again.", "service_unavailable",
                     "database_unavailable");
}

void writeScope(json::Writer& w, const AnalyticsScope& scope) {
  if (scope.tenant.empty()) w.key("tenantId").null();
  else w.field("tenantId", scope.tenant);
  w.field("period", scope.period).field("from", isoTimestamp(scope.fromMs)).field("to", isoTimestamp(scope.toMs));
}

uint32_t rowsOf(json::Tape& t, const std::string& text) {
  if (!t.parse(text)) return 0;
  const uint32_t rows = t.find(t.root(), "rows");
  return rows != 0 && t.kind(rows) == json::Kind::Array ? rows : 0;
}

void Analytics::start(Session& s) {
  if (ApiError e = readAnalyticsScope(s, scope_)) return s.respondError(e);
  run(s);
}

std::shared_ptr<Join> Analytics::queries(int n) {
  answers_.resize(static_cast<size_t>(n));
  return join(n, [this](Session& s, bool failed) {
    // Read once every text is in: a tape points into its text.
    bool readable = !failed;
    for (Answer& a : answers_) readable = readable && (a.rows = rowsOf(a.tape, a.text)) != 0;
    if (!readable) return s.respondError(usageStoreUnavailable());
    respond(s);
  });
}

void Analytics::queryRaw(Session& s, const std::shared_ptr<Join>& done, size_t i, const std::string& sql,
                         const std::string& params) {
  s.d1(sql, params, [this, done, i](Session& s, const EffectResult& r) {
    answers_[i].text = std::string(r.data);
    arrive(done)(s, r);
  });
}

void Analytics::query(Session& s, const std::shared_ptr<Join>& done, size_t i, std::string_view select,
                      std::string_view tail, std::initializer_list<int64_t> extra, const AnalyticsScope* window) {
  std::string sql = "SELECT " + std::string(select) + " FROM gateway_usage_logs", params;
  json::Writer w(params);
  w.beginArray();
  scopeFilter(window != nullptr ? *window : scope_, sql, w);
  for (int64_t v : extra) w.integer(v);
  w.endArray();
  sql += " ";
  sql += tail;
  queryRaw(s, done, i, sql, params);
}

}  // namespace gw::handlers
