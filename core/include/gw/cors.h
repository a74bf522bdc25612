#pragma once
// Cross-origin access: any page may call the gateway (credentials are
// bearer keys, never cookies), so preflights allow what the official SDKs
// send and responses expose every header the gateway sets.
#include <string>
#include <string_view>

namespace gw::cors {

// Every response header a browser client may read.
constexpr std::string_view EXPOSED_HEADERS =
    "x-request-id, request-id, x-aigw-provider, x-aigw-model, x-aigw-attempts, x-aigw-route, x-aigw-cache, "
    "x-aigw-cache-age, x-aigw-upstream-request-id, x-aigw-cost-usd, x-aigw-cost-brl, x-aigw-usage-estimated, "
    "x-ratelimit-limit-requests, x-ratelimit-remaining-requests, x-ratelimit-reset-requests, "
    "x-ratelimit-limit-tokens, x-ratelimit-remaining-tokens, x-ratelimit-reset-tokens, retry-after, server-timing";

constexpr std::string_view ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS";

// What a preflight allows: the headers the browser asks for
// (Access-Control-Request-Headers: x-stainless-*, anthropic-version, the
// gateway's x-aigw-*, cache-control, …) when they are all header names, and
// always the ones the gateway reads. Authorization must be named (a `*`
// does not cover it).
std::string allowedHeaders(std::string_view requested);

}  // namespace gw::cors
