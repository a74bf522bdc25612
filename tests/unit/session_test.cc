#include <catch2/catch.hpp>

#include "fake_host.h"
#include "gw/nlohmann.h"

using gw::testing::FakeHost;
using gw::testing::ScriptedReply;
using nlohmann::json;

namespace {

const char* HELLO = R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello"}]})";
const char* HELLO_STREAM = R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello"}],"stream":true})";

std::string fixture(const std::string& name) {
  return gw::testing::readFile(gw::testing::sourcePath("tests/fixtures/" + name));
}

json parse(const std::string& s) { return json::parse(s, nullptr, false); }

// Streams carry the call's cost as an SSE comment before [DONE]; fixtures are
// the provider's bytes, so compare without it.
std::string withoutCostComment(std::string body) {
  size_t at = body.find(": x-aigw-cost-usd=");
  if (at != std::string::npos) body.erase(at, body.find("\n\n", at) + 2 - at);
  return body;
}

// Fast retries so simulated time stays small.
std::map<std::string, std::string> quickRetries() { return {{"AI_GATEWAY_RETRY_BASE_MS", "100"}}; }

}  // namespace

TEST_CASE("non-stream chat completion is passed through with usage logged") {
  FakeHost host;
  ScriptedReply reply;
  reply.headers = {{"content-type", "application/json"}, {"x-request-id", "req_up_1"}};
  reply.chunks = {fixture("openai/chat_completion.json")};
  host.replies.push_back(reply);
  auto res = host.chat(HELLO);
  REQUIRE(res.status == 200);
  CHECK(res.body == fixture("openai/chat_completion.json"));
  CHECK(res.headers["content-type"] == "application/json");
  CHECK(res.headers["x-request-id"] == "aigw_00112233445566778899aabb");
  CHECK(res.headers["x-aigw-provider"] == "openai");
  CHECK(res.headers["x-aigw-upstream-request-id"] == "req_up_1");
  REQUIRE(host.fetches.size() == 1);
  const auto& call = host.fetches[0];
  CHECK(call.url == "https://api.openai.com/v1/chat/completions");
  CHECK(call.authSecret == "OPENAI_API_KEY");
  CHECK(call.authStyle == "bearer");
  CHECK(call.timeoutMs == 30000);
  json sent = parse(call.body);
  CHECK(sent["model"] == "gpt-4o-mini");
  CHECK(sent["max_tokens"] == 2000);
  CHECK_FALSE(sent.contains("stream_options"));
  REQUIRE(res.logs.size() == 1);
  json log = parse(res.logs[0]);
  CHECK(log["usage"]["prompt_tokens"] == 12);
  CHECK(log["usage"]["completion_tokens"] == 9);
  CHECK(host.gateway.liveSessions() == 0);
}

TEST_CASE("the upstream body keeps the client's fields and never holds a secret") {
  FakeHost host({}, {"OPENAI_API_KEY"});
  auto res = host.chat(
      R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":50,"temperature":0.2,"user":"u1","vendor_field":{"x":1}})");
  REQUIRE(res.status == 200);
  json sent = parse(host.fetches[0].body);
  CHECK(sent["max_tokens"] == 50);
  CHECK(sent["temperature"] == 0.2);
  CHECK(sent["vendor_field"]["x"] == 1);
  CHECK(host.fetches[0].body.find("sk-") == std::string::npos);
}

TEST_CASE("reasoning models get max_completion_tokens") {
  FakeHost host;
  host.chat(R"({"model":"o3-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":64})");
  json sent = parse(host.fetches.at(0).body);
  CHECK(sent["max_completion_tokens"] == 64);
  CHECK_FALSE(sent.contains("max_tokens"));
}

TEST_CASE("stream is passed through chunk by chunk with usage requested upstream") {
  FakeHost host;
  const std::string stream = fixture("openai/chat_stream.sse");
  ScriptedReply reply;
  reply.headers = {{"content-type", "text/event-stream"}};
  for (size_t i = 0; i < stream.size(); i += 37) reply.chunks.push_back(stream.substr(i, 37));
  host.replies.push_back(reply);
  auto res = host.chat(HELLO_STREAM);
  REQUIRE(res.status == 200);
  CHECK(res.stream);
  CHECK(res.headers["content-type"] == "text/event-stream; charset=utf-8");
  CHECK(res.completed);
  CHECK(withoutCostComment(res.body) == fixture("openai/chat_stream.client_without_usage.sse"));
  // 12 prompt × $0.15/1M + 7 completion × $0.60/1M
  CHECK(res.body.find(": x-aigw-cost-usd=0.000006 x-aigw-cost-brl=0.0000324\n\ndata: [DONE]\n\n") != std::string::npos);
  CHECK(res.chunks.size() > 3);  // forwarded as it arrived, not buffered whole
  json sent = parse(host.fetches[0].body);
  CHECK(sent["stream"] == true);
  CHECK(sent["stream_options"]["include_usage"] == true);
  CHECK(host.fetches[0].stream);
  json log = parse(res.logs.at(0));
  CHECK(log["usage"]["completion_tokens"] == 7);
}

TEST_CASE("a client that asks for usage gets the usage chunk") {
  FakeHost host;
  ScriptedReply reply;
  reply.chunks = {fixture("openai/chat_stream.sse")};
  host.replies.push_back(reply);
  auto res = host.chat(
      R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_usage":true}})");
  CHECK(withoutCostComment(res.body) == fixture("openai/chat_stream.sse"));
}

TEST_CASE("a stream cut mid-way ends with an error event, not silence") {
  FakeHost host;
  const std::string stream = fixture("openai/chat_stream.sse");
  ScriptedReply reply;
  reply.chunks = {stream.substr(0, 400)};
  reply.end = ScriptedReply::End::NetworkError;
  host.replies.push_back(reply);
  auto res = host.chat(HELLO_STREAM);
  CHECK(res.status == 200);
  CHECK(res.completed);
  CHECK(res.body.find("\"code\":\"upstream_stream_error\"") != std::string::npos);
  CHECK(res.body.find("[DONE]") == std::string::npos);
  CHECK(host.fetches.size() == 1);  // no retry once bytes were sent
}

TEST_CASE("a stream that ends without [DONE] is reported as cut") {
  FakeHost host;
  ScriptedReply reply;
  reply.chunks = {fixture("openai/chat_stream.sse").substr(0, 300)};
  host.replies.push_back(reply);
  auto res = host.chat(HELLO_STREAM);
  CHECK(res.body.find("upstream_stream_error") != std::string::npos);
}

TEST_CASE("upstream 4xx passes through with its status and message") {
  FakeHost host;
  ScriptedReply reply;
  reply.status = 401;
  reply.chunks = {fixture("openai/error_invalid_api_key.json")};
  host.replies.push_back(reply);
  auto res = host.chat(HELLO);
  // The gateway's provider key was refused, not the client's: a 502 that says so.
  CHECK(res.status == 502);
  json err = parse(res.body);
  CHECK(err["error"]["type"] == "authentication_error");
  CHECK(err["error"]["code"] == "upstream_auth_failed");
  CHECK(err["error"]["message"].get<std::string>().find("Incorrect API key") != std::string::npos);
  CHECK(host.fetches.size() == 1);  // 4xx is not retried

  ScriptedReply ctx;
  ctx.status = 400;
  ctx.chunks = {fixture("openai/error_context_length.json")};
  host.replies.push_back(ctx);
  res = host.chat(HELLO);
  CHECK(res.status == 400);
  err = parse(res.body);
  CHECK(err["error"]["param"] == "messages");
  CHECK(err["error"]["code"] == "context_length_exceeded");
}

TEST_CASE("5xx is retried with jittered backoff, then succeeds") {
  FakeHost host(quickRetries());
  ScriptedReply fail;
  fail.status = 503;
  fail.chunks = {R"({"error":{"message":"overloaded","type":"server_error"}})"};
  host.replies.push_back(fail);
  host.replies.push_back(gw::testing::openaiReply("second time lucky"));
  auto res = host.chat(HELLO);
  CHECK(res.status == 200);
  CHECK(res.headers["x-aigw-attempts"] == "2");
  REQUIRE(host.fetches.size() == 2);
  CHECK(host.fetches[0].delayMs == 0);
  CHECK(host.fetches[1].delayMs >= 0);
  CHECK(host.fetches[1].delayMs <= 100);
}

TEST_CASE("retries stop at AI_GATEWAY_MAX_RETRIES and the 5xx becomes a 502") {
  FakeHost host(gw::testing::Vars{{"AI_GATEWAY_MAX_RETRIES", "1"}, {"AI_GATEWAY_RETRY_BASE_MS", "10"}});
  for (int i = 0; i < 3; ++i) {
    ScriptedReply fail;
    fail.status = 500;
    fail.chunks = {"oops"};
    host.replies.push_back(fail);
  }
  auto res = host.chat(HELLO);
  CHECK(res.status == 502);
  CHECK(host.fetches.size() == 2);
  json err = parse(res.body);
  CHECK(err["error"]["code"] == "upstream_error");
  CHECK(err["error"]["message"].get<std::string>().find("HTTP 500") != std::string::npos);
}

TEST_CASE("429 honours Retry-After and is returned with it when retries run out") {
  FakeHost host(gw::testing::Vars{{"AI_GATEWAY_MAX_RETRIES", "1"}, {"AI_GATEWAY_RETRY_BASE_MS", "10"}});
  for (int i = 0; i < 2; ++i) {
    ScriptedReply limited;
    limited.status = 429;
    limited.headers = {{"retry-after", "2"}};
    limited.chunks = {R"({"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}})"};
    host.replies.push_back(limited);
  }
  auto res = host.chat(HELLO);
  CHECK(res.status == 429);
  CHECK(res.headers["retry-after"] == "2");
  REQUIRE(host.fetches.size() == 2);
  CHECK(host.fetches[1].delayMs >= 2000);
}

TEST_CASE("unreachable upstream is a 502, timeout a 504") {
  FakeHost host(gw::testing::Vars{{"AI_GATEWAY_MAX_RETRIES", "0"}});
  ScriptedReply refused;
  refused.status = 0;
  refused.end = ScriptedReply::End::NetworkError;
  host.replies.push_back(refused);
  auto res = host.chat(HELLO);
  CHECK(res.status == 502);
  CHECK(parse(res.body)["error"]["code"] == "upstream_unreachable");

  ScriptedReply hang;
  hang.status = 0;
  hang.end = ScriptedReply::End::Timeout;
  host.replies.push_back(hang);
  res = host.chat(HELLO);
  CHECK(res.status == 504);
  CHECK(parse(res.body)["error"]["code"] == "upstream_timeout");
}

TEST_CASE("retries never outlive the request timeout") {
  FakeHost host(gw::testing::Vars{{"AI_GATEWAY_REQUEST_TIMEOUT", "1000"}, {"AI_GATEWAY_RETRY_BASE_MS", "10"}});
  ScriptedReply hang;
  hang.status = 0;
  hang.end = ScriptedReply::End::Timeout;
  host.replies.push_back(hang);
  host.replies.push_back(hang);
  host.replies.push_back(hang);
  auto res = host.chat(HELLO);
  CHECK(res.status == 504);
  CHECK(host.fetches.size() == 1);  // the first timeout used the whole budget
}

TEST_CASE("no key set: the demo upstream answers, streamed and not") {
  FakeHost host({}, {});
  auto res = host.chat(HELLO);
  REQUIRE(res.status == 200);
  CHECK(res.headers["x-aigw-provider"] == "demo");
  json body = parse(res.body);
  CHECK(body["object"] == "chat.completion");
  CHECK(body["choices"][0]["message"]["content"].get<std::string>().find("Say hello") != std::string::npos);
  CHECK(body["usage"]["total_tokens"].get<int>() > 0);
  CHECK(host.fetches.empty());

  res = host.chat(HELLO_STREAM);
  REQUIRE(res.status == 200);
  CHECK(res.stream);
  CHECK(res.body.rfind("data: {", 0) == 0);
  CHECK(res.body.find("data: [DONE]\n\n") == res.body.size() - 14);
}

TEST_CASE("with AI_GATEWAY_DEMO=off an unconfigured provider is a 503 naming the variable") {
  FakeHost host(gw::testing::Vars{{"AI_GATEWAY_DEMO", "off"}}, {});
  auto res = host.chat(HELLO);
  CHECK(res.status == 503);
  CHECK(parse(res.body)["error"]["message"].get<std::string>().find("OPENAI_API_KEY") != std::string::npos);
}

TEST_CASE("OPENAI_BASE_URL points at a server of one's own without a key") {
  FakeHost host(gw::testing::Vars{{"OPENAI_BASE_URL", "http://127.0.0.1:8080/v1/"}}, {});
  auto res = host.chat(HELLO);
  CHECK(res.status == 200);
  REQUIRE(host.fetches.size() == 1);
  CHECK(host.fetches[0].url == "http://127.0.0.1:8080/v1/chat/completions");
  CHECK(host.fetches[0].authSecret.empty());
}

TEST_CASE("body over the limit is a 413 and reaches no upstream") {
  FakeHost host(gw::testing::Vars{{"AI_GATEWAY_MAX_BODY_BYTES", "2048"}});
  std::string big = R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":")" + std::string(3000, 'a') + "\"}]}";
  auto res = host.chat(big);
  CHECK(res.status == 413);
  CHECK(parse(res.body)["error"]["code"] == "request_too_large");
  CHECK(host.fetches.empty());
}

TEST_CASE("models, health, 404, 405 and CORS preflight") {
  FakeHost host;
  auto models = host.request("GET", "/v1/models");
  CHECK(models.status == 200);
  json list = parse(models.body);
  CHECK(list["object"] == "list");
  bool sawMini = false;
  for (const auto& m : list["data"]) {
    CHECK(m["object"] == "model");
    if (m["id"] == "gpt-4o-mini") sawMini = m["owned_by"] == "openai";
  }
  CHECK(sawMini);
  CHECK(host.request("GET", "/v1/models/gpt-4o").status == 200);
  CHECK(host.request("GET", "/v1/models/nope").status == 404);

  auto health = host.request("GET", "/api/v1/ai/health");
  CHECK(health.status == 200);
  json h = parse(health.body);
  CHECK(h["status"] == "ok");
  CHECK(h["providers"][0]["id"] == "openai");
  CHECK(h["providers"][0]["configured"] == true);

  auto missing = host.request("GET", "/v2/whatever");
  CHECK(missing.status == 404);
  CHECK(parse(missing.body)["error"]["code"] == "unknown_url");
  CHECK(missing.headers.count("x-request-id") == 1);

  auto wrong = host.request("GET", "/v1/chat/completions");
  CHECK(wrong.status == 405);
  CHECK(wrong.headers["allow"] == "POST");
  CHECK(host.request("OPTIONS", "/v1/chat/completions").status == 204);
}

TEST_CASE("health reflects upstream failures") {
  FakeHost host(gw::testing::Vars{{"AI_GATEWAY_MAX_RETRIES", "0"}});
  ScriptedReply refused;
  refused.status = 0;
  refused.end = ScriptedReply::End::NetworkError;
  host.replies.push_back(refused);
  host.chat(HELLO);
  json h = parse(host.request("GET", "/api/v1/ai/health").body);
  CHECK(h["providers"][0]["status"] == "degraded");
  CHECK(h["providers"][0]["failures"] == 1);
}

TEST_CASE("an invalid environment gives a clear error naming the variable, never a crash") {
  FakeHost host(gw::testing::Vars{{"OPENAI_MAX_TOKENS", "lots"}});
  CHECK(host.configureStatus == gw::GwStatus::InvalidConfig);
  auto res = host.chat(HELLO);
  CHECK(res.status == 500);
  json err = parse(res.body);
  CHECK(err["error"]["code"] == "invalid_config");
  CHECK(err["error"]["message"].get<std::string>().find("OPENAI_MAX_TOKENS") != std::string::npos);
  auto health = host.request("GET", "/api/v1/ai/health");
  CHECK(health.status == 503);
  CHECK(parse(health.body)["config"]["error"].get<std::string>().find("OPENAI_MAX_TOKENS") != std::string::npos);
}

TEST_CASE("an invalid bundled config names the field") {
  std::string cfg = R"({"providers":[{"id":"openai","base_url":"https://api.openai.com/v1"}],"models":[{"id":"m","provider":"nope"}]})";
  FakeHost host({}, {"OPENAI_API_KEY"}, cfg);
  CHECK(host.configureStatus == gw::GwStatus::InvalidConfig);
  CHECK(host.gateway.configStatus().message == "models[0].provider: unknown provider 'nope'");
}

TEST_CASE("a KV config override is applied, and a bad one is ignored") {
  FakeHost host(gw::testing::Vars{{"AI_GATEWAY_CONFIG_REFRESH_MS", "0"}});
  host.kv["config:override"] = R"({"models":[{"id":"house-model","provider":"openai","upstream":"gpt-4o-mini"}]})";
  host.chat(R"({"model":"house-model","messages":[{"role":"user","content":"hi"}]})");
  CHECK(parse(host.fetches.at(0).body)["model"] == "gpt-4o-mini");
  CHECK(parse(host.request("GET", "/v1/models/house-model").body)["id"] == "house-model");

  host.kv["config:override"] = R"({"gateway":{"max_retries":"many"}})";
  auto res = host.chat(R"({"model":"house-model","messages":[{"role":"user","content":"hi"}]})");
  CHECK(res.status == 200);
  bool logged = false;
  for (const auto& l : res.logs) logged |= l.find("config_override_rejected") != std::string::npos;
  CHECK(logged);
}

TEST_CASE("a client abort mid-stream aborts the upstream fetch and frees the session") {
  FakeHost host;
  ScriptedReply reply;
  const std::string stream = fixture("openai/chat_stream.sse");
  for (size_t i = 0; i < stream.size(); i += 50) reply.chunks.push_back(stream.substr(i, 50));
  host.replies.push_back(reply);
  host.cancelAfterChunks = 3;
  auto res = host.chat(HELLO_STREAM);
  CHECK_FALSE(res.completed);
  bool logged = false;
  for (const auto& l : res.logs) logged |= l.find("client_cancelled") != std::string::npos;
  CHECK(logged);
  CHECK(host.gateway.liveSessions() == 0);
}

TEST_CASE("bad session ids and malformed host input answer status codes") {
  FakeHost host;
  std::string out;
  CHECK(host.gateway.poll(999, out) == gw::GwStatus::NotFound);
  CHECK(host.gateway.feed(999, "{}", "") == gw::GwStatus::NotFound);
  CHECK(host.gateway.close(999) == gw::GwStatus::NotFound);
  CHECK(host.gateway.open("not json", "") == static_cast<int32_t>(gw::GwStatus::BadArgument));
  int32_t sid = host.gateway.open(R"({"method":"GET","path":"/v1/models","now_ms":1})", "");
  REQUIRE(sid > 0);
  CHECK(host.gateway.feed(static_cast<uint32_t>(sid), "garbage", "") == gw::GwStatus::InvalidState);
  CHECK(host.gateway.feed(static_cast<uint32_t>(sid), R"({"id":77,"type":"fetch_end"})", "") ==
        gw::GwStatus::InvalidState);
  CHECK(host.gateway.close(static_cast<uint32_t>(sid)) == gw::GwStatus::Ok);
}

TEST_CASE("a client leaving once its answer is complete does not re-record it as cancelled") {
  // The stream's [DONE] ends the response; the provider's connection is
  // still open when the client goes. The row stays 200, charged as reported.
  FakeHost host;
  ScriptedReply reply;
  reply.chunks = {fixture("openai/chat_stream.sse")};
  host.replies.push_back(reply);
  host.cancelBeforeFetchEnd = true;
  auto res = host.chat(HELLO_STREAM);
  CHECK(res.completed);
  for (const auto& l : res.logs) CHECK(l.find("client_cancelled") == std::string::npos);
  json rows = parse(host.d1->query("SELECT status, error_class FROM gateway_usage_logs"));
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["status"] == 200);
  CHECK(rows[0]["error_class"].is_null());
  int settles = 0;
  for (const auto& op : host.ledgerOps) settles += op.find("\"op\":\"settle\"") != std::string::npos;
  CHECK(settles == 1);
  CHECK(host.gateway.liveSessions() == 0);
}

TEST_CASE("a cancelled embeddings request is a 499 row, and its hold is released") {
  FakeHost host;
  host.replies.push_back(gw::testing::openaiReply("unused"));
  host.cancelAfterChunks = 0;
  auto res = host.request("POST", "/v1/embeddings", R"({"model":"text-embedding-3-small","input":"hi"})");
  CHECK_FALSE(res.completed);
  json rows = parse(host.d1->query("SELECT api_type, status, error_class FROM gateway_usage_logs"));
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["api_type"] == "embeddings");
  CHECK(rows[0]["status"] == 499);
  CHECK(rows[0]["error_class"] == "client_cancelled");
  bool released = false;
  for (const auto& op : host.ledgerOps) released |= op.find("\"op\":\"release\"") != std::string::npos;
  CHECK(released);
}
