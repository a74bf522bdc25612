#pragma once
// What an analytics endpoint reads: whose rows (the key's tenant; the root
// key every tenant, or the one it names) and which time window (a period
// such as 7d, or from/to), as a SQL filter over gateway_usage_logs.
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "gw/json_writer.h"
#include "gw/periods.h"
#include "gw/session.h"
#include "admin_common.h"

namespace gw::handlers {

struct AnalyticsScope {
  std::string tenant;  // empty: every tenant (the root key only)
  std::string period;  // 7d | 30d | 60d | 90d | custom
  int64_t fromMs = 0;
  int64_t toMs = 0;    // exclusive
  // ?metadata.<key>=<value>: rows whose x-aigw-metadata has that value (all of them).
  std::vector<std::pair<std::string, std::string>> metadata;
  // One client's rows only (GET /api/analytics/gateway): a user, or a key.
  std::string userId, keyId;
};

constexpr size_t MAX_METADATA_FILTERS = 4;
// A query parameter's decimal digits within [min, max] into `out`; an empty
// one leaves `out` (its default) and is fine; anything else is false.
bool boundedNumber(const std::string& text, int64_t min, int64_t max, int64_t& out);
// "metadata.<key>" → the key (validated by metadata::validKey); else empty.
std::string metadataGroupKey(std::string_view groupBy);
// The SQL expression for a metadata key already validated by metadata::validKey:
// its JSON path is written into the statement (a name checked against a
// fixed alphabet, as a column name is, never a client's value).
std::string metadataColumn(std::string_view key);

// Reads ?tenantId=, ?period= or ?from=&to= (UTC dates or ISO times; a bare
// `to` date includes that day). Default: the last 7 days.
ApiError readAnalyticsScope(const Session& s, AnalyticsScope& out);
// Appends " WHERE created_at >= ? AND created_at < ? [AND tenant_id = ?]
// [AND user_id = ?] [AND key_id = ?] [AND json_extract(metadata, ?) = ?]…" to `sql` and the matching values to
// the open params array.
void scopeFilter(const AnalyticsScope& scope, std::string& sql, json::Writer& params);
// Adds "tenantId", "period", "from", "to" to an open object.
void writeScope(json::Writer& w, const AnalyticsScope& scope);
// 503: the usage log (D1) failed or answered something unreadable.
ApiError usageStoreUnavailable();
// A D1 statement: SQL and its parameters (a JSON array).
struct Statement {
  std::string sql, params;
};
// Statistics per group (none: one row for everything) over the rows in
// scope: requests, successes, errors, cache hits, tokens, cost, mean and
// nearest-rank p50/p95/p99 latency.
Statement statsQuery(std::string_view groupBy, std::string_view groupColumns, const AnalyticsScope& scope,
                     int64_t limit);
// One statsQuery (or rollup) row as the metrics endpoints show it, into an open object.
void writeStats(json::Writer& w, const json::Tape& t, uint32_t row);

// Totals over rows (requests, errors, cache hits, tokens, cost in picodollars
// and picoreais) as SELECT columns, and one such row into an open object.
constexpr std::string_view USAGE_SUMS =
    "COUNT(*) AS requests, SUM(status >= 400) AS errors, SUM(cache_status = 'HIT') AS cache_hits, "
    "SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens, SUM(cost_usd_pico) AS cost_usd_pico, "
    "SUM(cost_brl_pico) AS cost_brl_pico";
void writeSums(json::Writer& w, const json::Tape& t, uint32_t row);

// A calendar month's spend so far and straight-line to its end (a past
// month: as it ended), into the value slot: {month_start, month_end,
// month_to_date_usd, month_to_date_brl, projected_month_usd, projected_month_brl}.
void writeMonthProjection(json::Writer& w, const PeriodBounds& month, int64_t nowMs, int64_t usdPico, int64_t brlPico);

// USAGE_SUMS rows as CSV: a header line, then per row its `columns` (text,
// quoted where needed) and the sums.
std::string usageCsv(std::initializer_list<const char*> columns, const json::Tape& t, uint32_t rows);

// The rows of a D1 answer (0 when unreadable).
uint32_t rowsOf(json::Tape& t, const std::string& text);

// An analytics endpoint: the scope first, then its queries issued together;
// respond() runs once every answer is in and read (a failed or unreadable
// one is a 503, answered here).
class Analytics : public Handler {
 public:
  void start(Session& s) override;

 protected:
  virtual void run(Session& s) = 0;
  virtual void respond(Session& s) = 0;

  // One query's answer: the D1 result and its "rows" array in `tape`.
  struct Answer {
    std::string text;
    json::Tape tape;
    uint32_t rows = 0;
  };

  // Sizes answers_ for `n` queries; the join that calls respond().
  std::shared_ptr<Join> queries(int n);
  // Runs `sql` with `params` (a JSON array) into answers_[i].
  void queryRaw(Session& s, const std::shared_ptr<Join>& done, size_t i, const std::string& sql, const std::string& params);
  // Runs `select ... FROM gateway_usage_logs <scope> <tail>` into answers_[i].
  // `window` narrows the time range (default: the request's).
  void query(Session& s, const std::shared_ptr<Join>& done, size_t i, std::string_view select, std::string_view tail,
             std::initializer_list<int64_t> extra = {}, const AnalyticsScope* window = nullptr);

  AnalyticsScope scope_;
  std::vector<Answer> answers_;
};

}  // namespace gw::handlers
