// Wire format anthropic_messages: request encoding, answers, streams fed at
// every split point, every error class. Fixtures: tests/fixtures/anthropic.
#include "codec_support.h"
#include "wire/anthropic_messages.h"

using namespace gw::testing::codec;

TEST_CASE("anthropic: request encoding lifts system, maps tools, images and tool results") {
  FakeHost host({}, ALL_KEYS);
  host.replies.push_back(reply("anthropic/message.json"));
  host.chat(R"({"model":"claude-sonnet-4-5","messages":[
    {"role":"system","content":"Be brief."},
    {"role":"user","content":[{"type":"text","text":"What is here?"},
      {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},
      {"type":"image_url","image_url":{"url":"https://example.com/cat.jpg"}}]},
    {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Paris\"}"}}]},
    {"role":"tool","tool_call_id":"call_1","content":"18C"}],
    "temperature":1.5,"stop":"END","tool_choice":"required","parallel_tool_calls":false)" +
            std::string(TOOLS) + "}");
  REQUIRE(host.fetches.size() == 1);
  const auto& call = host.fetches[0];
  CHECK(call.url == "https://api.anthropic.com/v1/messages");
  CHECK(call.authSecret == "ANTHROPIC_API_KEY");
  CHECK(call.authStyle == "header");
  CHECK(call.headers.at("anthropic-version") == "2023-06-01");
  json sent = parse(call.body);
  CHECK(sent["model"] == "claude-sonnet-4-5-20250929");
  CHECK(sent["system"] == "Be brief.");
  CHECK(sent["max_tokens"] == 2000);
  CHECK(sent["temperature"] == 1.0);  // Anthropic's range ends at 1
  CHECK(sent["stop_sequences"] == json::array({"END"}));
  REQUIRE(sent["messages"].size() == 3);
  auto& user = sent["messages"][0];
  CHECK(user["content"][1]["source"] == json::parse(R"({"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="})"));
  CHECK(user["content"][2]["source"] == json::parse(R"({"type":"url","url":"https://example.com/cat.jpg"})"));
  auto& assistant = sent["messages"][1];
  CHECK(assistant["content"][0] == json::parse(R"({"type":"tool_use","id":"call_1","name":"get_weather","input":{"location":"Paris"}})"));
  CHECK(sent["messages"][2]["content"][0] == json::parse(R"({"type":"tool_result","tool_use_id":"call_1","content":"18C"})"));
  CHECK(sent["tools"][0]["name"] == "get_weather");
  CHECK(sent["tools"][0]["input_schema"]["required"][0] == "location");
  CHECK(sent["tool_choice"] == json::parse(R"({"type":"any","disable_parallel_tool_use":true})"));
}

TEST_CASE("anthropic: answers become chat completions with cache-aware usage and exact cost") {
  FakeHost host({}, ALL_KEYS);
  host.replies.push_back(reply("anthropic/message.json"));
  auto res = host.chat(chat("claude-sonnet-4-5"));
  REQUIRE(res.status == 200);
  json body = parse(res.body);
  CHECK(body["object"] == "chat.completion");
  CHECK(body["choices"][0]["message"]["content"] == "Hi! My name is Claude.");
  CHECK(body["choices"][0]["finish_reason"] == "stop");
  CHECK(body["usage"]["prompt_tokens"] == 3195);
  CHECK(body["usage"]["completion_tokens"] == 503);
  CHECK(body["usage"]["prompt_tokens_details"]["cached_tokens"] == 1000);
  CHECK(res.headers["x-aigw-cost-usd"] == "0.014505");
  CHECK(res.headers["x-aigw-provider"] == "anthropic");

  host.replies.push_back(reply("anthropic/message_tool_use.json"));
  body = parse(host.chat(chat("claude-sonnet-4-5", TOOLS)).body);
  auto& message = body["choices"][0]["message"];
  CHECK(body["choices"][0]["finish_reason"] == "tool_calls");
  CHECK(message["content"] == "I'll check the weather in San Francisco.");
  CHECK(message["tool_calls"][0]["id"] == "toolu_01A09q90qw90lq917835lq9");
  CHECK(message["tool_calls"][0]["function"]["name"] == "get_weather");
  CHECK(parse(message["tool_calls"][0]["function"]["arguments"].get<std::string>()) ==
        json::parse(R"({"location":"San Francisco, CA","unit":"celsius"})"));
}

TEST_CASE("anthropic: stream events decode the same at every split point") {
  Recorder text = everySplit<gw::anthropic_messages::EventDecoder>(fixture("anthropic/stream.sse"));
  CHECK(text.log == "text 0 Hello\ntext 0  from Claude éè 😀!\nfinish 0 stop\n");
  Recorder tool = everySplit<gw::anthropic_messages::EventDecoder>(fixture("anthropic/stream_tool_use.sse"));
  CHECK(tool.log ==
        "text 0 Let me check the weather.\ncall 0/0 toolu_01T1x1fJ34qAmk2tNTrN7Up6 get_weather\nfinish 0 tool_calls\n");
  CHECK(parse(tool.args[0]) == json::parse(R"({"location":"San Francisco, CA"})"));
}

TEST_CASE("anthropic: a stream reaches the client as OpenAI chunks with usage and cost at the end") {
  FakeHost host({}, ALL_KEYS);
  host.replies.push_back(reply("anthropic/stream.sse", 200, 17));
  auto res = host.chat(chat("claude-sonnet-4-5", R"(,"stream":true,"stream_options":{"include_usage":true})"));
  REQUIRE(res.status == 200);
  CHECK(parse(host.fetches[0].body)["stream"] == true);
  CHECK(streamedText(res.body) == "Hello from Claude éè 😀!");
  CHECK(res.body.find(R"("delta":{"role":"assistant","content":"Hello"})") != std::string::npos);
  CHECK(res.body.find(R"("finish_reason":"stop")") != std::string::npos);
  CHECK(res.body.find(R"("choices":[],"usage":{"prompt_tokens":35,"completion_tokens":15)") != std::string::npos);
  // 25 × $3 + 10 × $0.30 + 15 × $15 per 1M
  CHECK(res.body.find(": x-aigw-cost-usd=0.000303 ") != std::string::npos);
  CHECK(res.body.size() > 14);
  CHECK(res.body.substr(res.body.size() - 14) == "data: [DONE]\n\n");

  host.replies.push_back(reply("anthropic/stream_error.sse"));
  res = host.chat(chat("claude-sonnet-4-5", R"(,"stream":true)"));
  CHECK(res.completed);
  CHECK(res.body.find(R"("code":"upstream_overloaded")") != std::string::npos);
  CHECK(res.body.find("[DONE]") == std::string::npos);
}

TEST_CASE("anthropic: every error class is OpenAI-shaped with the right status and the provider named") {
  checkErrorClasses("claude-haiku-4-5", "anthropic",
                    {{"anthropic/error_overloaded.json", 529, 503, "upstream_overloaded"},
                     {"anthropic/error_rate_limit.json", 429, 429, "rate_limit_exceeded"},
                     {"anthropic/error_authentication.json", 401, 502, "upstream_auth_failed"},
                     {"anthropic/error_prompt_too_long.json", 400, 400, "context_length_exceeded"},
                     {"anthropic/error_api.json", 500, 502, "upstream_error"}});
}
