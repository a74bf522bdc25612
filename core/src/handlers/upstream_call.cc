#include "upstream_call.h"

#include <algorithm>

namespace gw::handlers {

ApiError bodyTooLarge(const Session& s) {
  const int64_t limit = s.config().maxBodyBytes;
  const RequestEnvelope& r = s.request();
  if (!r.bodyTruncated && static_cast<int64_t>(s.body().size()) <= limit) return {};
  uint64_t size = std::max<uint64_t>(r.bodySize, s.body().size());
  ApiError e = invalidRequest("Request body is too large: " + std::to_string(size) + " bytes; the limit is " +
                                  std::to_string(limit) + " bytes.",
                              "", "request_too_large");
  e.status = 413;
  return e;
}

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

}  // namespace gw::handlers
