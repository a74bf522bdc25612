// Usage and cost analytics from the usage log (D1 gateway_usage_logs):
//   GET /api/v1/ai/admin/usage?groupBy=provider|model|user|tenant&limit=&offset=   grouped totals, paginated
//   GET /api/v1/ai/admin/costs[?format=csv]   cost by provider, user and day, with a projection to month end
//   GET /api/ai-gateway/metrics               top 10 clients, provider distribution, active clients
// All take ?period= or ?from=&to= and are limited to the key's tenant
// (ADMIN_API_KEY: every tenant, or tenantId's).

#include "admin_common.h"
#include "analytics_scope.h"
#include "gw/json_writer.h"
#include "gw/periods.h"
#include "gw/pricing.h"
#include "handlers.h"

namespace gw::handlers {

namespace {

using json::Kind;

class Usage : public Analytics {
 protected:
  void run(Session& s) override {
    const std::string& q = s.request().query;
    const std::string groupBy = queryParam(q, "groupBy").empty() ? "provider" : queryParam(q, "groupBy");
    if (groupBy == "provider") column_ = "provider";
    else if (groupBy == "model") column_ = "model";
    else if (groupBy == "user") column_ = "user_id";
    else if (groupBy == "tenant") column_ = "tenant_id";
    else if (std::string key = metadataGroupKey(groupBy); !key.empty()) column_ = metadataColumn(key);
    else
      return s.respondError(
          invalidValue("groupBy", "groupBy must be one of provider, model, user, tenant, or metadata.<key>."));
    groupBy_ = groupBy;
    if (!boundedNumber(queryParam(q, "limit"), 1, 1000, limit_) || !boundedNumber(queryParam(q, "offset"), 0, 1000000, offset_))
      return s.respondError(invalidValue(queryParam(q, "limit").empty() ? "offset" : "limit",
                                         "limit is 1-1000 and offset 0-1000000."));
    auto done = queries(2);
    query(s, done, 0, std::string(column_) + " AS grp, " + std::string(USAGE_SUMS),
          "GROUP BY grp ORDER BY cost_usd_pico DESC, requests DESC, grp LIMIT ? OFFSET ?", {limit_, offset_});
    query(s, done, 1, "COUNT(DISTINCT " + std::string(column_) + ") AS groups", "");
  }

  void respond(Session& s) override {
    const json::Tape &rows = answers_[0].tape, &count = answers_[1].tape;
    const uint32_t list = answers_[0].rows, total = answers_[1].rows;
    const int64_t groups = count.integerAt(count.firstChild(total), "groups", 0);
    std::string body;
    json::Writer w(body);
    w.beginObject().field("object", "list");
    writeScope(w, scope_);
    w.field("group_by", groupBy_).key("data").beginArray();
    for (uint32_t row = rows.firstChild(list); row != 0; row = rows.nextSibling(list, row)) {
      w.beginObject();
      const uint32_t g = rows.find(row, "grp");
      if (g != 0 && rows.kind(g) == Kind::String) w.field(groupBy_, rows.string(g));
      else w.key(groupBy_).null();
      writeSums(w, rows, row);
      w.endObject();
    }
    w.endArray().field("total", groups).field("limit", limit_).field("offset", offset_);
    w.field("has_more", offset_ + limit_ < groups).endObject();
    s.respondJson(200, body);
  }

 private:

  std::string groupBy_;
  std::string column_;
  int64_t limit_ = 50, offset_ = 0;
};

constexpr std::string_view DAY = "date(created_at / 1000, 'unixepoch')";

class Costs : public Analytics {
 protected:
  void run(Session& s) override {
    csv_ = queryParam(s.request().query, "format") == "csv";
    if (!csv_ && !queryParam(s.request().query, "format").empty() && queryParam(s.request().query, "format") != "json")
      return s.respondError(invalidValue("format", "format must be json or csv."));
    if (csv_) {
      auto done = queries(1);
      return query(s, done, 0, std::string(DAY) + " AS day, provider, user_id, " + std::string(USAGE_SUMS),
                   "GROUP BY day, provider, user_id ORDER BY day, provider, user_id LIMIT 100000");
    }
    // ?groupBy=metadata.<key>: a breakdown by one of the requests' metadata too.
    const std::string groupBy = queryParam(s.request().query, "groupBy");
    metadataKey_ = metadataGroupKey(groupBy);
    if (!groupBy.empty() && metadataKey_.empty())
      return s.respondError(invalidValue("groupBy", "groupBy must be metadata.<key> (provider, user and day are always there)."));
    auto done = queries(metadataKey_.empty() ? 5 : 6);
    if (!metadataKey_.empty())
      query(s, done, 5, metadataColumn(metadataKey_) + " AS grp, " + std::string(USAGE_SUMS),
            "GROUP BY grp ORDER BY cost_usd_pico DESC LIMIT 100");
    query(s, done, 0, USAGE_SUMS, "");
    query(s, done, 1, "provider AS grp, " + std::string(USAGE_SUMS), "GROUP BY grp ORDER BY cost_usd_pico DESC LIMIT 100");
    query(s, done, 2, "user_id AS grp, " + std::string(USAGE_SUMS), "GROUP BY grp ORDER BY cost_usd_pico DESC LIMIT 100");
    query(s, done, 3, std::string(DAY) + " AS grp, " + std::string(USAGE_SUMS), "GROUP BY grp ORDER BY grp LIMIT 400");
    // The calendar month so far, whatever window was asked for: the projection's basis.
    month_ = periodBounds(Period::Monthly, s.nowMs());
    AnalyticsScope monthScope = scope_;
    monthScope.fromMs = month_.startMs;
    monthScope.toMs = s.nowMs() + 1;
    query(s, done, 4, "SUM(cost_usd_pico) AS cost_usd_pico, SUM(cost_brl_pico) AS cost_brl_pico", "", {}, &monthScope);
  }

  void respond(Session& s) override {
    if (csv_) return respondCsv(s);
    std::string body;
    json::Writer w(body);
    w.beginObject().field("object", "costs");
    writeScope(w, scope_);
    w.key("totals").beginObject();
    const Answer& all = answers_[0];
    if (all.tape.firstChild(all.rows) != 0) writeSums(w, all.tape, all.tape.firstChild(all.rows));
    w.endObject();
    const char* names[3] = {"by_provider", "by_user", "by_day"};
    const char* keys[3] = {"provider", "user", "day"};
    for (int i = 0; i < 3; ++i) {
      w.key(names[i]).beginArray();
      const Answer& a = answers_[static_cast<size_t>(i) + 1];
      for (uint32_t row = a.tape.firstChild(a.rows); row != 0; row = a.tape.nextSibling(a.rows, row)) {
        w.beginObject().field(keys[i], a.tape.stringAt(row, "grp"));
        writeSums(w, a.tape, row);
        w.endObject();
      }
      w.endArray();
    }
    if (!metadataKey_.empty()) {
      w.key("by_metadata").beginObject().field("key", metadataKey_).key("data").beginArray();
      const Answer& a = answers_[5];
      for (uint32_t row = a.tape.firstChild(a.rows); row != 0; row = a.tape.nextSibling(a.rows, row)) {
        w.beginObject();
        if (const uint32_t g = a.tape.find(row, "grp"); g != 0 && a.tape.kind(g) == json::Kind::String)
          w.field("value", a.tape.string(g));
        else w.key("value").null();
        writeSums(w, a.tape, row);
        w.endObject();
      }
      w.endArray().endObject();
    }
    const json::Tape& month = answers_[4].tape;
    const uint32_t mtd = month.firstChild(answers_[4].rows);
    w.key("projection");
    writeMonthProjection(w, month_, s.nowMs(), mtd != 0 ? month.integerAt(mtd, "cost_usd_pico", 0) : 0,
                         mtd != 0 ? month.integerAt(mtd, "cost_brl_pico", 0) : 0);
    w.endObject();
    s.respondJson(200, body);
  }

 private:
  void respondCsv(Session& s) {
    const std::string out = usageCsv({"day", "provider", "user_id"}, answers_[0].tape, answers_[0].rows);
    s.respond(200, "text/csv; charset=utf-8", out,
              {{"content-disposition", "attachment; filename=\"aigw-costs-" + isoTimestamp(scope_.fromMs).substr(0, 10) +
                                           "-" + isoTimestamp(scope_.toMs - 1).substr(0, 10) + ".csv\""}});
  }

  bool csv_ = false;
  std::string metadataKey_;  // groupBy=metadata.<key>: by_metadata
  PeriodBounds month_;
};

class ClientMetrics : public Analytics {
 protected:
  void run(Session& s) override {
    auto done = queries(4);
    query(s, done, 0, "COALESCE(user_id, key_id) AS client, tenant_id, " + std::string(USAGE_SUMS),
          "GROUP BY client, tenant_id ORDER BY requests DESC LIMIT 10");
    query(s, done, 1, "provider AS grp, " + std::string(USAGE_SUMS), "GROUP BY grp ORDER BY requests DESC LIMIT 100");
    query(s, done, 2, "COUNT(DISTINCT COALESCE(user_id, key_id)) AS clients, COUNT(*) AS requests", "");
    // Active in the last 24 hours of the window.
    AnalyticsScope lastDay = scope_;
    lastDay.fromMs = std::max(scope_.fromMs, scope_.toMs - MS_PER_DAY);
    query(s, done, 3, "COUNT(DISTINCT COALESCE(user_id, key_id)) AS clients", "", {}, &lastDay);
  }

  void respond(Session& s) override {
    const json::Tape &t0 = answers_[0].tape, &t1 = answers_[1].tape, &t2 = answers_[2].tape, &t3 = answers_[3].tape;
    const uint32_t all = t2.firstChild(answers_[2].rows);
    const int64_t requests = all != 0 ? t2.integerAt(all, "requests", 0) : 0;
    std::string body;
    json::Writer w(body);
    w.beginObject().field("object", "client_metrics");
    writeScope(w, scope_);
    w.key("top_clients").beginArray();
    for (uint32_t row = t0.firstChild(answers_[0].rows); row != 0; row = t0.nextSibling(answers_[0].rows, row)) {
      w.beginObject().field("client", t0.stringAt(row, "client")).field("tenantId", t0.stringAt(row, "tenant_id"));
      writeSums(w, t0, row);
      w.endObject();
    }
    w.endArray().key("provider_distribution").beginArray();
    for (uint32_t row = t1.firstChild(answers_[1].rows); row != 0; row = t1.nextSibling(answers_[1].rows, row)) {
      const int64_t n = t1.integerAt(row, "requests", 0);
      w.beginObject().field("provider", t1.stringAt(row, "grp")).field("requests", n);
      w.key("share").raw(formatRatio(n, requests));
      w.key("cost_usd").raw(formatPico(t1.integerAt(row, "cost_usd_pico", 0))).endObject();
    }
    w.endArray().key("active_clients").beginObject();
    w.field("period", all != 0 ? t2.integerAt(all, "clients", 0) : 0);
    const uint32_t day = t3.firstChild(answers_[3].rows);
    w.field("last_24h", day != 0 ? t3.integerAt(day, "clients", 0) : 0).endObject();
    w.field("requests", requests).endObject();
    s.respondJson(200, body);
  }
};

}  // namespace

std::unique_ptr<Handler> adminUsage() { return std::make_unique<Usage>(); }
std::unique_ptr<Handler> adminCosts() { return std::make_unique<Costs>(); }
std::unique_ptr<Handler> clientMetrics() { return std::make_unique<ClientMetrics>(); }

}  // namespace gw::handlers
