#pragma once
// What tests of the admin and client API say over and over: a key's
// headers, an answer's JSON, a call with ADMIN_API_KEY, a key minted for a spec.
#include <catch2/catch.hpp>

#include "fake_host.h"
#include "gw/nlohmann.h"

namespace gw::testing {

inline std::map<std::string, std::string> bearer(const std::string& key) { return {{"authorization", "Bearer " + key}}; }

inline nlohmann::json body(const HttpResponse& r) { return nlohmann::json::parse(r.body, nullptr, false); }

inline HttpResponse admin(FakeHost& h, const std::string& method, const std::string& path, const std::string& b = "") {
  return h.request(method, path, b, bearer(ADMIN_KEY));
}

// A virtual key for `spec` (POST /api/v1/ai/admin/keys), shown once.
inline std::string createKey(FakeHost& h, const nlohmann::json& spec) {
  HttpResponse r = admin(h, "POST", "/api/v1/ai/admin/keys", spec.dump());
  REQUIRE(r.status == 201);
  const std::string key = body(r)["key"];
  REQUIRE(key.rfind("aigw_sk_", 0) == 0);
  return key;
}

}  // namespace gw::testing
