// The request log over the usage rows: filters, cursor pages, one request
// with its failed attempts and timings, and who may read what.
#include <catch2/catch.hpp>

#include "test_requests.h"

using gw::testing::ADMIN_KEY;
using gw::testing::bearer;
using gw::testing::body;
using gw::testing::createKey;
using gw::testing::FakeHost;
using gw::testing::HttpResponse;
using gw::testing::ScriptedReply;
using nlohmann::json;

namespace {

std::string chat(const std::string& model, const std::string& extra = "") {
  return R"({"model":")" + model + R"(","messages":[{"role":"user","content":"hi"}],"max_tokens":50)" + extra + "}";
}

}  // namespace

TEST_CASE("a request with a fallback shows every attempt, its status and time, and the timings") {
  FakeHost h({}, {"OPENAI_API_KEY", "ANTHROPIC_API_KEY"});
  h.replies.push_back({500, {{"content-type", "application/json"}}, {R"({"error":{"message":"boom"}})"}});
  h.replies.push_back({200, {{"content-type", "application/json"}},
                       {gw::testing::readFile(gw::testing::sourcePath("tests/fixtures/anthropic/message.json"))}});
  HttpResponse r = h.chat(chat("gpt-4o-mini", R"(,"models":["claude-haiku-4-5"])"));
  REQUIRE(r.status == 200);
  const std::string id = r.headers["x-request-id"];
  h.nowMs += 1000;

  HttpResponse got = h.request("GET", "/api/v1/ai/logs/" + id);
  INFO(got.body);
  REQUIRE(got.status == 200);
  json log = body(got);
  CHECK(log["id"] == id);
  CHECK(log["provider"] == "anthropic");
  CHECK(log["attempts"] == 2);
  CHECK(log["route"].get<std::string>().find("openai/gpt-4o-mini") != std::string::npos);
  REQUIRE(log["failed_attempts"].size() == 1);
  CHECK(log["failed_attempts"][0]["target"] == "openai/gpt-4o-mini");
  CHECK(log["failed_attempts"][0]["status"] == "500");
  CHECK(log["failed_attempts"][0]["at_ms"].get<int64_t>() >= 0);
  CHECK(log["timings"]["auth_ms"].is_number());
  CHECK(log["timings"]["total_ms"].get<int64_t>() >= 0);
  CHECK(log["usage"]["input_tokens"].get<int64_t>() > 0);
  CHECK(log.contains("cost_usd"));
}

TEST_CASE("the log lists newest first, filters, and pages by cursor") {
  FakeHost h({}, {"OPENAI_API_KEY", "ANTHROPIC_API_KEY"});
  for (int i = 0; i < 5; ++i) {
    REQUIRE(h.request("POST", "/v1/chat/completions", chat("gpt-4o-mini"), {{"x-aigw-metadata", R"({"team":"a"})"}}).status == 200);
    h.nowMs += 10;
  }
  h.replies.push_back({200, {{"content-type", "application/json"}},
                       {gw::testing::readFile(gw::testing::sourcePath("tests/fixtures/anthropic/message.json"))}});
  REQUIRE(h.chat(chat("claude-haiku-4-5")).status == 200);
  h.replies.push_back({400, {{"content-type", "application/json"}}, {R"({"error":{"message":"bad"}})"}});
  h.nowMs += 10;
  REQUIRE(h.chat(chat("gpt-4o-mini")).status == 400);
  h.nowMs += 1000;

  json all = body(h.request("GET", "/api/v1/ai/logs"));
  REQUIRE(all["data"].size() == 7);
  CHECK(all["data"][0]["status"] == 400);  // newest first
  CHECK(all["has_more"] == false);
  CHECK(body(h.request("GET", "/api/v1/ai/logs?status=4xx"))["data"].size() == 1);
  CHECK(body(h.request("GET", "/api/v1/ai/logs?status=200&provider=anthropic"))["data"].size() == 1);
  CHECK(body(h.request("GET", "/api/v1/ai/logs?model=gpt-4o-mini&metadata.team=a"))["data"].size() == 5);
  CHECK(body(h.request("GET", "/api/v1/ai/logs?cache=HIT"))["data"].empty());

  // Pages of 3, then 3, then 1: every row once.
  std::set<std::string> ids;
  std::string cursor;
  int pages = 0;
  for (;; ++pages) {
    json page = body(h.request("GET", "/api/v1/ai/logs?limit=3" + (cursor.empty() ? "" : "&cursor=" + cursor)));
    for (const auto& row : page["data"]) ids.insert(row["id"].get<std::string>());
    if (!page["has_more"].get<bool>()) break;
    cursor = page["next_cursor"];
  }
  CHECK(pages == 2);
  CHECK(ids.size() == 7);

  for (const auto& [path, param] : std::vector<std::pair<std::string, std::string>>{
           {"/api/v1/ai/logs?status=ok", "status"},
           {"/api/v1/ai/logs?limit=0", "limit"},
           {"/api/v1/ai/logs?limit=500", "limit"},
           {"/api/v1/ai/logs?cursor=garbage", "cursor"},
           {"/api/v1/ai/logs?period=1y", "period"},
           {"/api/v1/ai/logs?metadata.bad%20key=1", "metadata.bad key"}}) {
    HttpResponse r = h.request("GET", path);
    INFO(path);
    CHECK(r.status == 400);
    CHECK(body(r)["error"]["param"] == param);
  }
}

TEST_CASE("a user reads its own requests, a tenant admin its tenant's, and another tenant's id is not there") {
  FakeHost h;
  REQUIRE(h.request("PUT", "/api/v1/ai/admin/tenants/globex", "", bearer(ADMIN_KEY)).status == 200);
  const std::string bob = createKey(h, {{"tenantId", "acme"}, {"userId", "bob"}});
  const std::string acmeAdmin = createKey(h, {{"tenantId", "acme"}, {"role", "admin"}});
  const std::string hank = createKey(h, {{"tenantId", "globex"}, {"userId", "hank"}});
  HttpResponse alice = h.chat(chat("gpt-4o-mini"));  // TEST_KEY: acme's alice
  REQUIRE(h.request("POST", "/v1/chat/completions", chat("gpt-4o-mini"), bearer(bob)).status == 200);
  REQUIRE(h.request("POST", "/v1/chat/completions", chat("gpt-4o-mini"), bearer(hank)).status == 200);
  h.nowMs += 1000;

  json mine = body(h.request("GET", "/api/v1/ai/logs", "", bearer(bob)));
  REQUIRE(mine["data"].size() == 1);
  CHECK(mine["data"][0]["user_id"] == "bob");
  CHECK(body(h.request("GET", "/api/v1/ai/logs", "", bearer(acmeAdmin)))["data"].size() == 2);
  CHECK(body(h.request("GET", "/api/v1/ai/logs", "", bearer(ADMIN_KEY)))["data"].size() == 3);
  CHECK(body(h.request("GET", "/api/v1/ai/logs?tenantId=globex", "", bearer(ADMIN_KEY)))["data"].size() == 1);
  CHECK(h.request("GET", "/api/v1/ai/logs?tenantId=globex", "", bearer(acmeAdmin)).status == 403);

  const std::string id = alice.headers["x-request-id"];
  CHECK(h.request("GET", "/api/v1/ai/logs/" + id, "", bearer(acmeAdmin)).status == 200);
  HttpResponse other = h.request("GET", "/api/v1/ai/logs/" + id, "", bearer(hank));
  CHECK(other.status == 404);
  CHECK(body(other)["error"]["code"] == "log_not_found");
  CHECK(h.request("GET", "/api/v1/ai/logs/" + id, "", bearer(bob)).status == 404);  // alice's, not bob's
  CHECK(h.request("GET", "/api/v1/ai/logs/nope").status == 404);
}
