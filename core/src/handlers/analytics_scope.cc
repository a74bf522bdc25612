#include "analytics_scope.h"

#include <algorithm>

#include "admin_common.h"
#include "gw/key_record.h"
#include "gw/http.h"
#include "gw/metadata.h"
#include "gw/periods.h"
#include "gw/pricing.h"

namespace gw::handlers {

namespace {

// Every ?metadata.<key>=<value> of the query.
ApiError readMetadataFilters(std::string_view query, AnalyticsScope& out) {
  constexpr std::string_view PREFIX = "metadata.";
  if (!query.empty() && query[0] == '?') query.remove_prefix(1);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    std::string name, value;
    if (!percentDecode(pair.substr(0, eq), name) || name.compare(0, PREFIX.size(), PREFIX) != 0) continue;
    const std::string key = name.substr(PREFIX.size());
    if (!metadata::validKey(key))
      return invalidValue(name, "Metadata keys are 1 to 64 letters, digits, _ or -.");
    if (eq == std::string_view::npos || !percentDecode(pair.substr(eq + 1), value) || value.size() > metadata::MAX_VALUE_CHARS)
      return invalidValue(name, "Give the value to match: " + name + "=<value> (at most 512 characters).");
    if (out.metadata.size() == MAX_METADATA_FILTERS)
      return invalidValue(name, "At most " + std::to_string(MAX_METADATA_FILTERS) + " metadata filters.");
    out.metadata.emplace_back(key, std::move(value));
  }
  return {};
}

}  // namespace

bool boundedNumber(const std::string& text, int64_t min, int64_t max, int64_t& out) {
  if (text.empty()) return true;
  int64_t v = 0;
  for (char ch : text) {
    if (ch < '0' || ch > '9' || v > max) return false;
    v = v * 10 + (ch - '0');
  }
  if (v < min || v > max) return false;
  out = v;
  return true;
}

std::string metadataGroupKey(std::string_view groupBy) {
  constexpr std::string_view PREFIX = "metadata.";
  if (groupBy.substr(0, PREFIX.size()) != PREFIX) return {};
  const std::string_view key = groupBy.substr(PREFIX.size());
  return metadata::validKey(key) ? std::string(key) : std::string();
}

std::string metadataColumn(std::string_view key) { return "json_extract(metadata, '$.\"" + std::string(key) + "\"')"; }

ApiError readAnalyticsScope(const Session& s, AnalyticsScope& out) {
  const std::string& q = s.request().query;
  if (ApiError e = readMetadataFilters(q, out)) return e;
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
  if (!scope.userId.empty()) {
    sql += " AND user_id = ?";
    params.string(scope.userId);
  }
  if (!scope.keyId.empty()) {
    sql += " AND key_id = ?";
    params.string(scope.keyId);
  }
  for (const auto& [key, value] : scope.metadata) {
    sql += " AND json_extract(metadata, ?) = ?";
    params.string("$.\"" + key + "\"").string(value);
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
  if (!scope.metadata.empty()) {
    w.key("metadata").beginObject();
    for (const auto& [key, value] : scope.metadata) w.field(key, value);
    w.endObject();
  }
}

void writeSums(json::Writer& w, const json::Tape& t, uint32_t row) {
  w.field("requests", t.integerAt(row, "requests", 0)).field("errors", t.integerAt(row, "errors", 0));
  w.field("cache_hits", t.integerAt(row, "cache_hits", 0));
  w.field("input_tokens", t.integerAt(row, "input_tokens", 0)).field("output_tokens", t.integerAt(row, "output_tokens", 0));
  w.key("cost_usd").raw(formatPico(t.integerAt(row, "cost_usd_pico", 0)));
  w.key("cost_brl").raw(formatPico(t.integerAt(row, "cost_brl_pico", 0)));
}

void writeMonthProjection(json::Writer& w, const PeriodBounds& month, int64_t nowMs, int64_t usdPico, int64_t brlPico) {
  const int64_t elapsed = std::clamp<int64_t>(nowMs - month.startMs, 1, month.endMs - month.startMs);
  const double factor = static_cast<double>(month.endMs - month.startMs) / static_cast<double>(elapsed);
  w.beginObject().field("month_start", isoTimestamp(month.startMs)).field("month_end", isoTimestamp(month.endMs));
  w.key("month_to_date_usd").raw(formatPico(usdPico)).key("month_to_date_brl").raw(formatPico(brlPico));
  w.key("projected_month_usd").raw(formatPico(static_cast<int64_t>(static_cast<double>(usdPico) * factor)));
  w.key("projected_month_brl").raw(formatPico(static_cast<int64_t>(static_cast<double>(brlPico) * factor)));
  w.endObject();
}

namespace {

// A CSV field appended: quoted when it holds a comma, quote or line break.
void csvField(std::string& out, std::string_view v) {
  if (v.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.append(v);
    return;
  }
  out.push_back('"');
  for (char ch : v) {
    if (ch == '"') out.push_back('"');
    out.push_back(ch);
  }
  out.push_back('"');
}

}  // namespace

std::string usageCsv(std::initializer_list<const char*> columns, const json::Tape& t, uint32_t rows) {
  std::string out;
  for (const char* c : columns) out.append(c).push_back(',');
  out += "requests,errors,cache_hits,input_tokens,output_tokens,cost_usd,cost_brl\r\n";
  for (uint32_t row = t.firstChild(rows); row != 0; row = t.nextSibling(rows, row)) {
    for (const char* c : columns) {
      csvField(out, t.stringAt(row, c));
      out.push_back(',');
    }
    for (const char* k : {"requests", "errors", "cache_hits", "input_tokens", "output_tokens"})
      out.append(std::to_string(t.integerAt(row, k, 0))).push_back(',');
    out.append(formatPico(t.integerAt(row, "cost_usd_pico", 0))).push_back(',');
    out.append(formatPico(t.integerAt(row, "cost_brl_pico", 0))).append("\r\n");
  }
  return out;
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
