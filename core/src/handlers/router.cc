#include "gw/gateway.h"
#include "gw/http.h"
#include "handlers.h"

namespace gw {

std::unique_ptr<Handler> route(const RequestEnvelope& request) {
  std::string_view path = request.path;
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const std::string& method = request.method;
  if (method == "OPTIONS") return handlers::corsPreflight();

  struct Route {
    std::string_view path;
    std::string_view method;
    std::unique_ptr<Handler> (*make)();
  };
  static const Route ROUTES[] = {
      {"/v1/chat/completions", "POST", handlers::chatCompletions},
      {"/v1/messages", "POST", handlers::messages},
      {"/v1/messages/count_tokens", "POST", handlers::countTokens},
      {"/v1/responses", "POST", handlers::responses},
      {"/v1/embeddings", "POST", handlers::embeddings},
      {"/api/v1/ai/generate", "POST", handlers::generate},
      {"/v1/models", "GET", handlers::listModels},
      {"/api/v1/ai/models", "GET", handlers::modelCatalog},
      {"/api/v1/ai/health", "GET", handlers::health},
      {"/api/v1/ai/metrics", "GET", handlers::metrics},
      {"/api/v1/ai/metrics/daily", "GET", handlers::dailyMetrics},
      {"/api/v1/ai/logs", "GET", handlers::listLogs},
      {"/metrics", "GET", handlers::prometheus},
      {"/api/v1/ai/admin/usage", "GET", handlers::adminUsage},
      {"/api/v1/ai/admin/costs", "GET", handlers::adminCosts},
      {"/api/ai-gateway/metrics", "GET", handlers::clientMetrics},
      {"/api/ai-gateway/latency", "GET", handlers::latency},
      {"/api/analytics/gateway", "GET", handlers::clientAnalytics},
      {"/api/billing/summary", "GET", handlers::billingSummary},
      {"/api/v1/ai/admin/keys", "POST", handlers::createKey},
      {"/api/v1/ai/admin/keys", "GET", handlers::listKeys},
      {"/api/v1/ai/admin/credentials", "GET", handlers::listCredentials},
      {"/api/v1/ai/admin/credentials/rotate", "POST", handlers::rotateCredentials},
      {"/api/v1/ai/admin/providers", "GET", handlers::listProviders},
      {"/api/ai-gateway/models", "GET", handlers::listRegistry},
      {"/api/ai-gateway/models", "POST", handlers::createRegistryModel},
      {"/api/budget/current-usage", "GET", handlers::budgetUsage},
      {"/internal/cron", "POST", handlers::cron},
      {USAGE_QUEUE_JOB, "POST", handlers::usageQueue},
      {"/internal/leases/report", "POST", handlers::leaseReport},
  };
  std::string allowed;
  for (const auto& r : ROUTES) {
    if (path != r.path) continue;
    if (method == r.method || (r.method == "GET" && method == "HEAD")) return r.make();
    allowed += allowed.empty() ? std::string(r.method) : ", " + std::string(r.method);
  }
  if (!allowed.empty()) return handlers::methodNotAllowed(allowed);
  if (path == "/api/v1/ai/preferences") {
    if (method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE")
      return handlers::preferences(method == "HEAD" ? "GET" : method, "");
    return handlers::methodNotAllowed("GET, PUT, DELETE");
  }
  if (path == "/api/ai-gateway/cache") {
    if (method == "GET" || method == "HEAD" || method == "DELETE")
      return handlers::cacheAdmin(method == "HEAD" ? "GET" : method, "");
    return handlers::methodNotAllowed("GET, DELETE");
  }
  if (path == "/api/ai-gateway/config") {
    if (method == "GET" || method == "HEAD" || method == "PUT") return handlers::gatewaySettings(method);
    return handlers::methodNotAllowed("GET, PUT");
  }
  if (path == "/api/budget/config") {
    if (method == "GET" || method == "POST" || method == "DELETE") return handlers::budgetConfig(method);
    return handlers::methodNotAllowed("GET, POST, DELETE");
  }
  // Routes with one path parameter; the segment is percent-decoded.
  std::string param;
  auto under = [&](std::string_view prefix, std::string_view suffix = {}) {
    if (path.size() <= prefix.size() + suffix.size() || path.substr(0, prefix.size()) != prefix) return false;
    if (path.substr(path.size() - suffix.size()) != suffix) return false;
    std::string_view segment = path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
    return segment.find('/') == std::string_view::npos && percentDecode(segment, param);
  };
  if (under("/v1/responses/", "/input_items")) {
    if (method == "GET" || method == "HEAD") return handlers::storedResponse("GET", param, true);
    return handlers::methodNotAllowed("GET");
  }
  if (under("/v1/responses/")) {
    if (method == "GET" || method == "HEAD" || method == "DELETE")
      return handlers::storedResponse(method == "HEAD" ? "GET" : method, param, false);
    return handlers::methodNotAllowed("GET, DELETE");
  }
  if (under("/api/v1/ai/admin/keys/")) {
    if (method == "DELETE") return handlers::revokeKey(param);
    return handlers::methodNotAllowed("DELETE");
  }
  if (under("/api/ai-gateway/models/")) {
    if (method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE")
      return handlers::registryModel(method == "HEAD" ? "GET" : method, param);
    return handlers::methodNotAllowed("GET, PUT, DELETE");
  }
  if (under("/api/ai-gateway/cache/")) {
    if (method == "DELETE") return handlers::cacheAdmin(method, param);
    return handlers::methodNotAllowed("DELETE");
  }
  if (under("/api/v1/ai/preferences/")) {
    if (method == "DELETE") return handlers::preferences(method, param);
    return handlers::methodNotAllowed("DELETE");
  }
  if (under("/api/v1/ai/logs/", "/body")) {
    if (method == "GET" || method == "HEAD") return handlers::getLog(param, true);
    return handlers::methodNotAllowed("GET");
  }
  if (under("/api/v1/ai/logs/")) {
    if (method == "GET" || method == "HEAD") return handlers::getLog(param);
    return handlers::methodNotAllowed("GET");
  }
  if (under("/api/v1/ai/admin/credentials/")) {
    if (method == "PUT" || method == "DELETE") return handlers::credential(method, param);
    return handlers::methodNotAllowed("PUT, DELETE");
  }
  if (under("/api/v1/ai/admin/tenants/")) {
    if (method == "PUT") return handlers::putTenant(param);
    if (method == "GET" || method == "HEAD") return handlers::getTenant(param);
    return handlers::methodNotAllowed("GET, PUT");
  }
  if (under("/api/v1/ai/admin/providers/", "/toggle")) {
    if (method == "POST") return handlers::patchProvider(param, true);
    return handlers::methodNotAllowed("POST");
  }
  if (under("/api/v1/ai/admin/providers/")) {
    if (method == "PATCH") return handlers::patchProvider(param, false);
    return handlers::methodNotAllowed("PATCH");
  }
  if (under("/api/v1/ai/admin/quotas/", "/reset")) {
    if (method == "POST") return handlers::quota(param, true);
    return handlers::methodNotAllowed("POST");
  }
  if (under("/api/v1/ai/admin/quotas/")) {
    if (method == "PUT") return handlers::quota(param, false);
    return handlers::methodNotAllowed("PUT");
  }
  constexpr std::string_view MODELS_PREFIX = "/v1/models/";
  if (path.substr(0, MODELS_PREFIX.size()) == MODELS_PREFIX && path.size() > MODELS_PREFIX.size()) {
    if (method != "GET" && method != "HEAD") return handlers::methodNotAllowed("GET");
    return handlers::retrieveModel(std::string(path.substr(MODELS_PREFIX.size())));
  }
  return handlers::notFound();
}

}  // namespace gw
