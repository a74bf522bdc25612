// Client dialect generate (POST /api/v1/ai/generate): the gateway's own simple API.
#include "codec_support.h"

using namespace gw::testing::codec;

TEST_CASE("/api/v1/ai/generate answers a summary, streamed or not") {
  FakeHost host({}, ALL_KEYS);
  host.replies.push_back(gw::testing::openaiReply("Bonjour", 10, 2));
  auto res = host.request("POST", "/api/v1/ai/generate",
                          R"({"tenantId":"acme","userId":"alice","agentId":"a1","model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}],"temperature":0.5,"maxTokens":20})");
  REQUIRE(res.status == 200);
  json body = parse(res.body);
  CHECK(body["content"] == "Bonjour");
  CHECK(body["usage"] == json::parse(R"({"promptTokens":10,"completionTokens":2,"totalTokens":12})"));
  CHECK(body["provider"] == "openai");
  CHECK(body["model"] == "gpt-4o-mini");
  CHECK(body["finishReason"] == "stop");
  CHECK(body["cost"] == 0.0000027);
  CHECK(body["requestId"] == res.headers["x-request-id"]);
  INFO(res.body);
  CHECK(body["timestamp"].get<std::string>().rfind("2023-11-14T22:13:20.", 0) == 0);
  json sent = parse(host.fetches[0].body);
  CHECK(sent["max_tokens"] == 20);
  CHECK(sent["user"] == "alice");

  ScriptedReply stream;
  stream.chunks = {fixture("openai/chat_stream.sse")};
  host.replies.push_back(stream);
  res = host.request("POST", "/api/v1/ai/generate",
                     R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}],"stream":true})");
  CHECK(res.body.rfind("data: {\"type\":\"delta\",\"content\":\"Hello\"}\n\n", 0) == 0);
  size_t done = res.body.find("data: {\"type\":\"done\"");
  REQUIRE(done != std::string::npos);
  json summary = parse(res.body.substr(done + 6, res.body.find("\n\n", done) - done - 6));
  CHECK(summary["content"] == "Hello from the fake upstream éè 😀.");
  CHECK(summary["usage"]["totalTokens"] == 19);
}
