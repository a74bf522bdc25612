// Saved model preferences: the endpoints on the D1 table, and routing by
// them (policy `preference`), on the fake host whose D1 is SQLite.
#include <catch2/catch.hpp>

#include <algorithm>

#include "fake_host.h"
#include "gw/nlohmann.h"
#include "gw/preferences.h"
#include "gw/sha256.h"

using gw::testing::FakeHost;
using gw::testing::HttpResponse;
using gw::testing::Vars;
using nlohmann::json;

namespace {

const std::vector<std::string> KEYS = {"OPENAI_API_KEY", "GROQ_API_KEY"};
const std::string ROUTES = "/api/v1/ai/preferences";

HttpResponse put(FakeHost& h, const std::string& body, std::map<std::string, std::string> headers = {}) {
  return h.request("PUT", ROUTES, body, std::move(headers));
}

// Seeds another key of tenant acme for `user` (role user or admin).
std::string seedKey(FakeHost& h, const std::string& user, const std::string& role) {
  const std::string key = "aigw_sk_" + user + "key0123456789abcdef";
  const std::string digest = gw::sha256Hex(key);
  h.kv["key:" + digest] = R"({"id":"key_)" + user + R"(","digest":")" + digest +
                          R"(","prefix":"aigw_sk_x","tenant_id":"acme","user_id":")" + user + R"(","agent_id":"","role":")" +
                          role + R"(","models":[],"limits":{},"created_at":1700000000000})";
  return "Bearer " + key;
}

size_t selects(const FakeHost& h) {
  return std::count_if(h.d1Statements.begin(), h.d1Statements.end(),
                       [](const std::string& s) { return s.rfind("SELECT provider", 0) == 0; });
}

std::string chat(const std::string& model) {
  return R"({"model":")" + model + R"(","messages":[{"role":"user","content":"hi"}],"max_tokens":20})";
}

}  // namespace

TEST_CASE("a saved preference is stored per user and context, listed and deleted") {
  FakeHost h({}, KEYS);
  HttpResponse saved = put(h, R"({"provider":"openai","model":"gpt-4o"})");
  REQUIRE(saved.status == 200);
  json row = json::parse(saved.body);
  CHECK(row["context"] == "default");
  CHECK(row["provider"] == "openai");
  CHECK(row["model"] == "gpt-4o");
  CHECK(row["usage_count"] == 0);
  CHECK(row["last_used_at"].is_null());
  CHECK(row["created_at"] == h.nowMs);

  REQUIRE(put(h, R"({"context":"code","provider":"groq","model":"llama-3.3-70b-versatile"})").status == 200);
  // Saving again replaces the choice, keeps the row.
  h.nowMs += 1000;
  json again = json::parse(put(h, R"({"provider":"openai","model":"gpt-4o-mini"})").body);
  CHECK(again["model"] == "gpt-4o-mini");
  CHECK(again["created_at"] == h.nowMs - 1000);
  CHECK(again["updated_at"] == h.nowMs);

  json list = json::parse(h.request("GET", ROUTES).body);
  CHECK(list["userId"] == "alice");
  REQUIRE(list["data"].size() == 2);
  CHECK(list["data"][0]["context"] == "code");
  CHECK(list["data"][1]["model"] == "gpt-4o-mini");
  CHECK(json::parse(h.request("GET", ROUTES + "?context=code").body)["data"].size() == 1);

  // Another user of the tenant sees only their own.
  std::string bob = seedKey(h, "bob", "user");
  CHECK(json::parse(h.request("GET", ROUTES, "", {{"authorization", bob}}).body)["data"].empty());

  HttpResponse one = h.request("DELETE", ROUTES + "/code");
  REQUIRE(one.status == 200);
  CHECK(json::parse(one.body)["deleted"] == 1);
  HttpResponse missing = h.request("DELETE", ROUTES + "/code");
  CHECK(missing.status == 404);
  CHECK(json::parse(missing.body)["error"]["param"] == "context");
  HttpResponse all = h.request("DELETE", ROUTES);
  CHECK(json::parse(all.body)["deleted"] == 1);
  CHECK(json::parse(h.request("GET", ROUTES).body)["data"].empty());
}

TEST_CASE("a preference must name a model the gateway can serve now, and that the key may use") {
  FakeHost h({}, KEYS);
  auto error = [&](const std::string& body) {
    HttpResponse r = put(h, body);
    json e = json::parse(r.body)["error"];
    return std::make_tuple(r.status, e["param"].is_null() ? std::string() : e["param"].get<std::string>(),
                           e["code"].is_null() ? std::string() : e["code"].get<std::string>());
  };
  CHECK(error(R"({"provider":"openai"})") == std::make_tuple(400, std::string("model"), std::string("missing_required_parameter")));
  CHECK(error(R"({"provider":"openai","model":"gpt-9"})") == std::make_tuple(404, std::string("model"), std::string("model_not_found")));
  CHECK(error(R"({"provider":"nope","model":"gpt-4o"})") == std::make_tuple(400, std::string("provider"), std::string("provider_not_found")));
  CHECK(error(R"({"provider":"groq","model":"gpt-4o"})") == std::make_tuple(400, std::string("provider"), std::string("provider_mismatch")));
  // No ANTHROPIC_API_KEY here: not available.
  CHECK(error(R"({"provider":"anthropic","model":"claude-haiku-4-5"})") ==
        std::make_tuple(400, std::string("provider"), std::string("provider_not_configured")));
  CHECK(error(R"({"provider":"openai","model":"text-embedding-3-small"})") ==
        std::make_tuple(400, std::string("model"), std::string("model_not_supported")));
  CHECK(error(R"({"context":"no spaces","provider":"openai","model":"gpt-4o"})") ==
        std::make_tuple(400, std::string("context"), std::string("invalid_value")));
  CHECK(error(R"({"provider":"openai","model":7})") == std::make_tuple(400, std::string("model"), std::string("invalid_type")));
  CHECK(put(h, "not json").status == 400);
  CHECK(error(R"({"provider":"demo","model":"demo"})") == std::make_tuple(400, std::string("provider"), std::string("invalid_value")));
  // A disabled model is not available either.
  h.kv["config:override"] = R"({"models":[{"id":"gpt-4o","enabled":false}]})";
  h.nowMs += 60000;
  CHECK(std::get<0>(error(R"({"provider":"openai","model":"gpt-4o"})")) == 404);
  // Nothing was stored by any of these.
  CHECK(h.d1->query("SELECT * FROM user_preferences") == "[]");

  // A key limited to some models cannot save another.
  FakeHost limited({}, KEYS);
  auto& record = limited.kv["key:" + gw::sha256Hex(gw::testing::TEST_KEY)];
  record.replace(record.find(R"("models":[])"), 11, R"("models":["gpt-4o-mini"])");
  HttpResponse refused = put(limited, R"({"provider":"openai","model":"gpt-4o"})");
  CHECK(refused.status == 403);
  CHECK(json::parse(refused.body)["error"]["code"] == "model_not_allowed");
  CHECK(put(limited, R"({"provider":"openai","model":"gpt-4o-mini"})").status == 200);
}

TEST_CASE("preferences belong to one user: others need an admin key, and the root key names both") {
  FakeHost h({}, KEYS);
  REQUIRE(put(h, R"({"provider":"openai","model":"gpt-4o"})").status == 200);
  std::string bob = seedKey(h, "bob", "user");
  HttpResponse peek = h.request("GET", ROUTES + "?userId=alice", "", {{"authorization", bob}});
  CHECK(peek.status == 403);
  CHECK(json::parse(peek.body)["error"]["param"] == "userId");
  CHECK(h.request("DELETE", ROUTES + "?userId=alice", "", {{"authorization", bob}}).status == 403);

  std::string boss = seedKey(h, "boss", "admin");
  json seen = json::parse(h.request("GET", ROUTES + "?userId=alice", "", {{"authorization", boss}}).body);
  CHECK(seen["data"].size() == 1);

  const auto root = gw::testing::adminHeaders();
  HttpResponse noUser = h.request("GET", ROUTES + "?tenantId=acme", "", root);
  CHECK(noUser.status == 400);
  CHECK(json::parse(noUser.body)["error"]["param"] == "userId");
  CHECK(json::parse(h.request("GET", ROUTES + "?tenantId=acme&userId=alice", "", root).body)["data"].size() == 1);
  HttpResponse saved = put(h, R"({"tenantId":"acme","userId":"carol","provider":"groq","model":"llama-3.1-8b-instant"})", root);
  CHECK(saved.status == 200);
  CHECK(put(h, R"({"tenantId":"nope","userId":"carol","provider":"groq","model":"llama-3.1-8b-instant"})", root).status ==
        404);
}

TEST_CASE("the preference policy routes to the user's saved choice, counts its use and caches it") {
  FakeHost h({}, KEYS);
  REQUIRE(put(h, R"({"provider":"groq","model":"llama-3.3-70b-versatile"})").status == 200);
  const std::map<std::string, std::string> byPreference = {{"x-aigw-routing", "preference"}};

  const int64_t routedAt = h.nowMs;
  HttpResponse r = h.request("POST", "/v1/chat/completions", chat("gpt-4o-mini"), byPreference);
  REQUIRE(r.status == 200);
  CHECK(h.fetches.back().url.find("api.groq.com") != std::string::npos);
  CHECK(json::parse(h.fetches.back().body)["model"] == "llama-3.3-70b-versatile");
  CHECK(r.headers["x-aigw-route"] == "preference; groq/llama-3.3-70b-versatile>openai/gpt-4o-mini");
  json row = json::parse(h.d1->query("SELECT usage_count, last_used_at FROM user_preferences"))[0];
  CHECK(row["usage_count"].get<int64_t>() == 1);
  CHECK(row["last_used_at"].get<int64_t>() == routedAt);

  // The PUT through this instance primed its copy: no D1 read so far, and
  // none while the copy is fresh.
  CHECK(selects(h) == 0);
  h.request("POST", "/v1/chat/completions", chat("gpt-4o-mini"), byPreference);
  CHECK(selects(h) == 0);
  h.nowMs += gw::preferences::CACHE_MS;
  h.request("POST", "/v1/chat/completions", chat("gpt-4o-mini"), byPreference);
  CHECK(selects(h) == 1);
  CHECK(json::parse(h.d1->query("SELECT usage_count FROM user_preferences"))[0]["usage_count"] == 3);

  // Without the policy, or in another context, the request's own model.
  h.request("POST", "/v1/chat/completions", chat("gpt-4o-mini"));
  CHECK(h.fetches.back().url.find("api.openai.com") != std::string::npos);
  auto inCode = byPreference;
  inCode["x-aigw-context"] = "code";
  HttpResponse other = h.request("POST", "/v1/chat/completions", chat("gpt-4o-mini"), inCode);
  CHECK(h.fetches.back().url.find("api.openai.com") != std::string::npos);
  CHECK(other.headers["x-aigw-route"] == "preference; openai/gpt-4o-mini");

  // Deleting through this instance applies at once.
  REQUIRE(h.request("DELETE", ROUTES + "/default").status == 200);
  h.request("POST", "/v1/chat/completions", chat("gpt-4o-mini"), byPreference);
  CHECK(h.fetches.back().url.find("api.openai.com") != std::string::npos);
}

TEST_CASE("a saved choice that failed falls back to the requested model; one that cannot serve is passed over") {
  FakeHost h(Vars{{"AI_GATEWAY_MAX_RETRIES", "0"}}, KEYS);
  REQUIRE(put(h, R"({"provider":"groq","model":"llama-3.1-8b-instant"})").status == 200);
  const std::map<std::string, std::string> byPreference = {{"x-aigw-routing", "preference"}};
  gw::testing::ScriptedReply down;
  down.status = 503;
  down.chunks = {R"({"error":{"message":"overloaded"}})"};
  h.replies.push_back(down);
  HttpResponse r = h.request("POST", "/v1/chat/completions", chat("gpt-4o-mini"), byPreference);
  CHECK(r.status == 200);
  CHECK(r.headers["x-aigw-attempts"] == "2");
  CHECK(h.fetches.back().url.find("api.openai.com") != std::string::npos);

  // llama-3.1-8b-instant has no vision: a request with an image stays where it asked.
  const std::string image =
      R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]})";
  HttpResponse seen = h.request("POST", "/v1/chat/completions", image, byPreference);
  CHECK(seen.status == 200);
  CHECK(seen.headers["x-aigw-route"] == "preference; openai/gpt-4o-mini");
}

TEST_CASE("when D1 cannot answer, preference routing goes on by order and the endpoints say 503") {
  FakeHost h({}, KEYS);
  h.d1Down = true;
  HttpResponse r = h.request("POST", "/v1/chat/completions", chat("gpt-4o-mini"), {{"x-aigw-routing", "preference"}});
  CHECK(r.status == 200);
  CHECK(std::any_of(r.logs.begin(), r.logs.end(),
                    [](const std::string& l) { return l.find("preference_unavailable") != std::string::npos; }));
  HttpResponse listed = h.request("GET", ROUTES);
  CHECK(listed.status == 503);
  CHECK(json::parse(listed.body)["error"]["code"] == "database_unavailable");
  CHECK(put(h, R"({"provider":"openai","model":"gpt-4o"})").status == 503);
  HttpResponse badContext = h.request("POST", "/v1/chat/completions", chat("gpt-4o-mini"),
                                      {{"x-aigw-routing", "preference"}, {"x-aigw-context", "a b"}});
  CHECK(badContext.status == 400);
  CHECK(json::parse(badContext.body)["error"]["param"] == "x-aigw-context");
}
