#include <catch2/catch.hpp>

#include "fake_host.h"
#include "gw/nlohmann.h"

using nlohmann::json;

namespace {

// Fixture bodies marked latin1 are sent as one byte per code point, which
// turns "ÿ" into the invalid UTF-8 byte 0xFF.
std::string toLatin1(const std::string& utf8) {
  std::string out;
  for (size_t i = 0; i < utf8.size(); ++i) {
    auto b = static_cast<unsigned char>(utf8[i]);
    if (b == 0xC3 && i + 1 < utf8.size()) {
      out.push_back(static_cast<char>(0xC0 | (static_cast<unsigned char>(utf8[++i]) & 0x3F)));
    } else {
      out.push_back(static_cast<char>(b));
    }
  }
  return out;
}

}  // namespace

TEST_CASE("every bad request in the shared table gets its 400 naming the param, and no upstream call") {
  std::string text = gw::testing::readFile(gw::testing::sourcePath("tests/fixtures/bad_requests.json"));
  json table = json::parse(text, nullptr, false);
  REQUIRE(table.is_array());
  REQUIRE(table.size() > 30);
  gw::testing::FakeHost host;
  for (const auto& row : table) {
    std::string body = row["body"].get<std::string>();
    if (row.contains("latin1")) body = toLatin1(body);
    INFO(row["name"].get<std::string>());
    auto res = host.chat(body);
    CHECK(res.status == row["status"].get<int>());
    json err = json::parse(res.body, nullptr, false);
    REQUIRE(err.is_object());
    REQUIRE(err["error"].is_object());
    CHECK(err["error"]["type"] == "invalid_request_error");
    CHECK(err["error"]["param"] == row["param"]);
    CHECK(err["error"]["code"] == row["code"]);
    CHECK(err["error"]["message"].is_string());
    CHECK(res.headers.count("x-request-id") == 1);
  }
  CHECK(host.fetches.empty());
  CHECK(host.gateway.liveSessions() == 0);
}

TEST_CASE("a repeated key is refused on every endpoint that forwards a body, before any call") {
  // Providers read the last of repeated keys and the gateway would check
  // one of them: nothing with a repeated key may reach a provider.
  gw::testing::FakeHost host({}, {"OPENAI_API_KEY", "ANTHROPIC_API_KEY"});
  struct Case {
    const char* path;
    const char* body;
    const char* param;
  };
  for (const Case& c : {
           Case{"/v1/embeddings", R"({"model":"text-embedding-3-small","input":"hi","model":"text-embedding-3-large"})",
                "model"},
           Case{"/v1/embeddings", R"({"model":"text-embedding-3-small","input":["a"],"encoding_format":"float","encoding_format":"base64"})",
                "encoding_format"},
           Case{"/v1/messages",
                R"({"model":"claude-haiku-4-5","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"max_tokens":16000})",
                "max_tokens"},
           Case{"/v1/messages",
                R"({"model":"claude-haiku-4-5","max_tokens":5,"messages":[{"role":"user","content":"hi","role":"assistant"}]})",
                "messages[0].role"},
           Case{"/api/v1/ai/generate", R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"maxTokens":5,"maxTokens":9000})",
                "maxTokens"},
       }) {
    INFO(c.path << " " << c.body);
    auto res = host.request("POST", c.path, c.body);
    CHECK(res.status == 400);
    json err = json::parse(res.body, nullptr, false);
    REQUIRE(err.is_object());
    CHECK(err["error"]["code"] == "duplicate_key");
    CHECK(err["error"]["param"] == c.param);
  }
  CHECK(host.fetches.empty());
}
