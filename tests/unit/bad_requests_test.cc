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
