// GET /api/billing/summary?tenantId=&month=YYYY-MM[&format=csv]: a tenant's
// billing period, a UTC calendar month (the current one by default): spend in
// total and by model, provider and user from the usage log; the tenant's
// budgets with their state now and its own counters from the ledger; and the
// month's projection. format=csv: one line per provider, model and user.
// Admin keys only (ADMIN_API_KEY names the tenant).
#include "../access/leases.h"
#include "admin_common.h"
#include "analytics_scope.h"
#include "gw/json_writer.h"
#include "gw/key_record.h"
#include "gw/periods.h"
#include "gw/pricing.h"
#include "handlers.h"

namespace gw::handlers {

namespace {

// "2026-11" into that month's bounds.
bool parseMonth(const std::string& text, PeriodBounds& out) {
  int64_t start = 0;
  if (text.size() != 7 || text[4] != '-' || !parseIsoTimestamp(text + "-01", start)) return false;
  out = periodBounds(Period::Monthly, start);
  return true;
}

class BillingSummary : public Analytics {
 public:
  void start(Session& s) override {
    const Principal& p = s.principal();
    if (!p.admin) return s.respondError(forbidden("Billing needs an admin key.", "authorization", "admin_required"));
    const std::string& q = s.request().query;
    if (p.root) {
      scope_.tenant = queryParam(q, "tenantId");
      if (scope_.tenant.empty()) return s.respondError(invalidValue("tenantId", "Name the tenant: ?tenantId=<id>."));
      if (!access::validId(scope_.tenant)) return s.respondError(access::invalidId("tenantId"));
    } else if (ApiError e = tenantFor(s, queryParam(q, "tenantId"), scope_.tenant)) {
      return s.respondError(e);
    }
    const std::string format = queryParam(q, "format");
    if (!format.empty() && format != "json" && format != "csv")
      return s.respondError(invalidValue("format", "format must be json or csv."));
    csv_ = format == "csv";
    const std::string month = queryParam(q, "month");
    month_ = periodBounds(Period::Monthly, s.nowMs());
    if (!month.empty() && !parseMonth(month, month_))
      return s.respondError(invalidValue("month", "month must be a UTC calendar month: 2026-11."));
    if (month_.startMs > s.nowMs()) return s.respondError(invalidValue("month", "That month has not begun."));
    scope_.period = isoTimestamp(month_.startMs).substr(0, 7);
    scope_.fromMs = month_.startMs;
    scope_.toMs = month_.endMs;
    requireTenant(s, scope_.tenant, [this](Session& s) { run(s); });
  }

 protected:
  void run(Session& s) override {
    if (csv_) {
      return query(s, queries(1), 0, "provider, model, user_id, " + std::string(USAGE_SUMS),
                   "GROUP BY provider, model, user_id ORDER BY provider, model, user_id LIMIT 100000");
    }
    auto done = queries(4);
    query(s, done, 0, USAGE_SUMS, "");
    query(s, done, 1, "provider, model, " + std::string(USAGE_SUMS),
          "GROUP BY provider, model ORDER BY cost_usd_pico DESC, requests DESC LIMIT 200");
    query(s, done, 2, "provider, " + std::string(USAGE_SUMS),
          "GROUP BY provider ORDER BY cost_usd_pico DESC, requests DESC LIMIT 100");
    query(s, done, 3, "user_id, " + std::string(USAGE_SUMS),
          "GROUP BY user_id ORDER BY cost_usd_pico DESC, requests DESC LIMIT 200");
  }

  void respond(Session& s) override {
    if (csv_) return respondCsv(s);
    // The budgets as the ledger enforces them, with this isolate's leases' progress.
    std::string op;
    json::Writer w(op);
    w.beginObject().field("op", "usage").field("user", "").field("all_users", true);
    leases::writeProgress(w, s.state(), scope_.tenant);
    w.endObject();
    ledgerCall(s, scope_.tenant, op, [this](Session& s, std::string_view ledger) { respondJson(s, ledger); });
  }

 private:
  void respondJson(Session& s, std::string_view ledger) {
    std::string body;
    json::Writer w(body);
    w.beginObject().field("object", "billing.summary").field("tenantId", scope_.tenant);
    w.field("month", scope_.period).field("period_start", isoTimestamp(month_.startMs));
    w.field("period_end", isoTimestamp(month_.endMs)).field("complete", month_.endMs <= s.nowMs());
    const Answer& all = answers_[0];
    const uint32_t totals = all.tape.firstChild(all.rows);
    w.key("totals").beginObject();
    if (totals != 0) writeSums(w, all.tape, totals);
    w.endObject();
    auto group = [&](const char* name, size_t i, std::initializer_list<const char*> columns) {
      const Answer& a = answers_[i];
      w.key(name).beginArray();
      for (uint32_t row = a.tape.firstChild(a.rows); row != 0; row = a.tape.nextSibling(a.rows, row)) {
        w.beginObject();
        for (const char* c : columns) {
          const uint32_t v = a.tape.find(row, c);
          if (v != 0 && a.tape.kind(v) == json::Kind::String) w.field(c, a.tape.string(v));
          else w.key(c).null();  // user_id of a key bound to no user
        }
        writeSums(w, a.tape, row);
        w.endObject();
      }
      w.endArray();
    };
    group("by_model", 1, {"provider", "model"});
    group("by_provider", 2, {"provider"});
    group("by_user", 3, {"user_id"});
    w.key("projection");
    writeMonthProjection(w, month_, s.nowMs(), totals != 0 ? all.tape.integerAt(totals, "cost_usd_pico", 0) : 0,
                         totals != 0 ? all.tape.integerAt(totals, "cost_brl_pico", 0) : 0);
    json::Tape t;
    t.parse(ledger);
    const uint32_t budgets = t.find(t.root(), "budgets"), tenant = t.find(t.root(), "tenant");
    w.key("budgets").raw(budgets != 0 && t.kind(budgets) == json::Kind::Array ? t.raw(budgets) : "[]");
    w.key("tenant_usage").raw(tenant != 0 && t.kind(tenant) == json::Kind::Object ? t.raw(tenant) : "null");
    w.endObject();
    s.respondJson(200, body);
  }

  void respondCsv(Session& s) {
    const std::string out = usageCsv({"provider", "model", "user_id"}, answers_[0].tape, answers_[0].rows);
    s.respond(200, "text/csv; charset=utf-8", out,
              {{"content-disposition",
                "attachment; filename=\"aigw-billing-" + scope_.tenant + "-" + scope_.period + ".csv\""}});
  }

  bool csv_ = false;
  PeriodBounds month_;
};

}  // namespace

std::unique_ptr<Handler> billingSummary() { return std::make_unique<BillingSummary>(); }

}  // namespace gw::handlers
