// Credit leases in the isolate (AI_GATEWAY_CREDIT_LEASES): after the first
// request the isolate holds a lease and admits the next ones with no ledger
// call; it reports a used-up lease and asks for the next after a response;
// near a budget it falls back to the ledger per request, and the budget is
// never passed.
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

}  // namespace

TEST_CASE("with credit leases, requests after the first are admitted in the isolate, and the lease is reported") {
  FakeHost h(gw::testing::Vars{{"AI_GATEWAY_CREDIT_LEASES", "true"}});
  h.replies.push_back(gw::testing::openaiReply("ok", 9, 3));
  REQUIRE(h.chat(HELLO).status == 200);
  // The first goes to the ledger, and the lease is asked for after it.
  CHECK(count(h, "reserve") == 1);
  CHECK(count(h, "settle") == 1);
  REQUIRE(count(h, "lease") == 1);
  for (int i = 0; i < 3; ++i) {
    h.replies.push_back(gw::testing::openaiReply("ok", 9, 3));
    REQUIRE(h.chat(HELLO).status == 200);
  }
  // Four requests of the first lease (it asks for 4): no ledger call on their way.
  CHECK(count(h, "reserve") == 1);
  CHECK(count(h, "settle") == 1);
  h.replies.push_back(gw::testing::openaiReply("ok", 9, 3));
  REQUIRE(h.chat(HELLO).status == 200);
  // The lease is used up: the next one is asked for (twice the pace), its
  // report riding in the same call.
  REQUIRE(count(h, "lease") == 2);
  json next;
  for (const std::string& o : h.ledgerOps)
    if (json j = json::parse(o); j["op"] == "lease") next = j;
  CHECK(next["requests"] == 8);
  CHECK(next["report"]["requests"] == 4);
  CHECK(next["report"]["tokens"] == 4 * 12);
  CHECK(count(h, "lease_report") == 0);
  json usage = json::parse(h.request("GET", "/api/budget/current-usage").body, nullptr, false);
  CHECK(usage["tenant"]["dailyRequests"].get<int64_t>() >= 5);

  // Off by default: every request is reserved and settled by the ledger.
  FakeHost plain;
  for (int i = 0; i < 3; ++i) {
    plain.replies.push_back(gw::testing::openaiReply("ok", 9, 3));
    REQUIRE(plain.chat(HELLO).status == 200);
  }
  CHECK(count(plain, "reserve") == 3);
  CHECK(count(plain, "lease") == 0);
}

TEST_CASE("with credit leases a USD budget is still never passed: near it, admission is per request again") {
  FakeHost h(gw::testing::Vars{{"AI_GATEWAY_CREDIT_LEASES", "true"}});
  REQUIRE(h.request("POST", "/api/budget/config",
                    R"({"tenantId":"acme","type":"USD","limit":0.0002,"period":"daily","pauseAtLimit":true})",
                    gw::testing::adminHeaders())
              .status == 201);
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
  json usage = json::parse(h.request("GET", "/api/budget/current-usage").body, nullptr, false);
  REQUIRE(usage["budgets"].size() == 1);
  CHECK(usage["budgets"][0]["percentage"].get<double>() <= 100.0);
  json rows = json::parse(h.d1->query("SELECT SUM(cost_usd_pico) AS spent FROM gateway_usage_logs WHERE status = 200"));
  CHECK(rows[0]["spent"].get<int64_t>() <= 200000000);  // what was served never passed the budget (0.0002 USD)
}
