// Wire formats and the registry, through whole sessions on the fake host:
// Anthropic and Gemini translation (plain, tools, images, streams fed at
// every split point, every error class), catalog quirks, pricing, model
// resolution and capability checks. Fixtures are the providers' documented
// shapes, shared with the e2e layer.
#include <catch2/catch.hpp>

#include "../../core/providers/anthropic_messages.h"
#include "../../core/providers/gemini_generate.h"
#include "fake_host.h"
#include "gw/dialect.h"
#include "gw/nlohmann.h"
#include "gw/pricing.h"

using gw::testing::FakeHost;
using gw::testing::ScriptedReply;
using gw::testing::Vars;
using nlohmann::json;

namespace {

const std::vector<std::string> ALL_KEYS = {"OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GROQ_API_KEY",
                                           "MISTRAL_API_KEY", "AI_GATEWAY_API_KEY", "AZURE_OPENAI_API_KEY"};

std::string fixture(const std::string& name) {
  return gw::testing::readFile(gw::testing::sourcePath("tests/fixtures/" + name));
}
json parse(const std::string& s) { return json::parse(s, nullptr, false); }

ScriptedReply reply(const std::string& file, int status = 200, size_t slice = 0) {
  ScriptedReply r;
  r.status = status;
  r.headers = {{"content-type", "application/json"}};
  std::string body = fixture(file);
  if (slice == 0) r.chunks = {body};
  else
    for (size_t i = 0; i < body.size(); i += slice) r.chunks.push_back(body.substr(i, slice));
  return r;
}

std::string chat(const std::string& model, const std::string& extra = "") {
  return R"({"model":")" + model + R"(","messages":[{"role":"user","content":"What is the weather?"}])" + extra + "}";
}

const char* TOOLS = R"(,"tools":[{"type":"function","function":{"name":"get_weather","description":"Weather now","parameters":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}}}])";

// Collects what a decoder reports, for split-point comparisons.
class Recorder : public gw::ChunkSink {
 public:
  std::string log;
  void text(int c, std::string_view d) override { log += "text " + std::to_string(c) + " " + std::string(d) + "\n"; }
  void toolCall(int c, int i, std::string_view id, std::string_view n) override {
    log += "call " + std::to_string(c) + "/" + std::to_string(i) + " " + std::string(id) + " " + std::string(n) + "\n";
  }
  void toolArguments(int c, int i, std::string_view d) override {
    args[i] += std::string(d);
    (void)c;
  }
  void finish(int c, std::string_view r) override { log += "finish " + std::to_string(c) + " " + std::string(r) + "\n"; }
  std::map<int, std::string> args;
};

// Feeds `stream` split at every offset and requires the same events each time.
template <typename Decoder>
Recorder everySplit(const std::string& stream) {
  Recorder whole;
  Decoder d;
  d.feed(stream, whole);
  REQUIRE(d.complete());
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    Decoder split;
    Recorder r;
    split.feed(std::string_view(stream).substr(0, cut), r);
    split.feed(std::string_view(stream).substr(cut), r);
    INFO("split at " << cut);
    REQUIRE(r.log == whole.log);
    REQUIRE(r.args == whole.args);
    REQUIRE(split.complete());
    REQUIRE(split.usage().promptTokens == d.usage().promptTokens);
    REQUIRE(split.usage().completionTokens == d.usage().completionTokens);
  }
  return whole;
}

// Text of an OpenAI SSE body: concatenated delta contents.
std::string streamedText(const std::string& body) {
  std::string text;
  size_t at = 0;
  while ((at = body.find("data: {", at)) != std::string::npos) {
    size_t end = body.find("\n\n", at);
    json chunk = parse(body.substr(at + 6, end - at - 6));
    at = end;
    if (!chunk.contains("choices") || chunk["choices"].empty()) continue;
    auto& delta = chunk["choices"][0]["delta"];
    if (delta.contains("content") && delta["content"].is_string()) text += delta["content"].get<std::string>();
  }
  return text;
}

struct ErrorCase {
  const char* file;
  int upstream;
  int status;
  const char* code;
};

// Each provider error fixture reaches the client OpenAI-shaped, with the
// right status and code and the provider named.
void checkErrorClasses(const std::string& model, const std::string& provider, std::initializer_list<ErrorCase> cases) {
  for (const ErrorCase& c : cases) {
    FakeHost host(Vars{{"AI_GATEWAY_MAX_RETRIES", "0"}}, ALL_KEYS);
    host.replies.push_back(reply(c.file, c.upstream));
    auto res = host.chat(chat(model));
    INFO(c.file);
    CHECK(res.status == c.status);
    json err = parse(res.body);
    CHECK(err["error"]["code"] == c.code);
    CHECK(err["error"]["message"].get<std::string>().find(provider) != std::string::npos);
    CHECK(res.body.find("googleapis.com") == std::string::npos);
    CHECK(res.body.find("api.anthropic.com") == std::string::npos);
  }
}

}  // namespace

TEST_CASE("pricing is exact integer arithmetic with its own rate for cached and cache-written tokens") {
  CHECK(gw::formatPico(0) == "0");
  CHECK(gw::formatPico(1) == "0.000000000001");
  CHECK(gw::formatPico(14505000000) == "0.014505");
  CHECK(gw::formatPico(2500000000000) == "2.5");
  gw::Price p{3000000, 15000000, 300000, 3750000, true};
  gw::Usage u;
  u.promptTokens = 3195;  // 2095 fresh + 1000 read + 100 written
  u.cachedPromptTokens = 1000;
  u.cacheCreationTokens = 100;
  u.completionTokens = 503;
  gw::Cost c = gw::priceUsage(p, u, 5400000);
  CHECK(c.picoUsd == 2095LL * 3000000 + 1000LL * 300000 + 100LL * 3750000 + 503LL * 15000000);
  CHECK(gw::formatPico(c.picoUsd) == "0.014505");
  CHECK(gw::formatPico(c.picoBrl) == "0.078327");
  CHECK_FALSE(gw::priceUsage(gw::Price{}, u, 5400000).priced);
}

TEST_CASE("the registry: every row is priced and every provider of the catalog has models") {
  FakeHost host({}, ALL_KEYS);
  REQUIRE(host.configureStatus == gw::GwStatus::Ok);
  auto res = host.request("GET", "/api/v1/ai/models");
  REQUIRE(res.status == 200);
  json list = parse(res.body);
  std::set<std::string> providers;
  for (auto& m : list["data"]) {
    providers.insert(m["provider"].get<std::string>());
    CHECK(m["pricing"].contains("input"));
    CHECK(m["context_window"].get<int64_t>() > 0);
  }
  for (const char* p : {"openai", "anthropic", "gemini", "groq", "deepseek", "mistral", "openrouter", "huggingface",
                        "vercel", "together", "fireworks", "azure-openai", "ollama", "vllm", "llamacpp"})
    CHECK(providers.count(p) == 1);
  auto find = [&](const std::string& id) {
    for (auto& m : list["data"])
      if (m["id"] == id) return m;
    return json();
  };
  json mini = find("gpt-4o-mini");
  CHECK(mini["pricing"]["input"] == 0.15);
  CHECK(mini["pricing"]["output"] == 0.6);
  CHECK(mini["available"] == true);
  CHECK(mini["recommended"] == true);
  CHECK(mini["capabilities"] == json::array({"vision", "tools", "json", "streaming"}));
  CHECK(find("vllm/default")["available"] == false);
  CHECK(find("vllm/default")["availability"] == "needs VLLM_BASE_URL");
  CHECK(find("together/deepseek-ai/DeepSeek-V3")["availability"] == "needs TOGETHER_API_KEY");

  auto filtered = parse(host.request("GET", "/api/v1/ai/models?provider=anthropic&capability=vision").body);
  REQUIRE(!filtered["data"].empty());
  for (auto& m : filtered["data"]) CHECK(m["provider"] == "anthropic");
  auto embeddings = parse(host.request("GET", "/api/v1/ai/models?type=embedding").body);
  REQUIRE(embeddings["data"].size() >= 2);  // a loop over nothing would prove nothing
  for (auto& m : embeddings["data"]) CHECK(m["capabilities"] == json::array({"embeddings"}));

  auto openaiList = parse(host.request("GET", "/v1/models").body);
  json sonnet;
  for (auto& m : openaiList["data"])
    if (m["id"] == "claude-sonnet-4-5") sonnet = m;
  REQUIRE(sonnet.is_object());
  CHECK(sonnet["owned_by"] == "anthropic");
}

TEST_CASE("unknown model is a 404 naming close matches; capabilities the model lacks are a 400") {
  FakeHost host({}, ALL_KEYS);
  auto res = host.chat(chat("gpt-4o-mni"));
  CHECK(res.status == 404);
  json err = parse(res.body);
  CHECK(err["error"]["code"] == "model_not_found");
  CHECK(err["error"]["param"] == "model");
  CHECK(err["error"]["message"].get<std::string>().find("Did you mean 'gpt-4o-mini'") != std::string::npos);
  CHECK(parse(host.chat(chat("claude-sonet-4-5")).body)["error"]["message"].get<std::string>().find("claude-sonnet-4-5") !=
        std::string::npos);

  res = host.chat(
      R"({"model":"gpt-3.5-turbo","messages":[{"role":"user","content":[{"type":"text","text":"what is this"},{"type":"image_url","image_url":{"url":"https://example.com/cat.png"}}]}]})");
  CHECK(res.status == 400);
  err = parse(res.body);
  CHECK(err["error"]["param"] == "messages[0].content[1]");
  CHECK(err["error"]["code"] == "unsupported_capability");

  res = host.chat(chat("deepseek-reasoner", TOOLS));
  CHECK(res.status == 400);
  CHECK(parse(res.body)["error"]["param"] == "tools");
  res = host.chat(chat("gpt-4o-mini", R"(,"max_tokens":100000)"));
  CHECK(res.status == 400);
  CHECK(parse(res.body)["error"]["param"] == "max_tokens");
  res = host.chat(chat("text-embedding-3-small"));
  CHECK(res.status == 400);
  CHECK(parse(res.body)["error"]["param"] == "model");
  CHECK(host.fetches.empty());  // nothing reached a provider
}

TEST_CASE("OpenAI-compatible catalog rows: URL, auth and parameter quirks are data") {
  FakeHost host(Vars{{"AZURE_OPENAI_BASE_URL", "https://acme.openai.azure.com"}}, ALL_KEYS);
  host.replies.push_back(gw::testing::openaiReply("ok"));
  host.chat(chat("mistral-small-latest", R"(,"seed":7,"user":"u1","logit_bias":{"1":2},"max_completion_tokens":50)"));
  REQUIRE(host.fetches.size() == 1);
  CHECK(host.fetches[0].url == "https://api.mistral.ai/v1/chat/completions");
  json sent = parse(host.fetches[0].body);
  CHECK(sent["random_seed"] == 7);
  CHECK_FALSE(sent.contains("seed"));
  CHECK_FALSE(sent.contains("user"));
  CHECK_FALSE(sent.contains("logit_bias"));
  CHECK(sent["max_tokens"] == 50);

  host.replies.push_back(gw::testing::openaiReply("ok"));
  host.chat(chat("azure/gpt-4o-mini", R"(,"stream":false)"));
  CHECK(host.fetches[1].url == "https://acme.openai.azure.com/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21");
  CHECK(host.fetches[1].authStyle == "header");
  CHECK(host.fetches[1].authSecret == "AZURE_OPENAI_API_KEY");

  host.replies.push_back(gw::testing::openaiReply("ok"));
  host.chat(chat("vercel/openai/gpt-4o-mini"));
  CHECK(host.fetches[2].url == "https://ai-gateway.vercel.sh/v1/chat/completions");
  CHECK(host.fetches[2].authSecret == "AI_GATEWAY_API_KEY");
  CHECK(parse(host.fetches[2].body)["model"] == "openai/gpt-4o-mini");

  host.replies.push_back(gw::testing::openaiReply("ok"));
  host.chat(chat("llama-3.3-70b-versatile", R"(,"logprobs":true)"));
  CHECK(host.fetches[3].url == "https://api.groq.com/openai/v1/chat/completions");
  CHECK_FALSE(parse(host.fetches[3].body).contains("logprobs"));
}

TEST_CASE("self-hosted providers take any model by prefix, at no cost; vLLM needs its base URL") {
  FakeHost host(Vars{{"AI_GATEWAY_DEMO", "off"}}, {});
  host.replies.push_back(gw::testing::openaiReply("local", 10, 5));
  auto res = host.chat(chat("ollama/mistral-nemo"));
  REQUIRE(res.status == 200);
  CHECK(host.fetches[0].url == "http://127.0.0.1:11434/v1/chat/completions");
  CHECK(host.fetches[0].authSecret.empty());
  CHECK(parse(host.fetches[0].body)["model"] == "mistral-nemo");
  CHECK(res.headers["x-aigw-cost-usd"] == "0");
  res = host.chat(chat("vllm/default"));
  CHECK(res.status == 503);
  CHECK(parse(res.body)["error"]["message"].get<std::string>().find("VLLM_BASE_URL") != std::string::npos);
}

TEST_CASE("every response carries its exact cost from the registry") {
  FakeHost host({}, ALL_KEYS);
  host.replies.push_back(gw::testing::openaiReply("hi", 1000, 200));
  auto res = host.chat(chat("gpt-4o"));
  // 1000 × $2.50/1M + 200 × $10/1M
  CHECK(res.headers["x-aigw-cost-usd"] == "0.0045");
  CHECK(res.headers["x-aigw-cost-brl"] == "0.0243");
  CHECK(res.headers["x-aigw-provider"] == "openai");
  CHECK(res.headers["x-aigw-model"] == "gpt-4o");
  CHECK(res.headers.count("x-aigw-usage-estimated") == 0);

  ScriptedReply noUsage;
  noUsage.chunks = {R"({"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"12345678"},"finish_reason":"stop"}]})"};
  host.replies.push_back(noUsage);
  res = host.chat(chat("gpt-4o"));
  CHECK(res.headers["x-aigw-usage-estimated"] == "true");
  json log = parse(res.logs.at(0));
  CHECK(log["usage"]["estimated"] == true);
  CHECK(log["usage"]["completion_tokens"] == 2);  // 8 bytes / 4
}

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

TEST_CASE("/v1/embeddings: OpenAI-compatible pass-through and Gemini translation, priced") {
  FakeHost host({}, ALL_KEYS);
  ScriptedReply openai;
  openai.chunks = {R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":5,"total_tokens":5}})"};
  host.replies.push_back(openai);
  auto res = host.request("POST", "/v1/embeddings", R"({"model":"text-embedding-3-small","input":"hello world"})");
  REQUIRE(res.status == 200);
  CHECK(host.fetches[0].url == "https://api.openai.com/v1/embeddings");
  CHECK(res.body == openai.chunks[0]);
  CHECK(res.headers["x-aigw-cost-usd"] == "0.0000001");  // 5 × $0.02/1M

  host.replies.push_back(reply("gemini/embed.json"));
  res = host.request("POST", "/v1/embeddings", R"({"model":"gemini-embedding-001","input":"hello world!","dimensions":3})");
  REQUIRE(res.status == 200);
  CHECK(host.fetches[1].url == "https://generativelanguage.googleapis.com/v1beta/models/gemini-embedding-001:embedContent");
  CHECK(parse(host.fetches[1].body) == json::parse(R"({"content":{"parts":[{"text":"hello world!"}]},"outputDimensionality":3})"));
  json body = parse(res.body);
  CHECK(body["data"][0]["embedding"] == json::parse("[0.25,-0.5,1.0]"));
  CHECK(body["usage"]["prompt_tokens"] == 3);
  CHECK(res.headers["x-aigw-usage-estimated"] == "true");

  host.replies.push_back(reply("gemini/batch_embed.json"));
  res = host.request("POST", "/v1/embeddings",
                     R"({"model":"gemini-embedding-001","input":["a","b"],"encoding_format":"base64"})");
  CHECK(host.fetches[2].url.find(":batchEmbedContents") != std::string::npos);
  body = parse(res.body);
  CHECK(body["data"][0]["embedding"] == "AACAPgAAAL8=");  // float32 LE of 0.25, -0.5
  CHECK(body["data"][1]["index"] == 1);

  res = host.request("POST", "/v1/embeddings", R"({"model":"gpt-4o-mini","input":"x"})");
  CHECK(res.status == 400);
  CHECK(parse(res.body)["error"]["param"] == "model");
  res = host.request("POST", "/v1/embeddings", R"({"model":"text-embedding-3-small"})");
  CHECK(parse(res.body)["error"]["param"] == "input");
}

TEST_CASE("a provider's impossible choice and tool-call indexes are dropped, never trusted") {
  // An OpenAI-format stream decoded for the cache (and for other dialects):
  // indexes of -2, 10^9 or a fraction once reached a resize in the writer
  // and killed the instance with every request on it.
  const std::string bad =
      "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ok\"}}]}\n\n"
      "data: {\"choices\":[{\"index\":-2,\"delta\":{\"content\":\"neg\"}}]}\n\n"
      "data: {\"choices\":[{\"index\":1000000000,\"delta\":{\"content\":\"huge\"}}]}\n\n"
      "data: {\"choices\":[{\"index\":0.5,\"delta\":{\"content\":\"half\"}}]}\n\n"
      "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":-1,\"id\":\"c\",\"function\":{\"name\":\"f\"}},"
      "{\"index\":99999999999,\"function\":{\"arguments\":\"{}\"}}]}}]}\n\n"
      "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],"
      "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}\n\n"
      "data: [DONE]\n\n";
  for (const char* path : {"/v1/chat/completions", "/v1/messages", "/api/v1/ai/generate"}) {
    INFO(path);
    FakeHost host(Vars{{"AI_CACHE_ENABLED", "true"}}, ALL_KEYS);
    ScriptedReply r;
    r.chunks = {bad};
    host.replies.push_back(r);
    auto res = host.request("POST", path,
                            R"({"model":"gpt-4o-mini","max_tokens":9,"stream":true,"messages":[{"role":"user","content":"Hi"}]})");
    CHECK(res.status == 200);
    CHECK(res.completed);
    CHECK(res.body.find("ok") != std::string::npos);
    for (const char* dropped : {"neg", "huge", "half", "-2", "1000000000", "99999999999"}) {
      INFO(dropped);
      CHECK(res.body.find(dropped) == std::string::npos);
    }
    // And the instance lives on: the next request is served.
    host.replies.push_back(gw::testing::openaiReply("next"));
    CHECK(host.chat(chat("gpt-4o-mini")).status == 200);
  }
  // Non-streamed: an out-of-range index falls back to the choice's position.
  FakeHost host({}, ALL_KEYS);
  host.replies.push_back(reply("openai/chat_completion.json"));
  host.replies.back().chunks = {R"({"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":-7,"message":{"role":"assistant","content":"a"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}})"};
  auto res = host.request("POST", "/v1/messages", R"({"model":"gpt-4o-mini","max_tokens":9,"messages":[{"role":"user","content":"Hi"}]})");
  CHECK(res.status == 200);
  CHECK(parse(res.body)["content"][0]["text"] == "a");
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

TEST_CASE("CORS: a preflight allows what the official SDKs send; responses expose every gateway header") {
  FakeHost host;
  auto pre = host.request("OPTIONS", "/v1/chat/completions", "",
                          {{"origin", "http://localhost:5173"},
                           {"access-control-request-method", "POST"},
                           {"access-control-request-headers",
                            "authorization,content-type,x-stainless-arch,x-stainless-lang,x-stainless-os,"
                            "x-stainless-package-version,x-stainless-retry-count,x-stainless-runtime,"
                            "x-stainless-runtime-version,x-stainless-timeout,anthropic-version,"
                            "anthropic-dangerous-direct-browser-access,x-aigw-routing,cache-control"}});
  CHECK(pre.status == 204);
  const std::string allowed = pre.headers["access-control-allow-headers"];
  for (const char* h : {"authorization", "x-stainless-retry-count", "x-stainless-timeout", "anthropic-version",
                        "anthropic-dangerous-direct-browser-access", "x-aigw-routing", "cache-control", "x-api-key"}) {
    INFO(h);
    CHECK(allowed.find(h) != std::string::npos);
  }
  CHECK(pre.headers["access-control-allow-origin"] == "*");
  // Something that is not a list of header names is not echoed.
  auto odd = host.request("OPTIONS", "/v1/chat/completions", "", {{"access-control-request-headers", "x-a\r\nset-cookie: 1"}});
  CHECK(odd.headers["access-control-allow-headers"].find("set-cookie") == std::string::npos);
  host.replies.push_back(gw::testing::openaiReply("ok"));
  auto r = host.chat(chat("gpt-4o-mini"));
  const std::string exposed = r.headers["access-control-expose-headers"];
  for (const auto& [name, value] : r.headers) {
    if (name.rfind("x-", 0) != 0 && name != "retry-after" && name != "server-timing" && name != "request-id") continue;
    INFO(name);
    CHECK(exposed.find(name) != std::string::npos);
  }
  CHECK(exposed.find("x-ratelimit-remaining-tokens") != std::string::npos);
  CHECK(exposed.find("retry-after") != std::string::npos);
}

TEST_CASE("/v1/embeddings: base64 asked of an upstream that answers floats comes back as base64") {
  FakeHost host({}, ALL_KEYS);
  ScriptedReply floats;
  floats.chunks = {R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.25,-0.5]},)"
                   R"({"object":"embedding","index":1,"embedding":[1.0,2e-3]}],"model":"m","usage":{"prompt_tokens":3,"total_tokens":3}})"};
  host.replies.push_back(floats);
  auto res = host.request("POST", "/v1/embeddings", R"({"model":"text-embedding-3-small","input":["a","b"],"encoding_format":"base64"})");
  REQUIRE(res.status == 200);
  json b = parse(res.body);
  // 0.25 and -0.5 as little-endian float32.
  CHECK(b["data"][0]["embedding"] == "AACAPgAAAL8=");
  CHECK(b["data"][1]["embedding"].is_string());
  CHECK(b["usage"]["prompt_tokens"] == 3);
  // Floats asked (or nothing asked): passed as they came.
  host.replies.push_back(floats);
  res = host.request("POST", "/v1/embeddings", R"({"model":"text-embedding-3-small","input":["a","b"]})");
  CHECK(parse(res.body)["data"][0]["embedding"][1] == -0.5);
  // An upstream that did answer base64 is left alone.
  ScriptedReply encoded;
  encoded.chunks = {R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":"AACAPgAAAL8="}],"model":"m","usage":{"prompt_tokens":1,"total_tokens":1}})"};
  host.replies.push_back(encoded);
  res = host.request("POST", "/v1/embeddings", R"({"model":"text-embedding-3-small","input":"a","encoding_format":"base64"})");
  CHECK(parse(res.body)["data"][0]["embedding"] == "AACAPgAAAL8=");
}

TEST_CASE("/v1/messages: a top-level user_id is not taken for metadata.user_id") {
  FakeHost host({}, ALL_KEYS);
  host.replies.push_back(gw::testing::openaiReply("ok"));
  auto res = host.request("POST", "/v1/messages",
                          R"({"model":"gpt-4o-mini","max_tokens":8,"user_id":"spoofed","messages":[{"role":"user","content":"Hi"}]})");
  REQUIRE(res.status == 200);
  CHECK(host.fetches.at(0).body.find("spoofed") == std::string::npos);
}

TEST_CASE("an error inside an OpenAI-format stream names its provider") {
  FakeHost host({}, ALL_KEYS);
  ScriptedReply r;
  r.chunks = {"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\n"
              "data: {\"error\":{\"message\":\"model overloaded\",\"type\":\"server_error\"}}\n\n"};
  host.replies.push_back(r);
  auto res = host.request("POST", "/v1/messages",
                          R"({"model":"llama-3.1-8b-instant","max_tokens":8,"stream":true,"messages":[{"role":"user","content":"Hi"}]})");
  CHECK(res.body.find("event: error") != std::string::npos);
  CHECK(res.body.find("'groq'") != std::string::npos);
  CHECK(res.body.find("'upstream'") == std::string::npos);
}

TEST_CASE("allow_unknown_models never routes to a default provider that is switched off") {
  FakeHost host({}, ALL_KEYS);
  host.kv["config:override"] = R"({"gateway":{"allow_unknown_models":true}})";
  host.replies.push_back(gw::testing::openaiReply("passed through"));
  auto routed = host.chat(chat("some-new-model"));
  CHECK(routed.status == 200);
  CHECK(parse(host.fetches.back().body)["model"] == "some-new-model");
  REQUIRE(host.request("POST", "/api/v1/ai/admin/providers/openai/toggle", "", gw::testing::adminHeaders()).status == 200);
  const size_t calls = host.fetches.size();
  auto refused = host.chat(chat("some-new-model"));
  CHECK(refused.status == 404);
  CHECK(parse(refused.body)["error"]["code"] == "model_not_found");
  CHECK(host.fetches.size() == calls);
}
