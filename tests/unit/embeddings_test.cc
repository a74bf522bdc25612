// POST /v1/embeddings: OpenAI-compatible pass-through and Gemini translation.
#include "codec_support.h"

using namespace gw::testing::codec;

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
