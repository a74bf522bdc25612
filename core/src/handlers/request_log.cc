// The request log (README: Request log), over the usage rows:
//   GET /api/v1/ai/logs?period=|from=&to=&status=&provider=&model=&user=&key=&cache=&metadata.<k>=&limit=&cursor=
//       newest first, a page at a time (`next_cursor`)
//   GET /api/v1/ai/logs/:requestId
//       one request: its route, every failed attempt with its status and time, timings, tokens, cost
//   GET /api/v1/ai/logs/:requestId/body
//       its request and response bodies, when its tenant stores them (R2)
// A tenant's admin key reads its tenant's requests, ADMIN_API_KEY any
// tenant's; any other key only its own user's (or, bound to no user, its own).
#include "analytics_scope.h"
#include "gw/http.h"
#include "gw/json_writer.h"
#include "gw/periods.h"
#include "gw/pricing.h"
#include "handlers.h"

namespace gw::handlers {

namespace {

using json::Kind;

constexpr std::string_view COLUMNS =
    "request_id, created_at, tenant_id, user_id, agent_id, key_id, conversation_id, api_type, provider, model, "
    "upstream_model, input_tokens, output_tokens, cached_tokens, usage_estimated, cost_usd_pico, cost_brl_pico, "
    "latency_ms, ttft_ms, status, stream, error_class, error_message, cache_status, attempts, route, key_source, "
    "metadata";

// A user's key reads its own requests only.
void ownRows(const Principal& p, std::string& sql, json::Writer& params) {
  if (p.root || p.admin) return;
  if (!p.userId.empty()) {
    sql += " AND user_id = ?";
    params.string(p.userId);
  } else {
    sql += " AND key_id = ?";
    params.string(p.keyId);
  }
}

void optionalString(json::Writer& w, const json::Tape& t, uint32_t row, std::string_view column) {
  const uint32_t v = t.find(row, column);
  if (v != 0 && t.kind(v) == Kind::String) w.field(column, t.string(v));
  else w.key(column).null();
}

void optionalInteger(json::Writer& w, const json::Tape& t, uint32_t row, std::string_view column) {
  int64_t n = 0;
  const uint32_t v = t.find(row, column);
  if (v != 0 && t.isInteger(v, &n)) w.field(column, n);
  else w.key(column).null();
}

// A stored JSON object (metadata, detail) as itself; anything else as null.
void storedObject(json::Writer& w, const json::Tape& t, uint32_t row, std::string_view column) {
  w.key(column);
  json::Tape inner;
  const std::string text = t.stringAt(row, column);
  if (!text.empty() && inner.parse(text) && inner.kind(inner.root()) == Kind::Object) w.raw(text);
  else w.null();
}

void writeRow(json::Writer& w, const json::Tape& t, uint32_t row) {
  w.beginObject().field("object", "request_log").field("id", t.stringAt(row, "request_id"));
  w.field("created_at", isoTimestamp(t.integerAt(row, "created_at", 0)));
  for (std::string_view c : {"tenant_id", "user_id", "agent_id", "key_id", "conversation_id", "api_type", "provider", "model",
                             "upstream_model"})
    optionalString(w, t, row, c);
  w.field("status", t.integerAt(row, "status", 0)).field("stream", t.integerAt(row, "stream", 0) != 0);
  w.field("cache_status", t.stringAt(row, "cache_status"));
  optionalInteger(w, t, row, "latency_ms");
  optionalInteger(w, t, row, "ttft_ms");
  w.field("attempts", t.integerAt(row, "attempts", 0));
  optionalString(w, t, row, "route");
  optionalString(w, t, row, "key_source");
  optionalString(w, t, row, "error_class");
  optionalString(w, t, row, "error_message");
  w.key("usage").beginObject().field("input_tokens", t.integerAt(row, "input_tokens", 0));
  w.field("output_tokens", t.integerAt(row, "output_tokens", 0)).field("cached_tokens", t.integerAt(row, "cached_tokens", 0));
  w.field("estimated", t.integerAt(row, "usage_estimated", 0) != 0).endObject();
  w.key("cost_usd").raw(formatPico(t.integerAt(row, "cost_usd_pico", 0)));
  w.key("cost_brl").raw(formatPico(t.integerAt(row, "cost_brl_pico", 0)));
  storedObject(w, t, row, "metadata");
}

bool isDigits(std::string_view v) {
  if (v.empty()) return false;
  for (char c : v)
    if (c < '0' || c > '9') return false;
  return true;
}

class ListLogs : public Analytics {
 protected:
  void run(Session& s) override {
    const std::string& q = s.request().query;
    std::string sql = "SELECT " + std::string(COLUMNS) + " FROM gateway_usage_logs";
    json::Writer p(params_);
    p.beginArray();
    scopeFilter(scope_, sql, p);
    ownRows(s.principal(), sql, p);
    if (const std::string status = queryParam(q, "status"); !status.empty()) {
      // A class (2xx … 5xx) or one status.
      if (status.size() == 3 && status[0] >= '1' && status[0] <= '5' && status.substr(1) == "xx") {
        sql += " AND status >= ? AND status < ?";
        p.integer((status[0] - '0') * 100).integer((status[0] - '0') * 100 + 100);
      } else if (status.size() == 3 && isDigits(status)) {
        sql += " AND status = ?";
        p.integer(std::stoll(status));
      } else {
        return s.respondError(invalidValue("status", "status is a class (2xx, 3xx, 4xx, 5xx) or a status code."));
      }
    }
    for (auto [param, column] : {std::pair{"provider", "provider"}, {"model", "model"}, {"user", "user_id"},
                                 {"key", "key_id"}, {"cache", "cache_status"}}) {
      const std::string value = queryParam(q, param);
      if (value.empty()) continue;
      if (value.size() > 200) return s.respondError(invalidValue(param, "at most 200 characters."));
      sql += " AND " + std::string(column) + " = ?";
      p.string(value);
    }
    int64_t limit = 50;
    if (!boundedNumber(queryParam(q, "limit"), 1, 200, limit)) return s.respondError(invalidValue("limit", "limit is 1-200."));
    // The cursor: the last row's time and id; the next page is what is older.
    if (const std::string c = queryParam(q, "cursor"); !c.empty()) {
      const size_t colon = c.find(':');
      if (colon == std::string::npos || colon > 15 || !isDigits(c.substr(0, colon)) || c.size() - colon - 1 > 128)
        return s.respondError(invalidValue("cursor", "Pass the next_cursor of the previous page as it is."));
      const int64_t at = std::stoll(c.substr(0, colon));
      sql += " AND (created_at < ? OR (created_at = ? AND request_id < ?))";
      p.integer(at).integer(at).string(c.substr(colon + 1));
    }
    sql += " ORDER BY created_at DESC, request_id DESC LIMIT ?";
    p.integer(limit + 1).endArray();
    limit_ = limit;
    queryRaw(s, queries(1), 0, sql, params_);
  }

  void respond(Session& s) override {
    const json::Tape& t = answers_[0].tape;
    const uint32_t rows = answers_[0].rows;
    std::string body;
    json::Writer w(body);
    w.beginObject().field("object", "list");
    writeScope(w, scope_);
    w.key("data").beginArray();
    int64_t n = 0;
    bool more = false;
    std::string last;  // the cursor of the last row shown: the next page starts after it
    for (uint32_t row = t.firstChild(rows); row != 0; row = t.nextSibling(rows, row)) {
      if (n == limit_) {
        more = true;
        break;
      }
      writeRow(w, t, row);
      w.endObject();
      last = std::to_string(t.integerAt(row, "created_at", 0)) + ":" + t.stringAt(row, "request_id");
      ++n;
    }
    w.endArray();
    if (more) w.field("next_cursor", last);
    else w.key("next_cursor").null();
    w.field("has_more", more).endObject();
    s.respondJson(200, body);
  }

 private:
  std::string params_;
  int64_t limit_ = 50;
};

class GetLog : public Handler {
 public:
  GetLog(std::string id, bool body) : id_(std::move(id)), body_(body) {}
  void start(Session& s) override {
    if (id_.empty() || id_.size() > 128) return notFound(s);
    const Principal& p = s.principal();
    std::string sql = "SELECT " + std::string(COLUMNS) + ", detail FROM gateway_usage_logs WHERE request_id = ?", params;
    json::Writer w(params);
    w.beginArray().string(id_);
    // Another tenant's request is not there, as one that never was.
    if (!p.root) {
      sql += " AND tenant_id = ?";
      w.string(p.tenantId);
    }
    ownRows(p, sql, w);
    w.endArray();
    s.d1(sql, params, [this](Session& s, const EffectResult& r) {
      json::Tape t;
      const std::string text = std::string(r.data);  // the tape points into it
      const uint32_t rows = r.ok ? rowsOf(t, text) : 0;
      if (rows == 0) return s.respondError(usageStoreUnavailable());
      const uint32_t row = t.firstChild(rows);
      if (row == 0) return notFound(s);
      json::Tape detail;
      const std::string stored = t.stringAt(row, "detail");
      const bool has = !stored.empty() && detail.parse(stored) && detail.kind(detail.root()) == Kind::Object;
      const std::string bodyKey = has ? detail.stringAt(detail.root(), "body") : std::string();
      if (body_) return respondBody(s, bodyKey);
      std::string body;
      json::Writer out(body);
      writeRow(out, t, row);
      // What the page shows beyond the row: the attempts that failed, in
      // order, what admission waited for, and whether its bodies were kept.
      out.key("failed_attempts");
      if (const uint32_t a = has ? detail.find(detail.root(), "attempts") : 0; a != 0 && detail.kind(a) == Kind::Array)
        out.raw(detail.raw(a));
      else out.beginArray().endArray();
      out.key("timings").beginObject();
      for (std::string_view k : {"auth_ms", "ledger_ms"}) {
        int64_t v = 0;
        if (const uint32_t n = has ? detail.find(detail.root(), k) : 0; n != 0 && detail.isInteger(n, &v)) out.field(k, v);
        else out.key(k).null();
      }
      optionalInteger(out, t, row, "ttft_ms");
      out.field("total_ms", t.integerAt(row, "latency_ms", 0)).endObject();
      out.key("body").beginObject().field("stored", !bodyKey.empty());
      if (!bodyKey.empty()) out.field("url", "/api/v1/ai/logs/" + id_ + "/body");
      out.endObject().endObject();
      s.respondJson(200, body);
    });
  }

 private:
  void notFound(Session& s) {
    s.respondError(notFoundError("No request '" + id_ + "' in this log.", "requestId", "log_not_found"));
  }

  // GET /api/v1/ai/logs/:id/body: the stored document, read from R2 once the
  // row said where (so the row's scope is the body's).
  void respondBody(Session& s, const std::string& key) {
    auto none = [this](Session& s) {
      s.respondError(notFoundError("No bodies are stored for request '" + id_ +
                                       "' (the tenant does not store them, the request opted out, or they expired).",
                                   "requestId", "body_not_found"));
    };
    if (key.empty()) return none(s);
    s.blobGet(key, [none](Session& s, const EffectResult& r) {
      if (!r.ok && !r.message.empty())
        return s.respondError(serverError(503, "The body store (R2) is unavailable; try again.", "service_unavailable",
                                          "body_store_unavailable"));
      if (!r.ok) return none(s);
      s.respondJson(200, r.data);
    });
  }

  std::string id_;
  bool body_;
};

}  // namespace

std::unique_ptr<Handler> listLogs() { return std::make_unique<ListLogs>(); }
std::unique_ptr<Handler> getLog(std::string requestId, bool body) {
  return std::make_unique<GetLog>(std::move(requestId), body);
}

}  // namespace gw::handlers
