// Wire format openai_chat (OpenAI and every OpenAI-compatible provider):
// streams with untrusted indexes, errors inside streams.
#include "codec_support.h"
#include "gw/pricing.h"

using namespace gw::testing::codec;

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

namespace {

ScriptedReply body(int status, std::string text, bool stream = false) {
  ScriptedReply r;
  r.status = status;
  r.headers = {{"content-type", stream ? "text/event-stream" : "application/json"}};
  r.chunks = {std::move(text)};
  return r;
}

// The newest usage row's columns.
json lastRow(FakeHost& host) {
  json rows = parse(host.d1->query("SELECT input_tokens, output_tokens, cached_tokens, provider FROM gateway_usage_logs "
                                   "ORDER BY created_at DESC, rowid DESC LIMIT 1"));
  REQUIRE(rows.size() == 1);
  return rows[0];
}

}  // namespace

TEST_CASE("response quirks are catalog data: Groq's usage under x_groq, DeepSeek's cache hits, vLLM's detail") {
  SECTION("groq: a stream's usage under x_groq is the usage charged") {
    FakeHost host({}, ALL_KEYS);
    host.replies.push_back(body(200,
                                "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n"
                                "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],"
                                "\"x_groq\":{\"usage\":{\"prompt_tokens\":21,\"completion_tokens\":4,\"total_tokens\":25}}}\n\n"
                                "data: [DONE]\n\n",
                                true));
    auto res = host.chat(chat("llama-3.1-8b-instant", R"(,"stream":true,"stream_options":{"include_usage":true})"));
    REQUIRE(res.status == 200);
    json row = lastRow(host);
    CHECK(row["provider"].get<std::string>() == "groq");
    CHECK(row["input_tokens"].get<int64_t>() == 21);
    CHECK(row["output_tokens"].get<int64_t>() == 4);
  }
  SECTION("deepseek: prompt_cache_hit_tokens are the cached tokens, priced as cache reads") {
    FakeHost host(Vars{}, {"DEEPSEEK_API_KEY"});
    host.replies.push_back(body(200, R"({"id":"x","object":"chat.completion","model":"deepseek-chat","choices":[{"index":0,
      "message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],
      "usage":{"prompt_tokens":1000,"completion_tokens":10,"total_tokens":1010,"prompt_cache_hit_tokens":800}})"));
    auto res = host.chat(chat("deepseek-chat"));
    REQUIRE(res.status == 200);
    CHECK(lastRow(host)["cached_tokens"].get<int64_t>() == 800);
    // 200 fresh at 0.28, 800 read at 0.028, 10 out at 0.42 (USD per 1M tokens).
    CHECK(res.headers["x-aigw-cost-usd"] == gw::formatPico(200LL * 280000 + 800LL * 28000 + 10LL * 420000));
  }
  SECTION("vllm: an error's message in detail reaches the client") {
    FakeHost host(Vars{{"VLLM_BASE_URL", "http://127.0.0.1:8000/v1"}, {"AI_GATEWAY_MAX_RETRIES", "0"}}, {});
    host.replies.push_back(body(400, R"({"detail":"max_tokens must be at least 1"})"));
    auto res = host.chat(chat("vllm/default"));
    CHECK(res.status == 400);
    const std::string message = parse(res.body)["error"]["message"];
    CHECK(message.find("max_tokens must be at least 1") != std::string::npos);
    CHECK(message.find("{\"detail\"") == std::string::npos);  // the message, not the body it came in
  }
  SECTION("a provider without the quirk keeps OpenAI's fields only") {
    FakeHost host;
    host.replies.push_back(body(200, R"({"id":"x","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,
      "message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],
      "usage":{"prompt_tokens":1000,"completion_tokens":10,"total_tokens":1010,"prompt_cache_hit_tokens":800}})"));
    REQUIRE(host.chat(chat("gpt-4o-mini")).status == 200);
    CHECK(lastRow(host)["cached_tokens"].get<int64_t>() == 0);
  }
}
