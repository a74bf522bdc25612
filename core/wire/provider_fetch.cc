#include "wire/provider_fetch.h"

namespace gw {

ApiError providerNotConfigured(const ProviderConfig& p) {
  std::string how = p.requiresBaseUrl ? envPrefix(p.id) + "_BASE_URL" : p.apiKeySecret;
  return serverError(503, "Provider '" + p.id + "' is not configured: set " + how + ".", "server_error",
                     "provider_not_configured");
}

FetchSpec providerFetch(const ProviderConfig& p, bool stream, const vault::StoredKey* tenantKey, std::string_view tenant) {
  FetchSpec f;
  f.headers = {{"content-type", "application/json"}, {"accept", stream ? "text/event-stream" : "application/json"}};
  for (const auto& h : p.headers) f.headers.push_back(h);
  f.keySource = vault::SOURCE_NONE;
  if (p.authStyle != AuthStyle::None) {
    if (tenantKey != nullptr) {
      f.authSealed = tenantKey->sealed;
      f.authContext = vault::context(tenant, p.id);
      f.keySource = vault::SOURCE_TENANT;
    } else if (!p.vaultSealed.empty()) {
      f.authSealed = p.vaultSealed;
      f.authContext = vault::context({}, p.id);
      f.keySource = vault::SOURCE_GATEWAY;
    } else if (p.keyPresent) {
      f.authSecret = p.apiKeySecret;
      f.keySource = vault::SOURCE_ENV;
    }
    if (f.keySource != vault::SOURCE_NONE) {
      f.authStyle = p.authStyle == AuthStyle::Header ? "header" : "bearer";
      f.authHeader = p.authHeader;
    }
  }
  f.stream = stream;
  return f;
}

const vault::StoredKey* tenantKeyFor(const Session& s, std::string_view provider) {
  const auto& keys = s.principal().tenantKeys;
  if (!keys) return nullptr;
  auto it = keys->find(provider);
  return it == keys->end() ? nullptr : &it->second;
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
