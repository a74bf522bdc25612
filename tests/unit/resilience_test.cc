// Fallback chains, circuit breakers and routing through the whole core, on
// the fake host with scripted upstream failures.
#include <catch2/catch.hpp>

#include <algorithm>

#include "fake_host.h"
#include "gw/nlohmann.h"

using gw::testing::FakeHost;
using gw::testing::HttpResponse;
using gw::testing::ScriptedReply;
using gw::testing::Vars;
using nlohmann::json;

namespace {

const std::vector<std::string> KEYS = {"OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GROQ_API_KEY"};

std::string chat(const std::string& extra) {
  return R"({"messages":[{"role":"user","content":"hi"}],"max_tokens":20)" + extra + "}";
}

ScriptedReply failure(int status, const std::string& body = R"({"error":{"message":"boom","type":"server_error"}})") {
  ScriptedReply r;
  r.status = status;
  r.chunks = {body};
  return r;
}

ScriptedReply anthropicOk() {
  ScriptedReply r;
  r.chunks = {gw::testing::readFile(gw::testing::sourcePath("tests/fixtures/anthropic/message.json"))};
  return r;
}

// Five failing requests: OpenAI's breaker opens, and is published in KV.
void tripOpenAi(FakeHost& h) {
  for (int i = 0; i < 5; ++i) {
    h.replies.push_back(failure(500));
    h.chat(chat(R"(,"model":"gpt-4o-mini")"));
  }
  REQUIRE(h.kv.count("breaker:openai/gpt-4o-mini") == 1);
}

}  // namespace

TEST_CASE("a request's models array falls back to the next target when the first fails") {
  FakeHost h(Vars{{"AI_GATEWAY_MAX_RETRIES", "0"}}, KEYS);
  h.replies.push_back(failure(500));
  h.replies.push_back(anthropicOk());
  HttpResponse r = h.chat(chat(R"(,"model":"gpt-4o-mini","models":["claude-haiku-4-5"])"));
  REQUIRE(r.status == 200);
  CHECK(h.fetches.size() == 2);
  CHECK(h.fetches[0].url.find("api.openai.com") != std::string::npos);
  CHECK(h.fetches[1].url.find("api.anthropic.com") != std::string::npos);
  // The gateway's own field never reaches a provider.
  CHECK_FALSE(json::parse(h.fetches[0].body).contains("models"));
  CHECK(r.headers["x-aigw-provider"] == "anthropic");
  CHECK(r.headers["x-aigw-attempts"] == "2");
  CHECK(r.headers["x-aigw-route"] == "ordered; openai/gpt-4o-mini>anthropic/claude-haiku-4-5-20251001");
  // `models` alone names the chain.
  h.replies.push_back(gw::testing::openaiReply("ok"));
  HttpResponse only = h.chat(chat(R"(,"models":["gpt-4o-mini","claude-haiku-4-5"])"));
  CHECK(only.status == 200);
  CHECK(json::parse(h.fetches.back().body)["model"] == "gpt-4o-mini");
}

TEST_CASE("when every target fails the answer is a 502 listing each attempt") {
  FakeHost h(Vars{{"AI_GATEWAY_MAX_RETRIES", "0"}}, KEYS);
  h.replies.push_back(failure(503));
  ScriptedReply reset;
  reset.end = ScriptedReply::End::NetworkError;
  h.replies.push_back(reset);
  HttpResponse r = h.chat(chat(R"(,"model":"gpt-4o-mini","models":["claude-haiku-4-5"])"));
  REQUIRE(r.status == 502);
  json e = json::parse(r.body)["error"];
  CHECK(e["code"] == "all_targets_failed");
  REQUIRE(e["attempts"].size() == 2);
  CHECK(e["attempts"][0]["target"] == "openai/gpt-4o-mini");
  CHECK(e["attempts"][0]["status"] == "503");
  CHECK(e["attempts"][1]["status"] == "network");
  CHECK(r.headers["x-aigw-attempts"] == "2");
}

TEST_CASE("a client error does not fall back, and bad models entries are refused before any call") {
  FakeHost h(Vars{{"AI_GATEWAY_MAX_RETRIES", "0"}}, KEYS);
  h.replies.push_back(failure(400, R"({"error":{"message":"bad tool schema","type":"invalid_request_error"}})"));
  HttpResponse r = h.chat(chat(R"(,"model":"gpt-4o-mini","models":["claude-haiku-4-5"])"));
  CHECK(r.status == 400);
  CHECK(h.fetches.size() == 1);
  const size_t calls = h.fetches.size();
  for (const char* bad : {R"(,"models":"gpt-4o-mini")", R"(,"models":[1])", R"(,"models":["no-such-model"])",
                          R"(,"models":["a","b","c","d","e","f","g","h","i"])"}) {
    HttpResponse refused = h.chat(chat(bad));
    CHECK(refused.status >= 400);
    CHECK(refused.status < 500);
    CHECK(json::parse(refused.body)["error"]["param"].get<std::string>().rfind("models", 0) == 0);
  }
  CHECK(h.fetches.size() == calls);
  CHECK(h.request("POST", "/v1/chat/completions", chat(R"(,"model":"gpt-4o-mini")"), {{"x-aigw-routing", "fastest"}})
            .status == 400);
}

TEST_CASE("a breaker opens after five failures, skips its target, and recovers through half-open") {
  FakeHost h(Vars{{"AI_GATEWAY_MAX_RETRIES", "0"}}, KEYS);
  const std::string body = chat(R"(,"model":"gpt-4o-mini","models":["claude-haiku-4-5"])");
  for (int i = 0; i < 5; ++i) {
    h.replies.push_back(failure(500));
    h.replies.push_back(anthropicOk());
    REQUIRE(h.chat(body).status == 200);
  }
  // OpenAI's breaker is open: its target goes last and is not called.
  h.replies.push_back(anthropicOk());
  HttpResponse skipped = h.chat(body);
  CHECK(skipped.status == 200);
  CHECK(skipped.headers["x-aigw-attempts"] == "1");
  CHECK(skipped.headers["x-aigw-route"] == "ordered; anthropic/claude-haiku-4-5-20251001>openai/gpt-4o-mini");
  CHECK(h.fetches.back().url.find("api.anthropic.com") != std::string::npos);
  // Alone, an open target fails fast with 503 and calls nobody.
  const size_t calls = h.fetches.size();
  HttpResponse alone = h.chat(chat(R"(,"model":"gpt-4o-mini")"));
  CHECK(alone.status == 503);
  CHECK(json::parse(alone.body)["error"]["code"] == "circuit_open");
  CHECK(h.fetches.size() == calls);
  // After the open time one probe goes through; its success closes the breaker.
  h.nowMs += 60000;
  h.replies.push_back(gw::testing::openaiReply("back"));
  CHECK(h.chat(chat(R"(,"model":"gpt-4o-mini")")).status == 200);
  h.replies.push_back(gw::testing::openaiReply("again"));
  HttpResponse closed = h.chat(body);
  CHECK(closed.status == 200);
  CHECK(closed.headers["x-aigw-provider"] == "openai");
}

TEST_CASE("no fallback and no retry once the stream has started") {
  FakeHost h(Vars{{"AI_GATEWAY_MAX_RETRIES", "2"}}, KEYS);
  ScriptedReply cut;
  cut.headers = {{"content-type", "text/event-stream"}};
  cut.chunks = {"data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n"};
  cut.end = ScriptedReply::End::NetworkError;
  h.replies.push_back(cut);
  HttpResponse r = h.chat(chat(R"(,"model":"gpt-4o-mini","models":["claude-haiku-4-5"],"stream":true)"));
  CHECK(r.status == 200);
  CHECK(h.fetches.size() == 1);
  CHECK(r.body.find("Hel") != std::string::npos);
  CHECK(r.body.find("upstream_stream_error") != std::string::npos);
}

TEST_CASE("routing policies reorder a chain: cost puts the cheapest first") {
  FakeHost h(Vars{{"AI_GATEWAY_MAX_RETRIES", "0"}}, KEYS);
  h.replies.push_back(gw::testing::openaiReply("cheap"));
  HttpResponse r = h.request("POST", "/v1/chat/completions",
                             chat(R"(,"model":"claude-haiku-4-5","models":["gpt-4o-mini"])"), {{"x-aigw-routing", "cost"}});
  REQUIRE(r.status == 200);
  CHECK(r.headers["x-aigw-provider"] == "openai");
  CHECK(r.headers["x-aigw-route"].rfind("cost; openai/gpt-4o-mini>", 0) == 0);
  // Every response says how it was routed, chain or not.
  h.replies.push_back(gw::testing::openaiReply("one"));
  CHECK(h.chat(chat(R"(,"model":"gpt-4o-mini")")).headers["x-aigw-route"] == "ordered; openai/gpt-4o-mini");
  FakeHost demo(Vars{}, {});
  CHECK(demo.chat(chat(R"(,"model":"gpt-4o-mini")")).headers["x-aigw-route"] == "demo");
}

TEST_CASE("a breaker tripped in one instance is honoured by another through KV") {
  FakeHost a(Vars{{"AI_GATEWAY_MAX_RETRIES", "0"}}, KEYS);
  tripOpenAi(a);
  FakeHost b(Vars{{"AI_GATEWAY_MAX_RETRIES", "0"}}, KEYS);
  b.nowMs = a.nowMs + 100;
  b.kv["breaker:openai/gpt-4o-mini"] = a.kv["breaker:openai/gpt-4o-mini"];
  HttpResponse r = b.chat(chat(R"(,"model":"gpt-4o-mini")"));
  CHECK(r.status == 503);
  CHECK(json::parse(r.body)["error"]["code"] == "circuit_open");
  CHECK(b.fetches.empty());
  // The health endpoint shows the open breaker.
  json health = json::parse(b.request("GET", "/api/v1/ai/health").body);
  bool seen = false;
  for (const auto& p : health["providers"])
    for (const auto& br : p.value("breakers", json::array()))
      if (br["target"] == "openai/gpt-4o-mini") seen = br["state"] == "open";
  CHECK(seen);
}

TEST_CASE("operators list, patch and toggle providers; changes are validated and kept in the KV override") {
  FakeHost h(Vars{{"AI_GATEWAY_MAX_RETRIES", "0"}}, KEYS);
  auto admin = [&](const std::string& method, const std::string& path, const std::string& body = "") {
    return h.request(method, path, body, gw::testing::adminHeaders());
  };
  HttpResponse list = admin("GET", "/api/v1/ai/admin/providers");
  REQUIRE(list.status == 200);
  json data = json::parse(list.body)["data"];
  auto openai = std::find_if(data.begin(), data.end(), [](const json& p) { return p["id"] == "openai"; });
  REQUIRE(openai != data.end());
  CHECK((*openai)["enabled"] == true);
  CHECK(openai->contains("error_rate"));
  CHECK(openai->contains("breakers"));
  // A user key may not see or change providers.
  CHECK(h.request("GET", "/api/v1/ai/admin/providers").status == 403);

  HttpResponse patched = admin("PATCH", "/api/v1/ai/admin/providers/openai",
                               R"({"base_url":"https://proxy.example.com/v1","first_byte_timeout_ms":2500})");
  REQUIRE(patched.status == 200);
  CHECK(json::parse(patched.body)["base_url"] == "https://proxy.example.com/v1");
  CHECK(json::parse(patched.body)["first_byte_timeout_ms"] == 2500);
  REQUIRE(h.kv.count("config:override") == 1);
  h.replies.push_back(gw::testing::openaiReply("via proxy"));
  REQUIRE(h.chat(chat(R"(,"model":"gpt-4o-mini")")).status == 200);
  CHECK(h.fetches.back().url == "https://proxy.example.com/v1/chat/completions");
  CHECK(h.fetches.back().firstByteTimeoutMs == 2500);

  // Toggling off makes its models unavailable; on again restores them, and
  // the earlier patch is kept.
  REQUIRE(admin("POST", "/api/v1/ai/admin/providers/openai/toggle").status == 200);
  CHECK(h.chat(chat(R"(,"model":"gpt-4o-mini")")).status >= 400);
  HttpResponse on = admin("POST", "/api/v1/ai/admin/providers/openai/toggle");
  CHECK(json::parse(on.body)["enabled"] == true);
  CHECK(json::parse(on.body)["base_url"] == "https://proxy.example.com/v1");

  // Bad input names the field and changes nothing.
  const std::string before = h.kv["config:override"];
  for (const auto& [body, param] : std::vector<std::pair<std::string, std::string>>{
           {R"({"enabled":"yes"})", "enabled"},
           {R"({"base_url":"ftp://x"})", "base_url"},
           {R"({"timeout_ms":-1})", "timeout_ms"},
           {R"({"api_key":"sk-123"})", "api_key"}}) {
    HttpResponse r = admin("PATCH", "/api/v1/ai/admin/providers/openai", body);
    CHECK(r.status == 400);
    CHECK(json::parse(r.body)["error"]["param"] == param);
  }
  CHECK(admin("PATCH", "/api/v1/ai/admin/providers/nope", "{}").status == 404);
  CHECK(h.kv["config:override"] == before);
}

TEST_CASE("the latency policy prefers the target that answered faster recently") {
  FakeHost h(Vars{{"AI_GATEWAY_MAX_RETRIES", "0"}}, KEYS);
  const std::string body = chat(R"(,"model":"gpt-4o-mini","models":["claude-haiku-4-5"])");
  const std::map<std::string, std::string> latency = {{"x-aigw-routing", "latency"}};
  // OpenAI answers slowly, Anthropic quickly (each measured once via `ordered` chains).
  h.upstreamLatencyMs = 900;
  h.replies.push_back(gw::testing::openaiReply("slow"));
  REQUIRE(h.chat(body).status == 200);
  h.upstreamLatencyMs = 50;
  h.replies.push_back(anthropicOk());
  REQUIRE(h.chat(chat(R"(,"model":"claude-haiku-4-5","models":["gpt-4o-mini"])")).status == 200);
  h.replies.push_back(anthropicOk());
  HttpResponse r = h.request("POST", "/v1/chat/completions", body, latency);
  REQUIRE(r.status == 200);
  CHECK(r.headers["x-aigw-provider"] == "anthropic");
  CHECK(r.headers["x-aigw-route"].rfind("latency; anthropic/", 0) == 0);
}

TEST_CASE("the cron job probes each configured provider's model list and keeps a history") {
  FakeHost h(Vars{}, KEYS);
  h.internal = true;
  HttpResponse first = h.request("POST", "/internal/cron");
  REQUIRE(first.status == 200);
  json summary = json::parse(first.body);
  CHECK(summary["providers"]["probed"].get<int>() >= 3);
  CHECK(summary["providers"]["healthy"] == summary["providers"]["probed"]);
  bool probedOpenai = false;
  for (const auto& f : h.fetches)
    if (f.url == "https://api.openai.com/v1/models") probedOpenai = f.method == "GET" && f.authSecret == "OPENAI_API_KEY";
  CHECK(probedOpenai);
  // The next run finds OpenAI failing (it is probed first).
  h.nowMs += 300000;
  h.replies.push_back(failure(503));
  REQUIRE(h.request("POST", "/internal/cron").status == 200);
  json history = json::parse(h.kv["health:history:openai"]);
  REQUIRE(history.size() == 2);
  CHECK(history[0]["ok"] == true);
  CHECK(history[1]["ok"] == false);
  CHECK(history[1]["status"] == 503);
  h.internal = false;
  json health = json::parse(h.request("GET", "/api/v1/ai/health?history=true").body);
  for (const auto& p : health["providers"])
    if (p["id"] == "openai") {
      CHECK(p["history"].size() == 2);
      // Public: the probes' outcomes, never a provider's error text.
      CHECK_FALSE(p.contains("last_error"));
      CHECK_FALSE(p["history"][1].contains("error"));
      CHECK(p["history"][1]["status"] == 503);
    }
  json admin = json::parse(h.request("GET", "/api/v1/ai/admin/providers", "", gw::testing::adminHeaders()).body);
  for (const auto& p : admin["data"])
    if (p["id"] == "openai") CHECK(p["last_error"] == "HTTP 503");
  // Without the flag, no history is read.
  CHECK_FALSE(json::parse(h.request("GET", "/api/v1/ai/health").body)["providers"][0].contains("history"));
  // Not reachable from outside.
  CHECK(h.request("POST", "/internal/cron").status == 404);
  // The history keeps the last 288 probes (a day at one per 5 minutes).
  json full = json::array();
  for (int i = 0; i < 288; ++i) full.push_back({{"at", i}, {"ok", true}, {"status", 200}, {"latency_ms", 1}});
  h.kv["health:history:openai"] = full.dump();
  h.internal = true;
  REQUIRE(h.request("POST", "/internal/cron").status == 200);
  json trimmed = json::parse(h.kv["health:history:openai"]);
  CHECK(trimmed.size() == 288);
  CHECK(trimmed[0]["at"] == 1);
  CHECK(trimmed[287]["at"].get<int64_t>() > 1000000);  // the new probe, at the host clock
}

TEST_CASE("a breaker counts one outcome per client request, not one per retry") {
  // Two retries each: three failing requests are nine failed calls, but
  // three outcomes, under the five that open the breaker.
  FakeHost h(Vars{{"AI_GATEWAY_MAX_RETRIES", "2"}, {"AI_GATEWAY_RETRY_BASE_MS", "10"}}, KEYS);
  const std::string body = chat(R"(,"model":"gpt-4o-mini")");
  for (int i = 0; i < 3; ++i) {
    for (int k = 0; k < 3; ++k) h.replies.push_back(failure(500));
    CHECK(h.chat(body).status == 502);
  }
  CHECK(h.fetches.size() == 9);
  h.replies.push_back(gw::testing::openaiReply("still called"));
  CHECK(h.chat(body).status == 200);
  CHECK(h.fetches.size() == 10);
  // A request whose retry succeeded counts as a success: the streak is broken.
  for (int i = 0; i < 4; ++i) {
    h.replies.push_back(failure(500));
    h.replies.push_back(gw::testing::openaiReply("second try"));
    CHECK(h.chat(body).status == 200);
  }
  json health = json::parse(h.request("GET", "/api/v1/ai/health").body);
  for (const auto& p : health["providers"])
    if (p["id"] == "openai")
      for (const auto& b : p["breakers"]) CHECK(b["state"] == "closed");
}

TEST_CASE("a provider's 429 is a rate limit, honoured for its retry-after, never an outage") {
  FakeHost h(Vars{{"AI_GATEWAY_MAX_RETRIES", "0"}}, KEYS);
  const std::string body = chat(R"(,"model":"gpt-4o-mini")");
  ScriptedReply limited = failure(429, R"({"error":{"message":"Rate limit reached","type":"requests"}})");
  limited.headers = {{"retry-after", "20"}};
  h.replies.push_back(limited);
  HttpResponse first = h.chat(body);
  CHECK(first.status == 429);
  CHECK(first.headers["retry-after"] == "20");
  // Within the provider's retry-after, nobody calls it: a 429 at once, saying when to come back.
  const size_t calls = h.fetches.size();
  for (int i = 0; i < 10; ++i) {
    h.nowMs += 1000;
    HttpResponse r = h.chat(body);
    CHECK(r.status == 429);
    CHECK(json::parse(r.body)["error"]["code"] == "upstream_rate_limited");
    CHECK(std::stoi(r.headers["retry-after"]) <= 19 - i);
  }
  CHECK(h.fetches.size() == calls);
  // With a fallback, the rate-limited target is passed over at once.
  h.replies.push_back(anthropicOk());
  HttpResponse fallback = h.chat(chat(R"(,"model":"gpt-4o-mini","models":["claude-haiku-4-5"])"));
  CHECK(fallback.status == 200);
  CHECK(fallback.headers["x-aigw-provider"] == "anthropic");
  CHECK(h.fetches.size() == calls + 1);
  // After it, calls resume; a run of 429s never opens the breaker.
  h.nowMs += 20000;
  for (int i = 0; i < 8; ++i) {
    ScriptedReply again = failure(429);
    again.headers = {{"retry-after", "0"}};
    h.replies.push_back(again);
    CHECK(h.chat(body).status == 429);
  }
  CHECK(h.fetches.size() == calls + 9);
  h.replies.push_back(gw::testing::openaiReply("served"));
  CHECK(h.chat(body).status == 200);
}

TEST_CASE("a new instance's health shows the breakers others opened before any call reads them") {
  FakeHost a(Vars{{"AI_GATEWAY_MAX_RETRIES", "0"}}, KEYS);
  tripOpenAi(a);
  // A restarted isolate: its first request is the health check.
  FakeHost b(Vars{{"AI_GATEWAY_MAX_RETRIES", "0"}}, KEYS);
  b.nowMs = a.nowMs + 100;
  b.kv = a.kv;
  json health = json::parse(b.request("GET", "/api/v1/ai/health").body);
  std::string state;
  for (const auto& p : health["providers"])
    for (const auto& br : p["breakers"])
      if (br["target"] == "openai/gpt-4o-mini") state = br["state"];
  CHECK(state == "open");
  CHECK(b.fetches.empty());
}

TEST_CASE("a base_url patched through the admin API wins over <ID>_BASE_URL") {
  FakeHost h(Vars{{"GEMINI_BASE_URL", "https://env.example.com/v1beta"}}, {"GEMINI_API_KEY"});
  HttpResponse patched = h.request("PATCH", "/api/v1/ai/admin/providers/gemini", R"({"base_url":"https://patched.example.com/v1beta/"})",
                                   gw::testing::adminHeaders());
  REQUIRE(patched.status == 200);
  CHECK(json::parse(patched.body)["base_url"] == "https://patched.example.com/v1beta");
  ScriptedReply ok;
  ok.chunks = {gw::testing::readFile(gw::testing::sourcePath("tests/fixtures/gemini/generate.json"))};
  h.replies.push_back(ok);
  REQUIRE(h.chat(chat(R"(,"model":"gemini-2.5-flash")")).status == 200);
  CHECK(h.fetches.back().url.rfind("https://patched.example.com/v1beta/", 0) == 0);
}
