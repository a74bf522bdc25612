#pragma once
// Sign-in tokens (JWT, RFC 7519) from a tenant's identity provider: the
// core splits a compact token into what the host must verify (the signing
// input, the signature, the header's alg and kid) and, once the host's
// WebCrypto says the signature holds, decides everything else from the
// claims: issuer, audience, expiry and not-before within the skew, and which
// tenant, user, role and limits follow. The core never sees a key.
//
// Not wired to authentication yet (issue 21 in progress): this is the policy,
// tested natively on simulated time.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gw/json_tape.h"

namespace gw::jwt {

// The algorithms a provider may allow; `none` and HMAC never are (a shared
// secret would have to reach the gateway, and `none` proves nothing).
enum class Alg { RS256, ES256, EdDSA };
bool parseAlg(std::string_view name, Alg& out);
std::string_view algName(Alg a);

// Which claims say who the caller is. Empty names: not mapped.
struct ClaimMapping {
  std::string user = "sub";  // required
  std::string tenant;        // a claim naming the tenant (organisation); else fixedTenant
  std::string fixedTenant;   // every token of this provider is this tenant's
  std::string role;          // a claim whose value adminValue makes the caller a tenant admin
  std::string adminValue = "admin";
  std::string models;        // a claim listing the models allowed (array of strings)
  std::string tier;          // a claim naming a limits tier
};

struct IdentityProvider {
  std::string issuer;                  // `iss` must equal it
  std::vector<std::string> audiences;  // `aud` must name one of them (empty: aud not checked)
  std::vector<Alg> algorithms{Alg::RS256, Alg::ES256, Alg::EdDSA};
  int64_t skewSeconds = 60;            // allowed clock difference for exp, nbf and iat
  ClaimMapping claims;
};

// A compact token split for verification. `signingInput` points into the
// token given to parseToken (keep it alive).
struct Token {
  std::string alg, kid, typ;
  std::string_view signingInput;  // "<header>.<payload>", the bytes signed
  std::string signature;          // decoded
  std::string payload;            // the claims' JSON text, decoded
};

// Why a token is refused. Every refusal is the same 401 to the caller (no hint
// of which check failed); the reason is for the gateway's own log.
enum class Refusal {
  None,
  Malformed,      // not three base64url parts of JSON objects
  Algorithm,      // alg none, HMAC, unknown, or not allowed by the provider
  Issuer,
  Audience,
  Expired,        // exp (required) plus the skew has passed
  NotYetValid,    // nbf or iat beyond now plus the skew
  MissingClaim,   // the user claim, or the tenant claim when the tenant comes from one
  InvalidClaim,   // a mapped claim of the wrong type, or an id the gateway cannot use
};
std::string_view refusalName(Refusal r);

// base64url without padding (RFC 7515 §2); false on any other character.
bool base64UrlDecode(std::string_view in, std::string& out);

// Splits and decodes a compact JWS; checks the header's alg against the
// provider's list before anything is verified.
Refusal parseToken(std::string_view compact, const IdentityProvider& idp, Token& out);

// Who the verified claims name.
struct Identity {
  std::string tenant, user;
  bool admin = false;
  std::vector<std::string> models;  // empty: the mapping names none
  std::string tier;
  int64_t expiresMs = 0;  // exp: a cache of this identity must not outlive it
};

// The policy over verified claims (Token::payload), at `nowMs`.
Refusal checkClaims(const IdentityProvider& idp, std::string_view claims, int64_t nowMs, Identity& out);

}  // namespace gw::jwt
