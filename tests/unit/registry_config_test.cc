// The registry admin (/api/ai-gateway/models) and the settings admin
// (/api/ai-gateway/config): validated, kept in the KV override, applied to
// the next request here and, after a refresh, in another instance.
#include <catch2/catch.hpp>

#include "fake_host.h"
#include "gw/nlohmann.h"

using gw::testing::FakeHost;
using gw::testing::HttpResponse;
using gw::testing::Vars;
using nlohmann::json;

namespace {

const std::vector<std::string> KEYS = {"OPENAI_API_KEY", "ANTHROPIC_API_KEY"};

HttpResponse admin(FakeHost& h, const std::string& method, const std::string& path, const std::string& body = "") {
  return h.request(method, path, body, gw::testing::adminHeaders());
}

std::string chat(const std::string& model) {
  return R"({"model":")" + model + R"(","messages":[{"role":"user","content":"hi"}],"max_tokens":20})";
}

const json* findId(const json& data, const std::string& id) {
  for (const auto& m : data)
    if (m["id"] == id) return &m;
  return nullptr;
}

}  // namespace

TEST_CASE("operators add, edit, disable and list registry models") {
  FakeHost h({}, KEYS);
  HttpResponse added = admin(h, "POST", "/api/ai-gateway/models",
                             R"({"id":"gpt-4o-mini-eu","provider":"openai","upstream":"gpt-4o-mini",
                                 "price":{"input":0.2,"output":0.8},"capabilities":["tools","streaming"],
                                 "context_window":128000,"quality":70})");
  REQUIRE(added.status == 201);
  json row = json::parse(added.body);
  CHECK(row["id"] == "gpt-4o-mini-eu");
  CHECK(row["enabled"] == true);
  CHECK(row["price"]["input"] == 0.2);
  CHECK(row["created"] == h.nowMs / 1000);

  // It serves at once, priced as registered: 9 prompt and 3 completion tokens.
  h.replies.push_back(gw::testing::openaiReply("hello"));
  HttpResponse r = h.chat(chat("gpt-4o-mini-eu"));
  REQUIRE(r.status == 200);
  CHECK(json::parse(h.fetches.back().body)["model"] == "gpt-4o-mini");
  CHECK(r.headers["x-aigw-cost-usd"] == "0.0000042");

  // Edit: one field changes, the rest stays.
  HttpResponse edited = admin(h, "PUT", "/api/ai-gateway/models/gpt-4o-mini-eu", R"({"price":{"input":1,"output":2}})");
  REQUIRE(edited.status == 200);
  CHECK(json::parse(edited.body)["price"]["output"] == 2);
  CHECK(json::parse(edited.body)["upstream"] == "gpt-4o-mini");

  // Filter by capability, provider and state.
  json tools = json::parse(admin(h, "GET", "/api/ai-gateway/models?capability=tools").body)["data"];
  CHECK(findId(tools, "gpt-4o-mini-eu") != nullptr);
  for (const auto& m : tools) CHECK(std::find(m["capabilities"].begin(), m["capabilities"].end(), "tools") != m["capabilities"].end());
  json vision = json::parse(admin(h, "GET", "/api/ai-gateway/models?capability=vision").body)["data"];
  CHECK(findId(vision, "gpt-4o-mini-eu") == nullptr);
  CHECK(findId(vision, "gpt-4o") != nullptr);

  // Delete disables: the model stops serving and leaves the public catalog,
  // but stays in the registry, where it can be enabled again.
  HttpResponse disabled = admin(h, "DELETE", "/api/ai-gateway/models/gpt-4o-mini-eu");
  REQUIRE(disabled.status == 200);
  CHECK(json::parse(disabled.body)["enabled"] == false);
  CHECK(h.chat(chat("gpt-4o-mini-eu")).status == 404);
  CHECK(findId(json::parse(h.request("GET", "/api/v1/ai/models").body)["data"], "gpt-4o-mini-eu") == nullptr);
  json off = json::parse(admin(h, "GET", "/api/ai-gateway/models?enabled=false").body)["data"];
  REQUIRE(findId(off, "gpt-4o-mini-eu") != nullptr);
  REQUIRE(admin(h, "PUT", "/api/ai-gateway/models/gpt-4o-mini-eu", R"({"enabled":true})").status == 200);
  h.replies.push_back(gw::testing::openaiReply("back"));
  CHECK(h.chat(chat("gpt-4o-mini-eu")).status == 200);

  // A bundled model can be disabled too, and a null restores the bundled value.
  const json bundledQuality = json::parse(admin(h, "GET", "/api/ai-gateway/models/gpt-4o").body)["quality"];
  REQUIRE(admin(h, "PUT", "/api/ai-gateway/models/gpt-4o", R"({"quality":1})").status == 200);
  CHECK(json::parse(admin(h, "GET", "/api/ai-gateway/models/gpt-4o").body)["quality"] == 1);
  HttpResponse restored = admin(h, "PUT", "/api/ai-gateway/models/gpt-4o", R"({"quality":null})");
  CHECK(json::parse(restored.body)["quality"] != 1);
  CHECK(json::parse(restored.body)["quality"] == bundledQuality);
}

TEST_CASE("registry changes are validated, name the field at fault and change nothing") {
  FakeHost h({}, KEYS);
  REQUIRE(admin(h, "PUT", "/api/ai-gateway/models/gpt-4o", R"({"quality":50})").status == 200);
  const std::string before = h.kv["config:override"];
  const std::vector<std::tuple<std::string, std::string, std::string, int>> cases = {
      {"POST", R"({"provider":"openai"})", "id", 400},
      {"POST", R"({"id":"x1"})", "provider", 400},
      {"POST", R"({"id":"gpt-4o","provider":"openai"})", "id", 409},
      {"POST", R"({"id":"claude-sonnet","provider":"openai"})", "id", 409},  // an alias
      {"POST", R"({"id":"x1","provider":"nope"})", "provider", 400},
      {"POST", R"({"id":"x1","provider":"openai","price":{"input":-1}})", "price.input", 400},
      {"POST", R"({"id":"x1","provider":"openai","capabilities":["telepathy"]})", "capabilities", 400},
      {"POST", R"({"id":"x1","provider":"openai","api_key":"sk-1"})", "api_key", 400},
      {"POST", R"({"id":"has space","provider":"openai"})", "id", 400},
      {"POST", R"([1])", "", 400},
      {"PUT", R"({"quality":500})", "quality", 400},
      {"PUT", R"({"id":"other"})", "id", 400},
      {"PUT", R"({"fallbacks":["no-such-model"]})", "fallbacks[0]", 400},
  };
  for (const auto& [method, body, param, status] : cases) {
    HttpResponse r = admin(h, method, method == "POST" ? "/api/ai-gateway/models" : "/api/ai-gateway/models/gpt-4o", body);
    INFO(body);
    CHECK(r.status == status);
    const json named = json::parse(r.body)["error"]["param"];
    CHECK((param.empty() ? named.is_null() : named == param));
  }
  CHECK(admin(h, "PUT", "/api/ai-gateway/models/no-such-model", R"({"quality":5})").status == 404);
  CHECK(admin(h, "DELETE", "/api/ai-gateway/models/no-such-model").status == 404);
  CHECK(h.kv["config:override"] == before);
  // Reading takes an admin key; writing takes ADMIN_API_KEY.
  CHECK(h.request("GET", "/api/ai-gateway/models").status == 403);
  CHECK(h.request("DELETE", "/api/ai-gateway/models/gpt-4o").status == 403);
}

TEST_CASE("gateway settings: cache, TTL and the default fallback chain, stored in KV and applied at once") {
  FakeHost h(Vars{{"AI_GATEWAY_MAX_RETRIES", "0"}, {"AI_CACHE_ENABLED", "false"}}, KEYS);
  json got = json::parse(admin(h, "GET", "/api/ai-gateway/config").body);
  CHECK(got["settings"]["cache_enabled"] == false);
  CHECK(got["settings"]["default_fallbacks"] == json::array());
  CHECK(got["override"] == json::object());

  // Without a default chain a failing model is a failure.
  h.replies.push_back({500, {}, {R"({"error":{"message":"boom"}})"}});
  CHECK(h.chat(chat("gpt-4o-mini")).status == 502);

  HttpResponse put = admin(h, "PUT", "/api/ai-gateway/config",
                           R"({"cache_enabled":true,"cache_ttl_seconds":600,"default_fallbacks":["claude-haiku-4-5"]})");
  REQUIRE(put.status == 200);
  json settings = json::parse(put.body)["settings"];
  CHECK(settings["cache_enabled"] == true);  // the stored setting wins over AI_CACHE_ENABLED
  CHECK(settings["cache_ttl_seconds"] == 600);
  CHECK(settings["default_fallbacks"] == json::array({"claude-haiku-4-5"}));
  CHECK(json::parse(h.kv["config:override"])["gateway"]["cache_ttl_seconds"] == 600);

  // The next request falls back along the default chain, and is cached with the new TTL.
  h.replies.push_back({500, {}, {R"({"error":{"message":"boom"}})"}});
  h.replies.push_back({200, {}, {gw::testing::readFile(gw::testing::sourcePath("tests/fixtures/anthropic/message.json"))}});
  HttpResponse r = h.chat(chat("gpt-4o-mini"));
  REQUIRE(r.status == 200);
  CHECK(r.headers["x-aigw-provider"] == "anthropic");
  CHECK(r.headers["x-aigw-cache"] == "MISS");
  bool ttlSeen = false;
  for (const auto& [key, ttl] : h.kvTtl) ttlSeen = ttlSeen || (key.rfind("cache:", 0) == 0 && ttl == 600);
  CHECK(ttlSeen);

  // A null puts the setting back to what the environment says.
  json back = json::parse(admin(h, "PUT", "/api/ai-gateway/config", R"({"cache_enabled":null})").body);
  CHECK(back["settings"]["cache_enabled"] == false);
  CHECK_FALSE(back["override"].contains("cache_enabled"));
  CHECK(back["override"]["cache_ttl_seconds"] == 600);
}

TEST_CASE("bad settings name the field and change nothing; only ADMIN_API_KEY reaches them") {
  FakeHost h({}, KEYS);
  REQUIRE(admin(h, "PUT", "/api/ai-gateway/config", R"({"cache_ttl_seconds":900})").status == 200);
  const std::string before = h.kv["config:override"];
  for (const auto& [body, param] : std::vector<std::pair<std::string, std::string>>{
           {R"({"cache_ttl_seconds":5})", "cache_ttl_seconds"},
           {R"({"cache_enabled":"yes"})", "cache_enabled"},
           {R"({"default_fallbacks":["nope"]})", "default_fallbacks[0]"},
           {R"({"default_fallbacks":["text-embedding-3-small"]})", "default_fallbacks[0]"},
           {R"({"default_fallbacks":"gpt-4o"})", "default_fallbacks"},
           {R"({"routing_policy":"random"})", "routing_policy"},
           {R"({"openai_api_key":"sk-1"})", "openai_api_key"}}) {
    HttpResponse r = admin(h, "PUT", "/api/ai-gateway/config", body);
    INFO(body);
    CHECK(r.status == 400);
    CHECK(json::parse(r.body)["error"]["param"] == param);
  }
  CHECK(admin(h, "PUT", "/api/ai-gateway/config", "not json").status == 400);
  CHECK(h.kv["config:override"] == before);
  CHECK(h.request("GET", "/api/ai-gateway/config").status == 403);
  CHECK(h.request("PUT", "/api/ai-gateway/config", R"({"cache_enabled":false})").status == 403);
  CHECK(admin(h, "POST", "/api/ai-gateway/config", "{}").status == 405);
}

TEST_CASE("a change made in one instance reaches another at its next config refresh") {
  FakeHost a({}, KEYS);
  FakeHost b({}, KEYS);
  // b has served with the bundled config.
  b.replies.push_back(gw::testing::openaiReply("x"));
  REQUIRE(b.chat(chat("gpt-4o-mini")).status == 200);
  REQUIRE(admin(a, "DELETE", "/api/ai-gateway/models/gpt-4o-mini").status == 200);
  b.kv["config:override"] = a.kv["config:override"];  // one KV namespace behind both
  b.nowMs += 1000;  // gateway.config_refresh_ms
  CHECK(b.chat(chat("gpt-4o-mini")).status == 404);
}
