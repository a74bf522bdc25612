// GET /api/ai-gateway/latency: p50/p95/p99 (nearest rank) and the mean per
// hour or day, in total and per provider, over seeded usage rows.
#include <catch2/catch.hpp>

#include "test_requests.h"

using gw::testing::body;
using gw::testing::FakeHost;
using nlohmann::json;

namespace {

constexpr int64_t HOUR = 3600000;

// Hour 0: openai 1..10 ms; hour 1: openai 100 ms, anthropic 200 and 300 ms.
void seed(FakeHost& h, int64_t start) {
  auto row = [&](int i, int64_t at, const char* provider, int latency) {
    h.d1->query("INSERT INTO gateway_usage_logs (request_id, created_at, tenant_id, api_type, provider, latency_ms, status, "
                "cache_status) VALUES ('lat-" + std::to_string(i) + "', " + std::to_string(at) + ", 'acme', 'chat_completion', '" +
                provider + "', " + std::to_string(latency) + ", 200, 'MISS')");
  };
  for (int i = 1; i <= 10; ++i) row(i, start + i * 1000, "openai", i);
  row(11, start + HOUR + 5, "openai", 100);
  row(12, start + HOUR + 6, "anthropic", 200);
  row(13, start + HOUR + 7, "anthropic", 300);
}

}  // namespace

TEST_CASE("latency series: nearest-rank percentiles per hour, in total and per provider") {
  FakeHost h;
  const int64_t start = h.nowMs - h.nowMs % HOUR - 3 * HOUR;
  seed(h, start);
  auto r = h.request("GET", "/api/ai-gateway/latency?interval=hour&period=7d");
  REQUIRE(r.status == 200);
  json l = body(r);
  CHECK(l["interval"] == "hour");
  REQUIRE(l["series"].size() == 2);
  CHECK(l["series"][0]["requests"] == 10);
  CHECK(l["series"][0]["p50"] == 5);
  CHECK(l["series"][0]["p95"] == 10);
  CHECK(l["series"][0]["mean"] == 6);  // 5.5, rounded
  CHECK(l["series"][1]["requests"] == 3);
  CHECK(l["series"][1]["p50"] == 200);
  CHECK(l["series"][1]["p99"] == 300);
  REQUIRE(l["by_provider"].size() == 2);
  for (const auto& p : l["by_provider"]) {
    if (p["provider"] == "anthropic") {
      REQUIRE(p["series"].size() == 1);
      CHECK(p["series"][0]["p50"] == 200);
    } else {
      CHECK(p["provider"] == "openai");
      REQUIRE(p["series"].size() == 2);
      CHECK(p["series"][1]["p50"] == 100);
    }
  }
  // A day at a time, and what is refused.
  json daily = body(h.request("GET", "/api/ai-gateway/latency?interval=day&period=30d"));
  CHECK(daily["interval"] == "day");
  CHECK(daily["series"].size() >= 1);
  CHECK(h.request("GET", "/api/ai-gateway/latency?interval=minute").status == 400);
  CHECK(body(h.request("GET", "/api/ai-gateway/latency?interval=hour&period=60d"))["error"]["param"] == "interval");
}
