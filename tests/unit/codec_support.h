#pragma once
// What the codec and dialect tests share: fixtures, scripted replies, a
// recorder of decoded events, every-split-point feeding, and the error-class
// check. Fixtures are the providers' documented shapes, shared with the e2e
// layer (tests/fixtures/<format>/).
#include <catch2/catch.hpp>

#include <initializer_list>
#include <map>
#include <string>

#include "fake_host.h"
#include "gw/completion.h"
#include "gw/nlohmann.h"

namespace gw::testing::codec {

using gw::testing::FakeHost;
using gw::testing::ScriptedReply;
using gw::testing::Vars;
using nlohmann::json;


inline const std::vector<std::string> ALL_KEYS = {"OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GROQ_API_KEY",
                                           "MISTRAL_API_KEY", "AI_GATEWAY_API_KEY", "AZURE_OPENAI_API_KEY"};

inline std::string fixture(const std::string& name) {
  return gw::testing::readFile(gw::testing::sourcePath("tests/fixtures/" + name));
}
inline json parse(const std::string& s) { return json::parse(s, nullptr, false); }

inline ScriptedReply reply(const std::string& file, int status = 200, size_t slice = 0) {
  ScriptedReply r;
  r.status = status;
  r.headers = {{"content-type", "application/json"}};
  std::string body = fixture(file);
  if (slice == 0) r.chunks = {body};
  else
    for (size_t i = 0; i < body.size(); i += slice) r.chunks.push_back(body.substr(i, slice));
  return r;
}

inline std::string chat(const std::string& model, const std::string& extra = "") {
  return R"({"model":")" + model + R"(","messages":[{"role":"user","content":"What is the weather?"}])" + extra + "}";
}

inline const char* TOOLS = R"(,"tools":[{"type":"function","function":{"name":"get_weather","description":"Weather now","parameters":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}}}])";

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
inline Recorder everySplit(const std::string& stream) {
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
inline std::string streamedText(const std::string& body) {
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
inline void checkErrorClasses(const std::string& model, const std::string& provider, std::initializer_list<ErrorCase> cases) {
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


}  // namespace gw::testing::codec
