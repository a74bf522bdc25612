#pragma once
// The access stage every non-public request passes before its handler runs:
// the gateway switch, the caller's key (ADMIN_API_KEY by digest, or a virtual
// key looked up by its SHA-256), expiry, attribution headers, and for metered
// routes the fast quota check against the tenant's KV snapshot. It ends in
// Session::admit() or an error response.
#include "gw/session.h"

namespace gw {

void authenticate(Session& s, Access access);

// The single 401: it never says whether the key was missing, unknown,
// revoked or expired.
ApiError invalidApiKey(std::string param = "authorization");

// Narrows the caller's user or agent to `claimed` (from the header or body
// field `param`; empty: no claim). A key bound to one cannot claim another.
ApiError narrowAttribution(std::string_view param, std::string_view claimed, std::string& bound);

}  // namespace gw
