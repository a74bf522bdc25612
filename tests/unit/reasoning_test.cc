// Reasoning across providers: reasoning_effort as Anthropic's thinking
// budget and Gemini's thinkingConfig (README: Reasoning), reasoning text
// and signatures back in each client's place for them, and Gemini's thought
// signatures carried through a chat client's tool loop.
#include "codec_support.h"
#include "wire/gemini_generate.h"

using namespace gw::testing::codec;

namespace {

json sentFor(const std::string& body) {
  FakeHost host({}, ALL_KEYS);
  host.replies.push_back(gw::testing::openaiReply("ok"));
  auto res = host.chat(body);
  INFO(res.body);
  REQUIRE(!host.fetches.empty());
  return parse(host.fetches.back().body);
}

}  // namespace

TEST_CASE("reasoning_effort becomes Anthropic's thinking budget, within max_tokens") {
  json sent = sentFor(R"({"model":"claude-sonnet-4-5","max_tokens":20000,"reasoning_effort":"high","temperature":0.3,"messages":[{"role":"user","content":"x"}]})");
  CHECK(sent["thinking"] == json::parse(R"({"type":"enabled","budget_tokens":16384})"));
  CHECK_FALSE(sent.contains("temperature"));  // thinking takes the default sampling
  CHECK(sent["max_tokens"] == 20000);
  sent = sentFor(R"({"model":"claude-sonnet-4-5","max_tokens":1500,"reasoning_effort":"high","messages":[{"role":"user","content":"x"}]})");
  CHECK(sent["thinking"]["budget_tokens"] == 1499);
  sent = sentFor(R"({"model":"claude-sonnet-4-5","max_tokens":900,"reasoning_effort":"high","messages":[{"role":"user","content":"x"}]})");
  CHECK_FALSE(sent.contains("thinking"));
  sent = sentFor(R"({"model":"claude-sonnet-4-5","max_tokens":4000,"reasoning_effort":"low","tool_choice":"required",)"
                 R"("tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"messages":[{"role":"user","content":"x"}]})");
  CHECK_FALSE(sent.contains("thinking"));  // Anthropic refuses thinking with a forced tool
  sent = sentFor(R"({"model":"claude-3-5-haiku","max_tokens":4000,"reasoning_effort":"low","messages":[{"role":"user","content":"x"}]})");
  CHECK_FALSE(sent.contains("thinking"));  // a model that does not think
}

TEST_CASE("reasoning_effort becomes Gemini's thinkingConfig: a budget on 2.5, a level on 3") {
  json sent = sentFor(R"({"model":"gemini-2.5-flash","reasoning_effort":"medium","messages":[{"role":"user","content":"x"}]})");
  CHECK(sent["generationConfig"]["thinkingConfig"] == json::parse(R"({"thinkingBudget":8192,"includeThoughts":true})"));
  sent = sentFor(R"({"model":"gemini-2.5-pro","reasoning_effort":"none","messages":[{"role":"user","content":"x"}]})");
  CHECK(sent["generationConfig"]["thinkingConfig"] == json::parse(R"({"thinkingBudget":128,"includeThoughts":false})"));
  sent = sentFor(R"({"model":"gemini-3-pro-preview","reasoning_effort":"high","messages":[{"role":"user","content":"x"}]})");
  CHECK(sent["generationConfig"]["thinkingConfig"] == json::parse(R"({"thinkingLevel":"high","includeThoughts":true})"));
  sent = sentFor(R"({"model":"gemini-2.0-flash","reasoning_effort":"high","messages":[{"role":"user","content":"x"}]})");
  CHECK_FALSE(sent["generationConfig"].contains("thinkingConfig"));
}

TEST_CASE("reasoning_effort passes to OpenAI models that reason and is left out for those that do not") {
  CHECK(sentFor(R"({"model":"o4-mini","reasoning_effort":"low","messages":[{"role":"user","content":"x"}]})")["reasoning_effort"] == "low");
  CHECK_FALSE(sentFor(R"({"model":"gpt-4o-mini","reasoning_effort":"low","messages":[{"role":"user","content":"x"}]})").contains("reasoning_effort"));
  FakeHost host({}, ALL_KEYS);
  auto res = host.chat(R"({"model":"o4-mini","reasoning_effort":"maximum","messages":[{"role":"user","content":"x"}]})");
  CHECK(res.status == 400);
  CHECK(parse(res.body)["error"]["param"] == "reasoning_effort");
  CHECK(host.fetches.empty());
}

TEST_CASE("Anthropic's thinking reaches each client's place for it, with its signature and tokens") {
  const json fixtureMessage = parse(fixture("anthropic/message_thinking.json"));
  const std::string signature = fixtureMessage["content"][0]["signature"];
  const std::string thinking = fixtureMessage["content"][0]["thinking"];
  FakeHost host({}, ALL_KEYS);
  host.replies.push_back(reply("anthropic/message_thinking.json"));
  auto chat = host.chat(R"({"model":"claude-sonnet-4-5","max_tokens":4000,"reasoning_effort":"low","messages":[{"role":"user","content":"27*453?"}]})");
  REQUIRE(chat.status == 200);
  json c = parse(chat.body);
  CHECK(c["choices"][0]["message"]["reasoning_content"] == thinking);
  CHECK(c["choices"][0]["message"]["content"] == "27 * 453 = 12,231.");
  CHECK(c["usage"]["completion_tokens"] == 120);
  CHECK(c["usage"]["completion_tokens_details"]["reasoning_tokens"] == 90);

  host.replies.push_back(reply("anthropic/message_thinking.json"));
  auto res = host.request("POST", "/v1/responses", R"({"model":"claude-sonnet-4-5","input":"27*453?","reasoning":{"effort":"low"}})");
  REQUIRE(res.status == 200);
  json r = parse(res.body);
  REQUIRE(r["output"].size() == 2);
  CHECK(r["output"][0]["type"] == "reasoning");
  CHECK(r["output"][0]["summary"][0] == json({{"type", "summary_text"}, {"text", thinking}}));
  CHECK(r["output"][0]["encrypted_content"] == signature);
  CHECK(r["output"][1]["type"] == "message");
  CHECK(r["usage"]["output_tokens_details"]["reasoning_tokens"] == 90);

  // Streamed: reasoning_content deltas for chat, summary events for Responses, split anywhere.
  for (size_t slice : {0, 5}) {
    ScriptedReply s = reply("anthropic/stream_thinking.sse", 200, slice);
    s.headers = {{"content-type", "text/event-stream"}};
    host.replies.push_back(s);
    auto streamed = host.chat(R"({"model":"claude-sonnet-4-5","max_tokens":4000,"reasoning_effort":"low","stream":true,"messages":[{"role":"user","content":"x"}]})");
    std::string reasoningText;
    size_t at = 0;
    while ((at = streamed.body.find("data: {", at)) != std::string::npos) {
      size_t end = streamed.body.find("\n\n", at);
      json chunk = parse(streamed.body.substr(at + 6, end - at - 6));
      at = end;
      if (chunk.contains("choices") && !chunk["choices"].empty() && chunk["choices"][0]["delta"].contains("reasoning_content"))
        reasoningText += chunk["choices"][0]["delta"]["reasoning_content"].get<std::string>();
    }
    CHECK(reasoningText == "27 * 453: 27 * 400 = 10800, 27 * 53 = 1431, so 12231.");
    CHECK(streamedText(streamed.body) == "27 * 453 = 12,231.");

    s = reply("anthropic/stream_thinking.sse", 200, slice);
    s.headers = {{"content-type", "text/event-stream"}};
    host.replies.push_back(s);
    auto rs = host.request("POST", "/v1/responses", R"({"model":"claude-sonnet-4-5","input":"x","stream":true,"reasoning":{"effort":"low"}})");
    CHECK(rs.body.find(R"("type":"response.reasoning_summary_part.added")") != std::string::npos);
    CHECK(rs.body.find(R"("type":"response.reasoning_summary_text.delta")") != std::string::npos);
    CHECK(rs.body.find(R"("text":"27 * 453: 27 * 400 = 10800, 27 * 53 = 1431, so 12231.")") != std::string::npos);
    CHECK(rs.body.find(R"("encrypted_content":")" + signature) != std::string::npos);
  }
}

TEST_CASE("Gemini's thoughts come back as reasoning, and a call's thought signature returns with the call") {
  FakeHost host({}, ALL_KEYS);
  host.replies.push_back(reply("gemini/generate_thinking_function_call.json"));
  const std::string tools = R"("tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}])";
  auto first = host.chat(R"({"model":"gemini-3-pro-preview","reasoning_effort":"high","messages":[{"role":"user","content":"Weather in Paris?"}],)" + tools + "}");
  REQUIRE(first.status == 200);
  json answer = parse(first.body);
  json message = answer["choices"][0]["message"];
  CHECK(message["reasoning_content"] == "The user wants the weather; I should call get_weather for Paris.");
  const std::string id = message["tool_calls"][0]["id"];
  // Only characters every provider allows in a call id.
  for (char ch : id) CHECK((std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-'));
  CHECK(gw::gemini_generate::signatureOfCallId(id) == "CiQBVKhc7ryF+3/aUkGO1qGhQQ==");
  CHECK(answer["usage"]["completion_tokens_details"]["reasoning_tokens"] == 40);

  // The client sends the turn back as it got it; Gemini gets the signature on the call.
  host.replies.push_back(reply("gemini/generate.json"));
  json turn = json::parse(R"({"model":"gemini-3-pro-preview","messages":[{"role":"user","content":"Weather in Paris?"}]})");
  turn["messages"].push_back({{"role", "assistant"}, {"content", nullptr}, {"tool_calls", message["tool_calls"]}});
  turn["messages"].push_back({{"role", "tool"}, {"tool_call_id", id}, {"content", "18C"}});
  turn["tools"] = json::parse(R"([{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}])");
  auto second = host.chat(turn.dump());
  REQUIRE(second.status == 200);
  json sent = parse(host.fetches.back().body);
  json modelTurn = sent["contents"][1];
  CHECK(modelTurn["role"] == "model");
  CHECK(modelTurn["parts"][0]["functionCall"]["name"] == "get_weather");
  CHECK(modelTurn["parts"][0]["thoughtSignature"] == "CiQBVKhc7ryF+3/aUkGO1qGhQQ==");
  CHECK(sent["contents"][2]["parts"][0]["functionResponse"]["name"] == "get_weather");
}

TEST_CASE("an OpenAI-compatible provider's reasoning field becomes an Anthropic client's thinking block") {
  FakeHost host({}, ALL_KEYS);
  ScriptedReply r;
  r.chunks = {R"({"id":"c1","object":"chat.completion","model":"openai/gpt-oss-120b","choices":[{"index":0,"message":{"role":"assistant",)"
              R"("reasoning":"Two and two make four.","content":"4"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21}})"};
  host.replies.push_back(r);
  auto res = host.request("POST", "/v1/messages",
                          R"({"model":"groq/openai/gpt-oss-120b","max_tokens":256,"messages":[{"role":"user","content":"2+2?"}]})");
  REQUIRE(res.status == 200);
  json m = parse(res.body);
  CHECK(m["content"][0] == json::parse(R"({"type":"thinking","thinking":"Two and two make four.","signature":""})"));
  CHECK(m["content"][1]["text"] == "4");
}

TEST_CASE("a chat client's tool loop on Claude keeps its thinking: thinking_blocks out, echoed back, sent first") {
  FakeHost host({}, ALL_KEYS);
  const std::string tools = R"("tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}])";
  host.replies.push_back(reply("anthropic/message_thinking_tool_use.json"));
  auto first = host.chat(R"({"model":"claude-sonnet-4-5","max_tokens":4000,"reasoning_effort":"low",)" + tools +
                         R"(,"messages":[{"role":"user","content":"Weather in Paris?"}]})");
  REQUIRE(first.status == 200);
  json message = parse(first.body)["choices"][0]["message"];
  CHECK(message["thinking_blocks"] == json::parse(R"([{"type":"thinking","thinking":"The user wants the weather in Paris; I should call get_weather.",
                                                      "signature":"EuYBCkQYAiJAthinkingtoolsignature0123456789abcdefABCDEF=="}])"));
  REQUIRE(message["tool_calls"].size() == 1);

  // The client sends the message back as it got it, with the tool's result.
  json second = json::parse(R"({"model":"claude-sonnet-4-5","max_tokens":4000,"reasoning_effort":"low",)" + tools + "}");
  second["messages"] = json::array({json::parse(R"({"role":"user","content":"Weather in Paris?"})"), message,
                                    {{"role", "tool"}, {"tool_call_id", message["tool_calls"][0]["id"]}, {"content", "18C"}}});
  host.replies.push_back(reply("anthropic/message_thinking.json"));
  auto loop = host.chat(second.dump());
  INFO(loop.body);
  REQUIRE(loop.status == 200);
  json sent = parse(host.fetches.back().body);
  CHECK(sent["thinking"]["budget_tokens"] == 2048);  // thinking stays on through the loop
  json assistant = sent["messages"][1];
  REQUIRE(assistant["role"] == "assistant");
  CHECK(assistant["content"][0] == json::parse(R"({"type":"thinking","thinking":"The user wants the weather in Paris; I should call get_weather.",
                                                   "signature":"EuYBCkQYAiJAthinkingtoolsignature0123456789abcdefABCDEF=="})"));
  CHECK(assistant["content"][1]["type"] == "tool_use");

  // Without the block (a client that kept only content and tool_calls) the turn goes without thinking, as Anthropic requires.
  second["messages"][1].erase("thinking_blocks");
  host.replies.push_back(reply("anthropic/message.json"));
  REQUIRE(host.chat(second.dump()).status == 200);
  sent = parse(host.fetches.back().body);
  CHECK_FALSE(sent.contains("thinking"));
  CHECK(sent["messages"][1]["content"][0]["type"] == "tool_use");
}

TEST_CASE("thinking_blocks are checked, and never reach an OpenAI-compatible provider") {
  FakeHost host({}, ALL_KEYS);
  auto bad = host.chat(R"({"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"a"},
                          {"role":"assistant","content":"b","thinking_blocks":[{"type":"thought","thinking":"x","signature":"y"}]},
                          {"role":"user","content":"c"}]})");
  CHECK(bad.status == 400);
  CHECK(parse(bad.body)["error"]["param"] == "messages[1].thinking_blocks[0].type");
  auto unsigned_ = host.chat(R"({"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"a"},
                                {"role":"assistant","content":"b","thinking_blocks":[{"type":"thinking","thinking":"x"}]}]})");
  INFO(unsigned_.body);
  CHECK(parse(unsigned_.body)["error"]["param"] == "messages[1].thinking_blocks[0].signature");
  CHECK(host.fetches.empty());
  host.replies.push_back(gw::testing::openaiReply("ok"));
  REQUIRE(host.chat(R"({"model":"llama-3.1-8b-instant","messages":[{"role":"user","content":"a"},
                        {"role":"assistant","thinking_blocks":[{"type":"thinking","thinking":"x","signature":"y"}],"content":"b"},
                        {"role":"user","content":"c"}]})").status == 200);
  json sent = parse(host.fetches.back().body);
  CHECK(sent["messages"][1] == json::parse(R"({"role":"assistant","content":"b"})"));
}

TEST_CASE("Responses on Claude: a stored conversation and reasoning items keep the thinking a tool loop needs") {
  FakeHost host({}, ALL_KEYS);
  const std::string tools = R"("tools":[{"type":"function","name":"get_weather","parameters":{"type":"object"}}])";
  host.replies.push_back(reply("anthropic/message_thinking_tool_use.json"));
  auto first = host.request("POST", "/v1/responses",
                            R"({"model":"claude-sonnet-4-5","max_output_tokens":4000,"reasoning":{"effort":"low"},)" + tools +
                                R"(,"input":"Weather in Paris?"})");
  REQUIRE(first.status == 200);
  json one = parse(first.body);
  REQUIRE(one["output"][0]["type"] == "reasoning");
  CHECK(one["output"][0]["encrypted_content"] == "EuYBCkQYAiJAthinkingtoolsignature0123456789abcdefABCDEF==");
  const std::string callId = one["output"][1]["call_id"];
  const json thinking = json::parse(R"({"type":"thinking","thinking":"The user wants the weather in Paris; I should call get_weather.",
                                        "signature":"EuYBCkQYAiJAthinkingtoolsignature0123456789abcdefABCDEF=="})");
  const std::string output = R"({"type":"function_call_output","call_id":")" + callId + R"(","output":"18C"})";

  // By previous_response_id: the stored conversation kept the thinking.
  host.replies.push_back(reply("anthropic/message_thinking.json"));
  REQUIRE(host.request("POST", "/v1/responses",
                       R"({"model":"claude-sonnet-4-5","max_output_tokens":4000,"reasoning":{"effort":"low"},)" + tools +
                           R"(,"previous_response_id":")" + one["id"].get<std::string>() + R"(","input":[)" + output + "]}")
              .status == 200);
  json sent = parse(host.fetches.back().body);
  CHECK(sent["thinking"]["budget_tokens"] == 2048);
  CHECK(sent["messages"][1]["content"][0] == thinking);

  // By sending the output items back (the openai SDK's loop): the reasoning item is the thinking.
  json input = json::array({json::parse(R"({"role":"user","content":"Weather in Paris?"})")});
  for (auto& item : one["output"]) input.push_back(item);
  input.push_back(json::parse(output));
  json again = json::parse(R"({"model":"claude-sonnet-4-5","max_output_tokens":4000,"reasoning":{"effort":"low"},)" + tools + "}");
  again["input"] = input;
  host.replies.push_back(reply("anthropic/message_thinking.json"));
  REQUIRE(host.request("POST", "/v1/responses", again.dump()).status == 200);
  sent = parse(host.fetches.back().body);
  CHECK(sent["thinking"]["budget_tokens"] == 2048);
  CHECK(sent["messages"][1]["content"][0] == thinking);

  // OpenAI's own reasoning (its ids, its encryption) is nothing Claude can take: left out.
  again["input"][1]["id"] = "rs_68c1f2a4aa11bb22cc33dd44ee55ff6600112233445566778";
  again["input"][1]["encrypted_content"] = "gAAAAABopenai";
  host.replies.push_back(reply("anthropic/message.json"));
  REQUIRE(host.request("POST", "/v1/responses", again.dump()).status == 200);
  sent = parse(host.fetches.back().body);
  CHECK_FALSE(sent.contains("thinking"));
  CHECK(sent["messages"][1]["content"][0]["type"] == "tool_use");
}
