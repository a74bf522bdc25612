#include "gw/jwt.h"

#include "gw/key_record.h"

namespace gw::jwt {

namespace {

using json::Kind;

// A claim's NumericDate (seconds, RFC 7519 §2) when it is a number.
bool numericDate(const json::Tape& t, uint32_t v, int64_t& seconds) {
  if (v == 0 || t.kind(v) != Kind::Number) return false;
  if (t.isInteger(v, &seconds)) return true;
  const double d = t.number(v);
  if (!(d > -1e15 && d < 1e15)) return false;
  seconds = static_cast<int64_t>(d);
  return true;
}

bool audienceMatches(const IdentityProvider& idp, const json::Tape& t, uint32_t aud) {
  if (idp.audiences.empty()) return true;
  auto allowed = [&](uint32_t v) {
    if (t.kind(v) != Kind::String) return false;
    for (const auto& a : idp.audiences)
      if (t.stringEquals(v, a)) return true;
    return false;
  };
  if (aud == 0) return false;
  if (t.kind(aud) == Kind::String) return allowed(aud);
  if (t.kind(aud) != Kind::Array) return false;
  for (uint32_t v = t.firstChild(aud); v != 0; v = t.nextSibling(aud, v))
    if (allowed(v)) return true;
  return false;
}

// A claim used as an id (user, tenant): a string the gateway's ids allow.
Refusal idClaim(const json::Tape& t, uint32_t root, const std::string& name, std::string& out) {
  const uint32_t v = t.find(root, name);
  if (v == 0 || t.kind(v) == Kind::Null) return Refusal::MissingClaim;
  if (t.kind(v) != Kind::String) return Refusal::InvalidClaim;
  out = t.string(v);
  return out.empty() ? Refusal::MissingClaim : access::validId(out) ? Refusal::None : Refusal::InvalidClaim;
}

int value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

}  // namespace

bool parseAlg(std::string_view name, Alg& out) {
  if (name == "RS256") out = Alg::RS256;
  else if (name == "ES256") out = Alg::ES256;
  else if (name == "EdDSA") out = Alg::EdDSA;
  else return false;
  return true;
}

std::string_view algName(Alg a) {
  switch (a) {
    case Alg::RS256: return "RS256";
    case Alg::ES256: return "ES256";
    case Alg::EdDSA: return "EdDSA";
  }
  return "";
}

std::string_view refusalName(Refusal r) {
  switch (r) {
    case Refusal::None: return "none";
    case Refusal::Malformed: return "malformed";
    case Refusal::Algorithm: return "algorithm";
    case Refusal::Issuer: return "issuer";
    case Refusal::Audience: return "audience";
    case Refusal::Expired: return "expired";
    case Refusal::NotYetValid: return "not_yet_valid";
    case Refusal::MissingClaim: return "missing_claim";
    case Refusal::InvalidClaim: return "invalid_claim";
  }
  return "";
}

bool base64UrlDecode(std::string_view in, std::string& out) {
  out.clear();
  if (in.size() % 4 == 1) return false;  // no length leaves one character over
  out.reserve(in.size() * 3 / 4);
  uint32_t bits = 0;
  int count = 0;
  for (char c : in) {
    const int v = value(c);
    if (v < 0) return false;
    bits = (bits << 6) | static_cast<uint32_t>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xFF));
    }
  }
  // The bits left over must be zero (a canonical encoding).
  return (bits & ((1u << count) - 1)) == 0;
}

Refusal parseToken(std::string_view compact, const IdentityProvider& idp, Token& out) {
  const size_t first = compact.find('.');
  const size_t second = first == std::string_view::npos ? first : compact.find('.', first + 1);
  if (second == std::string_view::npos || compact.find('.', second + 1) != std::string_view::npos)
    return Refusal::Malformed;
  std::string header;
  if (first == 0 || second == first + 1 || second + 1 == compact.size() ||
      !base64UrlDecode(compact.substr(0, first), header) ||
      !base64UrlDecode(compact.substr(first + 1, second - first - 1), out.payload) ||
      !base64UrlDecode(compact.substr(second + 1), out.signature))
    return Refusal::Malformed;
  json::Tape h, p;
  if (!h.parse(header) || h.kind(h.root()) != Kind::Object || !p.parse(out.payload) || p.kind(p.root()) != Kind::Object)
    return Refusal::Malformed;
  const uint32_t alg = h.find(h.root(), "alg");
  if (alg == 0 || h.kind(alg) != Kind::String) return Refusal::Malformed;
  out.alg = h.string(alg);
  // Critical extensions the gateway does not implement make the token unusable (RFC 7515 §4.1.11).
  if (h.find(h.root(), "crit") != 0) return Refusal::Malformed;
  Alg a;
  bool allowed = false;
  if (parseAlg(out.alg, a))
    for (Alg x : idp.algorithms) allowed = allowed || x == a;
  if (!allowed) return Refusal::Algorithm;
  out.kid = h.stringAt(h.root(), "kid");
  out.typ = h.stringAt(h.root(), "typ");
  out.signingInput = compact.substr(0, second);
  return Refusal::None;
}

Refusal checkClaims(const IdentityProvider& idp, std::string_view claims, int64_t nowMs, Identity& out) {
  json::Tape t;
  if (!t.parse(claims) || t.kind(t.root()) != Kind::Object) return Refusal::Malformed;
  const uint32_t root = t.root();
  const uint32_t iss = t.find(root, "iss");
  if (iss == 0 || t.kind(iss) != Kind::String || !t.stringEquals(iss, idp.issuer)) return Refusal::Issuer;
  if (!audienceMatches(idp, t, t.find(root, "aud"))) return Refusal::Audience;
  const int64_t now = nowMs / 1000, skew = idp.skewSeconds;
  int64_t exp = 0, nbf = 0, iat = 0;
  // A token that never expires is not accepted: a stolen one would work forever.
  if (!numericDate(t, t.find(root, "exp"), exp) || now >= exp + skew) return Refusal::Expired;
  if (numericDate(t, t.find(root, "nbf"), nbf) && nbf > now + skew) return Refusal::NotYetValid;
  if (numericDate(t, t.find(root, "iat"), iat) && iat > now + skew) return Refusal::NotYetValid;
  for (const char* dated : {"nbf", "iat"}) {
    const uint32_t v = t.find(root, dated);
    if (v != 0 && t.kind(v) != Kind::Number) return Refusal::InvalidClaim;
  }
  const ClaimMapping& m = idp.claims;
  Identity id;
  if (Refusal r = idClaim(t, root, m.user, id.user); r != Refusal::None) return r;
  if (!m.tenant.empty()) {
    if (Refusal r = idClaim(t, root, m.tenant, id.tenant); r != Refusal::None) return r;
  } else if (!m.fixedTenant.empty()) {
    id.tenant = m.fixedTenant;
  } else {
    return Refusal::MissingClaim;
  }
  if (!m.role.empty()) {
    const uint32_t role = t.find(root, m.role);
    if (role != 0 && t.kind(role) == Kind::String) id.admin = t.stringEquals(role, m.adminValue);
    else if (role != 0 && t.kind(role) == Kind::Array)
      for (uint32_t v = t.firstChild(role); v != 0; v = t.nextSibling(role, v))
        id.admin = id.admin || (t.kind(v) == Kind::String && t.stringEquals(v, m.adminValue));
    else if (role != 0 && t.kind(role) != Kind::Null) return Refusal::InvalidClaim;
  }
  if (!m.models.empty()) {
    const uint32_t models = t.find(root, m.models);
    if (models != 0 && t.kind(models) == Kind::Array) {
      for (uint32_t v = t.firstChild(models); v != 0; v = t.nextSibling(models, v)) {
        if (t.kind(v) != Kind::String) return Refusal::InvalidClaim;
        id.models.push_back(t.string(v));
      }
    } else if (models != 0 && t.kind(models) != Kind::Null) {
      return Refusal::InvalidClaim;
    }
  }
  if (!m.tier.empty()) {
    const uint32_t tier = t.find(root, m.tier);
    if (tier != 0 && t.kind(tier) == Kind::String) id.tier = t.string(tier);
    else if (tier != 0 && t.kind(tier) != Kind::Null) return Refusal::InvalidClaim;
  }
  id.expiresMs = exp * 1000;
  out = std::move(id);
  return Refusal::None;
}

}  // namespace gw::jwt
