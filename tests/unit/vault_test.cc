// Provider keys in the vault: entered through the admin API, sealed by the
// host, used for the right tenant's calls, never shown again; refused keys,
// breakers and fallbacks per key; the master key rotated.
#include <catch2/catch.hpp>

#include "test_requests.h"

using gw::testing::ADMIN_KEY;
using gw::testing::admin;
using gw::testing::bearer;
using gw::testing::body;
using gw::testing::createKey;
using gw::testing::FakeHost;
using gw::testing::HttpResponse;
using gw::testing::ScriptedReply;
using nlohmann::json;

namespace {

const char* CHAT = R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":50})";
const std::string TENANT_KEY = "sk-acme-own-key-1234567890WXYZ";
const std::string GATEWAY_KEY = "sk-gateway-vault-key-0987654321QRST";

HttpResponse putKey(FakeHost& h, const std::string& provider, const json& spec, const std::string& as = ADMIN_KEY) {
  return h.request("PUT", "/api/v1/ai/admin/credentials/" + provider, spec.dump(), bearer(as));
}
json usageRows(FakeHost& h) {
  return json::parse(h.d1->query("SELECT request_id, tenant_id, key_source, status FROM gateway_usage_logs ORDER BY rowid"));
}

ScriptedReply refusal(int status) {
  ScriptedReply r;
  r.status = status;
  r.headers = {{"content-type", "application/json"}};
  r.chunks = {R"({"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","code":"invalid_api_key"}})"};
  return r;
}

}  // namespace

TEST_CASE("a gateway key entered through the admin API configures its provider and is never shown again") {
  FakeHost h({}, {});  // no provider secret in the environment
  // Without a key the model answers from the demo.
  h.chat(CHAT);
  CHECK(h.fetches.empty());

  HttpResponse put = putKey(h, "openai", {{"key", GATEWAY_KEY}});
  REQUIRE(put.status == 200);
  json entry = body(put);
  CHECK(entry["scope"] == "gateway");
  CHECK(entry["hint"] == "…QRST");
  CHECK(entry["key_id"] == "k1");
  CHECK(entry["set_by"] == "admin");
  CHECK(put.body.find(GATEWAY_KEY) == std::string::npos);
  // Stored sealed: KV holds no key in the clear.
  REQUIRE(h.kv.count("vault:gateway") == 1);
  CHECK(h.kv["vault:gateway"].find(GATEWAY_KEY) == std::string::npos);

  // The next request goes to OpenAI with it, injected by the host.
  HttpResponse r = h.chat(CHAT);
  CHECK(r.status == 200);
  REQUIRE(h.fetches.size() == 1);
  CHECK(h.fetches[0].authSecret.empty());
  CHECK(h.fetches[0].authKey == GATEWAY_KEY);
  CHECK(h.fetches[0].authStyle == "bearer");
  CHECK(usageRows(h).back()["key_source"] == "gateway");
  CHECK(r.logs.back().find(R"("key_source":"gateway")") != std::string::npos);

  // Listed masked, with where the other providers' keys come from.
  HttpResponse list = admin(h, "GET", "/api/v1/ai/admin/credentials");
  REQUIRE(list.status == 200);
  json l = body(list);
  CHECK(l["vault_configured"] == true);
  REQUIRE(l["data"].size() == 1);
  CHECK(l["data"][0]["provider"] == "openai");
  CHECK(l["data"][0]["hint"] == "…QRST");
  CHECK(list.body.find(GATEWAY_KEY) == std::string::npos);

  // Deleted, the provider is unconfigured again.
  CHECK(admin(h, "DELETE", "/api/v1/ai/admin/credentials/openai").status == 200);
  CHECK(h.kv.count("vault:gateway") == 0);
  h.fetches.clear();
  h.chat(CHAT);
  CHECK(h.fetches.empty());
  CHECK(admin(h, "DELETE", "/api/v1/ai/admin/credentials/openai").status == 404);
}

TEST_CASE("a key entered here reaches another isolate at its next config refresh") {
  FakeHost writer({}, {});
  REQUIRE(putKey(writer, "openai", {{"key", GATEWAY_KEY}}).status == 200);
  FakeHost reader({}, {});
  reader.kv = writer.kv;  // one KV namespace
  reader.chat(CHAT);
  REQUIRE(reader.fetches.size() == 1);
  CHECK(reader.fetches[0].authKey == GATEWAY_KEY);
}

TEST_CASE("a tenant's own key serves that tenant only; every other tenant keeps the gateway's") {
  FakeHost h;  // OPENAI_API_KEY in the environment
  REQUIRE(admin(h, "PUT", "/api/v1/ai/admin/tenants/globex").status == 200);
  const std::string acmeAdmin = createKey(h, {{"tenantId", "acme"}, {"role", "admin"}});
  const std::string globexUser = createKey(h, {{"tenantId", "globex"}, {"userId", "hank"}});

  // A tenant's admin key stores its own tenant's key; the answer names who set it.
  HttpResponse put = putKey(h, "openai", {{"key", TENANT_KEY}}, acmeAdmin);
  REQUIRE(put.status == 200);
  CHECK(body(put)["scope"] == "tenant");
  CHECK(body(put)["tenant_id"] == "acme");
  CHECK(body(put)["hint"] == "…WXYZ");
  CHECK(body(put)["set_by"].get<std::string>().rfind("key_", 0) == 0);
  CHECK(h.kv["vault:tenant:acme"].find(TENANT_KEY) == std::string::npos);

  HttpResponse acme = h.chat(CHAT);  // TEST_KEY: acme's alice
  CHECK(acme.status == 200);
  REQUIRE(h.fetches.size() == 1);
  CHECK(h.fetches[0].authKey == TENANT_KEY);
  CHECK(acme.headers["x-aigw-route"].find("(tenant key)") != std::string::npos);

  HttpResponse globex = h.request("POST", "/v1/chat/completions", CHAT, bearer(globexUser));
  CHECK(globex.status == 200);
  REQUIRE(h.fetches.size() == 2);
  CHECK(h.fetches[1].authKey.empty());
  CHECK(h.fetches[1].authSecret == "OPENAI_API_KEY");
  json rows = usageRows(h);
  CHECK(rows[rows.size() - 2]["key_source"] == "tenant");
  CHECK(rows.back()["key_source"] == "env");

  // acme's admin can neither see nor set globex's keys; a user key no keys at all.
  CHECK(h.request("GET", "/api/v1/ai/admin/credentials?tenantId=globex", "", bearer(acmeAdmin)).status == 403);
  CHECK(putKey(h, "openai", {{"key", TENANT_KEY}, {"tenantId", "globex"}}, acmeAdmin).status == 403);
  CHECK(h.request("GET", "/api/v1/ai/admin/credentials", "", bearer(globexUser)).status == 403);
  CHECK(h.kv.count("vault:tenant:globex") == 0);
  // acme's listing is its own keys, and the gateway's by source only (no hint).
  json own = body(h.request("GET", "/api/v1/ai/admin/credentials", "", bearer(acmeAdmin)));
  CHECK(own["scope"] == "tenant");
  REQUIRE(own["data"].size() == 1);
  CHECK(own["data"][0]["hint"] == "…WXYZ");
  bool sawOpenAi = false;
  for (const auto& g : own["gateway"])
    if (g["provider"] == "openai") sawOpenAi = g["source"] == "env" && g["secret"] == "OPENAI_API_KEY" && !g.contains("hint");
  CHECK(sawOpenAi);

  // The stored key appears in no answer, log line, D1 row or KV value.
  for (const HttpResponse& r : {put, acme, globex}) {
    CHECK(r.body.find(TENANT_KEY) == std::string::npos);
    for (const auto& [name, value] : r.headers) CHECK(value.find(TENANT_KEY) == std::string::npos);
    for (const std::string& line : r.logs) CHECK(line.find(TENANT_KEY) == std::string::npos);
  }
  CHECK(h.d1->query("SELECT * FROM gateway_usage_logs").find(TENANT_KEY) == std::string::npos);
  for (const auto& [k, v] : h.kv) CHECK(v.find(TENANT_KEY) == std::string::npos);
}

TEST_CASE("a tenant key the provider refuses is a 403 naming it, with no fall-back anywhere") {
  // A chain with somewhere else to go: the refusal must not be hidden behind it.
  FakeHost h;
  REQUIRE(putKey(h, "openai", {{"key", TENANT_KEY}, {"tenantId", "acme"}, {"allowGatewayFallback", true}}).status == 200);
  h.replies.push_back(refusal(401));
  HttpResponse r = h.chat(R"({"model":"gpt-4o-mini","models":["gpt-4o"],"messages":[{"role":"user","content":"hi"}]})");
  CHECK(r.status == 403);
  json e = body(r)["error"];
  CHECK(e["code"] == "provider_key_rejected");
  CHECK(e["message"].get<std::string>().find("…WXYZ") != std::string::npos);
  CHECK(e["message"].get<std::string>().find("openai") != std::string::npos);
  CHECK(h.fetches.size() == 1);  // no second call, not even with the gateway's key
  // The provider's own health is untouched: other tenants see it as it was.
  json health = body(h.request("GET", "/api/v1/ai/health"));
  for (const auto& p : health["providers"])
    if (p["id"] == "openai") CHECK(p["requests"] == 0);
}

TEST_CASE("a tenant key's failures open its own breaker, not the provider's for everyone") {
  FakeHost h(gw::testing::Vars{{"AI_GATEWAY_BREAKER_FAILURES", "2"}, {"AI_GATEWAY_MAX_RETRIES", "0"}});
  REQUIRE(admin(h, "PUT", "/api/v1/ai/admin/tenants/globex").status == 200);
  const std::string globexUser = createKey(h, {{"tenantId", "globex"}, {"userId", "hank"}});
  REQUIRE(putKey(h, "openai", {{"key", TENANT_KEY}, {"tenantId", "acme"}}).status == 200);
  for (int i = 0; i < 2; ++i) {
    h.replies.push_back(refusal(503));
    CHECK(h.chat(CHAT).status == 503);
    h.nowMs += 10;
  }
  h.fetches.clear();
  HttpResponse open = h.chat(CHAT);
  CHECK(open.status == 503);
  CHECK(body(open)["error"]["code"] == "circuit_open");
  CHECK(h.fetches.empty());
  // globex, on the gateway's key, still goes through.
  CHECK(h.request("POST", "/v1/chat/completions", CHAT, bearer(globexUser)).status == 200);
  CHECK(h.fetches.size() == 1);
  // And the provider's health shows no open breaker.
  json health = body(h.request("GET", "/api/v1/ai/health"));
  for (const auto& p : health["providers"])
    if (p["id"] == "openai")
      for (const auto& b : p["breakers"]) CHECK(b["target"].get<std::string>().find('#') == std::string::npos);
}

TEST_CASE("allowGatewayFallback: a rate-limited tenant key hands the call to the gateway's key") {
  FakeHost h(gw::testing::Vars{{"AI_GATEWAY_MAX_RETRIES", "0"}});
  REQUIRE(putKey(h, "openai", {{"key", TENANT_KEY}, {"tenantId", "acme"}, {"allowGatewayFallback", true}}).status == 200);
  ScriptedReply limited = refusal(429);
  limited.headers.push_back({"retry-after", "1"});
  h.replies.push_back(limited);
  HttpResponse r = h.chat(CHAT);
  CHECK(r.status == 200);
  REQUIRE(h.fetches.size() == 2);
  CHECK(h.fetches[0].authKey == TENANT_KEY);
  CHECK(h.fetches[1].authSecret == "OPENAI_API_KEY");
  CHECK(usageRows(h).back()["key_source"] == "env");
  // Without the switch, the tenant's key is the only one its calls use.
  REQUIRE(putKey(h, "openai", {{"key", TENANT_KEY}, {"tenantId", "acme"}}).status == 200);
  h.nowMs += 2000;
  h.fetches.clear();
  h.replies.push_back(limited);
  CHECK(h.chat(CHAT).status == 429);
  CHECK(h.fetches.size() == 1);
}

TEST_CASE("bad credential input is a clear 4xx and stores nothing") {
  FakeHost h;
  const std::string user = gw::testing::TEST_KEY;
  struct Case {
    std::string provider, body;
    int status;
    std::string param;
  };
  for (const Case& c : std::vector<Case>{
           {"openai", R"({})", 400, "key"},
           {"openai", R"({"key":42})", 400, "key"},
           {"openai", R"({"key":"sk with spaces"})", 400, "key"},
           {"openai", R"({"key":""})", 400, "key"},
           {"openai", json{{"key", std::string(2000, 'a')}}.dump(), 400, "key"},
           {"nosuch", R"({"key":"sk-1234567890"})", 404, "provider"},
           {"ollama", R"({"key":"sk-1234567890"})", 400, "provider"},
           {"openai", R"({"key":"sk-1234567890","allowGatewayFallback":true})", 400, "allowGatewayFallback"},
           {"openai", R"({"key":"sk-1234567890","allowGatewayFallback":"yes","tenantId":"acme"})", 400, "allowGatewayFallback"},
           {"openai", R"({"key":"sk-1234567890","tenantId":"nobody"})", 404, "tenantId"},
           {"openai", R"([1,2])", 400, ""},
       }) {
    HttpResponse r = putKey(h, c.provider, json::parse(c.body, nullptr, false).is_discarded() ? json() : json::parse(c.body));
    if (c.body == R"([1,2])") r = h.request("PUT", "/api/v1/ai/admin/credentials/openai", c.body, bearer(ADMIN_KEY));
    INFO(c.provider << " " << c.body);
    CHECK(r.status == c.status);
    CHECK(body(r)["error"]["param"] == (c.param.empty() ? json() : json(c.param)));
  }
  CHECK(h.request("PUT", "/api/v1/ai/admin/credentials/openai", R"({"key":"sk-1234567890"})", bearer(user)).status == 403);
  CHECK(h.request("POST", "/api/v1/ai/admin/credentials", "{}", bearer(ADMIN_KEY)).status == 405);
  for (const auto& [k, v] : h.kv) CHECK(k.rfind("vault:", 0) != 0);

  // No master key: the vault refuses to store anything, by name.
  FakeHost bare(gw::testing::Vars{{"GATEWAY_ENCRYPTION_KEY_IDS", ""}});
  HttpResponse r = putKey(bare, "openai", {{"key", "sk-1234567890"}});
  CHECK(r.status == 503);
  CHECK(body(r)["error"]["code"] == "vault_not_configured");
  CHECK(body(r)["error"]["message"].get<std::string>().find("GATEWAY_ENCRYPTION_KEY") != std::string::npos);
}

TEST_CASE("the master key rotates: every stored key is rewrapped and keeps working") {
  FakeHost before;
  REQUIRE(putKey(before, "openai", {{"key", GATEWAY_KEY}}).status == 200);
  REQUIRE(putKey(before, "anthropic", {{"key", TENANT_KEY}, {"tenantId", "acme"}}).status == 200);

  // The next deployment seals with k2 and still opens k1.
  FakeHost after(gw::testing::Vars{{"GATEWAY_ENCRYPTION_KEY_IDS", "k2,k1"}});
  after.kv = before.kv;
  HttpResponse rotated = admin(after, "POST", "/api/v1/ai/admin/credentials/rotate");
  REQUIRE(rotated.status == 200);
  json r = body(rotated);
  CHECK(r["key_id"] == "k2");
  CHECK(r["rewrapped"] == 2);
  CHECK(r["complete"] == true);
  CHECK(after.kv["vault:gateway"].find(R"("key_id":"k2")") != std::string::npos);
  CHECK(after.kv["vault:tenant:acme"].find(R"("key_id":"k2")") != std::string::npos);
  CHECK(body(admin(after, "POST", "/api/v1/ai/admin/credentials/rotate"))["rewrapped"] == 0);  // nothing left

  // With k1 gone, the keys still open.
  FakeHost later({{"GATEWAY_ENCRYPTION_KEY_IDS", "k2"}}, {});
  later.kv = after.kv;
  CHECK(later.chat(CHAT).status == 200);
  REQUIRE(later.fetches.size() == 1);
  CHECK(later.fetches[0].authKey == GATEWAY_KEY);

  // A key sealed under a master the host no longer holds is a clear 503, not a call without a key.
  FakeHost lost({{"GATEWAY_ENCRYPTION_KEY_IDS", "k3"}}, {});
  lost.kv = before.kv;
  HttpResponse failed = lost.chat(CHAT);
  CHECK(failed.status == 503);
  CHECK(body(failed)["error"]["code"] == "provider_key_unavailable");
  // Only ADMIN_API_KEY rotates.
  const std::string acmeAdmin = createKey(after, {{"tenantId", "acme"}, {"role", "admin"}});
  CHECK(after.request("POST", "/api/v1/ai/admin/credentials/rotate", "", bearer(acmeAdmin)).status == 403);
}

TEST_CASE("a tenant's keys that cannot be read refuse its requests instead of billing the gateway's key") {
  FakeHost h;
  h.kvDown = true;
  HttpResponse r = h.chat(CHAT);
  CHECK(r.status == 401);  // its key record cannot be read either: KV down is a refusal
  h.kvDown = false;
  CHECK(h.chat(CHAT).status == 200);  // key record cached now
  REQUIRE(putKey(h, "openai", {{"key", TENANT_KEY}, {"tenantId", "acme"}}).status == 200);
  h.gateway.state().tenantVaults.clear();
  h.kvDown = true;
  h.fetches.clear();
  HttpResponse refused = h.chat(CHAT);
  CHECK(refused.status == 503);
  CHECK(body(refused)["error"]["code"] == "credentials_unavailable");
  CHECK(h.fetches.empty());
}
