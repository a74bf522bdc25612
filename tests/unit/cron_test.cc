// The scheduled run's jobs: daily rollups (checked against the live
// metrics over the same rows), the pricing sync from PRICING_URL and the
// health alert to GATEWAY_ALERT_WEBHOOK_URL.
#include <catch2/catch.hpp>

#include "fake_host.h"
#include "gw/nlohmann.h"
#include "gw/periods.h"

using gw::testing::FakeHost;
using gw::testing::HttpResponse;
using gw::testing::ScriptedReply;
using gw::testing::Vars;
using nlohmann::json;

namespace {

const auto ROOT = gw::testing::adminHeaders();

void insert(FakeHost& h, const std::string& id, int64_t at, const std::string& tenant, const std::string& provider,
            int64_t latency, int status) {
  h.d1->query("INSERT INTO gateway_usage_logs (request_id, created_at, tenant_id, api_type, provider, model, "
              "input_tokens, output_tokens, cost_usd_pico, latency_ms, status, cache_status) VALUES (?, ?, ?, "
              "'chat_completion', ?, 'm', 10, 5, 1000000, ?, ?, 'MISS')",
              json::array({id, at, tenant, provider, latency, status}).dump());
}

// 150 rows over the last 5 days: two tenants, two providers, latencies that
// differ per row, every 7th a failure.
void seed(FakeHost& h) {
  for (int i = 1; i <= 150; ++i)
    insert(h, "r" + std::to_string(i), h.nowMs - i * 2400000LL, i % 3 == 0 ? "globex" : "acme",
           i % 2 == 0 ? "openai" : "anthropic", (i * 37) % 101, i % 7 == 0 ? 502 : 200);
}

HttpResponse cron(FakeHost& h) {
  h.internal = true;
  HttpResponse r = h.request("POST", "/internal/cron");
  h.internal = false;
  return r;
}

// The per-day series of the live metrics, by day.
std::map<std::string, json> liveDays(FakeHost& h, const std::map<std::string, std::string>& headers, const std::string& q = "") {
  std::map<std::string, json> out;
  const json metrics = json::parse(h.request("GET", "/api/v1/ai/metrics" + q, "", headers).body);
  for (const auto& d : metrics["daily"]) out[d["day"].get<std::string>()] = d;
  return out;
}

}  // namespace

TEST_CASE("daily rollups give the same numbers as the live metrics, per tenant and for all, and stay isolated") {
  FakeHost h;
  seed(h);
  HttpResponse run = cron(h);
  REQUIRE(run.status == 200);
  json summary = json::parse(run.body);
  CHECK(summary["rollup"]["ok"] == true);
  CHECK(summary["complete"] == true);

  for (const auto& [headers, query] : std::vector<std::pair<std::map<std::string, std::string>, std::string>>{
           {{}, ""}, {ROOT, ""}, {ROOT, "?tenantId=globex"}}) {
    json daily = json::parse(h.request("GET", "/api/v1/ai/metrics/daily" + query, "", headers).body);
    std::map<std::string, json> live = liveDays(h, headers, query);
    REQUIRE(daily["daily"].size() == live.size());
    for (const auto& d : daily["daily"]) {
      const json& l = live[d["day"].get<std::string>()];
      INFO(d["day"].get<std::string>() << " " << query);
      CHECK(d["requests"] == l["requests"]);
      CHECK(d["errors"] == l["errors"]);
      CHECK(d["latency_ms"] == l["latency_ms"]);
      CHECK(d["tokens"] == l["tokens"]);
      CHECK(d["cost_usd"] == l["cost_usd"]);
    }
    CHECK(daily["rolled_up_at"] == gw::isoTimestamp(h.nowMs));
  }
  // A user key sees its own tenant only, and cannot name another.
  json mine = json::parse(h.request("GET", "/api/v1/ai/metrics/daily").body);
  int64_t total = 0;
  for (const auto& d : mine["daily"]) total += d["requests"].get<int64_t>();
  CHECK(total == 100);  // acme's rows
  CHECK(h.request("GET", "/api/v1/ai/metrics/daily?tenantId=globex").status == 403);
  // Per provider per day, the totals add up.
  int64_t byProvider = 0;
  for (const auto& d : mine["by_provider"]) byProvider += d["requests"].get<int64_t>();
  CHECK(byProvider == 100);
}

TEST_CASE("a later run recomputes the days it may have missed, and today, without double counting") {
  FakeHost h;
  seed(h);
  REQUIRE(cron(h).status == 200);
  const std::string rolled =
      "SELECT day, tenant_id, provider, model, requests, errors, cost_usd_pico, latency_ms_sum, p50, p95, p99 FROM "
      "gateway_usage_daily ORDER BY 1, 2, 3, 4";
  const std::string before = h.d1->query(rolled);
  CHECK(json::parse(before).size() > 20);
  h.nowMs += 300000;
  REQUIRE(cron(h).status == 200);
  CHECK(h.d1->query(rolled) == before);
  // Three days pass without a run; the next one fills them in.
  h.nowMs += 3 * 86400000LL;
  insert(h, "late-1", h.nowMs - 2 * 86400000LL, "acme", "openai", 7, 200);
  insert(h, "late-2", h.nowMs - 1000, "acme", "openai", 9, 200);
  REQUIRE(cron(h).status == 200);
  // Whole days, so the live window and the rollups cover the same rows.
  const std::string q = "?from=" + gw::isoTimestamp(h.nowMs - 6 * 86400000LL).substr(0, 10) +
                        "&to=" + gw::isoTimestamp(h.nowMs).substr(0, 10);
  json days = json::parse(h.request("GET", "/api/v1/ai/metrics/daily" + q).body)["daily"];
  std::map<std::string, json> live = liveDays(h, {}, q);
  REQUIRE(days.size() == live.size());
  for (const auto& d : days) CHECK(d["requests"].get<int64_t>() == live[d["day"].get<std::string>()]["requests"].get<int64_t>());
  CHECK(days.back()["day"] == gw::isoTimestamp(h.nowMs).substr(0, 10));
}

TEST_CASE("the pricing sync writes PRICING_URL's prices into the registry once a day; a bad document changes nothing") {
  const std::string url = "https://prices.example.com/models.json";
  FakeHost h(Vars{{"PRICING_URL", url}});
  ScriptedReply prices;
  prices.chunks = {R"({"models":[{"id":"gpt-4o-mini","price":{"input":1,"output":2}},
                                 {"id":"not-registered","price":{"input":1,"output":1}},
                                 {"id":"gpt-4o","provider":"openai"}]})"};
  h.urlReplies[url] = prices;
  json summary = json::parse(cron(h).body);
  CHECK(summary["pricing"]["status"] == "ok");
  CHECK(summary["pricing"]["updated"] == 1);
  CHECK(summary["pricing"]["unknown_models"] == 1);
  // The next request is priced by it: 9 prompt and 3 completion tokens at 1 and 2 USD per 1M.
  h.replies.push_back(gw::testing::openaiReply("hi"));
  CHECK(h.chat(R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]})").headers["x-aigw-cost-usd"] ==
        "0.000015");
  json settings = json::parse(h.request("GET", "/api/ai-gateway/config", "", ROOT).body);
  CHECK(settings["pricing_sync"]["status"] == "ok");
  CHECK(settings["pricing_url"] == url);

  // Not due again for 24 hours.
  auto fetchesOf = [&] {
    return std::count_if(h.fetches.begin(), h.fetches.end(), [&](const auto& f) { return f.url == url; });
  };
  const auto fetched = fetchesOf();
  h.nowMs += 3600000;
  CHECK(json::parse(cron(h).body)["pricing"]["status"] == "not_due");
  CHECK(fetchesOf() == fetched);

  // A day later the source is broken: a negative price and then no document.
  const std::string override = h.kv["config:override"];
  h.nowMs += 86400000;
  prices.chunks = {R"({"models":[{"id":"gpt-4o-mini","price":{"input":-1,"output":2}}]})"};
  h.urlReplies[url] = prices;
  HttpResponse bad = cron(h);
  CHECK(bad.status == 503);
  CHECK(json::parse(bad.body)["pricing"]["status"] == "failed");
  CHECK(h.kv["config:override"] == override);
  h.nowMs += 86400000;
  prices.status = 404;
  prices.chunks = {"not found"};
  h.urlReplies[url] = prices;
  CHECK(json::parse(cron(h).body)["pricing"]["error"] == "HTTP 404");
  CHECK(h.kv["config:override"] == override);
}

TEST_CASE("the health alert posts when the error rate or latency passes its threshold, repeats hourly, resolves once") {
  FakeHost h(Vars{}, {"OPENAI_API_KEY", "GATEWAY_ALERT_WEBHOOK_URL"});
  ScriptedReply accepted;
  accepted.chunks = {"ok"};
  h.urlReplies["GATEWAY_ALERT_WEBHOOK_URL"] = accepted;
  auto posts = [&] {
    std::vector<json> out;
    for (const auto& f : h.fetches)
      if (f.urlSecret == "GATEWAY_ALERT_WEBHOOK_URL") out.push_back(json::parse(f.body));
    return out;
  };
  // 40 requests in the last 10 minutes, 6 of them failed (15% > 10%), p95 fast.
  for (int i = 0; i < 40; ++i) insert(h, "a" + std::to_string(i), h.nowMs - 1000 - i * 15000, "acme", "openai", 100, i < 6 ? 500 : 200);
  json run = json::parse(cron(h).body);
  CHECK(run["alerts"]["status"] == "sent");
  REQUIRE(posts().size() == 1);
  json p = posts()[0];
  CHECK(p["event"] == "gateway.alert");
  REQUIRE(p["alerts"].size() == 1);
  CHECK(p["alerts"][0]["alert"] == "error_rate");
  CHECK(p["alerts"][0]["state"] == "firing");
  CHECK(p["alerts"][0]["value"] == 0.15);
  CHECK(p["alerts"][0]["threshold"] == 0.1);
  CHECK(p["window"]["requests"] == 40);
  CHECK(p["providers"][0]["provider"] == "openai");
  // The core never saw the URL: the host resolves the secret.
  for (const auto& f : h.fetches)
    if (f.urlSecret == "GATEWAY_ALERT_WEBHOOK_URL") CHECK(f.url.empty());

  // Still failing five minutes later: not posted again within the hour.
  h.nowMs += 300000;
  CHECK(json::parse(cron(h).body)["alerts"]["status"] == "ok");
  CHECK(posts().size() == 1);
  // Slow now too: the latency alert is new, so it is posted (with the error rate, whose hour has not passed).
  for (int i = 0; i < 40; ++i) insert(h, "b" + std::to_string(i), h.nowMs - 1000 - i * 1000, "acme", "openai", 20000, 200);
  json both = json::parse(cron(h).body)["alerts"];
  CHECK(both["firing"] == json::array({"latency_p95"}));  // 6 of 80 failed: the error rate is back under 10%
  REQUIRE(posts().size() == 2);
  std::set<std::string> posted;
  const json second = posts()[1];
  for (const auto& a : second["alerts"]) posted.insert(a["alert"].get<std::string>() + ":" + a["state"].get<std::string>());
  CHECK(posted == std::set<std::string>{"error_rate:resolved", "latency_p95:firing"});

  // A webhook that refuses is retried by the next run.
  h.nowMs += 16 * 60000;  // the slow requests leave the window: resolved
  ScriptedReply refused;
  refused.status = 500;
  refused.chunks = {"no"};
  h.urlReplies["GATEWAY_ALERT_WEBHOOK_URL"] = refused;
  HttpResponse failed = cron(h);
  CHECK(failed.status == 503);
  CHECK(json::parse(failed.body)["alerts"]["status"] == "post_failed");
  h.urlReplies["GATEWAY_ALERT_WEBHOOK_URL"] = accepted;
  h.nowMs += 300000;
  CHECK(json::parse(cron(h).body)["alerts"]["status"] == "sent");
  CHECK(posts().back()["alerts"][0]["state"] == "resolved");
  CHECK(posts().back()["alerts"][0]["alert"] == "latency_p95");
  h.nowMs += 300000;
  CHECK(json::parse(cron(h).body)["alerts"]["status"] == "ok");
}

TEST_CASE("without a webhook or a pricing URL those jobs are off") {
  FakeHost h;
  json run = json::parse(cron(h).body);
  CHECK(run["alerts"]["status"] == "off");
  CHECK(run["pricing"]["status"] == "off");
  CHECK(run["complete"] == true);
}
