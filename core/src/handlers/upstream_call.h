#pragma once
// What every endpoint that calls a provider shares: the body-size check, the
// "provider not configured" answer, and the fetch carrying the provider's
// fixed headers and named key.
#include "gw/api_error.h"
#include "gw/config.h"
#include "gw/session.h"

namespace gw::handlers {

// 413 when the client's body is over the limit (or the host stopped reading).
ApiError bodyTooLarge(const Session& s);

// 503 naming the variable to set.
ApiError providerNotConfigured(const ProviderConfig& p);

// A JSON POST to the provider: content type, accept, the catalog's fixed
// headers, and the key by name for the host to inject.
FetchSpec providerFetch(const ProviderConfig& p, bool stream);

}  // namespace gw::handlers
