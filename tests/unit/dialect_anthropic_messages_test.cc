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

TEST_CASE("/v1/messages to an Anthropic model: the body goes as sent (model renamed), the answer comes back as it came") {
  FakeHost host({}, ALL_KEYS);
  host.replies.push_back(reply("anthropic/message_thinking.json"));
  const std::string body =
      R"({"model":"claude-sonnet-4-5","max_tokens":2048,"thinking":{"type":"enabled","budget_tokens":1024},)"
      R"("output_config":{"effort":"high"},"top_k":5,"service_tier":"auto","some_future_field":{"x":1},)"
      R"("metadata":{"user_id":"u-1"},"system":[{"type":"text","text":"Be exact.","cache_control":{"type":"ephemeral"}}],)"
      R"("messages":[{"role":"user","content":[{"type":"document","source":{"type":"text","media_type":"text/plain","data":"27 and 453"}},)"
      R"({"type":"text","text":"Multiply them.","cache_control":{"type":"ephemeral"}}]}]})";
  auto res = host.request("POST", "/v1/messages", body,
                          {{"anthropic-beta", "interleaved-thinking-2025-05-14"}, {"anthropic-version", "2023-06-01"}});
  REQUIRE(res.status == 200);
  const auto& sent = host.fetches.at(0);
  json expected = parse(body);
  expected["model"] = parse(sent.body)["model"];
  CHECK(parse(sent.body) == expected);
  CHECK(parse(sent.body)["model"] != "claude-sonnet-4-5");  // the upstream name
  CHECK(sent.headers.at("anthropic-beta") == "interleaved-thinking-2025-05-14");
  CHECK(sent.headers.at("anthropic-version") == "2023-06-01");
  CHECK(parse(res.body) == parse(fixture("anthropic/message_thinking.json")));
  CHECK_FALSE(res.headers["x-aigw-cost-usd"].empty());

  // Streamed: thinking and signature deltas pass as they came, then the cost comment.
  ScriptedReply stream = reply("anthropic/stream_thinking.sse", 200, 7);
  stream.headers = {{"content-type", "text/event-stream"}};
  host.replies.push_back(stream);
  std::string streamed = body;
  streamed.insert(1, R"("stream":true,)");
  res = host.request("POST", "/v1/messages", streamed);
  REQUIRE(res.status == 200);
  const std::string upstream = fixture("anthropic/stream_thinking.sse");
  REQUIRE(res.body.rfind(upstream, 0) == 0);
  CHECK(res.body.substr(upstream.size()).rfind(": x-aigw-cost-usd=", 0) == 0);
}

TEST_CASE("/v1/messages to other providers: thinking as reasoning effort, output_config.format as structured output") {
  FakeHost host({}, ALL_KEYS);
  host.replies.push_back(gw::testing::openaiReply(R"({"city":"Paris"})"));
  auto res = host.request("POST", "/v1/messages",
                          R"({"model":"o4-mini","max_tokens":512,"thinking":{"type":"enabled","budget_tokens":2000},)"
                          R"("output_config":{"format":{"type":"json_schema","schema":{"type":"object","properties":{"city":{"type":"string"}}}}},)"
                          R"("messages":[{"role":"user","content":"A city?"},{"role":"assistant","content":[{"type":"thinking","thinking":"hm","signature":"sig"},{"type":"text","text":"Paris?"}]},{"role":"user","content":"As JSON."}]})");
  REQUIRE(res.status == 200);
  json sent = parse(host.fetches.at(0).body);
  CHECK(sent["reasoning_effort"] == "low");
  CHECK(sent["response_format"]["type"] == "json_schema");
  CHECK(sent["response_format"]["json_schema"]["schema"]["properties"]["city"]["type"] == "string");
  CHECK(sent["messages"][1] == json::parse(R"({"role":"assistant","content":"Paris?"})"));
  CHECK(parse(res.body)["content"][0]["text"] == R"({"city":"Paris"})");

  // A block only Anthropic takes is a 400 naming it for another provider.
  res = host.request("POST", "/v1/messages",
                     R"({"model":"gpt-4o-mini","max_tokens":64,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"text","media_type":"text/plain","data":"x"}}]}]})");
  CHECK(res.status == 400);
  CHECK(parse(res.body)["error"]["param"] == "messages.0.content.0.type");
  CHECK(host.fetches.size() == 1);
}

TEST_CASE("/v1/messages/count_tokens: Anthropic's own count for Anthropic models, an estimate marked so for others") {
  FakeHost host({}, ALL_KEYS);
  ScriptedReply counted;
  counted.chunks = {R"({"input_tokens":42})"};
  host.replies.push_back(counted);
  const std::string body = R"({"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"Hello, Claude"}],"thinking":{"type":"enabled","budget_tokens":2048}})";
  auto res = host.request("POST", "/v1/messages/count_tokens", body, {{"anthropic-beta", "token-counting-2024-11-01"}});
  REQUIRE(res.status == 200);
  CHECK(parse(res.body) == json::parse(R"({"input_tokens":42})"));
  REQUIRE(host.fetches.size() == 1);
  CHECK(host.fetches[0].url.size() > 22);
  CHECK(host.fetches[0].url.substr(host.fetches[0].url.size() - 22) == "/messages/count_tokens");
  CHECK(parse(host.fetches[0].body)["thinking"]["budget_tokens"] == 2048);
  CHECK(host.fetches[0].headers.at("anthropic-beta") == "token-counting-2024-11-01");

  res = host.request("POST", "/v1/messages/count_tokens",
                     R"({"model":"gpt-4o-mini","system":"Be brief.","messages":[{"role":"user","content":"Hello there, how are you today?"}]})");
  REQUIRE(res.status == 200);
  json est = parse(res.body);
  CHECK(est["estimated"] == true);
  CHECK(est["input_tokens"].get<int>() > 5);
  CHECK(res.headers["x-aigw-usage-estimated"] == "true");
  CHECK(host.fetches.size() == 1);

  res = host.request("POST", "/v1/messages/count_tokens", R"({"model":"gpt-4o-mini"})");
  CHECK(res.status == 400);
  CHECK(parse(res.body)["type"] == "error");
  CHECK(parse(res.body)["error"]["param"] == "messages");
}

TEST_CASE("/v1/messages: the cache keys on the body as sent, so what the translation leaves out still tells requests apart") {
  FakeHost host({{"AI_CACHE_ENABLED", "true"}}, ALL_KEYS);
  auto ask = [&](const std::string& document) {
    host.replies.push_back(reply("anthropic/message.json"));
    return host.request("POST", "/v1/messages",
                        R"({"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":[)"
                        R"({"type":"document","source":{"type":"text","media_type":"text/plain","data":")" + document +
                            R"("}},{"type":"text","text":"Summarise it."}]}]})");
  };
  CHECK(ask("first report").headers["x-aigw-cache"] == "MISS");
  CHECK(ask("second report").headers["x-aigw-cache"] == "MISS");  // another document: another answer
  CHECK(ask("first report").headers["x-aigw-cache"] == "HIT");
  CHECK(host.fetches.size() == 2);
}
