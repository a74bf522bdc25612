// The response cache through the whole core on the fake host: misses, hits
// (free, counted), streams stored and replayed, what is never stored, the
// controls, tenant scoping, bad entries, and single flight.
#include <catch2/catch.hpp>

#include <algorithm>

#include "fake_host.h"
#include "gw/cache.h"
#include "gw/json_tape.h"
#include "gw/nlohmann.h"
#include "gw/sha256.h"

using gw::testing::FakeHost;
using gw::testing::HttpResponse;
using gw::testing::ScriptedReply;
using gw::testing::Vars;
using nlohmann::json;

namespace {

const Vars CACHE_ON = {{"AI_CACHE_ENABLED", "true"}};
const std::vector<std::string> KEYS = {"OPENAI_API_KEY", "ANTHROPIC_API_KEY"};
const std::string HELLO = R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello"}]})";
const std::string HELLO_STREAM = R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello"}],"stream":true})";

std::string fixture(const std::string& name) {
  return gw::testing::readFile(gw::testing::sourcePath("tests/fixtures/" + name));
}

// The text a client assembles from an OpenAI stream.
std::string streamedText(const std::string& body) {
  std::string text;
  size_t at = 0;
  while ((at = body.find("data: {", at)) != std::string::npos) {
    size_t end = body.find("\n\n", at);
    json chunk = json::parse(body.substr(at + 6, end - at - 6), nullptr, false);
    at = end;
    if (!chunk.is_object() || !chunk.contains("choices") || chunk["choices"].empty()) continue;
    const json& delta = chunk["choices"][0]["delta"];
    if (delta.contains("content") && delta["content"].is_string()) text += delta["content"].get<std::string>();
  }
  return text;
}

size_t cacheEntries(const FakeHost& h) {
  return std::count_if(h.kv.begin(), h.kv.end(), [](const auto& kv) { return kv.first.rfind("cache:", 0) == 0; });
}

}  // namespace

TEST_CASE("a repeated request is a free hit: one upstream call, the same answer, counted as a hit") {
  FakeHost h(CACHE_ON, KEYS);
  h.replies.push_back(gw::testing::openaiReply("Hello there!", 9, 3));
  HttpResponse miss = h.chat(HELLO);
  REQUIRE(miss.status == 200);
  CHECK(miss.headers["x-aigw-cache"] == "MISS");
  CHECK(cacheEntries(h) == 1);

  HttpResponse hit = h.chat(R"({"messages":[{"content":"Say hello","role":"user"}],  "model":"gpt-4o-mini"})");
  REQUIRE(hit.status == 200);
  CHECK(hit.headers["x-aigw-cache"] == "HIT");
  CHECK(h.fetches.size() == 1);
  json a = json::parse(miss.body), b = json::parse(hit.body);
  CHECK(b["choices"][0]["message"]["content"] == "Hello there!");
  CHECK(b["usage"]["total_tokens"] == a["usage"]["total_tokens"]);
  CHECK(hit.headers["x-aigw-cost-usd"] == "0");
  CHECK(hit.headers["x-aigw-attempts"] == "0");
  CHECK(hit.headers.count("x-aigw-cache-age") == 1);
  // Nothing reserved for the hit; the ledger counts it afterwards.
  CHECK(h.ledgerOps.back().find("\"op\":\"hit\"") != std::string::npos);
  CHECK(std::none_of(h.ledgerOps.end() - 1, h.ledgerOps.end(),
                     [](const std::string& op) { return op.find("reserve") != std::string::npos; }));
  json usage = json::parse(h.request("GET", "/api/budget/current-usage").body);
  CHECK(usage["user"]["cacheHits"] == 1);
  CHECK(usage["user"]["cacheSavedTokens"] == 12);
  json row = json::parse(h.d1->query("SELECT hits, tokens_saved, usd_saved_pico, model, preview FROM cache_entries"))[0];
  CHECK(row["hits"] == 1);
  CHECK(row["tokens_saved"] == 12);
  CHECK(row["usd_saved_pico"].get<int64_t>() > 0);
  CHECK(row["preview"] == "Say hello");
}

TEST_CASE("a completed stream is stored and replayed as SSE; streamed and plain requests share the entry") {
  FakeHost h(CACHE_ON, KEYS);
  h.replies.push_back(gw::testing::fixtureStream("openai/chat_stream.sse"));
  HttpResponse first = h.chat(HELLO_STREAM);
  REQUIRE(first.status == 200);
  CHECK(first.headers["x-aigw-cache"] == "MISS");
  HttpResponse replay = h.chat(HELLO_STREAM);
  CHECK(replay.headers["x-aigw-cache"] == "HIT");
  CHECK(replay.stream);
  CHECK(replay.headers["content-type"].rfind("text/event-stream", 0) == 0);
  CHECK(streamedText(replay.body) == streamedText(first.body));
  CHECK(replay.body.find("data: [DONE]") != std::string::npos);
  CHECK(replay.chunks.size() >= 1);
  HttpResponse plain = h.chat(HELLO);
  CHECK(plain.headers["x-aigw-cache"] == "HIT");
  CHECK(json::parse(plain.body)["choices"][0]["message"]["content"] == streamedText(first.body));
  CHECK(h.fetches.size() == 1);
}

TEST_CASE("errors, cut streams and n > 1 are never stored; the controls bypass or refresh") {
  FakeHost h(Vars{{"AI_CACHE_ENABLED", "true"}, {"AI_GATEWAY_MAX_RETRIES", "0"}}, KEYS);
  ScriptedReply boom;
  boom.status = 500;
  boom.chunks = {R"({"error":{"message":"boom"}})"};
  h.replies.push_back(boom);
  CHECK(h.chat(HELLO).status == 502);
  CHECK(cacheEntries(h) == 0);

  ScriptedReply cut = gw::testing::fixtureStream("openai/chat_stream.sse");
  cut.chunks.resize(2);
  cut.end = ScriptedReply::End::NetworkError;
  h.replies.push_back(cut);
  h.chat(HELLO_STREAM);
  CHECK(cacheEntries(h) == 0);

  HttpResponse many = h.chat(R"({"model":"gpt-4o-mini","n":2,"messages":[{"role":"user","content":"x"}]})");
  CHECK(many.headers["x-aigw-cache"] == "BYPASS");
  CHECK(cacheEntries(h) == 0);

  HttpResponse noStore = h.request("POST", "/v1/chat/completions", HELLO, {{"cache-control", "no-store"}});
  CHECK(noStore.headers["x-aigw-cache"] == "BYPASS");
  CHECK(cacheEntries(h) == 0);

  h.replies.push_back(gw::testing::openaiReply("first"));
  h.chat(HELLO);
  h.replies.push_back(gw::testing::openaiReply("fresh"));
  HttpResponse refreshed = h.request("POST", "/v1/chat/completions", HELLO, {{"cache-control", "no-cache"}});
  CHECK(refreshed.headers["x-aigw-cache"] == "BYPASS");
  CHECK(json::parse(refreshed.body)["choices"][0]["message"]["content"] == "fresh");
  CHECK(json::parse(h.chat(HELLO).body)["choices"][0]["message"]["content"] == "fresh");

  HttpResponse badTtl = h.request("POST", "/v1/chat/completions", HELLO, {{"x-aigw-cache-ttl", "5"}});
  CHECK(badTtl.status == 400);
  CHECK(json::parse(badTtl.body)["error"]["param"] == "x-aigw-cache-ttl");
  CHECK(badTtl.headers["x-aigw-cache"] == "BYPASS");

  HttpResponse generated = h.request("POST", "/api/v1/ai/generate",
                                     R"({"messages":[{"role":"user","content":"Say hello"}],"useCache":false})");
  CHECK(generated.headers["x-aigw-cache"] == "BYPASS");
}

TEST_CASE("an entry expires after its TTL (per request with x-aigw-cache-ttl)") {
  FakeHost h(CACHE_ON, KEYS);
  h.request("POST", "/v1/chat/completions", HELLO, {{"x-aigw-cache-ttl", "120"}});
  h.nowMs += 119000;
  CHECK(h.chat(HELLO).headers["x-aigw-cache"] == "HIT");
  h.nowMs += 2000;
  CHECK(h.chat(HELLO).headers["x-aigw-cache"] == "MISS");
  CHECK(h.fetches.size() == 2);
}

TEST_CASE("entries are scoped per tenant unless both opted into sharing") {
  const std::string otherKey = "aigw_sk_globexkey0123456789abcdef";
  auto seedGlobex = [&](FakeHost& h) {
    h.kv["tenant:globex"] = R"({"id":"globex","name":"Globex","created_at":1700000000000})";
    h.kv["key:" + gw::sha256Hex(otherKey)] =
        R"({"id":"key_globex","digest":")" + gw::sha256Hex(otherKey) +
        R"(","prefix":"aigw_sk_glob","tenant_id":"globex","user_id":"gina","agent_id":"","role":"user","models":[],"limits":{},"created_at":1700000000000})";
  };
  FakeHost h(CACHE_ON, KEYS);
  seedGlobex(h);
  h.chat(HELLO);
  HttpResponse other = h.request("POST", "/v1/chat/completions", HELLO, {{"authorization", "Bearer " + otherKey}});
  CHECK(other.headers["x-aigw-cache"] == "MISS");
  CHECK(h.fetches.size() == 2);

  FakeHost shared(CACHE_ON, KEYS);
  seedGlobex(shared);
  shared.kv["config:override"] = R"({"gateway":{"cache_shared_tenants":["acme","globex"]}})";
  shared.chat(HELLO);
  HttpResponse sharedHit = shared.request("POST", "/v1/chat/completions", HELLO, {{"authorization", "Bearer " + otherKey}});
  CHECK(sharedHit.headers["x-aigw-cache"] == "HIT");
}

TEST_CASE("a corrupted or foreign entry is a miss, and the answer replaces it") {
  FakeHost h(CACHE_ON, KEYS);
  h.chat(HELLO);
  REQUIRE(cacheEntries(h) == 1);
  auto entry = std::find_if(h.kv.begin(), h.kv.end(), [](const auto& kv) { return kv.first.rfind("cache:", 0) == 0; });
  const std::string storageKey = entry->first;
  for (const std::string& bad : {std::string("{\"v\":1,\"key\":\"someone-else\"}"), std::string("\xff\xfe garbage"),
                                 entry->second.substr(0, 40)}) {
    h.kv[storageKey] = bad;
    h.nowMs += 30000;  // past this instance's in-memory copy: as another instance would, it reads KV
    HttpResponse r = h.chat(HELLO);
    CHECK(r.status == 200);
    CHECK(r.headers["x-aigw-cache"] == "MISS");
    gw::cache::Entry replaced;
    CHECK(gw::cache::decodeEntry(h.kv[storageKey], storageKey.substr(storageKey.rfind(':') + 1), replaced));
  }
}

TEST_CASE("an Anthropic answer stored once is served to either API's clients in their own shape") {
  FakeHost h(CACHE_ON, KEYS);
  ScriptedReply message;
  message.chunks = {fixture("anthropic/message.json")};
  h.replies.push_back(message);
  const std::string body = R"({"model":"claude-haiku-4-5","max_tokens":50,"messages":[{"role":"user","content":"Hi"}]})";
  HttpResponse viaMessages = h.request("POST", "/v1/messages", body);
  REQUIRE(viaMessages.status == 200);
  CHECK(viaMessages.headers["x-aigw-cache"] == "MISS");
  HttpResponse again = h.request("POST", "/v1/messages", body);
  CHECK(again.headers["x-aigw-cache"] == "HIT");
  json a = json::parse(again.body);
  CHECK(a["type"] == "message");
  CHECK(a["content"][0]["text"] == json::parse(viaMessages.body)["content"][0]["text"]);
  HttpResponse viaChat = h.chat(body);
  CHECK(viaChat.headers["x-aigw-cache"] == "HIT");
  CHECK(json::parse(viaChat.body)["object"] == "chat.completion");
  CHECK(h.fetches.size() == 1);
}

// Drives sessions by hand so several are open at once, as in a busy isolate.
TEST_CASE("identical concurrent misses make one upstream call; the others are served its answer") {
  FakeHost h(CACHE_ON, KEYS);
  gw::Gateway& g = h.gateway;
  auto envelope = [&](int n) {
    return R"({"method":"POST","path":"/v1/chat/completions","headers":{"authorization":"Bearer )" +
           std::string(gw::testing::TEST_KEY) + R"("},"now_ms":1700000000000,"entropy":"00112233445566778899aabbccddeeff0123456789abcdef0123456789abcd0)" +
           std::to_string(n) + R"("})";
  };
  struct Out {
    int status = 0;
    std::string cache, body;
    bool done = false;
  };
  std::map<uint32_t, Out> out;
  std::vector<uint32_t> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(static_cast<uint32_t>(g.open(envelope(i), HELLO)));
  int fetches = 0;
  std::map<uint32_t, std::string> held;  // session -> the fetch answer it waits for
  std::vector<uint32_t> woken;
  // Performs one session's effects until it has nothing more to do.
  auto run = [&](uint32_t id) {
    for (int round = 0; round < 50; ++round) {
      std::string raw;
      g.poll(id, raw);
      uint32_t n = 0;
      for (int i = 0; i < 4; ++i) n |= static_cast<uint32_t>(static_cast<uint8_t>(raw[i])) << (8 * i);
      const std::string header = raw.substr(4, n), blob = raw.substr(4 + n);
      gw::json::Tape t;
      REQUIRE(t.parse(header));
      const uint32_t wake = t.find(t.root(), "wake");
      if (wake != 0)
        for (uint32_t w = t.firstChild(wake); w != 0; w = t.nextSibling(wake, w)) {
          int64_t sid = 0;
          t.isInteger(w, &sid);
          woken.push_back(static_cast<uint32_t>(sid));
        }
      bool fed = false;
      const uint32_t effects = t.find(t.root(), "effects");
      for (uint32_t e = t.firstChild(effects); e != 0; e = t.nextSibling(effects, e)) {
        const std::string type = t.stringAt(e, "type");
        const int64_t eid = t.integerAt(e, "id", 0);
        auto meta = [&](const std::string& kind, const std::string& extra) {
          return "{\"id\":" + std::to_string(eid) + ",\"type\":\"" + kind + "\",\"now_ms\":1700000000001" + extra + "}";
        };
        if (type == "respond_head") {
          out[id].status = static_cast<int>(t.integerAt(e, "status", 0));
          out[id].cache = t.stringAt(t.find(e, "headers"), "x-aigw-cache");
        } else if (type == "respond_chunk") {
          const uint32_t range = t.find(e, "body");
          int64_t off = 0, len = 0;
          t.isInteger(t.firstChild(range), &off);
          t.isInteger(t.nextSibling(range, t.firstChild(range)), &len);
          out[id].body += blob.substr(static_cast<size_t>(off), static_cast<size_t>(len));
        } else if (type == "kv_get") {
          fed = true;
          auto found = h.kv.find(t.stringAt(e, "key"));  // the key record; no cache entry yet
          g.feed(id, meta("kv_result", found != h.kv.end() ? ",\"found\":true" : ",\"found\":false"),
                 found != h.kv.end() ? found->second : "");
        } else if (type == "kv_put") {
          fed = true;
          g.feed(id, meta("kv_done", ",\"ok\":true"), "");
        } else if (type == "ledger" && eid != 0) {
          fed = true;
          g.feed(id, meta("ledger_result", ",\"ok\":true"), R"({"ok":true})");
        } else if (type == "fetch") {
          ++fetches;  // held: the upstream answers once every session has started
          held[id] = meta("fetch_response", ",\"status\":200,\"headers\":{}");
        }
      }
      if (t.booleanAt(t.root(), "done", false)) out[id].done = true;
      if (!fed) return;
    }
  };
  // The first leads; the others find its flight and wait (no effect at all).
  for (uint32_t id : ids) run(id);
  REQUIRE(held.size() == 1);
  CHECK(held.count(ids[0]) == 1);
  g.feed(ids[0], held[ids[0]], gw::testing::openaiReply("only once").chunks[0]);
  run(ids[0]);
  CHECK(fetches == 1);
  CHECK(out[ids[0]].cache == "MISS");
  std::sort(woken.begin(), woken.end());
  CHECK(woken == std::vector<uint32_t>(ids.begin() + 1, ids.end()));
  for (uint32_t id : woken) run(id);
  for (size_t i = 1; i < ids.size(); ++i) {
    CHECK(out[ids[i]].status == 200);
    CHECK(out[ids[i]].cache == "HIT");
    CHECK(json::parse(out[ids[i]].body)["choices"][0]["message"]["content"] == "only once");
  }
  CHECK(fetches == 1);
  for (uint32_t id : ids) g.close(id);
  CHECK(g.state().flights.empty());
}

TEST_CASE("the cache admin API lists top entries with savings, searches, and invalidates") {
  FakeHost h(CACHE_ON, KEYS);
  const auto root = gw::testing::adminHeaders();
  auto ask = [&](const std::string& text, const std::string& model = "gpt-4o-mini") {
    return h.chat(R"({"model":")" + model + R"(","messages":[{"role":"user","content":")" + text + R"("}]})");
  };
  ask("What is the capital of France?");
  ask("What is the capital of France?");
  ask("What is the capital of France?");
  ask("Tell me a joke");
  ask("Tell me a joke", "gpt-4o");
  h.nowMs += 1000;  // hits are written at most once a second, by the next request
  ask("Tell me a joke", "gpt-4o");
  HttpResponse listed = h.request("GET", "/api/ai-gateway/cache?tenantId=acme", "", root);
  REQUIRE(listed.status == 200);
  json l = json::parse(listed.body);
  CHECK(l["totals"]["entries"] == 3);
  CHECK(l["totals"]["hits"] == 2);  // the last hit waits for the next write
  CHECK(l["totals"]["tokens_saved"] == 24);
  REQUIRE(l["data"].size() == 3);
  CHECK(l["data"][0]["prompt_preview"] == "What is the capital of France?");
  CHECK(l["data"][0]["hits"] == 2);
  CHECK(l["data"][0]["ttl_seconds"].get<int64_t>() > 3590);
  CHECK(l["data"][0]["usd_saved"].get<double>() > 0);
  CHECK(json::parse(h.request("GET", "/api/ai-gateway/cache?tenantId=acme&q=JOKE", "", root).body)["data"].size() == 2);
  CHECK(json::parse(h.request("GET", "/api/ai-gateway/cache?tenantId=acme&q=100%25", "", root).body)["data"].empty());
  // A user key is not an admin key.
  CHECK(h.request("GET", "/api/ai-gateway/cache").status == 403);

  const std::string key = l["data"][0]["key"];
  HttpResponse one = h.request("DELETE", "/api/ai-gateway/cache/" + key + "?tenantId=acme", "", root);
  CHECK(one.status == 200);
  CHECK(ask("What is the capital of France?").headers["x-aigw-cache"] == "MISS");
  CHECK(h.request("DELETE", "/api/ai-gateway/cache/" + std::string(64, '0') + "?tenantId=acme", "", root).status == 404);
  CHECK(h.request("DELETE", "/api/ai-gateway/cache/nothex?tenantId=acme", "", root).status == 400);

  HttpResponse byModel = h.request("DELETE", "/api/ai-gateway/cache?tenantId=acme&model=gpt-4o", "", root);
  CHECK(json::parse(byModel.body)["deleted"] == 1);
  CHECK(ask("Tell me a joke", "gpt-4o").headers["x-aigw-cache"] == "MISS");
  CHECK(ask("Tell me a joke").headers["x-aigw-cache"] == "HIT");

  HttpResponse all = h.request("DELETE", "/api/ai-gateway/cache?tenantId=acme", "", root);
  CHECK(json::parse(all.body)["deleted"] == 3);
  CHECK(cacheEntries(h) == 0);
  CHECK(json::parse(h.request("GET", "/api/ai-gateway/cache?tenantId=acme", "", root).body)["data"].empty());
}

TEST_CASE("a hot entry is served from the instance's memory; hits are written in batches") {
  FakeHost h(CACHE_ON, KEYS);
  h.chat(HELLO);
  auto entry = std::find_if(h.kv.begin(), h.kv.end(), [](const auto& kv) { return kv.first.rfind("cache:", 0) == 0; });
  const std::string storageKey = entry->first;
  h.kv.erase(entry);  // KV no longer has it: only memory can answer
  CHECK(h.chat(HELLO).headers["x-aigw-cache"] == "HIT");
  for (int i = 0; i < 5; ++i) CHECK(h.chat(HELLO).headers["x-aigw-cache"] == "HIT");
  auto hitOps = [&] {
    return std::count_if(h.ledgerOps.begin(), h.ledgerOps.end(),
                         [](const std::string& op) { return op.find("\"op\":\"hit\"") != std::string::npos; });
  };
  CHECK(hitOps() == 1);  // the first hit was written at once, the next five wait
  h.nowMs += gw::cache::HIT_FLUSH_MS;
  h.chat(HELLO);
  CHECK(hitOps() == 2);
  CHECK(h.ledgerOps.back().find("\"hits\":5") != std::string::npos);
  json usage = json::parse(h.request("GET", "/api/budget/current-usage").body);
  CHECK(usage["user"]["cacheHits"] == 6);
  // After the memory window the instance reads KV again, and KV no longer has it.
  h.nowMs += 30000;
  CHECK(h.chat(HELLO).headers["x-aigw-cache"] == "MISS");
  CHECK(h.kv.count(storageKey) == 1);
  // An invalidation made through this instance drops its copy at once.
  const auto root = gw::testing::adminHeaders();
  CHECK(h.request("DELETE", "/api/ai-gateway/cache?tenantId=acme", "", root).status == 200);
  CHECK(h.chat(HELLO).headers["x-aigw-cache"] == "MISS");
}

TEST_CASE("cache hits count against a key's rpm within about a second") {
  gw::testing::FakeHost h(gw::testing::Vars{{"AI_CACHE_ENABLED", "true"}});
  gw::testing::HttpResponse created =
      h.request("POST", "/api/v1/ai/admin/keys", R"({"tenantId":"acme","userId":"alice","limits":{"rpm":10}})",
                gw::testing::adminHeaders());
  REQUIRE(created.status == 201);
  const std::string key = nlohmann::json::parse(created.body)["key"];
  const std::map<std::string, std::string> auth = {{"authorization", "Bearer " + key}};
  const std::string body = R"({"model":"gpt-4o-mini","temperature":0,"messages":[{"role":"user","content":"same"}]})";
  h.replies.push_back(gw::testing::openaiReply("stored"));
  REQUIRE(h.request("POST", "/v1/chat/completions", body, auth).status == 200);
  // Twenty identical requests a second for five seconds, all hits while allowed.
  int served = 0;
  for (int i = 0; i < 100; ++i) {
    h.nowMs += 50;
    gw::testing::HttpResponse r = h.request("POST", "/v1/chat/completions", body, auth);
    if (r.status == 200) {
      ++served;
      CHECK(r.headers["x-aigw-cache"] == "HIT");
    } else {
      CHECK(r.status == 429);
    }
  }
  // 10 a minute, plus what arrives within about a second of the limit being passed.
  CHECK(served >= 9);
  CHECK(served <= 9 + 25);
}
