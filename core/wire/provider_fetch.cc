#include "wire/provider_fetch.h"

namespace gw {

ApiError providerNotConfigured(const ProviderConfig& p) {
  std::string how = p.requiresBaseUrl ? envPrefix(p.id) + "_BASE_URL" : p.apiKeySecret;
  return serverError(503, "Provider '" + p.id + "' is not configured: set " + how + ".", "server_error",
                     "provider_not_configured");
}

FetchSpec providerFetch(const ProviderConfig& p, bool stream) {
  FetchSpec f;
  f.headers = {{"content-type", "application/json"}, {"accept", stream ? "text/event-stream" : "application/json"}};
  for (const auto& h : p.headers) f.headers.push_back(h);
  if (p.keyPresent && p.authStyle != AuthStyle::None) {
    f.authSecret = p.apiKeySecret;
    f.authStyle = p.authStyle == AuthStyle::Header ? "header" : "bearer";
    f.authHeader = p.authHeader;
  }
  f.stream = stream;
  return f;
}

void setHeaders(FetchSpec& f, const Headers& headers) {
  for (const auto& header : headers) {
    bool replaced = false;
    for (auto& own : f.headers)
      if (own.first == header.first) own.second = header.second, replaced = true;
    if (!replaced) f.headers.push_back(header);
  }
}

}  // namespace gw
