// Credit leases in the isolate (on by default): once a key's requests come
// at a pace, the isolate holds a lease and admits them with no ledger call;
// the next lease is asked for before the held one runs out, carrying the
// reports of the used-up ones; a lease's leftover returns to the ledger when
// it stops admitting, even with no request after it; near a budget
// admission is per request again, and the budget is never passed.
#include <catch2/catch.hpp>

#include "fake_host.h"
#include "gw/nlohmann.h"

using gw::testing::FakeHost;
using nlohmann::json;

namespace {

const std::string HELLO = R"({"model":"gpt-4o-mini","max_tokens":50,"messages":[{"role":"user","content":"hi"}]})";

int count(const FakeHost& h, const std::string& op) {
  int n = 0;
  for (const std::string& o : h.ledgerOps) n += json::parse(o, nullptr, false).value("op", "") == op;
  return n;
}

std::vector<json> ops(const FakeHost& h, const std::string& op) {
  std::vector<json> out;
  for (const std::string& o : h.ledgerOps)
    if (json j = json::parse(o, nullptr, false); j.value("op", "") == op) out.push_back(j);
  return out;
}

int64_t reportedRequests(const FakeHost& h) {
  int64_t n = 0;
  for (const std::string& o : h.ledgerOps) {
    json j = json::parse(o, nullptr, false);
    for (const json& r : j.value("reports", json::array())) n += r["requests"].get<int64_t>();
  }
  return n;
}

// A daily USD budget for the tenant that pauses it at `limit`.
void usdBudget(FakeHost& h, const std::string& limit) {
  REQUIRE(h.request("POST", "/api/budget/config",
                    R"({"tenantId":"acme","type":"USD","limit":)" + limit + R"(,"period":"daily","pauseAtLimit":true})",
                    gw::testing::adminHeaders())
              .status == 201);
}

json usage(FakeHost& h) { return json::parse(h.request("GET", "/api/budget/current-usage").body, nullptr, false); }

}  // namespace

TEST_CASE("with credit leases, requests at a pace are admitted in the isolate, and every lease is reported") {
  FakeHost h;
  for (int i = 0; i < 2; ++i) {
    h.replies.push_back(gw::testing::openaiReply("ok", 9, 3));
    REQUIRE(h.chat(HELLO).status == 200);
  }
  // A key's first request goes to the ledger alone; the second, close
  // behind it, is too, and a lease is asked for after it.
  CHECK(count(h, "reserve") == 2);
  REQUIRE(count(h, "lease") == 1);
  const int64_t granted = ops(h, "lease")[0]["requests"];
  CHECK(granted >= 4);
  for (int i = 0; i < 60; ++i) {
    h.replies.push_back(gw::testing::openaiReply("ok", 9, 3));
    REQUIRE(h.chat(HELLO).status == 200);
  }
  // Sixty more with no per-request ledger call: each next lease was asked
  // for before the held one ran out, the used-up ones' reports riding along.
  CHECK(count(h, "reserve") == 2);
  CHECK(count(h, "settle") == 2);
  CHECK(count(h, "lease") >= 2);
  CHECK(count(h, "lease") <= 8);
  CHECK(count(h, "lease_report") == 0);
  for (const json& ask : ops(h, "lease")) CHECK(ask["grace_ms"].get<int64_t>() > 60000);
  // When the last lease stops admitting, the report job returns what it did
  // not use, with no request after it.
  h.nowMs += 30000;
  h.runDueJobs();
  CHECK(h.jobsRun >= 1);
  CHECK(reportedRequests(h) == 60);
  json u = usage(h);
  CHECK(u["tenant"]["dailyRequests"] == 62);
  CHECK(u["inFlightRequests"] == 0);

  // Off: every request is reserved and settled by the ledger.
  FakeHost plain(gw::testing::Vars{{"AI_GATEWAY_CREDIT_LEASES", "false"}});
  for (int i = 0; i < 3; ++i) {
    plain.replies.push_back(gw::testing::openaiReply("ok", 9, 3));
    REQUIRE(plain.chat(HELLO).status == 200);
  }
  CHECK(count(plain, "reserve") == 3);
  CHECK(count(plain, "lease") == 0);
}

TEST_CASE("leased answers carry the x-ratelimit headers the ledger's window gives, counting down") {
  FakeHost h;
  const std::string key =
      json::parse(h.request("POST", "/api/v1/ai/admin/keys", R"({"tenantId":"acme","limits":{"rpm":50}})",
                            gw::testing::adminHeaders())
                      .body)["key"];
  std::vector<int> remaining;
  for (int i = 0; i < 12; ++i) {
    gw::testing::HttpResponse r =
        h.request("POST", "/v1/chat/completions", HELLO, {{"authorization", "Bearer " + key}});
    REQUIRE(r.status == 200);
    CHECK(r.headers["x-ratelimit-limit-requests"] == "50");
    remaining.push_back(std::stoi(r.headers["x-ratelimit-remaining-requests"]));
  }
  CHECK(count(h, "lease") >= 1);
  // One isolate alone: exactly what is left of the minute, leased or not.
  for (int i = 0; i < 12; ++i) CHECK(remaining[i] == 49 - i);
}

TEST_CASE("sparse requests are not leased, and a lease's leftover is never charged as spend") {
  FakeHost h;
  usdBudget(h, "1");
  // One request a minute: each is reserved at the ledger, none leased.
  for (int i = 0; i < 3; ++i) {
    h.replies.push_back(gw::testing::openaiReply("ok", 9, 3));
    REQUIRE(h.chat(HELLO).status == 200);
    h.nowMs += 60000;
  }
  CHECK(count(h, "lease") == 0);
  // A burst, then silence: the lease asked for during it is reported by the
  // job, and the budget holds exactly what was served.
  for (int i = 0; i < 5; ++i) {
    h.replies.push_back(gw::testing::openaiReply("ok", 9, 3));
    REQUIRE(h.chat(HELLO).status == 200);
  }
  REQUIRE(count(h, "lease") >= 1);
  h.nowMs += 31000;  // the lease's end: its report job runs
  h.runDueJobs();
  h.nowMs += 600000;  // long past any hold's expiry
  h.request("POST", "/internal/cron");
  const std::string body = h.request("GET", "/api/budget/current-usage").body;
  json rows = json::parse(h.d1->query("SELECT SUM(cost_usd_pico) AS spent FROM gateway_usage_logs"));
  const int64_t spent = rows[0]["spent"].get<int64_t>();
  CHECK(spent == 8 * 3150000);
  CHECK(body.find("\"used\":" + gw::formatPico(spent) + ",") != std::string::npos);
}

TEST_CASE("with credit leases a USD budget is still never passed: near it, admission is per request again") {
  FakeHost h;
  usdBudget(h, "0.0002");
  int served = 0, refused = 0;
  for (int i = 0; i < 60; ++i) {
    h.replies.push_back(gw::testing::openaiReply("ok", 9, 50));
    const int status = h.chat(HELLO).status;
    served += status == 200;
    refused += status == 429;
    h.nowMs += 500;
  }
  CHECK(served > 0);
  CHECK(refused > 0);
  CHECK(count(h, "lease") >= 1);
  // Every lease ends: reported, or (its isolate gone) charged in full at expiry.
  h.nowMs += 120000;
  h.request("POST", "/internal/cron");
  json u = usage(h);
  REQUIRE(u["budgets"].size() == 1);
  CHECK(u["budgets"][0]["percentage"].get<double>() <= 100.0);
  json rows = json::parse(h.d1->query("SELECT SUM(cost_usd_pico) AS spent FROM gateway_usage_logs WHERE status = 200"));
  CHECK(rows[0]["spent"].get<int64_t>() <= 200000000);  // what was served never passed the budget (0.0002 USD)
}

TEST_CASE("a client cannot run the lease report job") {
  FakeHost h;
  CHECK(h.request("POST", "/internal/leases/report").status == 404);
}

TEST_CASE("a usage read counts what this isolate's leases served so far") {
  FakeHost h;
  for (int i = 0; i < 7; ++i) {
    h.replies.push_back(gw::testing::openaiReply("ok", 9, 3));
    REQUIRE(h.chat(HELLO).status == 200);
  }
  REQUIRE(count(h, "lease") >= 1);
  json u = usage(h);
  CHECK(u["tenant"]["dailyRequests"] == 7);
  CHECK(u["tenant"]["totalTokens"] == 7 * 12);
  // Reads again and the lease's end change nothing: reports are cumulative.
  CHECK(usage(h)["tenant"]["totalTokens"] == 7 * 12);
  h.nowMs += 30000;
  h.runDueJobs();
  json after = usage(h);
  CHECK(after["tenant"]["dailyRequests"] == 7);
  CHECK(after["tenant"]["totalTokens"] == 7 * 12);
  CHECK(after["inFlightRequests"] == 0);
}

TEST_CASE("reports of a lease call the ledger never answered are sent again: an outage charges nothing unserved") {
  FakeHost h;
  usdBudget(h, "10");
  // Steady requests, the ledger unreachable for a stretch in the middle: the
  // calls then (asks carrying reports, reports alone) fail.
  int served = 0;
  for (int i = 0; i < 400; ++i) {
    h.ledgerDown = i >= 40 && i < 120;
    h.replies.push_back(gw::testing::openaiReply("ok", 9, 3));
    served += h.chat(HELLO).status == 200;
    h.nowMs += 250;
    h.runDueJobs();
  }
  h.ledgerDown = false;
  CHECK(served > 300);
  // The last leases end and their report jobs (and any retry) run; then
  // every hold is long expired.
  for (int i = 0; i < 8; ++i) {
    h.nowMs += 10000;
    h.runDueJobs();
  }
  h.nowMs += 600000;
  h.request("POST", "/internal/cron");
  json rows = json::parse(h.d1->query("SELECT SUM(cost_usd_pico) AS spent, COUNT(*) AS n FROM gateway_usage_logs WHERE status = 200"));
  REQUIRE(rows[0]["n"] == served);
  // What the budget holds is exactly what was served: no lease charged in full.
  json u = usage(h);
  REQUIRE(u["budgets"].size() == 1);
  CHECK(u["budgets"][0]["used"].get<double>() * 1e12 == Approx(rows[0]["spent"].get<double>()));
  CHECK(u["inFlightRequests"] == 0);
}

TEST_CASE("past 4096 lease scopes an isolate forgets the idle ones (swept at most once a second)") {
  FakeHost h(gw::testing::Vars{{"AI_RATE_LIMIT_RPM", "10000000"}, {"AI_RATE_LIMIT_TPM", "1000000000000"},
                               {"AI_QUOTA_DAILY_LIMIT", "10000000000"}, {"AI_QUOTA_MONTHLY_LIMIT", "10000000000"},
                               {"AI_CACHE_ENABLED", "false"}});
  std::vector<std::string> keys;
  for (int i = 0; i < 4200; ++i)
    keys.push_back(json::parse(h.request("POST", "/api/v1/ai/admin/keys", R"({"tenantId":"acme"})", gw::testing::adminHeaders()).body)["key"]);
  h.upstreamLatencyMs = 0;  // all of them within one instant: none is idle yet
  for (const std::string& key : keys) {
    h.replies.push_back(gw::testing::openaiReply("ok", 9, 3));
    REQUIRE(h.request("POST", "/v1/chat/completions", HELLO, {{"authorization", "Bearer " + key}}).status == 200);
  }
  CHECK(h.gateway.state().leases.size() == keys.size());
  // Quiet for longer than the pace window: the next request's sweep forgets them.
  h.nowMs += 11000;
  h.replies.push_back(gw::testing::openaiReply("ok", 9, 3));
  REQUIRE(h.request("POST", "/v1/chat/completions", HELLO, {{"authorization", "Bearer " + keys[0]}}).status == 200);
  CHECK(h.gateway.state().leases.size() <= 2);
}
