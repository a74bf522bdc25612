// The request log's bodies in R2 (GATEWAY_BODIES): off by default, switched
// on per tenant, kept out by one request's header, streams reassembled, read
// back through the log within its scope, and deleted past their retention.
#include <catch2/catch.hpp>

#include "test_requests.h"

using gw::testing::admin;
using gw::testing::bearer;
using gw::testing::body;
using gw::testing::createKey;
using gw::testing::FakeHost;
using gw::testing::HttpResponse;
using gw::testing::ScriptedReply;
using gw::testing::Vars;
using nlohmann::json;

namespace {

constexpr const char* CHAT = R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"tell me"}]})";

FakeHost withBucket(Vars vars = {}) { return FakeHost(std::move(vars), {"OPENAI_API_KEY"}, "", {"GATEWAY_BODIES"}); }

void storeBodies(FakeHost& h, bool on) {
  REQUIRE(admin(h, "PUT", "/api/v1/ai/admin/tenants/acme", on ? R"({"storeBodies":true})" : R"({"storeBodies":false})").status ==
          200);
  h.nowMs += 60000;  // past the instance's copy of the tenant's snapshot
}

}  // namespace

TEST_CASE("bodies are kept only for a tenant that stores them, and a request may opt out") {
  FakeHost h = withBucket();
  REQUIRE(h.chat(CHAT).status == 200);
  CHECK(h.blobs.empty());  // off by default

  storeBodies(h, true);
  HttpResponse r = h.chat(CHAT);
  REQUIRE(r.status == 200);
  const std::string id = r.headers["x-request-id"];
  REQUIRE(h.blobs.size() == 1);
  const std::string key = h.blobs.begin()->first;
  CHECK(key.rfind("bodies/" + gw::isoTimestamp(h.nowMs).substr(0, 10) + "/acme/" + id, 0) == 0);
  json doc = json::parse(h.blobs.begin()->second);
  CHECK(doc["request_id"] == id);
  CHECK(doc["tenant_id"] == "acme");
  CHECK(doc["request"]["messages"][0]["content"] == "tell me");
  CHECK(doc["response"]["object"] == "chat.completion");
  CHECK(doc["response"] == json::parse(r.body));
  CHECK(doc["response_format"] == "json");

  // The log says so, and serves it within the log's scope.
  h.nowMs += 1000;
  json log = body(h.request("GET", "/api/v1/ai/logs/" + id));
  CHECK(log["body"]["stored"] == true);
  CHECK(log["body"]["url"] == "/api/v1/ai/logs/" + id + "/body");
  HttpResponse got = h.request("GET", "/api/v1/ai/logs/" + id + "/body");
  REQUIRE(got.status == 200);
  CHECK(json::parse(got.body) == doc);

  // One request opts out.
  const size_t before = h.blobs.size();
  HttpResponse out = h.request("POST", "/v1/chat/completions", CHAT, {{"x-aigw-log-body", "false"}});
  REQUIRE(out.status == 200);
  CHECK(h.blobs.size() == before);
  h.nowMs += 1000;
  CHECK(body(h.request("GET", "/api/v1/ai/logs/" + out.headers["x-request-id"]))["body"]["stored"] == false);
  HttpResponse none = h.request("GET", "/api/v1/ai/logs/" + out.headers["x-request-id"] + "/body");
  CHECK(none.status == 404);
  CHECK(body(none)["error"]["code"] == "body_not_found");

  // Switched off again: nothing more is kept.
  storeBodies(h, false);
  REQUIRE(h.chat(CHAT).status == 200);
  CHECK(h.blobs.size() == before);
}

TEST_CASE("a stream's body is the answer reassembled, as the client's unstreamed response") {
  FakeHost h = withBucket();
  storeBodies(h, true);
  h.replies.push_back(gw::testing::fixtureStream("openai/chat_stream.sse"));
  HttpResponse r = h.chat(R"({"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"stream"}]})");
  REQUIRE(r.status == 200);
  REQUIRE(h.blobs.size() == 1);
  json doc = json::parse(h.blobs.begin()->second);
  CHECK(doc["response_format"] == "reassembled");
  CHECK(doc["response"]["object"] == "chat.completion");
  CHECK(doc["response"]["choices"][0]["message"]["content"] == "Hello from the fake upstream \u00e9\u00e8 \U0001F600.");
  CHECK(doc["request"]["stream"] == true);
}

TEST_CASE("a body is read only by who may read its log row; R2 failing is a 503; bad switches are 400s") {
  FakeHost h = withBucket();
  storeBodies(h, true);
  HttpResponse r = h.chat(CHAT);  // alice's
  const std::string id = r.headers["x-request-id"];
  h.nowMs += 1000;
  const std::string bob = createKey(h, {{"tenantId", "acme"}, {"userId", "bob"}});
  CHECK(h.request("GET", "/api/v1/ai/logs/" + id + "/body", "", bearer(bob)).status == 404);
  REQUIRE(admin(h, "PUT", "/api/v1/ai/admin/tenants/globex", "{}").status == 200);
  const std::string globexAdmin = createKey(h, {{"tenantId", "globex"}, {"role", "admin"}});
  CHECK(h.request("GET", "/api/v1/ai/logs/" + id + "/body", "", bearer(globexAdmin)).status == 404);
  CHECK(admin(h, "GET", "/api/v1/ai/logs/" + id + "/body").status == 200);
  h.blobsDown = true;
  HttpResponse down = h.request("GET", "/api/v1/ai/logs/" + id + "/body");
  CHECK(down.status == 503);
  CHECK(body(down)["error"]["code"] == "body_store_unavailable");
  h.blobsDown = false;
  CHECK(body(admin(h, "PUT", "/api/v1/ai/admin/tenants/acme", R"({"storeBodies":"yes"})"))["error"]["param"] == "storeBodies");
  CHECK(h.request("POST", "/api/v1/ai/logs/" + id + "/body").status == 405);

  // Without the bucket, a tenant cannot switch it on.
  FakeHost bare;
  HttpResponse refused = admin(bare, "PUT", "/api/v1/ai/admin/tenants/acme", R"({"storeBodies":true})");
  CHECK(refused.status == 400);
  CHECK(body(refused)["error"]["param"] == "storeBodies");
}

TEST_CASE("the scheduled run deletes bodies past body_retention_days, the oldest first") {
  FakeHost h = withBucket(Vars{{"AI_GATEWAY_BODY_RETENTION_DAYS", "2"}});
  storeBodies(h, true);
  const int64_t day = 86400000;
  REQUIRE(h.chat(CHAT).status == 200);  // day 0
  h.nowMs += day;
  REQUIRE(h.chat(CHAT).status == 200);  // day 1
  h.nowMs += 2 * day;                   // day 3: day 0 is past two days, day 1 is not yet
  REQUIRE(h.chat(CHAT).status == 200);
  REQUIRE(h.blobs.size() == 3);
  h.internal = true;
  HttpResponse run = h.request("POST", "/internal/cron");
  h.internal = false;
  INFO(run.body);
  json report = body(run);
  CHECK(report["bodies"]["ok"] == true);
  CHECK(report["bodies"]["deleted"] == 1);
  CHECK(h.blobs.size() == 2);
  CHECK(h.blobs.begin()->first.find(gw::isoTimestamp(h.nowMs - 2 * day).substr(0, 10)) != std::string::npos);
}
