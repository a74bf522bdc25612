// Users' saved model choices (D1 user_preferences), per context:
//   GET    /api/v1/ai/preferences[?context=]
//   PUT    /api/v1/ai/preferences             {context?, provider, model}
//   DELETE /api/v1/ai/preferences[/:context]  (no context: every one of the user's)
// A key acts for its own user; a tenant admin key may name `userId` in its
// tenant, and ADMIN_API_KEY must name `tenantId` and `userId`.
#include "../chat/pipeline.h"
#include "admin_common.h"
#include "wire/provider_fetch.h"
#include "gw/json_writer.h"
#include "gw/key_record.h"
#include "gw/preferences.h"
#include "handlers.h"

namespace gw::handlers {

namespace {

using json::Kind;

constexpr std::string_view COLUMNS = "context, provider, model, usage_count, last_used_at, created_at, updated_at";

// The user whose choices a call reads or changes.
ApiError ownerOf(const Session& s, std::string requestedTenant, std::string requestedUser, std::string& tenant,
                 std::string& user) {
  const Principal& p = s.principal();
  if (ApiError e = tenantFor(s, requestedTenant, tenant)) return e;
  if (p.root && requestedUser.empty()) return missingParameter("userId");
  if (!requestedUser.empty() && !access::validId(requestedUser)) return access::invalidId("userId");
  if (!requestedUser.empty() && requestedUser != p.accountUser() && !p.admin)
    return forbidden("This API key cannot act on user '" + requestedUser + "'.", "userId", "user_forbidden");
  user = requestedUser.empty() ? p.accountUser() : requestedUser;
  return {};
}

void writeRow(json::Writer& w, const json::Tape& t, uint32_t row) {
  w.beginObject().field("object", "preference");
  for (std::string_view name : {"context", "provider", "model"}) w.field(name, t.stringAt(row, name));
  w.field("usage_count", t.integerAt(row, "usage_count"));
  for (std::string_view name : {"last_used_at", "created_at", "updated_at"}) {
    int64_t v = t.integerAt(row, name, -1);
    if (v < 0) w.key(name).null();
    else w.field(name, v);
  }
  w.endObject();
}

// The D1 answer's rows, or a 503 (nothing was changed, or nothing read).
bool rowsOf(Session& s, const EffectResult& r, json::Tape& t, uint32_t& rows) {
  if (r.ok && t.parse(r.data) && (rows = t.find(t.root(), "rows")) != 0 && t.kind(rows) == Kind::Array) return true;
  s.respondError(serverError(503, "The preferences store (D1) is unavailable; try again.", "service_unavailable",
                             "database_unavailable"));
  return false;
}

class Preferences : public Handler {
 public:
  Preferences(std::string method, std::string context) : method_(std::move(method)), context_(std::move(context)) {}

  void start(Session& s) override {
    if (method_ == "PUT") return put(s);
    const std::string& q = s.request().query;
    if (ApiError e = ownerOf(s, queryParam(q, "tenantId"), queryParam(q, "userId"), tenant_, user_))
      return s.respondError(e);
    if (method_ == "GET" && context_.empty()) context_ = queryParam(q, "context");
    if (!context_.empty() && !preferences::validContext(context_))
      return s.respondError(preferences::invalidContext("context"));
    if (method_ == "GET") return list(s);
    remove(s);
  }

 private:
  void list(Session& s) {
    std::string sql = "SELECT " + std::string(COLUMNS) + " FROM user_preferences", params;
    whereOwner(sql, params);
    sql += " ORDER BY context";
    s.d1(sql, params, [this](Session& s, const EffectResult& r) {
      json::Tape t;
      uint32_t rows = 0;
      if (!rowsOf(s, r, t, rows)) return;
      std::string body;
      json::Writer w(body);
      w.beginObject().field("object", "list").field("tenantId", tenant_).field("userId", user_);
      w.key("data").beginArray();
      for (uint32_t row = t.firstChild(rows); row != 0; row = t.nextSibling(rows, row)) writeRow(w, t, row);
      w.endArray().endObject();
      s.respondJson(200, body);
    });
  }

  void put(Session& s) {
    json::Tape t;
    if (ApiError e = parseObject(s.body(), t)) return s.respondError(e);
    std::string fields[3];  // context, provider, model
    const char* names[3] = {"context", "provider", "model"};
    for (int i = 0; i < 3; ++i) {
      uint32_t v = t.find(t.root(), names[i]);
      if (v == 0 || t.kind(v) == Kind::Null) {
        if (i == 0) continue;
        return s.respondError(missingParameter(names[i]));
      }
      if (t.kind(v) != Kind::String) return s.respondError(invalidType(names[i], "a string", "another type"));
      fields[i] = t.string(v);
    }
    context_ = fields[0].empty() ? std::string(preferences::DEFAULT_CONTEXT) : fields[0];
    if (!preferences::validContext(context_))
      return s.respondError(preferences::invalidContext("context"));
    if (ApiError e = ownerOf(s, t.stringAt(t.root(), "tenantId"), t.stringAt(t.root(), "userId"), tenant_, user_))
      return s.respondError(e);
    // The choice must be one the gateway can serve now, and one this key may use.
    Target target;
    if (ApiError e = preferences::resolve(s.config(), fields[1], fields[2], target)) return s.respondError(e);
    if (target.provider->builtinDemo)
      return s.respondError(invalidRequest("The built-in demo is not a routing target; it cannot be a saved preference.",
                                           "provider", "invalid_value"));
    if (!usable(*target.provider, tenantKeyFor(s, target.provider->id))) {
      ApiError e = providerNotConfigured(*target.provider);
      e.status = 400;
      e.type = "invalid_request_error";
      e.param = "provider";
      return s.respondError(e);
    }
    if (ApiError e = chat::checkModelAllowed(s.principal(), fields[2], target)) return s.respondError(e);
    provider_ = target.provider->id;
    model_ = target.model != nullptr && target.model->provider == provider_ ? target.model->id : target.upstream;
    const std::string sql =
        "INSERT INTO user_preferences (tenant_id, user_id, context, provider, model, usage_count, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?) ON CONFLICT (tenant_id, user_id, context) DO UPDATE SET "
        "provider = excluded.provider, model = excluded.model, updated_at = excluded.updated_at RETURNING " +
        std::string(COLUMNS);
    std::string params;
    json::Writer w(params);
    w.beginArray().string(tenant_).string(user_).string(context_).string(provider_).string(model_);
    w.integer(s.nowMs()).integer(s.nowMs()).endArray();
    requireTenant(s, tenant_, [this, sql, params](Session& s) {
      s.d1(sql, params, [this](Session& s, const EffectResult& r) {
        json::Tape t;
        uint32_t rows = 0;
        if (!rowsOf(s, r, t, rows)) return;
        preferences::remember(s.state(), preferences::cacheKey(tenant_, user_, context_), provider_, model_, s.nowMs());
        std::string body;
        json::Writer w(body);
        uint32_t row = t.firstChild(rows);
        if (row != 0) writeRow(w, t, row);
        else w.beginObject().field("object", "preference").field("context", context_).endObject();
        s.respondJson(200, body);
      });
    });
  }

  void remove(Session& s) {
    std::string sql = "DELETE FROM user_preferences", params;
    whereOwner(sql, params);
    s.d1(sql, params, [this](Session& s, const EffectResult& r) {
      json::Tape t;
      uint32_t rows = 0;
      if (!rowsOf(s, r, t, rows)) return;
      const int64_t deleted = t.integerAt(t.root(), "changes");
      if (context_.empty()) preferences::forgetUser(s.state(), tenant_, user_);
      else preferences::remember(s.state(), preferences::cacheKey(tenant_, user_, context_), "", "", s.nowMs());
      if (!context_.empty() && deleted == 0)
        return s.respondError(notFoundError("No preference is saved for the context '" + context_ + "'.", "context",
                                            "preference_not_found"));
      std::string body;
      json::Writer w(body);
      w.beginObject().field("object", "preference.deleted");
      if (!context_.empty()) w.field("context", context_);
      w.field("deleted", deleted).endObject();
      s.respondJson(200, body);
    });
  }

  // The user's rows (one context's, when named).
  void whereOwner(std::string& sql, std::string& params) const {
    sql += " WHERE tenant_id = ? AND user_id = ?";
    json::Writer w(params);
    w.beginArray().string(tenant_).string(user_);
    if (!context_.empty()) {
      sql += " AND context = ?";
      w.string(context_);
    }
    w.endArray();
  }

  std::string method_, context_, tenant_, user_, provider_, model_;
};

}  // namespace

std::unique_ptr<Handler> preferences(std::string method, std::string context) {
  return std::make_unique<Preferences>(std::move(method), std::move(context));
}

}  // namespace gw::handlers
