// The provider catalog and the model registry, through whole sessions on the fake host:
// pricing, model resolution, capability checks, OpenAI-compatible rows
// (URL, auth, request and response quirks are data).
#include "codec_support.h"
#include "gw/pricing.h"

using namespace gw::testing::codec;

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
