#pragma once
// Gateway configuration: gateway settings, the provider catalog and the priced
// model registry (bundled JSON), overridden by a KV document and by
// environment variables. Loading validates everything and names the offending
// field, so a bad config becomes a clear error response instead of a crash
// loop.
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gw/breaker.h"
#include "gw/routing.h"
#include "gw/limits.h"
#include "gw/status.h"
#include "gw/vault.h"

namespace gw {

// Bearer: Authorization: Bearer <key>; Header: <auth_header>: <key>;
// OptionalBearer: bearer when the key is set, nothing otherwise (self-hosted).
enum class AuthStyle { Bearer, Header, OptionalBearer, None };
enum class WireFormat { OpenAiChat, AnthropicMessages, GeminiGenerate, Demo };
enum class UrlStyle { Plain, AzureDeployment };

// Per-provider differences from OpenAI's schema (catalog data): in the
// request, applied when it is spliced for an OpenAI-compatible upstream;
// in the response, where the provider puts what OpenAI puts elsewhere.
struct Quirks {
  std::vector<std::string> drop;                              // top-level fields removed
  std::vector<std::pair<std::string, std::string>> rename;    // top-level fields renamed
  bool streamUsage = true;  // accepts stream_options.include_usage
  std::string usageUnder;         // usage_under: the member holding `usage` when the top level has none (Groq: x_groq)
  std::string cachedTokensField;  // cached_tokens_field: the usage member counting cache reads (DeepSeek)
  std::string errorMessageField;  // error_message_field: the top-level member an error's message is in (vLLM: detail)
};

struct ProviderConfig {
  std::string id;
  std::string name;
  WireFormat format = WireFormat::OpenAiChat;
  std::string baseUrl;
  std::string apiKeySecret;  // name of the secret the host injects, e.g. OPENAI_API_KEY
  AuthStyle authStyle = AuthStyle::Bearer;
  std::string authHeader;  // for AuthStyle::Header
  std::vector<std::pair<std::string, std::string>> headers;  // fixed extra headers
  Quirks quirks;
  UrlStyle urlStyle = UrlStyle::Plain;
  std::string apiVersion;         // azure: the api-version query parameter
  bool requiresBaseUrl = false;   // self-hosted servers with no public default
  bool selfHosted = false;        // any model name may be routed to it, at no cost
  bool responsesApi = false;      // serves POST /responses itself (OpenAI): Responses clients' requests go as they came
  bool enabled = true;
  bool keyPresent = false;         // the secret exists in the host (value never seen)
  std::string vaultSealed;         // the gateway's key entered in the vault (sealed); wins over the secret
  bool baseUrlOverridden = false;  // <ID>_BASE_URL set
  bool builtinDemo = false;        // answered inside the core, no upstream
  int64_t timeoutMs = 0;           // 0: use the gateway default
  int64_t firstByteTimeoutMs = 0;  // until the response head; 0: the gateway default
  int64_t streamIdleTimeoutMs = 0; // longest silence inside a stream; 0: the gateway default

  bool needsKey() const { return authStyle == AuthStyle::Bearer || authStyle == AuthStyle::Header; }
  // Usable without falling back to the demo upstream.
  bool configured() const {
    if (builtinDemo) return true;
    if (requiresBaseUrl && !baseUrlOverridden) return false;
    // A base URL of one's own (a proxy, a local server) may need no key.
    return !needsKey() || keyPresent || !vaultSealed.empty() || baseUrlOverridden;
  }
};

enum Capability : uint32_t {
  CAP_VISION = 1,
  CAP_TOOLS = 2,
  CAP_JSON = 4,
  CAP_STREAMING = 8,
  CAP_EMBEDDINGS = 16,
  CAP_REASONING = 32,  // thinks before answering; takes an effort (README: Reasoning)
  CAP_STRUCTURED_OUTPUTS = 64,  // constrains its answer to a JSON schema itself (Anthropic: output_config.format)
};

// Prices in micro-USD per 1M tokens (USD per 1M × 10^6): integers, so a
// call's cost (tokens × price, in 10^-12 USD) is exact.
struct Price {
  int64_t input = 0;
  int64_t output = 0;
  int64_t cachedInput = 0;  // cache reads
  int64_t cacheWrite = 0;   // cache creation (Anthropic); 0 = charged as input
  bool known = false;
};

enum class ModelKind { Chat, Embedding };

struct ModelConfig {
  std::string id;
  std::vector<std::string> aliases;
  std::vector<std::string> fallbacks;  // models to try, in order, when this one fails
  std::string provider;
  std::string upstream;  // the name the provider knows it by
  std::string maxTokensParam = "max_tokens";
  ModelKind kind = ModelKind::Chat;
  Price price;
  int64_t contextWindow = 0;
  int64_t maxOutput = 0;  // 0: unknown
  int64_t dimensions = 0;
  uint32_t capabilities = CAP_STREAMING;
  int64_t quality = 0;  // 0-100, for routing and recommendations
  bool recommended = false;
  bool enabled = true;
  int64_t created = 0;

  bool has(Capability c) const { return (capabilities & c) != 0; }
};

enum class DemoMode { Auto, Off };

// The response cache (see gw/cache.h).
struct CacheConfig {
  bool enabled = true;                  // AI_CACHE_ENABLED
  int64_t ttlSeconds = 3600;            // AI_CACHE_TTL_SECONDS; x-aigw-cache-ttl per request
  bool nonzeroTemperature = true;       // also cache sampled answers (temperature > 0 or unset)
  bool multipleChoices = false;         // also cache n > 1
  int64_t maxEntryBytes = 1 << 20;      // larger answers are served, not stored
  int64_t memoryMs = 30000;             // AI_CACHE_MEMORY_MS: how long an instance serves its in-memory copy (0: always KV)
  std::vector<std::string> sharedTenants;  // tenants that opted into one cache shared between them
};

// Identity and limits (see gw/ledger.h for enforcement).
struct AccessConfig {
  bool servingEnabled = true;  // ENABLE_AI_GATEWAY=false answers client routes with 503
  std::string adminKeyDigest;  // SHA-256 of ADMIN_API_KEY, computed by the host; empty: not set
  std::string metricsTokenDigest;  // SHA-256 of METRICS_TOKEN (GET /metrics only); empty: not set
  int64_t keyCacheMs = 30000;  // how long an instance trusts a key record it read
  int64_t snapshotCacheMs = 1000;  // how long it trusts a tenant's quota snapshot (the ledger still judges)
  bool creditLeases = true;  // AI_GATEWAY_CREDIT_LEASES: admit against leases held in the isolate (README: Credit leases)
  int64_t creditLeaseMs = 30000;  // AI_GATEWAY_CREDIT_LEASE_MS: how long a lease admits (a revocation reaches leased requests within it)
  // every user's quota unless PUT /admin/quotas/:userId says otherwise (10 USD a month)
  QuotaLimits userDefaults{.dailyRequests = 1000, .monthlyRequests = 10000, .monthlySpendPico = 10000000000000};
  QuotaLimits keyDefaults{.rpm = 600, .tpm = 1000000};  // every key's rate limits unless the key says otherwise
};

// The scheduled health alert: posted to GATEWAY_ALERT_WEBHOOK_URL when, over
// the last window, the error rate or the p95 latency passes its threshold.
struct AlertConfig {
  bool webhookSet = false;        // GATEWAY_ALERT_WEBHOOK_URL is set (a secret: only its name reaches the core)
  int64_t errorRatePercent = 10;  // AI_ALERT_ERROR_RATE_PERCENT
  int64_t latencyP95Ms = 15000;   // AI_ALERT_LATENCY_P95_MS; 0: no latency alert
  int64_t windowMinutes = 15;
  int64_t minRequests = 20;       // fewer requests in the window say too little to alert on
  int64_t repeatMinutes = 60;     // a condition that stays is posted again this often
};

// The gateway's settings: each field's initializer is its default; the
// table in gw/settings.h says how it is set (gateway object, environment).
struct Config {
  BreakerPolicy breaker;
  RoutePolicy routePolicy = RoutePolicy::Ordered;
  CacheConfig cache;
  int logLevel = 1;         // LOG_LEVEL: 0 debug, 1 info, 2 warn, 3 error; lines below it are not written
  bool logPrompts = false;  // LOG_PROMPTS: the request log line carries the last user message
  int64_t logPromptMaxBytes = 2000;  // LOG_PROMPT_MAX_BYTES: ...cut to this many bytes
  int64_t requestTimeoutMs = 30000;
  int64_t responsesRetentionDays = 30;  // how long a stored response (POST /v1/responses) is kept
  // The host has the USAGE_QUEUE binding (a Cloudflare Queue): usage rows go
  // through it, written to D1 in batches by its consumer (README: Usage rows).
  bool usageQueue = false;
  // The host has the GATEWAY_BODIES binding (R2): tenants that switch it on
  // keep each request's bodies there (README: Request log).
  bool bodyStore = false;
  int64_t bodyRetentionDays = 30;  // AI_GATEWAY_BODY_RETENTION_DAYS: how long stored bodies are kept
  // AI_GATEWAY_USAGE_PACK_MS: how long the host gathers an isolate's usage
  // rows into one queue message (0: each row its own message).
  int64_t usagePackMs = 20;
  int64_t firstByteTimeoutMs = 0;       // 0: only the request timeout applies
  int64_t streamIdleTimeoutMs = 30000;  // a stream silent this long ends with an error event
  int64_t maxRetries = 2;
  int64_t retryBaseMs = 1000;
  int64_t retryMaxMs = 8000;
  static constexpr int64_t DEFAULT_MAX_BODY_BYTES = 1 << 20;  // also what a host reads bodies up to before configuring
  int64_t maxBodyBytes = DEFAULT_MAX_BODY_BYTES;
  int64_t maxUpstreamBodyBytes = 32 << 20;
  int64_t defaultMaxTokens = 2000;
  int64_t configRefreshMs = 1000;  // how long an instance serves without re-reading the KV override
  int64_t usdBrlRateMicro = 5400000;  // BRL per USD × 10^6
  std::string defaultModel = "gpt-4o-mini";
  std::string defaultProvider = "openai";
  bool allowUnknownModels = false;
  // Tried in order when a chat model that has no fallbacks of its own fails.
  std::vector<std::string> defaultFallbacks;
  DemoMode demoMode = DemoMode::Auto;
  AccessConfig access;
  AlertConfig alerts;
  std::string pricingUrl;        // PRICING_URL: prices the cron syncs into the registry; empty: none
  int64_t pricingSyncHours = 24;
  std::vector<ProviderConfig> providers;
  std::vector<ModelConfig> models;

  const ProviderConfig* provider(std::string_view id) const;
  // Exact id first, then aliases; "default" names defaultModel.
  const ModelConfig* model(std::string_view name) const;
};

// Environment as the host hands it over: plain variables with values, and
// only the *names* of the secrets that are set.
// The queue usage rows go through when the host has it (wrangler.toml [[queues.producers]]).
inline constexpr const char* USAGE_QUEUE_BINDING = "USAGE_QUEUE";
// The R2 bucket that keeps request and response bodies for tenants that store them.
inline constexpr const char* BODIES_BINDING = "GATEWAY_BODIES";
// `x-aigw-log-body: false` keeps one request's bodies out of it.
inline constexpr std::string_view BODY_OPT_OUT_HEADER = "x-aigw-log-body";
// The host job that consumes it (a batch of messages as a JSON array).
inline constexpr const char* USAGE_QUEUE_JOB = "/internal/queue/usage";

struct Environment {
  std::map<std::string, std::string, std::less<>> vars;
  std::set<std::string, std::less<>> secrets;
  std::map<std::string, std::string, std::less<>> digests;  // secret name -> SHA-256 hex of its value
  std::set<std::string, std::less<>> bindings;               // platform bindings present (queues)
  // GATEWAY_ENCRYPTION_KEY's key ids, the one that seals first (none: no vault).
  std::vector<std::string> vaultKeyIds;
  vault::Keys gatewayKeys;  // the gateway's keys in the vault (KV vault:gateway), by provider
};

// Variable and secret names the config reads, for the host to collect.
struct EnvNames {
  std::vector<std::string> vars;
  std::vector<std::string> secrets;
  std::vector<std::string> digests;  // secrets the core checks callers against, by digest only
  std::vector<std::string> bindings;  // platform bindings whose presence changes what the core does
};

// debug 0, info 1, warn 2, error 3; -1 for anything else.
int logLevelOf(std::string_view name);
// "azure-openai" -> "AZURE_OPENAI"
std::string envPrefix(std::string_view providerId);
const char* wireFormatName(WireFormat f);
std::vector<std::string_view> capabilityNames(uint32_t caps);

Result<EnvNames> configEnvNames(std::string_view bundledJson);
Result<Config> loadConfig(std::string_view bundledJson, std::string_view overrideJson, const Environment& env);
Result<Environment> parseEnvironment(std::string_view json);

}  // namespace gw
