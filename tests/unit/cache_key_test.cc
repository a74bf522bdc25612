// The cache key: SHA-256 (NIST vectors) over the canonical document, checked
// against the golden cases in tests/fixtures/cache/keys.json; the cache
// decision; and the stored entry's round trip and rejection of bad entries.
#include <catch2/catch.hpp>

#include "fake_host.h"
#include "gw/cache.h"
#include "gw/nlohmann.h"
#include "gw/sha256.h"

using nlohmann::json;

namespace {

json fixture() {
  return json::parse(gw::testing::readFile(gw::testing::sourcePath("tests/fixtures/cache/keys.json")));
}

std::string keyFor(const json& target, const std::string& request, const json& c, const char* suffix) {
  gw::json::Tape t;
  REQUIRE(t.parse(request));
  auto pick = [&](const char* name) {
    std::string override = std::string(name) + suffix;
    return c.contains(override) ? c[override].get<std::string>() : target[name].get<std::string>();
  };
  const std::string scope = pick("scope"), provider = pick("provider"), model = pick("upstream_model");
  const std::string endpoint = target["endpoint"];
  return gw::cache::key({scope, provider, model, endpoint, &t});
}

}  // namespace

TEST_CASE("SHA-256 matches the NIST test vectors") {
  CHECK(gw::sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(gw::sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(gw::sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(gw::sha256Hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu") ==
        "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  gw::Sha256 million;
  const std::string chunk(1000, 'a');
  for (int i = 0; i < 1000; ++i) million.update(chunk);
  auto digest = million.finish();
  CHECK(gw::toHex(digest.data(), digest.size()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("the canonical document and key of the golden requests") {
  json f = fixture();
  for (const auto& c : f["canonical"]) {
    INFO(c["why"].get<std::string>());
    const std::string request = c["request"];  // the tape reads it in place
    gw::json::Tape t;
    REQUIRE(t.parse(request));
    const json& target = f["target"];
    const std::string scope = target["scope"], provider = target["provider"], model = target["upstream_model"],
                      endpoint = target["endpoint"];
    const gw::cache::KeyInput in{scope, provider, model, endpoint, &t};
    CHECK(gw::cache::keyDocument(in) == c["document"].get<std::string>());
    CHECK(gw::cache::key(in) == c["key"].get<std::string>());
  }
}

TEST_CASE("requests that differ only in form share a key; any output-changing difference does not") {
  json f = fixture();
  for (const auto& c : f["same"]) {
    INFO(c["why"].get<std::string>());
    CHECK(keyFor(f["target"], c["a"], c, "_a") == keyFor(f["target"], c["b"], c, "_b"));
  }
  for (const auto& c : f["different"]) {
    INFO(c["why"].get<std::string>());
    CHECK(keyFor(f["target"], c["a"], c, "_a") != keyFor(f["target"], c["b"], c, "_b"));
  }
}

TEST_CASE("numbers have one canonical spelling") {
  auto canon = [](const std::string& text) {
    gw::json::Tape t;
    REQUIRE(t.parse(text));
    std::string out;
    gw::cache::canonicalJson(t, t.root(), out);
    return out;
  };
  CHECK(canon("[1, 1.0, 1e0, 10E-1, -0, 0.5, 5e-1, 1e21, 0.1, 123456789012]") ==
        "[1,1,1,1,0,0.5,0.5,1e+21,0.1,123456789012]");
  CHECK(canon(R"({"b":{"d":1,"c":2},"a":[{"z":0,"y":"\u0041"}]})") == R"({"a":[{"y":"A","z":0}],"b":{"c":2,"d":1}})");
}

TEST_CASE("the cache decision follows the config, the headers and the request") {
  gw::CacheConfig c;
  auto decide = [&](const std::string& body, std::string_view control = "", std::string_view ttl = "",
                    bool useCache = true) {
    gw::json::Tape t;
    REQUIRE(t.parse(body));
    gw::cache::Decision d;
    gw::ApiError e = gw::cache::decide(c, t, control, ttl, useCache, d);
    return std::make_pair(e ? std::string("error:") + e.param : std::string(), d);
  };
  const std::string plain = R"({"messages":[]})";
  CHECK(decide(plain).second.mode == gw::cache::Mode::Use);
  CHECK(decide(plain).second.ttlSeconds == 3600);
  CHECK(decide(plain, "no-cache").second.mode == gw::cache::Mode::Refresh);
  CHECK(decide(plain, "max-age=0, No-Store").second.mode == gw::cache::Mode::Bypass);
  CHECK(decide(plain, "no-cachex").second.mode == gw::cache::Mode::Use);
  CHECK(decide(plain, "", "", false).second.reason == "useCache: false");
  CHECK(decide(plain, "", "120").second.ttlSeconds == 120);
  CHECK(decide(plain, "", "0").second.mode == gw::cache::Mode::Bypass);
  CHECK(decide(plain, "", "30").first == "error:x-aigw-cache-ttl");
  CHECK(decide(plain, "", "1h").first == "error:x-aigw-cache-ttl");
  CHECK(decide(R"({"n":2})").second.reason == "n > 1");
  c.multipleChoices = true;
  CHECK(decide(R"({"n":2})").second.mode == gw::cache::Mode::Use);
  c.nonzeroTemperature = false;
  CHECK(decide(plain).second.reason == "temperature > 0");
  CHECK(decide(R"({"temperature":0.3})").second.reason == "temperature > 0");
  CHECK(decide(R"({"temperature":0})").second.mode == gw::cache::Mode::Use);
  c.enabled = false;
  CHECK(decide(R"({"temperature":0})").second.reason == "cache disabled");
}

TEST_CASE("a stored entry round-trips, and anything else reads as a miss") {
  gw::cache::Entry e;
  e.key = std::string(64, 'a');
  e.scope = "acme";
  e.model = "gpt-4o-mini";
  e.provider = "openai";
  e.upstreamModel = "gpt-4o-mini-2024-07-18";
  e.createdMs = 1700000000000;
  e.expiresMs = 1700003600000;
  e.usage = {true, false, 12, 5, 17, 2, 0};
  e.cost = {true, 4800000, 25920000};
  e.preview = "hello";
  gw::Choice text;
  text.content = "Hi \"there\"";
  text.hasContent = true;
  text.finishReason = "stop";
  gw::Choice tool;
  tool.index = 1;
  tool.toolCalls.push_back({"call_1", "add", R"({"a":1})"});
  tool.finishReason = "tool_calls";
  e.completion.choices = {text, tool};
  const std::string stored = gw::cache::encodeEntry(e);
  gw::cache::Entry back;
  REQUIRE(gw::cache::decodeEntry(stored, e.key, back));
  CHECK(back.usage.totalTokens == 17);
  CHECK(back.cost.picoUsd == 4800000);
  REQUIRE(back.completion.choices.size() == 2);
  CHECK(back.completion.choices[0].content == "Hi \"there\"");
  CHECK_FALSE(back.completion.choices[1].hasContent);
  CHECK(back.completion.choices[1].toolCalls[0].arguments == R"({"a":1})");
  CHECK(gw::cache::encodeEntry(back) == stored);

  // Another key's entry, another version, corrupted or foreign text: a miss.
  CHECK_FALSE(gw::cache::decodeEntry(stored, std::string(64, 'b'), back));
  std::string v2 = stored;
  v2.replace(v2.find("\"v\":1"), 5, "\"v\":2");
  CHECK_FALSE(gw::cache::decodeEntry(v2, e.key, back));
  CHECK_FALSE(gw::cache::decodeEntry(stored.substr(0, stored.size() / 2), e.key, back));
  CHECK_FALSE(gw::cache::decodeEntry(R"({"hello":"world"})", e.key, back));
  CHECK_FALSE(gw::cache::decodeEntry("\x89PNG", e.key, back));
  std::string noChoices = stored;
  noChoices.replace(noChoices.find("\"choices\":["), 11, "\"choices\":[],\"x\":[");
  CHECK_FALSE(gw::cache::decodeEntry(noChoices, e.key, back));
}
