// Tenants and user quotas:
//   PUT  /api/v1/ai/admin/tenants/:id          {name?, enabled?, storeBodies?, limits?}   (ADMIN_API_KEY)
//   GET  /api/v1/ai/admin/tenants/:id          the tenant's switch, limits, budgets and usage
//   PUT  /api/v1/ai/admin/quotas/:userId       {tenantId?, limits: {...}}
//   POST /api/v1/ai/admin/quotas/:userId/reset {tenantId?}
// Switching a tenant off keeps its keys, counters and budgets.
#include "gw/key_record.h"
#include "../access/leases.h"
#include "admin_common.h"
#include "gw/json_writer.h"
#include "handlers.h"

namespace gw::handlers {

namespace {

using json::Kind;

class PutTenant : public Handler {
 public:
  explicit PutTenant(std::string id) : id_(std::move(id)) {}
  Access access() const override { return Access::Admin; }
  void start(Session& s) override {
    if (!s.principal().root)
      return s.respondError(forbidden("Only ADMIN_API_KEY can create or change tenants.", "authorization", "root_required"));
    if (!access::validId(id_)) return s.respondError(access::invalidId("tenantId"));
    json::Tape t;
    if (ApiError e = parseObject(s.body().empty() ? std::string_view("{}") : std::string_view(s.body()), t))
      return s.respondError(e);
    const uint32_t root = t.root();
    std::string name = id_;
    uint32_t n = t.find(root, "name");
    if (n != 0) {
      if (t.kind(n) != Kind::String || t.rawString(n).size() > 100)
        return s.respondError(invalidValue("name", "expected a string of at most 100 characters."));
      name = t.string(n);
    }
    std::string op;
    json::Writer w(op);
    w.beginObject().field("op", "set_tenant");
    uint32_t enabled = t.find(root, "enabled");
    if (enabled != 0) {
      if (t.kind(enabled) != Kind::True && t.kind(enabled) != Kind::False)
        return s.respondError(invalidType("enabled", "a boolean", "another type"));
      w.field("enabled", t.kind(enabled) == Kind::True);
    }
    // Whether its requests' bodies are kept in R2 for the request log.
    if (const uint32_t bodies = t.find(root, "storeBodies"); bodies != 0) {
      if (t.kind(bodies) != Kind::True && t.kind(bodies) != Kind::False)
        return s.respondError(invalidType("storeBodies", "a boolean", "another type"));
      if (t.kind(bodies) == Kind::True && !s.config().bodyStore)
        return s.respondError(invalidValue("storeBodies", std::string("Storing bodies needs the R2 binding ") +
                                                              BODIES_BINDING + " (wrangler.toml [[r2_buckets]])."));
      w.field("store_bodies", t.kind(bodies) == Kind::True);
    }
    uint32_t limits = t.find(root, "limits");
    if (limits != 0) {
      QuotaLimits l;
      if (ApiError e = readQuotaLimits(t, limits, "limits", l)) return s.respondError(e);
      w.key("limits");
      writeQuotaLimitsWire(w, l);
    }
    w.endObject();
    std::string record;
    json::Writer(record).beginObject().field("id", id_).field("name", name).field("updated_at", s.nowMs()).endObject();
    s.kvPut(access::tenantRecord(id_), record, [this, op, name](Session& s, const EffectResult& r) {
      if (!r.ok) return s.respondError(serverError(503, "Could not store the tenant; try again.", "service_unavailable", "kv_unavailable"));
      ledgerCall(s, id_, op, [this, name](Session& s, std::string_view result) {
        s.respondJson(200, ledgerView(result, {{"id", id_}, {"object", "tenant"}, {"name", name}}));
      });
    });
  }

 private:
  std::string id_;
};

class GetTenant : public Handler {
 public:
  explicit GetTenant(std::string id) : id_(std::move(id)) {}
  Access access() const override { return Access::Admin; }
  void start(Session& s) override {
    std::string tenant;
    if (ApiError e = tenantFor(s, id_, tenant)) return s.respondError(e);
    requireTenant(s, tenant, [tenant](Session& s) {
      ledgerCall(s, tenant, leases::readOp("get", s.state(), tenant), [tenant](Session& s, std::string_view result) {
        s.respondJson(200, ledgerView(result, {{"id", tenant}, {"object", "tenant"}}));
      });
    });
  }

 private:
  std::string id_;
};

class Quota : public Handler {
 public:
  Quota(std::string user, bool reset) : user_(std::move(user)), reset_(reset) {}
  Access access() const override { return Access::Admin; }
  void start(Session& s) override {
    if (!access::validId(user_)) return s.respondError(access::invalidId("userId"));
    json::Tape t;
    const std::string_view body = s.body().empty() ? std::string_view("{}") : std::string_view(s.body());
    if (ApiError e = parseObject(body, t)) return s.respondError(e);
    if (ApiError e = tenantFor(s, t, queryParam(s.request().query, "tenantId"), tenant_)) return s.respondError(e);
    json::Writer w(op_);
    w.beginObject().field("op", reset_ ? "reset_quota" : "set_quota").field("user", user_);
    if (!reset_) {
      uint32_t limits = t.find(t.root(), "limits");
      if (limits == 0) return s.respondError(missingParameter("limits"));
      if (ApiError e = readQuotaLimits(t, limits, "limits", limits_)) return s.respondError(e);
      w.key("limits");
      writeQuotaLimitsWire(w, limits_);
    }
    w.endObject();
    requireTenant(s, tenant_, [this](Session& s) {
      ledgerCall(s, tenant_, op_, [this](Session& s, std::string_view) {
        std::string body;
        json::Writer w(body);
        w.beginObject().field("object", "quota").field("tenantId", tenant_).field("userId", user_);
        if (reset_) w.field("reset", true);
        else {
          w.key("limits");
          writeQuotaLimitsApi(w, limits_);
        }
        w.endObject();
        s.respondJson(200, body);
      });
    });
  }

 private:
  std::string user_;
  bool reset_;
  std::string tenant_;
  std::string op_;
  QuotaLimits limits_;
};

}  // namespace

std::unique_ptr<Handler> putTenant(std::string id) { return std::make_unique<PutTenant>(std::move(id)); }
std::unique_ptr<Handler> getTenant(std::string id) { return std::make_unique<GetTenant>(std::move(id)); }
std::unique_ptr<Handler> quota(std::string userId, bool reset) {
  return std::make_unique<Quota>(std::move(userId), reset);
}

}  // namespace gw::handlers
