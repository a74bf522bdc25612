// Sign-in tokens: splitting a compact JWS for the host to verify, and the
// claim rules on simulated time (issuer, audience lists, expiry and
// not-before within the skew, missing and mistyped claims, the mapping).
#include <catch2/catch.hpp>

#include "gw/jwt.h"
#include "gw/nlohmann.h"

using gw::jwt::Identity;
using gw::jwt::IdentityProvider;
using gw::jwt::Refusal;
using nlohmann::json;

namespace {

constexpr int64_t NOW_S = 1795341600;  // 2026-11-22T10:00:00Z
constexpr int64_t NOW_MS = NOW_S * 1000;

std::string b64url(const std::string& in) {
  static const char* A = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (unsigned char c : in) {
    bits = (bits << 8) | c;
    count += 8;
    while (count >= 6) out.push_back(A[(bits >> (count -= 6)) & 63]);
  }
  if (count > 0) out.push_back(A[(bits << (6 - count)) & 63]);
  return out;
}

std::string token(const json& header, const json& claims, const std::string& signature = "sig") {
  return b64url(header.dump()) + "." + b64url(claims.dump()) + "." + b64url(signature);
}

IdentityProvider provider() {
  IdentityProvider p;
  p.issuer = "https://issuer.example";
  p.audiences = {"gateway", "other-app"};
  p.claims.tenant = "org_id";
  p.claims.role = "role";
  p.claims.models = "models";
  p.claims.tier = "tier";
  return p;
}

json claims() {
  return {{"iss", "https://issuer.example"}, {"aud", "gateway"}, {"sub", "alice"}, {"org_id", "acme"},
          {"exp", NOW_S + 600}, {"iat", NOW_S - 10}};
}

Refusal check(const json& c, Identity& id, int64_t now = NOW_MS, const IdentityProvider& p = provider()) {
  return gw::jwt::checkClaims(p, c.dump(), now, id);
}

}  // namespace

TEST_CASE("base64url decodes exactly, and refuses padding, other alphabets and stray bits") {
  std::string out;
  for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\xff\xfe\x00\x01", 4)}) {
    REQUIRE(gw::jwt::base64UrlDecode(b64url(s), out));
    CHECK(out == s);
  }
  CHECK_FALSE(gw::jwt::base64UrlDecode("Zm9v=", out));
  CHECK_FALSE(gw::jwt::base64UrlDecode("Zm+v", out));
  CHECK_FALSE(gw::jwt::base64UrlDecode("Z", out));
  CHECK_FALSE(gw::jwt::base64UrlDecode("Zh", out));  // 'h' leaves bits set past the last byte
}

TEST_CASE("a compact token splits into what the host verifies; alg none, HMAC and unlisted algorithms are refused first") {
  const IdentityProvider p = provider();
  const std::string t = token({{"alg", "RS256"}, {"kid", "k1"}, {"typ", "JWT"}}, claims(), "signature-bytes");
  gw::jwt::Token out;
  REQUIRE(gw::jwt::parseToken(t, p, out) == Refusal::None);
  CHECK(out.alg == "RS256");
  CHECK(out.kid == "k1");
  CHECK(out.signature == "signature-bytes");
  CHECK(out.signingInput == t.substr(0, t.rfind('.')));
  CHECK(json::parse(out.payload)["sub"] == "alice");

  for (const char* alg : {"none", "HS256", "RS512", "rs256", ""})
    CHECK(gw::jwt::parseToken(token({{"alg", alg}}, claims()), p, out) == Refusal::Algorithm);
  IdentityProvider onlyEs = p;
  onlyEs.algorithms = {gw::jwt::Alg::ES256};
  CHECK(gw::jwt::parseToken(t, onlyEs, out) == Refusal::Algorithm);
  CHECK(gw::jwt::parseToken(token({{"alg", "ES256"}}, claims()), onlyEs, out) == Refusal::None);
  CHECK(gw::jwt::parseToken(token({{"alg", "EdDSA"}}, claims()), p, out) == Refusal::None);

  for (const std::string& bad : std::vector<std::string>{std::string("a.b"), std::string("a.b.c.d"), t.substr(0, t.rfind('.') + 1),
                                std::string(".") + t, b64url("[]") + "." + b64url("{}") + ".c2ln",
                                b64url(R"({"alg":"RS256"})") + "." + b64url("not json") + ".c2ln",
                                b64url(R"({"alg":"RS256","crit":["exp"]})") + "." + b64url("{}") + ".c2ln",
                                b64url(R"({"kid":"k1"})") + "." + b64url("{}") + ".c2ln", std::string("x.y.z")})
    CHECK(gw::jwt::parseToken(bad, p, out) == Refusal::Malformed);
}

TEST_CASE("claims: issuer, audience lists, expiry and not-before within the skew") {
  Identity id;
  REQUIRE(check(claims(), id) == Refusal::None);
  CHECK(id.user == "alice");
  CHECK(id.tenant == "acme");
  CHECK_FALSE(id.admin);
  CHECK(id.expiresMs == (NOW_S + 600) * 1000);

  json c = claims();
  c["iss"] = "https://issuer.example/";  // exactly the configured issuer, nothing like it
  CHECK(check(c, id) == Refusal::Issuer);
  c.erase("iss");
  CHECK(check(c, id) == Refusal::Issuer);

  c = claims();
  c["aud"] = json::array({"someone-else", "other-app"});
  CHECK(check(c, id) == Refusal::None);
  c["aud"] = json::array({"someone-else"});
  CHECK(check(c, id) == Refusal::Audience);
  c["aud"] = "someone-else";
  CHECK(check(c, id) == Refusal::Audience);
  c.erase("aud");
  CHECK(check(c, id) == Refusal::Audience);
  IdentityProvider any = provider();
  any.audiences.clear();
  CHECK(check(c, id, NOW_MS, any) == Refusal::None);

  // Expiry: the skew (60 s) covers a clock behind the issuer's, no more.
  c = claims();
  c["exp"] = NOW_S - 30;
  CHECK(check(c, id) == Refusal::None);
  c["exp"] = NOW_S - 60;
  CHECK(check(c, id) == Refusal::Expired);
  CHECK(check(claims(), id, (NOW_S + 600 + 59) * 1000) == Refusal::None);
  CHECK(check(claims(), id, (NOW_S + 600 + 60) * 1000) == Refusal::Expired);
  c.erase("exp");
  CHECK(check(c, id) == Refusal::Expired);  // a token that never expires is not taken
  c["exp"] = "tomorrow";
  CHECK(check(c, id) == Refusal::Expired);

  c = claims();
  c["nbf"] = NOW_S + 61;
  CHECK(check(c, id) == Refusal::NotYetValid);
  c["nbf"] = NOW_S + 60;
  CHECK(check(c, id) == Refusal::None);
  c["iat"] = NOW_S + 3600;
  CHECK(check(c, id) == Refusal::NotYetValid);
  c = claims();
  c["nbf"] = "soon";
  CHECK(check(c, id) == Refusal::InvalidClaim);
  IdentityProvider strict = provider();
  strict.skewSeconds = 0;
  c = claims();
  c["exp"] = NOW_S;
  CHECK(check(c, id, NOW_MS, strict) == Refusal::Expired);
}

TEST_CASE("claims: the mapping gives tenant, user, role, models and tier; missing or mistyped claims are refused") {
  Identity id;
  json c = claims();
  c["role"] = "admin";
  c["models"] = json::array({"gpt-4o-mini", "claude-haiku-4-5"});
  c["tier"] = "pro";
  REQUIRE(check(c, id) == Refusal::None);
  CHECK(id.admin);
  CHECK(id.models == std::vector<std::string>{"gpt-4o-mini", "claude-haiku-4-5"});
  CHECK(id.tier == "pro");
  c["role"] = json::array({"member", "admin"});
  REQUIRE(check(c, id) == Refusal::None);
  CHECK(id.admin);
  c["role"] = "member";
  REQUIRE(check(c, id) == Refusal::None);
  CHECK_FALSE(id.admin);
  c["role"] = 7;
  CHECK(check(c, id) == Refusal::InvalidClaim);
  c["role"] = "admin";
  c["models"] = "gpt-4o";
  CHECK(check(c, id) == Refusal::InvalidClaim);
  c["models"] = json::array({1});
  CHECK(check(c, id) == Refusal::InvalidClaim);

  c = claims();
  c.erase("sub");
  CHECK(check(c, id) == Refusal::MissingClaim);
  c["sub"] = "";
  CHECK(check(c, id) == Refusal::MissingClaim);
  c["sub"] = 42;
  CHECK(check(c, id) == Refusal::InvalidClaim);
  c["sub"] = "a b";  // not an id the gateway keeps
  CHECK(check(c, id) == Refusal::InvalidClaim);
  c = claims();
  c.erase("org_id");
  CHECK(check(c, id) == Refusal::MissingClaim);

  // A provider whose every token is one tenant's.
  IdentityProvider fixed = provider();
  fixed.claims.tenant.clear();
  fixed.claims.fixedTenant = "acme";
  REQUIRE(check(c, id, NOW_MS, fixed) == Refusal::None);
  CHECK(id.tenant == "acme");
  // Neither: no tenant follows, so nothing is admitted.
  fixed.claims.fixedTenant.clear();
  CHECK(check(c, id, NOW_MS, fixed) == Refusal::MissingClaim);

  CHECK(gw::jwt::checkClaims(provider(), "[]", NOW_MS, id) == Refusal::Malformed);
  CHECK(gw::jwt::checkClaims(provider(), "{", NOW_MS, id) == Refusal::Malformed);
  CHECK(gw::jwt::refusalName(Refusal::NotYetValid) == "not_yet_valid");
}
