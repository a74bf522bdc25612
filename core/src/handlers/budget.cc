// Budgets, per tenant or per user within it:
//   GET    /api/budget/config?tenantId=
//   POST   /api/budget/config   {tenantId?, userId?, type: tokens|USD|BRL, limit, period, alertThresholds, pauseAtLimit}
//   DELETE /api/budget/config?id=&tenantId=   (no id: every budget of the tenant)
//   GET    /api/budget/current-usage?tenantId=&userId=
// Changing budgets needs an admin key; any key of the tenant may read them,
// and a user key sees its own user's usage.
#include "../access/leases.h"
#include "admin_common.h"
#include "gw/json_writer.h"
#include "gw/limits.h"
#include "handlers.h"

namespace gw::handlers {

namespace {

using json::Kind;

std::string lower(std::string v) {
  for (char& c : v)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return v;
}

class BudgetConfig : public Handler {
 public:
  explicit BudgetConfig(std::string method) : method_(std::move(method)) {}
  void start(Session& s) override {
    const Principal& p = s.principal();
    if (method_ != "GET" && !p.admin)
      return s.respondError(forbidden("Changing budgets needs an admin key.", "authorization", "admin_required"));
    if (method_ == "POST") return post(s);
    if (ApiError e = tenantFor(s, queryParam(s.request().query, "tenantId"), tenant_)) return s.respondError(e);
    if (method_ == "GET") {
      return requireTenant(s, tenant_, [this](Session& s) {
        ledgerCall(s, tenant_, leases::readOp("get", s.state(), tenant_), [this](Session& s, std::string_view result) {
          json::Tape t;
          t.parse(result);
          uint32_t budgets = t.find(t.root(), "budgets");
          std::string body = "{\"object\":\"list\",\"tenantId\":";
          json::Writer(body, true).string(tenant_);
          body += ",\"data\":";
          body += budgets != 0 ? std::string(t.raw(budgets)) : "[]";
          body += "}";
          s.respondJson(200, body);
        });
      });
    }
  }

 private:
  void post(Session& s) {
    json::Tape t;
    if (ApiError e = parseObject(s.body(), t)) return s.respondError(e);
    if (ApiError e = tenantFor(s, t, "", tenant_)) return s.respondError(e);
    uint32_t user = t.find(t.root(), "userId");
    if (user != 0 && t.kind(user) != Kind::Null) {
      if (t.kind(user) != Kind::String || t.rawString(user).empty() || t.rawString(user).size() > 64)
        return s.respondError(invalidValue("userId", "expected a user id."));
      budget_.userId = t.string(user);
    }
    if (ApiError e = readBudget(t, t.root(), budget_)) return s.respondError(e);
    budget_.id = lower(budgetTypeName(budget_.type)) + "-" + periodName(budget_.period);
    if (!budget_.userId.empty()) budget_.id += "-" + budget_.userId;
    std::string op;
    json::Writer w(op);
    w.beginObject().field("op", "budget_set").key("budget");
    writeBudgetWire(w, budget_);
    w.endObject();
    requireTenant(s, tenant_, [this, op](Session& s) {
      ledgerCall(s, tenant_, op, [this](Session& s, std::string_view) {
        std::string body;
        json::Writer w(body);
        writeBudgetApi(w, budget_);
        body.insert(1, "\"object\":\"budget\",\"tenantId\":\"" + tenant_ + "\",");
        s.respondJson(201, body);
      });
    });
  }

  std::string method_;
  std::string tenant_;
  Budget budget_;
};

class BudgetDelete : public Handler {
 public:
  void start(Session& s) override {
    if (!s.principal().admin)
      return s.respondError(forbidden("Changing budgets needs an admin key.", "authorization", "admin_required"));
    if (ApiError e = tenantFor(s, queryParam(s.request().query, "tenantId"), tenant_)) return s.respondError(e);
    const std::string id = queryParam(s.request().query, "id");
    if (id.size() > 100) return s.respondError(invalidValue("id", "unknown budget id."));
    json::Writer(op_).beginObject().field("op", "budget_delete").field("id", id).endObject();
    requireTenant(s, tenant_, [this](Session& s) {
      ledgerCall(s, tenant_, op_, [this](Session& s, std::string_view result) {
        json::Tape t;
        t.parse(result);
        int64_t deleted = 0;
        uint32_t d = t.find(t.root(), "deleted");
        if (d != 0) t.isInteger(d, &deleted);
        std::string body;
        json::Writer(body).beginObject().field("object", "budget.deleted").field("tenantId", tenant_).field("deleted", deleted).endObject();
        s.respondJson(200, body);
      });
    });
  }

 private:
  std::string tenant_;
  std::string op_;
};

class CurrentUsage : public Handler {
 public:
  void start(Session& s) override {
    const Principal& p = s.principal();
    if (ApiError e = tenantFor(s, queryParam(s.request().query, "tenantId"), tenant_)) return s.respondError(e);
    std::string user = queryParam(s.request().query, "userId");
    if (!p.admin) {
      // A user key reads its own user only.
      if (!user.empty() && user != p.accountUser())
        return s.respondError(forbidden("This API key may only read its own usage.", "userId", "user_forbidden"));
      user = p.accountUser();
    }
    json::Writer w(op_);
    w.beginObject().field("op", "usage").field("user", user).field("all_users", p.admin && user.empty());
    w.key("user_defaults");
    writeQuotaLimitsWire(w, s.config().access.userDefaults);
    leases::writeProgress(w, s.state(), tenant_);
    w.endObject();
    requireTenant(s, tenant_, [this](Session& s) {
      ledgerCall(s, tenant_, op_, [this](Session& s, std::string_view result) {
        s.respondJson(200, ledgerView(result, {{"object", "budget.usage"}, {"tenantId", tenant_}}));
      });
    });
  }

 private:
  std::string tenant_;
  std::string op_;
};

}  // namespace

std::unique_ptr<Handler> budgetConfig(const std::string& method) {
  if (method == "DELETE") return std::make_unique<BudgetDelete>();
  return std::make_unique<BudgetConfig>(method);
}
std::unique_ptr<Handler> budgetUsage() { return std::make_unique<CurrentUsage>(); }

}  // namespace gw::handlers
