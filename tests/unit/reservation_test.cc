// The ledger's promise when a provider does not keep its side: what is sent
// upstream as max_tokens is what was reserved, a stream is ended once its
// output passes the reservation, and usage beyond the hold is never charged
// (so no budget or limit is passed) but counted in /metrics.
#include <catch2/catch.hpp>

#include "fake_host.h"
#include "gw/nlohmann.h"

using gw::testing::FakeHost;
using gw::testing::ScriptedReply;
using nlohmann::json;

namespace {

json lastOp(const FakeHost& h, const std::string& op) {
  for (auto it = h.ledgerOps.rbegin(); it != h.ledgerOps.rend(); ++it) {
    json j = json::parse(*it, nullptr, false);
    if (j.is_object() && j["op"] == op) return j;
  }
  return json();
}

std::string metric(const std::string& text, const std::string& name) {
  size_t at = text.find("\n" + name + " ");
  if (at == std::string::npos) return "";
  at += name.size() + 2;
  return text.substr(at, text.find('\n', at) - at);
}

// A stream of `n` one-word deltas with no usage (providers that ignore
// max_tokens often ignore stream_options too).
ScriptedReply longStream(int n) {
  ScriptedReply r;
  r.headers = {{"content-type", "text/event-stream"}};
  for (int i = 0; i < n; ++i)
    r.chunks.push_back("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"w" +
                       std::to_string(i) + " \"},\"finish_reason\":null}]}\n\n");
  r.chunks.push_back("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n");
  return r;
}

}  // namespace

TEST_CASE("usage beyond the reservation is not charged but counted, so a USD budget is never passed") {
  FakeHost h;
  REQUIRE(h.request("POST", "/api/budget/config",
                    R"({"tenantId":"acme","type":"USD","limit":0.001,"period":"daily","pauseAtLimit":true})",
                    gw::testing::adminHeaders())
              .status == 201);
  // Asked for 5 tokens, the provider answers with 20000 each time.
  int served = 0;
  for (int i = 0; i < 30; ++i) {
    h.replies.push_back(gw::testing::openaiReply("long", 9, 20000));
    served += h.chat(R"({"model":"gpt-4o-mini","max_tokens":5,"messages":[{"role":"user","content":"hi"}]})").status == 200;
  }
  CHECK(served > 0);
  json reserve = lastOp(h, "reserve"), settle = lastOp(h, "settle");
  REQUIRE(settle.is_object());
  CHECK(settle["tokens"] == reserve["tokens"]);
  CHECK(settle["usd"] == reserve["usd"]);
  json usage = json::parse(h.request("GET", "/api/budget/current-usage").body, nullptr, false);
  REQUIRE(usage["budgets"].size() == 1);
  CHECK(usage["budgets"][0]["percentage"].get<double>() <= 100.0);
  // The usage row keeps what the provider reported; the overshoot is counted.
  json rows = json::parse(h.d1->query("SELECT output_tokens FROM gateway_usage_logs WHERE status = 200"));
  REQUIRE(rows.size() == static_cast<size_t>(served));
  CHECK(rows[0]["output_tokens"] == 20000);
  std::string prom = h.request("GET", "/metrics", "", gw::testing::adminHeaders()).body;
  CHECK(metric(prom, "aigw_reservation_overshoot_total") == std::to_string(served));
  CHECK(std::stoll(metric(prom, "aigw_reservation_overshoot_tokens_total")) > 19000LL * served);
}

TEST_CASE("a stream that runs past its reservation is ended as length, and the provider call is cut") {
  for (bool cache : {false, true}) {  // forwarded as is, or decoded for the cache
    INFO("cache " << cache);
    FakeHost h(gw::testing::Vars{{"AI_CACHE_ENABLED", cache ? "true" : "false"}});
    h.replies.push_back(longStream(400));
    auto res = h.chat(R"({"model":"gpt-4o-mini","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"hi"}]})");
    CHECK(res.status == 200);
    CHECK(res.completed);
    CHECK(json::parse(h.fetches.at(0).body)["max_tokens"] == 10);
    // A few dozen deltas reach the client (the reservation and its slack), not four hundred, and then a proper end.
    CHECK(res.body.find("w9 ") != std::string::npos);
    CHECK(res.body.find("w40 ") == std::string::npos);
    CHECK(res.body.find("\"finish_reason\":\"length\"") != std::string::npos);
    CHECK(res.body.size() >= 14);
    CHECK(res.body.substr(res.body.size() - 14) == "data: [DONE]\n\n");
    json settle = lastOp(h, "settle");
    CHECK(settle["tokens"].get<int64_t>() <= lastOp(h, "reserve")["tokens"].get<int64_t>());
    std::string prom = h.request("GET", "/metrics", "", gw::testing::adminHeaders()).body;
    CHECK(metric(prom, "aigw_stream_output_cut_total") == "1");
  }
  // Anthropic clients get their own end: stop_reason max_tokens.
  FakeHost h;
  h.replies.push_back(longStream(400));
  auto res = h.request("POST", "/v1/messages",
                       R"({"model":"gpt-4o-mini","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"hi"}]})");
  CHECK(res.body.find("\"stop_reason\":\"max_tokens\"") != std::string::npos);
  CHECK(res.body.find("w40 ") == std::string::npos);
  CHECK(res.body.find("event: message_stop") != std::string::npos);
}

TEST_CASE("an honest stream within its reservation is never cut") {
  FakeHost h;
  h.replies.push_back(longStream(10));  // ten deltas, and words longer than four bytes each
  auto res = h.chat(R"({"model":"gpt-4o-mini","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"hi"}]})");
  CHECK(res.body.find("w9 ") != std::string::npos);
  CHECK(res.body.find("\"finish_reason\":\"stop\"") != std::string::npos);
  CHECK(res.body.find("\"finish_reason\":\"length\"") == std::string::npos);
}

TEST_CASE("both token limits sent carry the one value the ledger reserved for") {
  FakeHost h;
  h.replies.push_back(gw::testing::openaiReply("ok"));
  REQUIRE(h.chat(R"({"model":"gpt-4o-mini","max_tokens":5,"max_completion_tokens":16000,"messages":[{"role":"user","content":"hi"}]})")
              .status == 200);
  json sent = json::parse(h.fetches.at(0).body);
  const int64_t reserved = sent["max_completion_tokens"].get<int64_t>();
  CHECK(sent["max_tokens"] == reserved);
  // The reservation was sized for that limit (plus the prompt).
  CHECK(lastOp(h, "reserve")["tokens"].get<int64_t>() >= reserved);
  CHECK(lastOp(h, "reserve")["tokens"].get<int64_t>() < reserved + 100);
}

TEST_CASE("a request whose runtime died still ends as a row once its hold expires, charged nothing") {
  FakeHost h;
  h.dieAtFetch = true;
  h.request("POST", "/v1/chat/completions", R"({"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]})",
            {{"authorization", std::string("Bearer ") + gw::testing::TEST_KEY}, {"x-aigw-conversation-id", "conv-died"}});
  h.dieAtFetch = false;
  CHECK(json::parse(h.d1->query("SELECT * FROM gateway_usage_logs")).empty());
  // Long after the hold's lifetime (request timeout + 60 s), the cron's tick
  // drops it, and the ledger writes the request's row.
  h.nowMs += 10 * 60000;
  h.internal = true;
  REQUIRE(h.request("POST", "/internal/cron").status == 200);
  h.internal = false;
  json rows = json::parse(h.d1->query("SELECT * FROM gateway_usage_logs"));
  REQUIRE(rows.size() == 1);
  const json& r = rows[0];
  CHECK(r["status"] == 500);
  CHECK(r["error_class"] == "abandoned");
  CHECK(r["api_type"] == "chat_completion");
  CHECK(r["model"] == "gpt-4o-mini");
  CHECK(r["stream"] == 1);
  CHECK(r["tenant_id"] == "acme");
  CHECK(r["user_id"] == "alice");
  CHECK(r["conversation_id"] == "conv-died");
  CHECK(r["cost_usd_pico"] == 0);
  CHECK(r["input_tokens"] == 0);
  // The hold is gone: nothing of it is in flight any more.
  json tenant = json::parse(h.request("GET", "/api/v1/ai/admin/tenants/acme", "", gw::testing::adminHeaders()).body);
  CHECK(tenant.dump().find("conv-died") == std::string::npos);
  // A row the request wrote itself is never replaced by its abandoned one.
  h.replies.push_back(gw::testing::openaiReply("ok"));
  REQUIRE(h.chat(R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"fine"}]})").status == 200);
  h.nowMs += 10 * 60000;
  h.internal = true;
  REQUIRE(h.request("POST", "/internal/cron").status == 200);
  CHECK(json::parse(h.d1->query("SELECT status FROM gateway_usage_logs WHERE status = 200")).size() == 1);
}
