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
// headers, and the key by name for the host to inject.
FetchSpec providerFetch(const ProviderConfig& p, bool stream);

// Sets `headers` over the fetch's own (a client's anthropic-version over
// the catalog's), replacing those of the same name.
void setHeaders(FetchSpec& f, const Headers& headers);

}  // namespace gw
