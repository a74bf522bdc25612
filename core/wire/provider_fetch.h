#pragma once
// What every call to a provider starts from: the fetch carrying the
// catalog's fixed headers and the key by name, and the answer when the
// provider is not configured.
#include "gw/api_error.h"
#include "gw/config.h"
#include "gw/session.h"

namespace gw {

// 503 naming the variable to set.
ApiError providerNotConfigured(const ProviderConfig& p);

// A JSON POST to the provider: content type, accept, the catalog's fixed
// headers, and the key for the host to inject: `tenantKey` (the tenant's
// own, from the vault) when given, else the gateway's (its vault key, else
// its secret by name). `keySource` says which (vault::SOURCE_*).
FetchSpec providerFetch(const ProviderConfig& p, bool stream, const vault::StoredKey* tenantKey = nullptr,
                        std::string_view tenant = {});
// The principal's tenant's own key for `provider`, if it stored one.
const vault::StoredKey* tenantKeyFor(const Session& s, std::string_view provider);
// Whether a call to `p` has a key (or needs none) with the tenant's key counted.
inline bool usable(const ProviderConfig& p, const vault::StoredKey* tenantKey) {
  return tenantKey != nullptr || p.configured();
}

// Sets `headers` over the fetch's own (a client's anthropic-version over
// the catalog's), replacing those of the same name.
void setHeaders(FetchSpec& f, const Headers& headers);

}  // namespace gw
