#pragma once
// One handler per endpoint; route() in router.cc maps paths to them.
#include <memory>
#include <string>

#include "gw/session.h"

namespace gw::handlers {

std::unique_ptr<Handler> chatCompletions();
std::unique_ptr<Handler> messages();
std::unique_ptr<Handler> countTokens();  // POST /v1/messages/count_tokens
std::unique_ptr<Handler> responses();  // POST /v1/responses
// GET /v1/responses/{id} (or its /input_items), DELETE /v1/responses/{id}
std::unique_ptr<Handler> storedResponse(const std::string& method, const std::string& id, bool inputItems);
std::unique_ptr<Handler> generate();
std::unique_ptr<Handler> embeddings();
std::unique_ptr<Handler> modelCatalog();
std::unique_ptr<Handler> listModels();
std::unique_ptr<Handler> retrieveModel(std::string modelId);
std::unique_ptr<Handler> health();
std::unique_ptr<Handler> listProviders();
std::unique_ptr<Handler> patchProvider(std::string id, bool toggle);
// One provider as health and the admin API show it: config, this instance's
// call statistics and its targets' breakers.
// `history`: the provider's probe history (a JSON array), when asked for.
// The public view (health, no key needed) carries no provider error text:
// providers put anything in them, their callers' details included.
enum class ProviderView { Public, Admin };
void writeProviderState(json::Writer& w, const ProviderConfig& p, const GatewayState& st, int64_t nowMs,
                        ProviderView view, std::string_view history = {});
// The model registry (GET/POST /api/ai-gateway/models, GET/PUT/DELETE /api/ai-gateway/models/:id).
std::unique_ptr<Handler> listRegistry();
std::unique_ptr<Handler> createRegistryModel();
std::unique_ptr<Handler> registryModel(const std::string& method, std::string id);
// One registry row; `admin` adds what the registry admin edits (enabled, fallbacks, …).
// `tenantKey`: the caller's tenant has its own key for the provider (it is available to it).
void writeModel(json::Writer& w, const ModelConfig& m, const ProviderConfig& p, bool admin, bool tenantKey = false);
bool hasCapability(const ModelConfig& m, std::string_view name);
// The variable (or secret) an unconfigured provider needs: OPENAI_API_KEY, LLAMACPP_BASE_URL.
std::string providerNeeds(const ProviderConfig& p);
// GET/PUT /api/ai-gateway/config
std::unique_ptr<Handler> gatewaySettings(const std::string& method);
std::unique_ptr<Handler> createKey();
std::unique_ptr<Handler> listKeys();
std::unique_ptr<Handler> revokeKey(std::string id);
// Provider keys in the vault: GET /api/v1/ai/admin/credentials, PUT/DELETE
// /api/v1/ai/admin/credentials/:provider, POST /api/v1/ai/admin/credentials/rotate
std::unique_ptr<Handler> listCredentials();
std::unique_ptr<Handler> credential(const std::string& method, std::string provider);
std::unique_ptr<Handler> rotateCredentials();
std::unique_ptr<Handler> putTenant(std::string id);
std::unique_ptr<Handler> getTenant(std::string id);
std::unique_ptr<Handler> quota(std::string userId, bool reset);
std::unique_ptr<Handler> budgetConfig(const std::string& method);
std::unique_ptr<Handler> budgetUsage();
// POST /internal/queue/usage: a batch of the usage queue, written to D1 (host jobs only)
std::unique_ptr<Handler> usageQueue();
// POST /internal/leases/report: reports credit leases that stopped admitting (host jobs only)
std::unique_ptr<Handler> leaseReport();
std::unique_ptr<Handler> cron();
// GET /api/v1/ai/metrics
std::unique_ptr<Handler> metrics();
// GET /api/analytics/gateway (one client's metrics)
std::unique_ptr<Handler> clientAnalytics();
// GET /api/billing/summary (a tenant's month: spend, budgets, projection; CSV)
std::unique_ptr<Handler> billingSummary();
// GET /api/ai-gateway/latency (p50/p95/p99 series)
std::unique_ptr<Handler> latency();
// GET /api/v1/ai/metrics/daily (the cron's daily rollups)
std::unique_ptr<Handler> dailyMetrics();
// GET /api/v1/ai/admin/usage, /api/v1/ai/admin/costs, /api/ai-gateway/metrics
std::unique_ptr<Handler> adminUsage();
std::unique_ptr<Handler> adminCosts();
std::unique_ptr<Handler> clientMetrics();
// GET /api/v1/ai/logs, GET /api/v1/ai/logs/:requestId (the request log)
std::unique_ptr<Handler> listLogs();
std::unique_ptr<Handler> getLog(std::string requestId, bool body = false);  // body: GET .../:requestId/body
// GET /metrics (Prometheus text)
std::unique_ptr<Handler> prometheus();
// GET/DELETE /api/ai-gateway/cache, DELETE /api/ai-gateway/cache/:key
std::unique_ptr<Handler> cacheAdmin(std::string method, std::string key);
// GET/PUT/DELETE /api/v1/ai/preferences[/:context]
std::unique_ptr<Handler> preferences(std::string method, std::string context);
// The scheduled probes' history of one provider in KV, oldest first.
constexpr size_t HEALTH_HISTORY = 288;  // 24 hours at one probe per 5 minutes
std::string healthHistoryKey(std::string_view provider);
std::unique_ptr<Handler> corsPreflight();
std::unique_ptr<Handler> methodNotAllowed(std::string allow);
std::unique_ptr<Handler> notFound();

}  // namespace gw::handlers
