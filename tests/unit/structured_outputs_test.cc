// Structured outputs on Anthropic: a JSON schema as the model's own
// output_config.format where it has structured outputs, else a forced tool
// whose input is the answer; the client gets the JSON text either way.
#include "codec_support.h"

using namespace gw::testing::codec;

namespace {

const char* SCHEMA_FORMAT =
    R"(,"response_format":{"type":"json_schema","json_schema":{"name":"city","schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}})";

ScriptedReply anthropicJson(const std::string& body) {
  ScriptedReply r;
  r.headers = {{"content-type", "application/json"}};
  r.chunks = {body};
  return r;
}

}  // namespace

TEST_CASE("a JSON schema reaches Claude as output_config.format where the model has structured outputs") {
  FakeHost host({}, ALL_KEYS);
  host.replies.push_back(anthropicJson(
      R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"{\"city\":\"Paris\"}"}],"stop_reason":"end_turn","usage":{"input_tokens":10,"output_tokens":6}})"));
  auto res = host.chat(chat("claude-sonnet-4-5", SCHEMA_FORMAT));
  REQUIRE(res.status == 200);
  json sent = parse(host.fetches.at(0).body);
  CHECK(sent["output_config"]["format"]["type"] == "json_schema");
  CHECK(sent["output_config"]["format"]["schema"]["required"] == json::array({"city"}));
  CHECK_FALSE(sent.contains("system"));
  CHECK_FALSE(sent.contains("tools"));
  CHECK(parse(parse(res.body)["choices"][0]["message"]["content"].get<std::string>()) == json::parse(R"({"city":"Paris"})"));
}

TEST_CASE("without structured outputs Claude is asked through a forced tool, and its input is the answer") {
  FakeHost host({}, ALL_KEYS);
  host.replies.push_back(anthropicJson(
      R"({"id":"msg_2","type":"message","role":"assistant","model":"claude-sonnet-4","content":[{"type":"tool_use","id":"toolu_1","name":"json_output","input":{"city":"Rome"}}],"stop_reason":"tool_use","usage":{"input_tokens":10,"output_tokens":6}})"));
  auto res = host.chat(chat("claude-sonnet-4", SCHEMA_FORMAT));
  REQUIRE(res.status == 200);
  json sent = parse(host.fetches.at(0).body);
  CHECK(sent["tools"][0]["name"] == "json_output");
  CHECK(sent["tools"][0]["input_schema"]["required"] == json::array({"city"}));
  CHECK(sent["tool_choice"] == json::parse(R"({"type":"tool","name":"json_output"})"));
  json message = parse(res.body)["choices"][0];
  CHECK(message["finish_reason"] == "stop");
  CHECK_FALSE(message["message"].contains("tool_calls"));
  CHECK(parse(message["message"]["content"].get<std::string>()) == json::parse(R"({"city":"Rome"})"));

  // Streamed, split anywhere: the tool's input arrives as text deltas.
  const std::string stream =
      "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-sonnet-4\",\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}\n\n"
      "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"json_output\",\"input\":{}}}\n\n"
      "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"city\\\": \"}}\n\n"
      "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"\\\"Oslo\\\"}\"}}\n\n"
      "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
      "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":8}}\n\n"
      "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
  for (size_t slice : {0, 3}) {
    ScriptedReply r;
    r.headers = {{"content-type", "text/event-stream"}};
    if (slice == 0) r.chunks = {stream};
    else
      for (size_t i = 0; i < stream.size(); i += slice) r.chunks.push_back(stream.substr(i, slice));
    host.replies.push_back(r);
    auto streamed = host.chat(chat("claude-sonnet-4", std::string(SCHEMA_FORMAT) + R"(,"stream":true)"));
    CHECK(parse(streamedText(streamed.body)) == json::parse(R"({"city":"Oslo"})"));
    CHECK(streamed.body.find("\"finish_reason\":\"stop\"") != std::string::npos);
    CHECK(streamed.body.find("tool_calls") == std::string::npos);
  }
}

TEST_CASE("beside the client's own tools, a model without structured outputs gets the schema as an instruction") {
  FakeHost host({}, ALL_KEYS);
  host.replies.push_back(reply("anthropic/message.json"));
  auto res = host.chat(chat("claude-sonnet-4", std::string(SCHEMA_FORMAT) + TOOLS));
  REQUIRE(res.status == 200);
  json sent = parse(host.fetches.at(0).body);
  CHECK(sent["tools"][0]["name"] == "get_weather");
  CHECK(sent["system"].get<std::string>().find("JSON schema") != std::string::npos);
}
