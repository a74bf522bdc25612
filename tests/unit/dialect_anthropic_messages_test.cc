// Client dialect anthropic_messages (POST /v1/messages): Anthropic clients
// reach any provider and get Anthropic shapes back, errors included.
#include "codec_support.h"

using namespace gw::testing::codec;

TEST_CASE("/v1/messages: Anthropic clients reach any provider and get Anthropic shapes back") {
  FakeHost host({}, ALL_KEYS);
  host.replies.push_back(gw::testing::openaiReply("Hello!", 20, 4));
  auto res = host.request("POST", "/v1/messages",
                          R"({"model":"gpt-4o-mini","max_tokens":256,"system":"Be kind.","messages":[
                               {"role":"user","content":"Hi"},
                               {"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"lookup","input":{"q":"x"}}]},
                               {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"found"},{"type":"text","text":"thanks"}]}],
                               "tools":[{"name":"lookup","input_schema":{"type":"object"}}],"tool_choice":{"type":"any"}})");
  REQUIRE(res.status == 200);
  json sent = parse(host.fetches.at(0).body);
  CHECK(sent["max_tokens"] == 256);
  CHECK(sent["messages"][0] == json::parse(R"({"role":"system","content":"Be kind."})"));
  CHECK(sent["messages"][2]["tool_calls"][0]["function"]["arguments"] == R"({"q":"x"})");
  CHECK(sent["messages"][3] == json::parse(R"({"role":"tool","tool_call_id":"toolu_1","content":"found"})"));
  CHECK(sent["messages"][4]["content"][0]["text"] == "thanks");
  CHECK(sent["tool_choice"] == "required");
  json body = parse(res.body);
  CHECK(body["type"] == "message");
  CHECK(body["content"][0] == json::parse(R"({"type":"text","text":"Hello!"})"));
  CHECK(body["stop_reason"] == "end_turn");
  CHECK(body["usage"]["input_tokens"] == 20);
  CHECK(body["usage"]["output_tokens"] == 4);

  ScriptedReply stream;
  stream.chunks = {fixture("openai/chat_stream.sse")};
  host.replies.push_back(stream);
  res = host.request("POST", "/v1/messages",
                     R"({"model":"gpt-4o-mini","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"Hi"}]})");
  CHECK(res.body.rfind("event: message_start\n", 0) == 0);
  CHECK(res.body.find(R"("delta":{"type":"text_delta","text":"Hello"})") != std::string::npos);
  CHECK(res.body.find(R"(event: message_delta)") != std::string::npos);
  CHECK(res.body.find(R"("usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":7})") != std::string::npos);
  CHECK(res.body.find("event: message_stop\n") != std::string::npos);

  res = host.request("POST", "/v1/messages", R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]})");
  CHECK(res.status == 400);
  json err = parse(res.body);
  CHECK(err["type"] == "error");
  CHECK(err["error"]["type"] == "invalid_request_error");
  CHECK(err["error"]["param"] == "max_tokens");
}

TEST_CASE("/v1/messages: every error is Anthropic-shaped, a refused key included, with request-id") {
  FakeHost host({}, ALL_KEYS);
  host.autoAuth = false;
  const std::string body = R"({"model":"gpt-4o-mini","max_tokens":16,"messages":[{"role":"user","content":"Hi"}]})";
  auto refused = host.request("POST", "/v1/messages", body, {{"x-api-key", "aigw_sk_not_a_key"}});
  CHECK(refused.status == 401);
  json e = parse(refused.body);
  CHECK(e["type"] == "error");
  CHECK(e["error"]["type"] == "authentication_error");
  CHECK(refused.headers["request-id"] == refused.headers["x-request-id"]);
  auto missing = host.request("POST", "/v1/messages", body);
  CHECK(missing.status == 401);
  CHECK(parse(missing.body)["type"] == "error");
  // A placeholder bearer beside a real virtual key: the virtual key is the credential.
  host.replies.push_back(gw::testing::openaiReply("hello"));
  auto placeholder = host.request("POST", "/v1/messages", body,
                                  {{"authorization", "Bearer x"}, {"x-api-key", gw::testing::TEST_KEY}});
  CHECK(placeholder.status == 200);
  CHECK(parse(placeholder.body)["type"] == "message");
  CHECK_FALSE(placeholder.headers["request-id"].empty());
  // OpenAI clients keep OpenAI's shape and no request-id alias.
  auto openai = host.request("POST", "/v1/chat/completions", body, {{"authorization", "Bearer nope"}});
  CHECK(openai.status == 401);
  CHECK(parse(openai.body)["error"]["code"] == "invalid_api_key");
  CHECK(openai.headers.count("request-id") == 0);
}

TEST_CASE("/v1/messages: a top-level user_id is not taken for metadata.user_id") {
  FakeHost host({}, ALL_KEYS);
  host.replies.push_back(gw::testing::openaiReply("ok"));
  auto res = host.request("POST", "/v1/messages",
                          R"({"model":"gpt-4o-mini","max_tokens":8,"user_id":"spoofed","messages":[{"role":"user","content":"Hi"}]})");
  REQUIRE(res.status == 200);
  CHECK(host.fetches.at(0).body.find("spoofed") == std::string::npos);
}
