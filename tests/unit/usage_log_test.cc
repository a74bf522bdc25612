// The usage ledger in D1: one row per client request of every kind, with
// the fields a user of the analytics would read.
#include <catch2/catch.hpp>

#include "fake_host.h"
#include "gw/nlohmann.h"
#include "gw/periods.h"
#include "gw/usage_log.h"

using gw::testing::FakeHost;
using gw::testing::ScriptedReply;
using gw::testing::Vars;
using nlohmann::json;

namespace {

const std::string HELLO = R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello"}]})";

json rows(FakeHost& h) {
  return json::parse(h.d1->query("SELECT * FROM gateway_usage_logs ORDER BY created_at, rowid"));
}

}  // namespace

TEST_CASE("every client request leaves one usage row: success, failure, cache hit, stream, abort, embeddings") {
  FakeHost h(Vars{{"AI_CACHE_ENABLED", "true"}, {"AI_GATEWAY_MAX_RETRIES", "0"}}, {"OPENAI_API_KEY"});
  // A success, then the same request from the cache.
  h.replies.push_back(gw::testing::openaiReply("Hello!", 9, 3));
  auto ok = h.request("POST", "/v1/chat/completions", HELLO, {{"x-aigw-conversation-id", "conv-1"}});
  h.chat(HELLO);
  // A bad request, and an upstream failure.
  h.chat(R"({"model":"gpt-4o-mini","messages":"nope"})");
  ScriptedReply boom;
  boom.status = 500;
  boom.chunks = {R"({"error":{"message":"boom"}})"};
  h.replies.push_back(boom);
  h.chat(R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"fail"}]})");
  // A stream, and a stream the client left part way (after 15 of its 38 slices).
  h.replies.push_back(gw::testing::fixtureStream("openai/chat_stream.sse"));
  h.chat(R"({"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"stream"}]})");
  h.replies.push_back(gw::testing::fixtureStream("openai/chat_stream.sse"));
  h.cancelAfterChunks = 15;
  h.chat(R"({"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"abort"}]})");
  h.cancelAfterChunks = -1;
  ScriptedReply embedding;
  embedding.chunks = {R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":5,"total_tokens":5}})"};
  h.replies.push_back(embedding);
  h.request("POST", "/v1/embeddings", R"({"model":"text-embedding-3-small","input":"hi"})");

  json r = rows(h);
  REQUIRE(r.size() == 7);
  const json& success = r[0];
  CHECK(success["request_id"] == ok.headers["x-request-id"]);
  CHECK(success["tenant_id"] == "acme");
  CHECK(success["user_id"] == "alice");
  CHECK(success["key_id"] == "key_test");
  CHECK(success["conversation_id"] == "conv-1");
  CHECK(success["api_type"] == "chat_completion");
  CHECK(success["provider"] == "openai");
  CHECK(success["model"] == "gpt-4o-mini");
  CHECK(success["input_tokens"] == 9);
  CHECK(success["output_tokens"] == 3);
  CHECK(success["cost_usd_pico"].get<int64_t>() > 0);
  CHECK(success["cost_brl_pico"].get<int64_t>() > success["cost_usd_pico"].get<int64_t>());
  CHECK(success["status"] == 200);
  CHECK(success["cache_status"] == "MISS");
  CHECK(success["attempts"] == 1);
  CHECK(success["error_class"].is_null());
  CHECK(success["ttft_ms"].is_null());
  CHECK(success["latency_ms"].get<int64_t>() >= 0);
  CHECK(success["route"] == "ordered; openai/gpt-4o-mini");

  const json& hit = r[1];
  CHECK(hit["cache_status"] == "HIT");
  CHECK(hit["cost_usd_pico"] == 0);
  CHECK(hit["attempts"] == 0);
  CHECK(hit["input_tokens"] == 9);

  CHECK(r[2]["status"] == 400);
  CHECK(r[2]["error_class"] == "invalid_type");
  CHECK(r[2]["attempts"] == 0);
  CHECK(r[3]["status"] == 502);
  CHECK(r[3]["error_message"].get<std::string>().find("boom") != std::string::npos);

  const json& stream = r[4];
  CHECK(stream["stream"] == 1);
  CHECK(stream["status"] == 200);
  CHECK(stream["ttft_ms"].get<int64_t>() >= 0);
  CHECK(stream["output_tokens"].get<int64_t>() > 0);

  const json& aborted = r[5];
  CHECK(aborted["status"] == 499);
  CHECK(aborted["error_class"] == "client_cancelled");
  // What was delivered before the client left is what is recorded (and charged).
  CHECK(aborted["output_tokens"].get<int64_t>() > 0);
  CHECK(aborted["output_tokens"].get<int64_t>() < stream["output_tokens"].get<int64_t>());
  CHECK(aborted["usage_estimated"] == 1);

  CHECK(r[6]["api_type"] == "embeddings");
  CHECK(r[6]["input_tokens"] == 5);
  CHECK(r[6]["cache_status"] == "BYPASS");
}

TEST_CASE("requests refused before the handler runs leave a row too: quota 429s and attribution 403s") {
  FakeHost h;
  const std::string admin = std::string("Bearer ") + gw::testing::ADMIN_KEY;
  REQUIRE(h.request("PUT", "/api/v1/ai/admin/quotas/alice", R"({"tenantId":"acme","limits":{"dailyRequests":1}})",
                    {{"authorization", admin}})
              .status == 200);
  h.replies.push_back(gw::testing::openaiReply("Hello!"));
  REQUIRE(h.chat(HELLO).status == 200);
  h.chat(HELLO);  // refused by the ledger
  h.nowMs += 2000;
  REQUIRE(h.chat(HELLO).status == 429);  // refused by the snapshot, before the handler
  REQUIRE(h.request("POST", "/v1/embeddings", R"({"model":"text-embedding-3-small","input":"hi"})").status == 429);
  REQUIRE(h.request("POST", "/v1/chat/completions", HELLO, {{"x-aigw-user", "bad user!"}}).status == 400);
  json r = rows(h);
  REQUIRE(r.size() == 5);
  for (int i = 1; i <= 3; ++i) {
    CHECK(r[i]["status"] == 429);
    CHECK(r[i]["error_class"] == "insufficient_quota");
    CHECK(r[i]["tenant_id"] == "acme");
    CHECK(r[i]["user_id"] == "alice");
    CHECK(r[i]["attempts"] == 0);
    CHECK(r[i]["cost_usd_pico"] == 0);
  }
  CHECK(r[2]["api_type"] == "chat_completion");
  CHECK(r[3]["api_type"] == "embeddings");
  CHECK(r[4]["status"] == 400);
  CHECK(r[4]["error_class"] == "invalid_value");
  // Admin calls are no client traffic: no rows.
  CHECK(h.request("GET", "/api/v1/ai/admin/keys?tenantId=acme", "", {{"authorization", admin}}).status == 200);
  CHECK(rows(h).size() == 5);
}

namespace {

// 100 rows for acme with latencies 1..100 ms (1..60 on OpenAI, 61..100 on
// Anthropic; every 10th a 500, every 4th a cache hit), and 20 for globex.
void seed(FakeHost& h) {
  for (int i = 1; i <= 120; ++i) {
    const bool acme = i <= 100;
    const bool openai = i <= 60;
    const std::string values =
        "('seed-" + std::to_string(i) + "', " + std::to_string(h.nowMs - i * 3600000LL) + ", '" +
        (acme ? "acme" : "globex") + "', 'alice', 'chat_completion', '" + (openai ? "openai" : "anthropic") + "', '" +
        (openai ? "gpt-4o-mini" : "claude-haiku-4-5") + "', 10, 5, 1000000, 5400000, " +
        std::to_string(acme ? i : 1000) + ", " + (i % 10 == 0 ? "500" : "200") + ", '" +
        (i % 4 == 0 ? "HIT" : "MISS") + "')";
    h.d1->query("INSERT INTO gateway_usage_logs (request_id, created_at, tenant_id, user_id, api_type, provider, model, "
                "input_tokens, output_tokens, cost_usd_pico, cost_brl_pico, latency_ms, status, cache_status) VALUES " +
                values);
  }
}

}  // namespace

TEST_CASE("metrics over a seeded ledger: rates, nearest-rank percentiles, tokens and cost, per provider and day") {
  FakeHost h;
  seed(h);
  auto res = h.request("GET", "/api/v1/ai/metrics?period=7d");
  REQUIRE(res.status == 200);
  json m = json::parse(res.body);
  CHECK(m["tenantId"] == "acme");
  const json& t = m["totals"];
  CHECK(t["requests"] == 100);
  CHECK(t["errors"] == 10);
  CHECK(t["success_rate"].get<double>() == Approx(0.9));
  CHECK(t["cache_hit_rate"].get<double>() == Approx(0.25));
  CHECK(t["latency_ms"]["p50"] == 50);
  CHECK(t["latency_ms"]["p95"] == 95);
  CHECK(t["latency_ms"]["p99"] == 99);
  CHECK(t["latency_ms"]["mean"] == 51);  // 50.5, rounded
  CHECK(t["tokens"]["total"] == 1500);
  CHECK(t["cost_usd"].get<double>() == Approx(0.0001));
  CHECK(t["cost_brl"].get<double>() == Approx(0.00054));
  REQUIRE(m["by_provider"].size() == 2);
  const json& openai = m["by_provider"][0];
  CHECK(openai["provider"] == "openai");
  CHECK(openai["requests"] == 60);
  CHECK(openai["latency_ms"]["p50"] == 30);
  CHECK(openai["latency_ms"]["p95"] == 57);
  CHECK(openai["latency_ms"]["p99"] == 60);
  const json& anthropic = m["by_provider"][1];
  CHECK(anthropic["latency_ms"]["p50"] == 80);
  CHECK(anthropic["latency_ms"]["p95"] == 98);
  CHECK(anthropic["latency_ms"]["p99"] == 100);
  CHECK(m["by_model"][1]["model"] == "claude-haiku-4-5");
  int64_t daily = 0;
  for (const auto& d : m["daily"]) daily += d["requests"].get<int64_t>();
  CHECK(daily == 100);
  CHECK(m["daily"][0]["day"].get<std::string>().size() == 10);
  // A series: oldest day first.
  for (size_t i = 1; i < m["daily"].size(); ++i)
    CHECK(m["daily"][i - 1]["day"].get<std::string>() < m["daily"][i]["day"].get<std::string>());

  // A window that holds only the most recent 24 rows (1..24 hours old).
  json recent = json::parse(h.request("GET", "/api/v1/ai/metrics?from=" + gw::isoTimestamp(h.nowMs - 24 * 3600000LL - 1) +
                                                 "&to=" + gw::isoTimestamp(h.nowMs)).body);
  CHECK(recent["period"] == "custom");
  CHECK(recent["totals"]["requests"] == 24);

  // The root key sees every tenant, or the one it names; a key never sees another tenant.
  const auto root = gw::testing::adminHeaders();
  CHECK(json::parse(h.request("GET", "/api/v1/ai/metrics", "", root).body)["totals"]["requests"] == 120);
  CHECK(json::parse(h.request("GET", "/api/v1/ai/metrics?tenantId=globex", "", root).body)["totals"]["requests"] == 20);
  auto other = h.request("GET", "/api/v1/ai/metrics?tenantId=globex");
  CHECK(other.status == 403);
  CHECK(json::parse(other.body)["error"]["param"] == "tenantId");
  CHECK(h.request("GET", "/api/v1/ai/metrics?period=1y").status == 400);
  CHECK(h.request("GET", "/api/v1/ai/metrics?from=yesterday").status == 400);
}

TEST_CASE("GET /metrics speaks Prometheus text to ADMIN_API_KEY or METRICS_TOKEN only") {
  FakeHost h;
  seed(h);
  const std::map<std::string, std::string> token = {{"authorization", std::string("Bearer ") + gw::testing::METRICS_TOKEN}};
  auto res = h.request("GET", "/metrics", "", token);
  REQUIRE(res.status == 200);
  CHECK(res.headers["content-type"].rfind("text/plain; version=0.0.4", 0) == 0);
  CHECK(res.body.find("# TYPE aigw_requests_total counter") != std::string::npos);
  CHECK(res.body.find(R"(aigw_requests_total{tenant="acme",provider="openai",model="gpt-4o-mini",status="5xx",cache="MISS"} )") !=
        std::string::npos);
  CHECK(res.body.find(R"(aigw_requests_total{tenant="globex",provider="anthropic",model="claude-haiku-4-5",status="2xx",cache="MISS"} 14)") !=
        std::string::npos);
  CHECK(res.body.find("aigw_cost_usd_total{") != std::string::npos);
  CHECK(res.body.find("aigw_request_latency_ms{quantile=\"0.99\"} ") != std::string::npos);
  CHECK(res.body.find("aigw_request_latency_ms_count 1\n") != std::string::npos);  // only seed-1 is under an hour old
  const auto admin = gw::testing::adminHeaders();
  CHECK(h.request("GET", "/metrics", "", admin).status == 200);
  CHECK(h.request("GET", "/metrics").status == 401);  // a virtual key, even an admin one, is not enough
  CHECK(h.request("GET", "/metrics", "", {{"authorization", "Bearer nope"}}).status == 401);
}

TEST_CASE("admin usage groups and pages; costs in JSON and CSV with known answers; client metrics") {
  FakeHost h;
  seed(h);
  const auto root = gw::testing::adminHeaders();
  json byProvider = json::parse(h.request("GET", "/api/v1/ai/admin/usage?groupBy=provider").body);
  REQUIRE(byProvider["data"].size() == 2);
  CHECK(byProvider["data"][0]["provider"] == "openai");
  CHECK(byProvider["data"][0]["requests"] == 60);
  CHECK(byProvider["data"][0]["errors"] == 6);
  CHECK(byProvider["data"][0]["cost_usd"].get<double>() == Approx(0.00006));
  CHECK(byProvider["total"] == 2);
  json page = json::parse(h.request("GET", "/api/v1/ai/admin/usage?groupBy=model&limit=1&offset=1").body);
  CHECK(page["data"].size() == 1);
  CHECK(page["data"][0]["model"] == "claude-haiku-4-5");
  CHECK(page["has_more"] == false);
  CHECK(json::parse(h.request("GET", "/api/v1/ai/admin/usage?groupBy=user").body)["data"][0]["user"] == "alice");
  json tenants = json::parse(h.request("GET", "/api/v1/ai/admin/usage?groupBy=tenant", "", root).body);
  CHECK(tenants["data"].size() == 2);
  CHECK(tenants["data"][1]["tenant"] == "globex");
  CHECK(h.request("GET", "/api/v1/ai/admin/usage?groupBy=color").status == 400);
  CHECK(h.request("GET", "/api/v1/ai/admin/usage?tenantId=globex").status == 403);

  json costs = json::parse(h.request("GET", "/api/v1/ai/admin/costs").body);
  CHECK(costs["totals"]["cost_usd"].get<double>() == Approx(0.0001));
  CHECK(costs["by_user"][0]["user"] == "alice");
  CHECK(costs["by_day"].size() == 5);
  CHECK(costs["by_day"][4]["day"] == "2023-11-14");
  CHECK(costs["by_day"][4]["requests"] == 22);
  CHECK(costs["projection"]["month_to_date_usd"].get<double>() == Approx(0.0001));
  CHECK(costs["projection"]["projected_month_usd"].get<double>() == Approx(0.0001 * 30 / (13 + (22 * 3600 + 800) / 86400.0)).epsilon(0.001));

  auto csv = h.request("GET", "/api/v1/ai/admin/costs?format=csv");
  REQUIRE(csv.status == 200);
  CHECK(csv.headers["content-type"] == "text/csv; charset=utf-8");
  CHECK(csv.body.rfind("day,provider,user_id,requests,errors,cache_hits,input_tokens,output_tokens,cost_usd,cost_brl\r\n", 0) == 0);
  CHECK(csv.body.find("\r\n2023-11-14,openai,alice,22,2,5,220,110,0.000022,0.0001188\r\n") != std::string::npos);
  int lines = 0, requests = 0;
  for (size_t at = csv.body.find("\r\n") + 2; at < csv.body.size(); at = csv.body.find("\r\n", at) + 2) {
    ++lines;
    size_t third = csv.body.find(',', csv.body.find(',', csv.body.find(',', at) + 1) + 1);
    requests += std::stoi(csv.body.substr(third + 1));
  }
  CHECK(requests == 100);
  CHECK(lines == 6);  // 5 days, one of them split between the two providers

  json clients = json::parse(h.request("GET", "/api/ai-gateway/metrics").body);
  CHECK(clients["top_clients"][0]["client"] == "alice");
  CHECK(clients["top_clients"][0]["requests"] == 100);
  CHECK(clients["provider_distribution"][0]["share"].get<double>() == Approx(0.6));
  CHECK(clients["active_clients"]["period"] == 1);
  CHECK(clients["active_clients"]["last_24h"] == 1);
  json everyone = json::parse(h.request("GET", "/api/ai-gateway/metrics", "", root).body);
  CHECK(everyone["requests"] == 120);
}

TEST_CASE("every analytics route keeps a key to its own tenant") {
  FakeHost h;
  seed(h);
  for (const std::string path : {"/api/v1/ai/metrics", "/api/v1/ai/admin/usage", "/api/v1/ai/admin/costs",
                                 "/api/v1/ai/admin/costs?format=csv", "/api/ai-gateway/metrics"}) {
    INFO(path);
    const std::string join = path.find('?') == std::string::npos ? "?" : "&";
    auto other = h.request("GET", path + join + "tenantId=globex");
    CHECK(other.status == 403);
    auto own = h.request("GET", path);
    REQUIRE(own.status == 200);
    CHECK(own.body.find("globex") == std::string::npos);
  }
}

TEST_CASE("log lines carry prompt text only with LOG_PROMPTS, and LOG_LEVEL drops the quieter ones") {
  FakeHost plain;
  auto quiet = plain.chat(HELLO);
  REQUIRE(quiet.logs.size() == 1);
  CHECK(quiet.logs[0].find("Say hello") == std::string::npos);

  FakeHost prompts(Vars{{"LOG_PROMPTS", "true"}});
  auto logged = prompts.chat(HELLO);
  REQUIRE(logged.logs.size() == 1);
  CHECK(json::parse(logged.logs[0])["prompt"] == "Say hello");

  FakeHost errorsOnly(Vars{{"LOG_LEVEL", "error"}});
  CHECK(errorsOnly.chat(HELLO).logs.empty());
  ScriptedReply boom;
  boom.status = 500;
  boom.chunks = {R"({"error":{"message":"boom"}})"};
  for (int i = 0; i < 3; ++i) errorsOnly.replies.push_back(boom);
  CHECK(errorsOnly.chat(R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]})").logs.size() == 1);

  FakeHost bad(Vars{{"LOG_LEVEL", "loud"}});
  auto refused = bad.chat(HELLO);
  CHECK(refused.status == 500);
  CHECK(refused.body.find("LOG_LEVEL") != std::string::npos);
}

TEST_CASE("LOG_PROMPT_MAX_BYTES cuts the logged prompt") {
  FakeHost cut(Vars{{"LOG_PROMPTS", "true"}, {"LOG_PROMPT_MAX_BYTES", "3"}});
  auto logged = cut.chat(HELLO);
  REQUIRE(logged.logs.size() == 1);
  CHECK(json::parse(logged.logs[0])["prompt"] == "Say");
}

TEST_CASE("with the usage queue bound, rows go through it and its consumer writes a batch in one statement") {
  FakeHost h({}, {"OPENAI_API_KEY"}, "", {"USAGE_QUEUE"});
  for (int i = 0; i < 3; ++i) {
    h.replies.push_back(gw::testing::openaiReply("Hello!", 9, 3));
    REQUIRE(h.chat(HELLO).status == 200);
  }
  // Nothing written per request: three messages, each a row.
  CHECK(rows(h).empty());
  REQUIRE(h.queues["USAGE_QUEUE"].size() == 3);
  for (const std::string& m : h.queues["USAGE_QUEUE"]) CHECK(json::parse(m).size() == gw::USAGE_ROW_VALUES);

  // The consumer's batch (strings, as the queue hands them over), delivered twice, a bad message among them.
  json batch = json::array();
  for (const std::string& m : h.queues["USAGE_QUEUE"]) batch.push_back(m);
  batch.push_back("not a row");
  h.internal = true;
  const size_t statements = h.d1Statements.size();
  auto written = h.request("POST", "/internal/queue/usage", batch.dump());
  REQUIRE(written.status == 200);
  CHECK(json::parse(written.body) == json::parse(R"({"written":3,"dropped":1})"));
  CHECK(h.d1Statements.size() == statements + 1);  // one statement for the batch
  REQUIRE(h.request("POST", "/internal/queue/usage", batch.dump()).status == 200);
  json r = rows(h);
  REQUIRE(r.size() == 3);  // once each, delivered twice
  CHECK(r[0]["tenant_id"] == "acme");
  CHECK(r[0]["input_tokens"] == 9);
  CHECK(r[0]["output_tokens"] == 3);
  CHECK(r[0]["status"] == 200);
  CHECK(r[0]["ttft_ms"].is_null());
  CHECK(r[0]["cost_usd_pico"].get<int64_t>() > 0);

  // D1 down: the host must deliver the batch again (and nothing is written).
  h.d1Down = true;
  auto down = h.request("POST", "/internal/queue/usage", batch.dump());
  CHECK(down.status == 503);
  h.d1Down = false;

  // The consumer is the host's job only.
  h.internal = false;
  CHECK(h.request("POST", "/internal/queue/usage", batch.dump()).status == 404);
}

TEST_CASE("the usage consumer reads the worker's packed messages (arrays of rows) and splits big batches into statements") {
  FakeHost h({}, {"OPENAI_API_KEY"}, "", {"USAGE_QUEUE"});
  for (int i = 0; i < 4; ++i) {
    h.replies.push_back(gw::testing::openaiReply("Hello!", 9, 3));
    REQUIRE(h.chat(HELLO).status == 200);
  }
  const auto& sent = h.queues["USAGE_QUEUE"];
  REQUIRE(sent.size() == 4);
  // As worker/queue_batcher.js packs them: two rows per message, a bad row inside one pack, one row alone.
  json batch = json::array({"[" + sent[0] + "," + sent[1] + "]", "[" + sent[2] + ",[1,2,3]]", sent[3], "[]"});
  h.internal = true;
  const size_t statements = h.d1Statements.size();
  auto written = h.request("POST", "/internal/queue/usage", batch.dump());
  REQUIRE(written.status == 200);
  CHECK(json::parse(written.body) == json::parse(R"({"written":4,"dropped":2})"));
  CHECK(h.d1Statements.size() == statements + 1);
  CHECK(rows(h).size() == 4);

  // Thousands of rows (a full batch of full packs) go in several statements,
  // each bound string well under D1's 2 MB; every row once.
  std::string pack = "[";
  for (int i = 0; i < 100; ++i) {
    json row = json::parse(sent[0]);
    row[0] = "req_many_" + std::to_string(i);
    pack += (i ? "," : "") + row.dump();
  }
  pack += "]";
  json many = json::array();
  for (int m = 0; m < 30; ++m) {
    std::string copy = pack;
    for (size_t at = copy.find("req_many_"); at != std::string::npos; at = copy.find("req_many_", at + 1))
      copy.replace(at, 9, "req_m" + std::to_string(100 + m) + "_");
    many.push_back(copy);
  }
  const size_t before = h.d1Statements.size();
  auto big = h.request("POST", "/internal/queue/usage", many.dump());
  REQUIRE(big.status == 200);
  CHECK(json::parse(big.body)["written"] == 3000);
  CHECK(h.d1Statements.size() > before + 1);
  CHECK(h.d1LargestParams < 1024 * 1024);
  CHECK(rows(h).size() == 3004);

  // D1 failing part-way: the batch is delivered again, and rewriting replaces.
  h.d1Down = true;
  CHECK(h.request("POST", "/internal/queue/usage", many.dump()).status == 503);
  h.d1Down = false;
  REQUIRE(h.request("POST", "/internal/queue/usage", many.dump()).status == 200);
  CHECK(rows(h).size() == 3004);
}

TEST_CASE("the queue send carries the packing window the operator set") {
  FakeHost h({}, {"OPENAI_API_KEY"}, "", {"USAGE_QUEUE"});
  h.replies.push_back(gw::testing::openaiReply("Hello!", 9, 3));
  REQUIRE(h.chat(HELLO).status == 200);
  FakeHost slow(Vars{{"AI_GATEWAY_USAGE_PACK_MS", "250"}}, {"OPENAI_API_KEY"}, "", {"USAGE_QUEUE"});
  slow.replies.push_back(gw::testing::openaiReply("Hello!", 9, 3));
  REQUIRE(slow.chat(HELLO).status == 200);
  FakeHost none(Vars{{"AI_GATEWAY_USAGE_PACK_MS", "0"}}, {"OPENAI_API_KEY"}, "", {"USAGE_QUEUE"});
  none.replies.push_back(gw::testing::openaiReply("Hello!", 9, 3));
  REQUIRE(none.chat(HELLO).status == 200);
  CHECK(h.queuePackMs == std::vector<int64_t>{20});
  CHECK(slow.queuePackMs == std::vector<int64_t>{250});
  CHECK(none.queuePackMs == std::vector<int64_t>{0});
  // Out of range: the configuration is refused, naming the setting.
  FakeHost bad(Vars{{"AI_GATEWAY_USAGE_PACK_MS", "5000"}}, {"OPENAI_API_KEY"}, "", {"USAGE_QUEUE"});
  auto refused = bad.chat(HELLO);
  CHECK(refused.status == 500);
  CHECK(refused.body.find("AI_GATEWAY_USAGE_PACK_MS") != std::string::npos);
}

TEST_CASE("a usage row whose queue send fails is written directly, as without the queue") {
  FakeHost h({}, {"OPENAI_API_KEY"}, "", {"USAGE_QUEUE"});
  h.queueDown = true;
  h.replies.push_back(gw::testing::openaiReply("Hello!", 9, 3));
  REQUIRE(h.chat(HELLO).status == 200);
  CHECK(h.queues["USAGE_QUEUE"].empty());
  // The core's fallback is the queue's own consumer, run on the message.
  CHECK(h.queueFallbackStatuses == std::vector<int>{200});
  REQUIRE(rows(h).size() == 1);
  CHECK(rows(h)[0]["status"] == 200);
  // With D1 down too, the consumer says so (the worker logs it); nothing is half-written.
  h.d1Down = true;
  h.replies.push_back(gw::testing::openaiReply("Hello!", 9, 3));
  REQUIRE(h.chat(HELLO).status == 200);
  CHECK(h.queueFallbackStatuses == std::vector<int>{200, 503});
  h.d1Down = false;
  CHECK(rows(h).size() == 1);
  // Without the binding, as before: one statement per request.
  FakeHost plain;
  plain.replies.push_back(gw::testing::openaiReply("Hello!", 9, 3));
  REQUIRE(plain.chat(HELLO).status == 200);
  CHECK(plain.queues.empty());
  CHECK(rows(plain).size() == 1);
}
