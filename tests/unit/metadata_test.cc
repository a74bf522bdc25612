// x-aigw-metadata: the app's own labels on a request, stored with its usage
// row and log line, then a filter and a group-by in analytics and costs.
#include <catch2/catch.hpp>

#include "test_requests.h"

using gw::testing::ADMIN_KEY;
using gw::testing::body;
using gw::testing::FakeHost;
using gw::testing::HttpResponse;
using nlohmann::json;

namespace {

const char* CHAT = R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":50})";

HttpResponse labelled(FakeHost& h, const std::string& metadata) {
  return h.request("POST", "/v1/chat/completions", CHAT, {{"x-aigw-metadata", metadata}});
}
HttpResponse admin(FakeHost& h, const std::string& path) { return gw::testing::admin(h, "GET", path); }

}  // namespace

TEST_CASE("metadata is stored with the usage row and the log line, keys in order, values as strings") {
  FakeHost h;
  HttpResponse r = labelled(h, R"({"phone":"+5511999990000","conversation_id":"conv-7","tier":3,"beta":true})");
  REQUIRE(r.status == 200);
  json rows = json::parse(h.d1->query("SELECT metadata, conversation_id FROM gateway_usage_logs"));
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["metadata"] == R"({"beta":"true","conversation_id":"conv-7","phone":"+5511999990000","tier":"3"})");
  CHECK(rows[0]["conversation_id"] == "conv-7");  // the metadata's, as no header named one
  CHECK(r.logs.back().find(R"("metadata":{"beta":"true","conversation_id":"conv-7")") != std::string::npos);
  // No header, no metadata.
  h.chat(CHAT);
  CHECK(json::parse(h.d1->query("SELECT metadata FROM gateway_usage_logs ORDER BY rowid"))[1]["metadata"].is_null());
}

TEST_CASE("malformed metadata is a 400 naming the header, before anything is spent") {
  FakeHost h;
  std::string many = "{";
  for (int i = 0; i < 17; ++i) many += (i ? "," : "") + std::string("\"k") + std::to_string(i) + "\":\"v\"";
  many += "}";
  for (const std::string& bad : {std::string("not json"), std::string("[1,2]"), std::string(R"({"a":{"b":1}})"),
                                 std::string(R"({"a":[1]})"), std::string(R"({"a":null})"), std::string(R"({"bad key":"x"})"),
                                 std::string(R"({"a":"1","a":"2"})"), "{\"a\":\"" + std::string(600, 'x') + "\"}", many,
                                 "{\"a\":\"" + std::string(3000, 'x') + "\"}"}) {
    INFO(bad.substr(0, 80));
    HttpResponse r = labelled(h, bad);
    CHECK(r.status == 400);
    CHECK(body(r)["error"]["param"] == "x-aigw-metadata");
    CHECK(body(r)["error"]["code"] == "invalid_metadata");
  }
  CHECK(h.fetches.empty());
  CHECK(h.ledgerOps.empty());
}

TEST_CASE("metadata filters and groups analytics, usage and costs") {
  FakeHost h;
  for (int i = 0; i < 3; ++i) REQUIRE(labelled(h, R"({"phone":"+5511","team":"sales"})").status == 200);
  for (int i = 0; i < 2; ++i) REQUIRE(labelled(h, R"({"phone":"+5521","team":"sales"})").status == 200);
  REQUIRE(h.chat(CHAT).status == 200);
  h.nowMs += 1000;

  json all = body(admin(h, "/api/v1/ai/metrics?tenantId=acme"));
  CHECK(all["totals"]["requests"] == 6);
  json sp = body(admin(h, "/api/v1/ai/metrics?tenantId=acme&metadata.phone=%2B5511"));
  CHECK(sp["totals"]["requests"] == 3);
  CHECK(sp["metadata"]["phone"] == "+5511");
  CHECK(body(admin(h, "/api/v1/ai/metrics?tenantId=acme&metadata.phone=%2B5521&metadata.team=sales"))["totals"]["requests"] == 2);
  CHECK(body(admin(h, "/api/v1/ai/metrics?tenantId=acme&metadata.team=support"))["totals"]["requests"] == 0);

  json grouped = body(admin(h, "/api/v1/ai/admin/usage?tenantId=acme&groupBy=metadata.phone"));
  REQUIRE(grouped["data"].size() == 3);  // +5511, +5521 and the request without any
  std::map<std::string, int64_t> byPhone;
  for (const auto& g : grouped["data"]) byPhone[g["metadata.phone"].is_null() ? "-" : g["metadata.phone"].get<std::string>()] = g["requests"];
  CHECK(byPhone == std::map<std::string, int64_t>{{"+5511", 3}, {"+5521", 2}, {"-", 1}});

  json costs = body(admin(h, "/api/v1/ai/admin/costs?tenantId=acme&groupBy=metadata.team"));
  CHECK(costs["by_metadata"]["key"] == "team");
  REQUIRE(costs["by_metadata"]["data"].size() == 2);
  json filtered = body(admin(h, "/api/v1/ai/admin/costs?tenantId=acme&metadata.phone=%2B5521"));
  CHECK(filtered["totals"]["requests"] == 2);

  // Bad filters name themselves.
  for (const auto& [path, param] : std::vector<std::pair<std::string, std::string>>{
           {"/api/v1/ai/metrics?metadata.bad%20key=x", "metadata.bad key"},
           {"/api/v1/ai/metrics?metadata.phone", "metadata.phone"},
           {"/api/v1/ai/admin/usage?groupBy=metadata.", "groupBy"},
           {"/api/v1/ai/admin/costs?groupBy=provider", "groupBy"},
           {"/api/v1/ai/metrics/daily?metadata.phone=1", "metadata.phone"},
           {"/api/v1/ai/metrics?metadata.a=1&metadata.b=1&metadata.c=1&metadata.d=1&metadata.e=1", "metadata.e"}}) {
    HttpResponse r = admin(h, path);
    INFO(path);
    CHECK(r.status == 400);
    CHECK(body(r)["error"]["param"] == param);
  }
}
