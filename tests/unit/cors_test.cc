// Browsers on another origin: preflights and exposed headers.
#include "codec_support.h"

using namespace gw::testing::codec;

TEST_CASE("CORS: a preflight allows what the official SDKs send; responses expose every gateway header") {
  FakeHost host;
  auto pre = host.request("OPTIONS", "/v1/chat/completions", "",
                          {{"origin", "http://localhost:5173"},
                           {"access-control-request-method", "POST"},
                           {"access-control-request-headers",
                            "authorization,content-type,x-stainless-arch,x-stainless-lang,x-stainless-os,"
                            "x-stainless-package-version,x-stainless-retry-count,x-stainless-runtime,"
                            "x-stainless-runtime-version,x-stainless-timeout,anthropic-version,"
                            "anthropic-dangerous-direct-browser-access,x-aigw-routing,cache-control"}});
  CHECK(pre.status == 204);
  const std::string allowed = pre.headers["access-control-allow-headers"];
  for (const char* h : {"authorization", "x-stainless-retry-count", "x-stainless-timeout", "anthropic-version",
                        "anthropic-dangerous-direct-browser-access", "x-aigw-routing", "cache-control", "x-api-key"}) {
    INFO(h);
    CHECK(allowed.find(h) != std::string::npos);
  }
  CHECK(pre.headers["access-control-allow-origin"] == "*");
  // Something that is not a list of header names is not echoed.
  auto odd = host.request("OPTIONS", "/v1/chat/completions", "", {{"access-control-request-headers", "x-a\r\nset-cookie: 1"}});
  CHECK(odd.headers["access-control-allow-headers"].find("set-cookie") == std::string::npos);
  host.replies.push_back(gw::testing::openaiReply("ok"));
  auto r = host.chat(chat("gpt-4o-mini"));
  const std::string exposed = r.headers["access-control-expose-headers"];
  for (const auto& [name, value] : r.headers) {
    if (name.rfind("x-", 0) != 0 && name != "retry-after" && name != "server-timing" && name != "request-id") continue;
    INFO(name);
    CHECK(exposed.find(name) != std::string::npos);
  }
  CHECK(exposed.find("x-ratelimit-remaining-tokens") != std::string::npos);
  CHECK(exposed.find("retry-after") != std::string::npos);
}
