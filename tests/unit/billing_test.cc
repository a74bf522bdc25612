// One client's analytics (GET /api/analytics/gateway) and a tenant's billing
// month (GET /api/billing/summary) over seeded usage rows: who sees what,
// the breakdowns, the budgets' state, the projection and the CSV.
#include <catch2/catch.hpp>

#include "gw/periods.h"
#include "test_requests.h"

using gw::testing::admin;
using gw::testing::bearer;
using gw::testing::body;
using gw::testing::createKey;
using gw::testing::FakeHost;
using gw::testing::HttpResponse;
using nlohmann::json;

namespace {

struct Row {
  const char* tenant;
  const char* user;  // nullptr: a key bound to no user
  const char* key;
  const char* provider;
  const char* model;
  int64_t costPico;
  const char* cache;
  int status;
};

void seed(FakeHost& h, int64_t at, std::initializer_list<Row> rows) {
  static int n = 0;
  for (const Row& r : rows) {
    const std::string user = r.user != nullptr ? "'" + std::string(r.user) + "'" : "NULL";
    h.d1->query("INSERT INTO gateway_usage_logs (request_id, created_at, tenant_id, user_id, key_id, api_type, provider, "
                "model, input_tokens, output_tokens, cost_usd_pico, cost_brl_pico, latency_ms, status, cache_status) "
                "VALUES ('bill-" + std::to_string(++n) + "', " + std::to_string(at) + ", '" + r.tenant + "', " + user +
                ", '" + r.key + "', 'chat_completion', '" + r.provider + "', '" + r.model + "', 10, 5, " +
                std::to_string(r.costPico) + ", " + std::to_string(r.costPico * 5) + ", 40, " + std::to_string(r.status) +
                ", '" + r.cache + "')");
  }
}

// Three clients of acme (alice with two keys, bob, a service key) and one of globex.
void seedClients(FakeHost& h, int64_t at) {
  seed(h, at,
       {{"acme", "alice", "key_test", "openai", "gpt-4o-mini", 1000000, "MISS", 200},
        {"acme", "alice", "key_other", "anthropic", "claude-haiku-4-5", 3000000, "HIT", 200},
        {"acme", "bob", "key_bob", "openai", "gpt-4o-mini", 2000000, "MISS", 500},
        {"acme", nullptr, "key_service", "openai", "gpt-4o", 4000000, "MISS", 200},
        {"globex", "alice", "key_globex", "openai", "gpt-4o", 9000000, "MISS", 200}});
}

}  // namespace

TEST_CASE("a user's key sees its own analytics, every key of its user, and nobody else's") {
  FakeHost h;
  seedClients(h, h.nowMs - 1000);
  HttpResponse r = h.request("GET", "/api/analytics/gateway");  // alice's key
  INFO(r.body);
  REQUIRE(r.status == 200);
  json a = body(r);
  CHECK(a["object"] == "analytics.client");
  CHECK(a["client"]["userId"] == "alice");
  CHECK(a["tenantId"] == "acme");
  CHECK(a["totals"]["requests"] == 2);  // both of alice's keys, not globex's alice
  CHECK(a["totals"]["cache_hit_rate"] == 0.5);
  REQUIRE(a["by_provider"].size() == 2);
  CHECK(a["by_model"].size() == 2);
  CHECK(a["daily"].size() == 1);

  // Another user of the tenant, or a key that is not its own: refused, naming the parameter.
  HttpResponse other = h.request("GET", "/api/analytics/gateway?userId=bob");
  CHECK(other.status == 403);
  CHECK(body(other)["error"]["param"] == "userId");
  CHECK(body(h.request("GET", "/api/analytics/gateway?keyId=key_bob"))["error"]["param"] == "keyId");
  CHECK(h.request("GET", "/api/analytics/gateway?userId=alice").status == 200);
  CHECK(h.request("GET", "/api/analytics/gateway?keyId=key_test").status == 200);

  // A tenant admin names any client of its tenant; a key bound to no user is itself.
  const std::string acmeAdmin = createKey(h, {{"tenantId", "acme"}, {"role", "admin"}});
  json bob = body(h.request("GET", "/api/analytics/gateway?userId=bob", "", bearer(acmeAdmin)));
  CHECK(bob["totals"]["requests"] == 1);
  CHECK(bob["totals"]["errors"] == 1);
  json service = body(h.request("GET", "/api/analytics/gateway?keyId=key_service", "", bearer(acmeAdmin)));
  CHECK(service["client"]["keyId"] == "key_service");
  CHECK(service["totals"]["requests"] == 1);
  // ADMIN_API_KEY is no client: it names one, and may name the tenant.
  CHECK(body(admin(h, "GET", "/api/analytics/gateway"))["error"]["param"] == "userId");
  CHECK(body(admin(h, "GET", "/api/analytics/gateway?userId=alice&tenantId=globex"))["totals"]["requests"] == 1);
  // Bad input.
  CHECK(body(h.request("GET", "/api/analytics/gateway?userId=alice&keyId=key_test"))["error"]["param"] == "keyId");
  CHECK(body(h.request("GET", "/api/analytics/gateway?userId=a%20b"))["error"]["param"] == "userId");
  CHECK(body(h.request("GET", "/api/analytics/gateway?period=2d"))["error"]["param"] == "period");
}

TEST_CASE("the billing summary: a month's spend by model, provider and user, budgets with their state, CSV") {
  FakeHost h;
  const gw::PeriodBounds month = gw::periodBounds(gw::Period::Monthly, h.nowMs);
  seedClients(h, month.startMs + 1000);
  seed(h, month.startMs - 1000, {{"acme", "alice", "key_test", "openai", "gpt-4o", 7000000, "MISS", 200}});  // last month
  REQUIRE(admin(h, "POST", "/api/budget/config",
                R"({"tenantId":"acme","type":"USD","limit":10,"period":"monthly","alertThresholds":[80],"pauseAtLimit":true})")
              .status == 201);

  HttpResponse r = admin(h, "GET", "/api/billing/summary?tenantId=acme");
  INFO(r.body);
  REQUIRE(r.status == 200);
  json b = body(r);
  CHECK(b["object"] == "billing.summary");
  CHECK(b["month"] == gw::isoTimestamp(month.startMs).substr(0, 7));
  CHECK(b["complete"] == false);
  CHECK(b["totals"]["requests"] == 4);
  CHECK(b["totals"]["cost_usd"] == 0.00001);
  REQUIRE(b["by_model"].size() == 3);
  CHECK(b["by_model"][0]["model"] == "gpt-4o");  // dearest first
  CHECK(b["by_model"][0]["cost_usd"] == 0.000004);
  REQUIRE(b["by_provider"].size() == 2);
  CHECK(b["by_provider"][0]["provider"] == "openai");
  CHECK(b["by_provider"][0]["requests"] == 3);
  REQUIRE(b["by_user"].size() == 3);
  CHECK(b["by_user"][0]["user_id"] == "alice");  // 4 µ$ over two requests
  CHECK(b["by_user"][1]["user_id"].is_null());   // the service key's 4 µ$
  CHECK(b["projection"]["month_to_date_usd"] == 0.00001);
  CHECK(b["projection"]["projected_month_usd"].get<double>() >= 0.00001);
  REQUIRE(b["budgets"].size() == 1);
  CHECK(b["budgets"][0]["state"] == "ok");
  CHECK(b["budgets"][0]["limit"] == 10);
  CHECK(b["tenant_usage"]["enabled"] == true);

  // Last month: its own rows, complete, projected as it ended.
  const std::string last = gw::isoTimestamp(month.startMs - 1).substr(0, 7);
  json prev = body(admin(h, "GET", "/api/billing/summary?tenantId=acme&month=" + last));
  CHECK(prev["complete"] == true);
  CHECK(prev["totals"]["requests"] == 1);
  CHECK(prev["projection"]["projected_month_usd"] == prev["projection"]["month_to_date_usd"]);

  // CSV: a line per provider, model and user.
  HttpResponse csv = admin(h, "GET", "/api/billing/summary?tenantId=acme&format=csv");
  REQUIRE(csv.status == 200);
  CHECK(csv.headers["content-type"].find("text/csv") == 0);
  CHECK(csv.headers["content-disposition"].find("aigw-billing-acme-") != std::string::npos);
  CHECK(csv.body.rfind("provider,model,user_id,requests,errors,cache_hits,input_tokens,output_tokens,cost_usd,cost_brl\r\n", 0) == 0);
  CHECK(csv.body.find("\r\nopenai,gpt-4o-mini,bob,1,1,0,10,5,0.000002,0.00001\r\n") != std::string::npos);
  CHECK(std::count(csv.body.begin(), csv.body.end(), '\n') == 5);

  // A tenant admin reads its own tenant only; a user key, none.
  const std::string acmeAdmin = createKey(h, {{"tenantId", "acme"}, {"role", "admin"}});
  CHECK(h.request("GET", "/api/billing/summary", "", bearer(acmeAdmin)).status == 200);
  CHECK(h.request("GET", "/api/billing/summary?tenantId=globex", "", bearer(acmeAdmin)).status == 403);
  CHECK(h.request("GET", "/api/billing/summary").status == 403);
  // Bad input.
  CHECK(body(admin(h, "GET", "/api/billing/summary"))["error"]["param"] == "tenantId");
  CHECK(body(admin(h, "GET", "/api/billing/summary?tenantId=acme&month=2026-13"))["error"]["param"] == "month");
  CHECK(body(admin(h, "GET", "/api/billing/summary?tenantId=acme&month=2026-1"))["error"]["param"] == "month");
  CHECK(body(admin(h, "GET", "/api/billing/summary?tenantId=acme&month=2999-01"))["error"]["param"] == "month");
  CHECK(body(admin(h, "GET", "/api/billing/summary?tenantId=acme&format=xml"))["error"]["param"] == "format");
  CHECK(admin(h, "GET", "/api/billing/summary?tenantId=nobody").status == 404);
}
