// Keys, attribution, limits and budgets through the whole core, on the fake
// host (in-memory KV, the ledger applied in-process like the Durable Object).
#include <catch2/catch.hpp>

#include "gw/nlohmann.h"
#include "test_requests.h"
#include "gw/pricing.h"

using gw::testing::ADMIN_KEY;
using gw::testing::admin;
using gw::testing::bearer;
using gw::testing::body;
using gw::testing::createKey;
using gw::testing::FakeHost;
using gw::testing::HttpResponse;
using nlohmann::json;

namespace {

const char* CHAT = R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":50})";

}  // namespace

TEST_CASE("every failed authentication is the same 401, and nothing is spent") {
  FakeHost h;
  h.autoAuth = false;
  std::vector<std::map<std::string, std::string>> attempts = {
      {},
      {{"authorization", "Bearer aigw_sk_unknown"}},
      {{"authorization", "Basic dXNlcjpwYXNz"}},
      {{"authorization", "Bearer "}},
      {{"authorization", "Bearer " + std::string(5000, 'a')}},
      {{"authorization", "Bearer aigw_sk_\x01" "bad"}},
      {{"x-api-key", "sk-not-ours"}},
  };
  std::string message;
  for (const auto& headers : attempts) {
    HttpResponse r = h.request("POST", "/v1/chat/completions", CHAT, headers);
    CHECK(r.status == 401);
    json b = body(r);
    CHECK(b["error"]["code"] == "invalid_api_key");
    if (message.empty()) message = b["error"]["message"];
    CHECK(b["error"]["message"] == message);
  }
  CHECK(h.fetches.empty());
  CHECK(h.ledgerOps.empty());
  // Health stays public.
  CHECK(h.request("GET", "/api/v1/ai/health").status == 200);
}

TEST_CASE("key lifecycle: create, use, list without secrets, revoke, expire") {
  FakeHost h;
  std::string key = createKey(h, {{"tenantId", "acme"}, {"userId", "bob"}, {"name", "bob's laptop"}});
  HttpResponse ok = h.request("POST", "/v1/chat/completions", CHAT, bearer(key));
  CHECK(ok.status == 200);
  CHECK(h.request("POST", "/v1/chat/completions", CHAT, {{"x-api-key", key}}).status == 200);

  HttpResponse list = admin(h, "GET", "/api/v1/ai/admin/keys?tenantId=acme");
  REQUIRE(list.status == 200);
  CHECK(list.body.find(key) == std::string::npos);
  json data = body(list)["data"];
  REQUIRE(data.size() == 1);
  CHECK(data[0]["userId"] == "bob");
  CHECK(data[0]["prefix"] == key.substr(0, 12));
  // Only the digest is stored.
  for (const auto& [k, v] : h.kv) CHECK(v.find(key) == std::string::npos);

  const std::string id = data[0]["id"];
  HttpResponse revoked = admin(h, "DELETE", "/api/v1/ai/admin/keys/" + id);
  CHECK(revoked.status == 200);
  CHECK(body(revoked)["revoked"] == true);
  CHECK(h.request("POST", "/v1/chat/completions", CHAT, bearer(key)).status == 401);

  std::string shortLived = createKey(h, {{"tenantId", "acme"}, {"userId", "eve"}, {"expiresAt", h.nowMs + 60000}});
  CHECK(h.request("POST", "/v1/chat/completions", CHAT, bearer(shortLived)).status == 200);
  h.nowMs += 61000;
  CHECK(h.request("POST", "/v1/chat/completions", CHAT, bearer(shortLived)).status == 401);
}

TEST_CASE("tenants are walled off from each other") {
  FakeHost h;
  CHECK(admin(h, "PUT", "/api/v1/ai/admin/tenants/globex", R"({"name":"Globex"})").status == 200);
  std::string acmeAdmin = createKey(h, {{"tenantId", "acme"}, {"role", "admin"}});
  std::string globexUser = createKey(h, {{"tenantId", "globex"}, {"userId", "hank"}});
  std::string globexId = body(admin(h, "GET", "/api/v1/ai/admin/keys?tenantId=globex"))["data"][0]["id"];

  auto as = [&](const std::string& key, const std::string& method, const std::string& path, const std::string& b = "") {
    return h.request(method, path, b, bearer(key));
  };
  CHECK(as(acmeAdmin, "GET", "/api/v1/ai/admin/keys?tenantId=globex").status == 403);
  CHECK(as(acmeAdmin, "POST", "/api/v1/ai/admin/keys", R"({"tenantId":"globex"})").status == 403);
  CHECK(as(acmeAdmin, "DELETE", "/api/v1/ai/admin/keys/" + globexId).status == 404);
  CHECK(as(acmeAdmin, "GET", "/api/budget/current-usage?tenantId=globex").status == 403);
  CHECK(as(acmeAdmin, "GET", "/api/v1/ai/admin/keys").status == 200);  // its own tenant
  // A user key cannot reach admin routes or change budgets.
  HttpResponse denied = as(globexUser, "GET", "/api/v1/ai/admin/keys");
  CHECK(denied.status == 403);
  CHECK(body(denied)["error"]["code"] == "admin_required");
  CHECK(as(globexUser, "POST", "/api/budget/config", R"({"type":"USD","limit":5})").status == 403);
  // Unknown tenants are named.
  HttpResponse unknown = admin(h, "GET", "/api/v1/ai/admin/keys?tenantId=nobody");
  CHECK(unknown.status == 404);
  CHECK(body(unknown)["error"]["param"] == "tenantId");
  // Spend lands in the caller's own tenant ledger only.
  CHECK(as(globexUser, "POST", "/v1/chat/completions", CHAT).status == 200);
  CHECK(h.ledgers.count("globex") == 1);
  json acme = body(admin(h, "GET", "/api/v1/ai/admin/tenants/acme"));
  CHECK(acme["usage"]["totalRequests"] == 0);
}

TEST_CASE("attribution headers narrow the key, never widen it") {
  FakeHost h;
  std::string service = createKey(h, {{"tenantId", "acme"}});  // no user: a service key
  auto headers = bearer(service);
  headers["x-aigw-user"] = "carol";
  CHECK(h.request("POST", "/v1/chat/completions", CHAT, headers).status == 200);
  CHECK(h.ledgerOps.back().find("\"user\":\"carol\"") != std::string::npos);
  // The seeded key belongs to alice: claiming bob is refused.
  HttpResponse r = h.request("POST", "/v1/chat/completions", CHAT, {{"x-aigw-user", "bob"}});
  CHECK(r.status == 403);
  CHECK(body(r)["error"]["param"] == "x-aigw-user");
  CHECK(h.request("POST", "/v1/chat/completions", CHAT, {{"x-aigw-user", "alice"}}).status == 200);
  CHECK(h.request("POST", "/v1/chat/completions", CHAT, {{"x-aigw-agent", "bad agent!"}}).status == 400);
}

TEST_CASE("/api/v1/ai/generate's tenantId, userId and agentId narrow like the headers") {
  FakeHost h;
  const std::string path = "/api/v1/ai/generate";
  auto call = [&](const json& ids, const std::map<std::string, std::string>& headers = {}) {
    json b = {{"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"maxTokens", 20}};
    b.update(ids);
    return h.request("POST", path, b.dump(), headers);
  };
  CHECK(call({{"tenantId", "acme"}, {"userId", "alice"}}).status == 200);
  HttpResponse other = call({{"tenantId", "globex"}});
  CHECK(other.status == 403);
  CHECK(body(other)["error"]["param"] == "tenantId");
  HttpResponse bob = call({{"userId", "bob"}});
  CHECK(bob.status == 403);
  CHECK(body(bob)["error"]["param"] == "userId");
  CHECK(call({{"agentId", "not valid!"}}).status == 400);
  const size_t opsBefore = h.ledgerOps.size();
  CHECK(call({{"tenantId", "globex"}, {"userId", "bob"}}).status == 403);
  CHECK(h.ledgerOps.size() == opsBefore);  // refused before anything was reserved
  // A service key takes its user from the body.
  std::string service = createKey(h, {{"tenantId", "acme"}});
  CHECK(call({{"userId", "dave"}}, bearer(service)).status == 200);
  CHECK(h.ledgerOps.back().find("\"user\":\"dave\"") != std::string::npos);
}

TEST_CASE("metered responses say what auth and the ledger took (Server-Timing)") {
  FakeHost h;
  HttpResponse r = h.chat(CHAT);
  REQUIRE(r.status == 200);
  CHECK(r.headers["server-timing"] == "auth;dur=0, ledger;dur=0");  // the fake host's clock stands still
  // A request the ledger refuses (too large for the key's tokens per minute) reports that call too.
  std::string key = createKey(h, {{"tenantId", "acme"}, {"limits", {{"tpm", 10}}}});
  HttpResponse refused = h.request("POST", "/v1/chat/completions", CHAT, bearer(key));
  CHECK(refused.status == 429);
  CHECK(refused.headers["server-timing"] == "auth;dur=0, ledger;dur=0");
  // A token limit's refusal says what ran out: tokens, not requests.
  CHECK(body(refused)["error"]["type"] == "tokens");
  CHECK(body(refused)["error"]["code"] == "rate_limit_exceeded");
}

TEST_CASE("a key's model list is enforced with a 403 naming the model") {
  FakeHost h;
  std::string key = createKey(h, {{"tenantId", "acme"}, {"models", {"gpt-4o-mini"}}});
  CHECK(h.request("POST", "/v1/chat/completions", CHAT, bearer(key)).status == 200);
  HttpResponse r = h.request("POST", "/v1/chat/completions",
                             R"({"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]})", bearer(key));
  CHECK(r.status == 403);
  CHECK(body(r)["error"]["code"] == "model_not_allowed");
  CHECK(body(r)["error"]["param"] == "model");
}

TEST_CASE("requests per minute: headers count down, then a 429 with Retry-After") {
  FakeHost h;
  std::string key = createKey(h, {{"tenantId", "acme"}, {"limits", {{"rpm", 3}, {"tpm", 100000}}}});
  for (int i = 0; i < 3; ++i) {
    HttpResponse r = h.request("POST", "/v1/chat/completions", CHAT, bearer(key));
    REQUIRE(r.status == 200);
    CHECK(r.headers["x-ratelimit-limit-requests"] == "3");
    CHECK(r.headers["x-ratelimit-remaining-requests"] == std::to_string(2 - i));
    CHECK(r.headers["x-ratelimit-limit-tokens"] == "100000");
    CHECK(!r.headers["x-ratelimit-reset-requests"].empty());
  }
  const size_t upstreamCalls = h.fetches.size();
  HttpResponse limited = h.request("POST", "/v1/chat/completions", CHAT, bearer(key));
  CHECK(limited.status == 429);
  CHECK(body(limited)["error"]["code"] == "rate_limit_exceeded");
  CHECK(limited.headers["x-ratelimit-remaining-requests"] == "0");
  CHECK(!limited.headers["retry-after"].empty());
  CHECK(h.fetches.size() == upstreamCalls);
  h.nowMs += 60000;
  CHECK(h.request("POST", "/v1/chat/completions", CHAT, bearer(key)).status == 200);
}

TEST_CASE("a USD budget pauses the tenant at its limit and the spend is exact") {
  FakeHost h;
  HttpResponse set = admin(h, "POST", "/api/budget/config",
                           R"({"tenantId":"acme","type":"USD","limit":0.0001,"period":"daily","alertThresholds":[50,100],"pauseAtLimit":true})");
  REQUIRE(set.status == 201);
  CHECK(body(set)["id"] == "usd-daily");
  int served = 0;
  std::vector<std::string> costs;
  for (int i = 0; i < 40; ++i) {
    HttpResponse r = h.chat(CHAT);
    if (r.status == 200) {
      ++served;
      costs.push_back(r.headers["x-aigw-cost-usd"]);
    } else {
      CHECK(r.status == 429);
      CHECK(body(r)["error"]["code"] == "insufficient_quota");
    }
  }
  CHECK(served > 0);
  CHECK(served < 40);
  HttpResponse usage = h.request("GET", "/api/budget/current-usage");
  REQUIRE(usage.status == 200);
  json u = body(usage);
  // 9 prompt + 3 completion tokens of gpt-4o-mini: 0.00000315 USD each.
  CHECK(costs[0] == "0.00000315");
  CHECK(usage.body.find("\"used\":" + gw::formatPico(served * 3150000LL) + ",") != std::string::npos);
  CHECK(u["budgets"][0]["alertsSent"].size() >= 1);
}

TEST_CASE("an exhausted user is refused from the cached snapshot; a raised quota serves at once") {
  FakeHost h;
  REQUIRE(admin(h, "PUT", "/api/v1/ai/admin/quotas/alice", R"({"tenantId":"acme","limits":{"dailyRequests":3}})")
              .status == 200);
  int served = 0;
  for (int i = 0; i < 3; ++i) served += h.chat(CHAT).status == 200;
  CHECK(served == 3);
  REQUIRE(h.kv["ledger:acme"].find("\"user:alice\"") != std::string::npos);
  // After the cache expires, the instance reads the new snapshot once and
  // refuses without calling the ledger.
  h.nowMs += 2000;
  const size_t ops = h.ledgerOps.size();
  HttpResponse refused = h.chat(CHAT);
  CHECK(refused.status == 429);
  CHECK(body(refused)["error"]["code"] == "insufficient_quota");
  CHECK(!refused.headers["retry-after"].empty());
  CHECK(h.chat(CHAT).status == 429);
  CHECK(h.ledgerOps.size() == ops);
  // Raising the quota here lifts the block here, without waiting for the cache.
  REQUIRE(admin(h, "PUT", "/api/v1/ai/admin/quotas/alice", R"({"tenantId":"acme","limits":{"dailyRequests":10}})")
              .status == 200);
  CHECK(h.kv["ledger:acme"].find("\"user:alice\"") == std::string::npos);
  CHECK(h.chat(CHAT).status == 200);
}

TEST_CASE("bad admin input is a 400 naming the field, and changes nothing") {
  FakeHost h;
  struct Case {
    std::string method, path, body, param;
  };
  std::vector<Case> cases = {
      {"POST", "/api/v1/ai/admin/keys", R"({"tenantId":"acme","limits":{"rpm":-1}})", "limits.rpm"},
      {"POST", "/api/v1/ai/admin/keys", R"({"tenantId":"acme","limits":{"tpm":1e30}})", "limits.tpm"},
      {"POST", "/api/v1/ai/admin/keys", R"({"tenantId":"acme","limits":{"warp":1}})", "limits.warp"},
      {"POST", "/api/v1/ai/admin/keys", R"({"tenantId":"acme","role":"god"})", "role"},
      {"POST", "/api/v1/ai/admin/keys", R"({"tenantId":"acme","expiresAt":"yesterday"})", "expiresAt"},
      {"POST", "/api/v1/ai/admin/keys", R"({"tenantId":"a:b"})", "tenantId"},
      {"POST", "/api/v1/ai/admin/keys", R"({})", "tenantId"},
      {"POST", "/api/budget/config", R"({"tenantId":"acme","type":"USD","limit":5,"period":"hourly"})", "period"},
      {"POST", "/api/budget/config", R"({"tenantId":"acme","type":"EUR","limit":5})", "type"},
      {"POST", "/api/budget/config", R"({"tenantId":"acme","type":"USD","limit":-5})", "limit"},
      {"POST", "/api/budget/config", R"({"tenantId":"acme","type":"tokens","limit":10,"alertThresholds":[90,80]})", "alertThresholds[1]"},
      {"PUT", "/api/v1/ai/admin/quotas/alice", R"({"tenantId":"acme","limits":{"dailyRequests":"many"}})", "limits.dailyRequests"},
      {"PUT", "/api/v1/ai/admin/tenants/acme", R"({"enabled":"yes"})", "enabled"},
  };
  const auto kvBefore = h.kv;
  for (const auto& c : cases) {
    HttpResponse r = admin(h, c.method, c.path, c.body);
    INFO(c.body);
    CHECK(r.status == 400);
    CHECK(body(r)["error"]["param"] == c.param);
  }
  CHECK(h.kv == kvBefore);
  CHECK(h.ledgerOps.empty());
}

TEST_CASE("switches: ENABLE_AI_GATEWAY=false and a disabled tenant answer 503 and keep their data") {
  FakeHost off(gw::testing::Vars{{"ENABLE_AI_GATEWAY", "false"}});
  HttpResponse r = off.chat(CHAT);
  CHECK(r.status == 503);
  CHECK(body(r)["error"]["code"] == "gateway_disabled");
  CHECK(admin(off, "GET", "/api/v1/ai/admin/keys?tenantId=acme").status == 200);

  FakeHost h;
  REQUIRE(h.chat(CHAT).status == 200);
  REQUIRE(admin(h, "PUT", "/api/v1/ai/admin/tenants/acme", R"({"enabled":false})").status == 200);
  HttpResponse paused = h.chat(CHAT);
  INFO(paused.body);
  CHECK(paused.status == 503);
  CHECK(body(paused)["error"]["code"] == "tenant_disabled");
  REQUIRE(admin(h, "PUT", "/api/v1/ai/admin/tenants/acme", R"({"enabled":true})").status == 200);
  CHECK(h.chat(CHAT).status == 200);
  CHECK(body(admin(h, "GET", "/api/v1/ai/admin/tenants/acme"))["usage"]["totalRequests"] == 2);
}

TEST_CASE("the ledger being down fails closed, and a failed upstream call gives its hold back") {
  FakeHost h;
  h.ledgerDown = true;
  HttpResponse r = h.chat(CHAT);
  CHECK(r.status == 503);
  CHECK(body(r)["error"]["code"] == "ledger_unavailable");
  CHECK(h.fetches.empty());
  h.ledgerDown = false;
  gw::testing::ScriptedReply bad;
  bad.status = 400;
  bad.chunks = {R"({"error":{"message":"nope","type":"invalid_request_error"}})"};
  h.replies.push_back(bad);
  CHECK(h.chat(CHAT).status == 400);
  CHECK(h.ledgerOps.back().find("\"op\":\"release\"") != std::string::npos);
  json usage = body(h.request("GET", "/api/budget/current-usage"));
  CHECK(usage["user"]["dailyRequests"] == 0);
}

TEST_CASE("budget alerts are posts the ledger asks for, ended only by a 2xx (or no webhook set)") {
  FakeHost h;
  REQUIRE(admin(h, "POST", "/api/budget/config",
                R"({"tenantId":"acme","type":"USD","limit":0.0001,"period":"daily","alertThresholds":[10],"pauseAtLimit":false})")
              .status == 201);
  // The webhook fails at first: the alert stays pending and is posted again.
  gw::testing::ScriptedReply down;
  down.status = 500;
  h.urlReplies["BUDGET_ALERT_WEBHOOK_URL"] = down;
  for (int i = 0; i < 6 && h.ledgerFetches.size() < 2; ++i) REQUIRE(h.chat(CHAT).status == 200);
  REQUIRE(h.ledgerFetches.size() >= 2);
  const gw::testing::FetchCall& post = h.ledgerFetches.front();
  CHECK(post.method == "POST");
  json alert = json::parse(post.body);
  CHECK(alert["event"] == "budget.threshold_crossed");
  CHECK(alert["tenantId"] == "acme");
  CHECK(alert["budget_id"] == "usd-daily");
  CHECK(alert["threshold"] == 10);
  CHECK(h.ledgerFetches[1].body == post.body);  // the same alert, again
  // Once the webhook takes it, it is not posted again.
  gw::testing::ScriptedReply up;
  up.status = 204;
  h.urlReplies["BUDGET_ALERT_WEBHOOK_URL"] = up;
  REQUIRE(h.chat(CHAT).status == 200);
  const size_t posted = h.ledgerFetches.size();
  REQUIRE(h.chat(CHAT).status == 200);
  CHECK(h.ledgerFetches.size() == posted);
}
