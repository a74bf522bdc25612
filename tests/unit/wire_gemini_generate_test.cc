// Wire format gemini_generate: request encoding, answers, streams fed at
// every split point, every error class. Fixtures: tests/fixtures/gemini.
#include "codec_support.h"
#include "wire/gemini_generate.h"

using namespace gw::testing::codec;

TEST_CASE("gemini: request encoding uses contents, systemInstruction, generationConfig and function declarations") {
  FakeHost host({}, ALL_KEYS);
  host.replies.push_back(reply("gemini/generate.json"));
  host.chat(R"({"model":"gemini-2.5-flash","messages":[
    {"role":"system","content":"Be brief."},
    {"role":"user","content":[{"type":"text","text":"Hi"},{"type":"image_url","image_url":{"url":"data:image/jpeg;base64,/9j/4AAQ"}}]},
    {"role":"assistant","content":null,"tool_calls":[{"id":"call_9","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Paris\"}"}}]},
    {"role":"tool","tool_call_id":"call_9","content":"{\"temp\":18}"}],
    "temperature":0.3,"top_p":0.9,"max_tokens":100,"stop":["END"],"n":2,"seed":4,
    "response_format":{"type":"json_object"},"tool_choice":{"type":"function","function":{"name":"get_weather"}})" +
            std::string(TOOLS) + "}");
  REQUIRE(host.fetches.size() == 1);
  const auto& call = host.fetches[0];
  CHECK(call.url == "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent");
  CHECK(call.authSecret == "GEMINI_API_KEY");
  CHECK(call.authHeader == "x-goog-api-key");
  json sent = parse(call.body);
  CHECK(sent["systemInstruction"]["parts"][0]["text"] == "Be brief.");
  REQUIRE(sent["contents"].size() == 3);
  CHECK(sent["contents"][0]["role"] == "user");
  CHECK(sent["contents"][0]["parts"][1]["inlineData"] == json::parse(R"({"mimeType":"image/jpeg","data":"/9j/4AAQ"})"));
  CHECK(sent["contents"][1]["role"] == "model");
  CHECK(sent["contents"][1]["parts"][0]["functionCall"] == json::parse(R"({"name":"get_weather","args":{"location":"Paris"}})"));
  CHECK(sent["contents"][2]["parts"][0]["functionResponse"] == json::parse(R"({"name":"get_weather","response":{"temp":18}})"));
  auto& gen = sent["generationConfig"];
  CHECK(gen["maxOutputTokens"] == 100);
  CHECK(gen["temperature"] == 0.3);
  CHECK(gen["topP"] == 0.9);
  CHECK(gen["stopSequences"] == json::array({"END"}));
  CHECK(gen["candidateCount"] == 2);
  CHECK(gen["seed"] == 4);
  CHECK(gen["responseMimeType"] == "application/json");
  CHECK(sent["tools"][0]["functionDeclarations"][0]["name"] == "get_weather");
  CHECK(sent["toolConfig"]["functionCallingConfig"] == json::parse(R"({"mode":"ANY","allowedFunctionNames":["get_weather"]})"));

  host.replies.push_back(reply("gemini/stream.sse"));
  host.chat(chat("gemini-2.5-flash", R"(,"stream":true)"));
  CHECK(host.fetches[1].url ==
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
}

TEST_CASE("gemini: answers, function calls, usageMetadata and blocked prompts") {
  FakeHost host({}, ALL_KEYS);
  host.replies.push_back(reply("gemini/generate.json"));
  auto res = host.chat(chat("gemini-2.5-flash"));
  json body = parse(res.body);
  CHECK(body["choices"][0]["message"]["content"] == "Hello from Gemini éè 😀!");
  CHECK(body["usage"]["prompt_tokens"] == 8);
  CHECK(body["usage"]["completion_tokens"] == 19);  // thinking tokens are billed as output
  CHECK(body["usage"]["prompt_tokens_details"]["cached_tokens"] == 2);
  // 6 × $0.30 + 2 × $0.03 + 19 × $2.50 per 1M
  CHECK(res.headers["x-aigw-cost-usd"] == "0.00004936");

  host.replies.push_back(reply("gemini/generate_function_call.json"));
  body = parse(host.chat(chat("gemini-2.5-flash", TOOLS)).body);
  CHECK(body["choices"][0]["finish_reason"] == "tool_calls");
  auto& call = body["choices"][0]["message"]["tool_calls"][0];
  CHECK(call["function"]["name"] == "get_weather");
  CHECK(parse(call["function"]["arguments"].get<std::string>())["location"] == "San Francisco, CA");
  CHECK(call["id"].get<std::string>().rfind("call_", 0) == 0);

  host.replies.push_back(reply("gemini/blocked_prompt.json"));
  res = host.chat(chat("gemini-2.5-flash"));
  CHECK(res.status == 400);
  CHECK(parse(res.body)["error"]["code"] == "content_filter");
}

TEST_CASE("gemini: streams decode the same at every split point and reach the client as OpenAI chunks") {
  Recorder text = everySplit<gw::gemini_generate::EventDecoder>(fixture("gemini/stream.sse"));
  CHECK(text.log == "text 0 Hello\ntext 0  from Gemini éè 😀!\nfinish 0 stop\n");
  Recorder tool = everySplit<gw::gemini_generate::EventDecoder>(fixture("gemini/stream_function_call.sse"));
  CHECK(tool.log.find("call 0/0 call_0_0 get_weather\nfinish 0 tool_calls\n") != std::string::npos);

  FakeHost host({}, ALL_KEYS);
  host.replies.push_back(reply("gemini/stream.sse", 200, 13));
  auto res = host.chat(chat("gemini-2.5-flash", R"(,"stream":true)"));
  CHECK(streamedText(res.body) == "Hello from Gemini éè 😀!");
  CHECK(res.body.find(R"("finish_reason":"stop")") != std::string::npos);
  CHECK(res.body.find(R"("choices":[])") == std::string::npos);  // no usage chunk unless asked
  CHECK(res.body.substr(res.body.size() - 14) == "data: [DONE]\n\n");
}

TEST_CASE("gemini: every error class is OpenAI-shaped with the right status") {
  checkErrorClasses("gemini-2.5-pro", "gemini",
                    {{"gemini/error_rate_limit.json", 429, 429, "rate_limit_exceeded"},
                     {"gemini/error_bad_key.json", 400, 502, "upstream_auth_failed"},
                     {"gemini/error_context.json", 400, 400, "context_length_exceeded"},
                     {"gemini/error_unavailable.json", 503, 503, "upstream_overloaded"}});
}
