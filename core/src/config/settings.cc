// The table of gateway settings (gw/settings.h) and the three things done
// with it: read the gateway object's members, overlay the environment's
// variables, and list those variables for the host.
#include "gw/settings.h"

#include <type_traits>

#include "gw/pricing.h"
#include "layers.h"

namespace gw {

namespace {

using T = SettingType;

// The field of a row, one captureless lambda each, its type checked.
#define GW_FIELD(type, member)                                               \
  +[](Config& c) -> void* {                                                  \
    static_assert(std::is_same_v<decltype(c.member), type>, "setting type"); \
    return &c.member;                                                        \
  }
#define GW_INT(member) GW_FIELD(int64_t, member)
#define GW_BOOL(member) GW_FIELD(bool, member)
#define GW_TEXT(member) GW_FIELD(std::string, member)
#define GW_LIST(member) GW_FIELD(std::vector<std::string>, member)

int64_t& integer(const Setting& s, Config& c) { return *static_cast<int64_t*>(s.field(c)); }
double& ratio(const Setting& s, Config& c) { return *static_cast<double*>(s.field(c)); }
bool& boolean(const Setting& s, Config& c) { return *static_cast<bool*>(s.field(c)); }
std::string& text(const Setting& s, Config& c) { return *static_cast<std::string*>(s.field(c)); }
std::vector<std::string>& list(const Setting& s, Config& c) { return *static_cast<std::vector<std::string>*>(s.field(c)); }

bool chooseRoutePolicy(Config& c, std::string_view name) { return parseRoutePolicy(name, c.routePolicy); }
std::string_view chosenRoutePolicy(const Config& c) { return routePolicyName(c.routePolicy); }
bool chooseDemo(Config& c, std::string_view name) {
  if (name != "auto" && name != "off") return false;
  c.demoMode = name == "auto" ? DemoMode::Auto : DemoMode::Off;
  return true;
}
std::string_view chosenDemo(const Config& c) { return c.demoMode == DemoMode::Auto ? "auto" : "off"; }
bool chooseLogLevel(Config& c, std::string_view name) {
  const int level = logLevelOf(name);
  if (level < 0) return false;
  c.logLevel = level;
  return true;
}
std::string_view chosenLogLevel(const Config& c) {
  static constexpr std::string_view LEVELS[] = {"debug", "info", "warn", "error"};
  return LEVELS[c.logLevel >= 0 && c.logLevel < 4 ? c.logLevel : 1];
}

constexpr SettingChoice ROUTE_POLICY{chooseRoutePolicy, chosenRoutePolicy};
constexpr SettingChoice DEMO{chooseDemo, chosenDemo};
constexpr SettingChoice LOG_LEVEL{chooseLogLevel, chosenLogLevel};

constexpr int64_t MIB = 1 << 20;

constexpr Setting SETTINGS[] = {
    {.key = "request_timeout_ms", .env = "AI_GATEWAY_REQUEST_TIMEOUT", .min = 1, .max = 600000,
     .field = GW_INT(requestTimeoutMs)},
    {.key = "first_byte_timeout_ms", .env = "AI_GATEWAY_FIRST_BYTE_TIMEOUT", .min = 0, .max = 600000,
     .field = GW_INT(firstByteTimeoutMs)},
    {.key = "stream_idle_timeout_ms", .env = "AI_GATEWAY_STREAM_IDLE_TIMEOUT", .min = 0, .max = 600000,
     .field = GW_INT(streamIdleTimeoutMs)},
    {.key = "max_retries", .env = "AI_GATEWAY_MAX_RETRIES", .min = 0, .max = 10, .field = GW_INT(maxRetries)},
    {.key = "retry_base_ms", .env = "AI_GATEWAY_RETRY_BASE_MS", .min = 0, .max = 600000, .field = GW_INT(retryBaseMs)},
    {.key = "retry_max_ms", .env = "AI_GATEWAY_RETRY_MAX_MS", .min = 0, .max = 600000, .field = GW_INT(retryMaxMs)},
    {.key = "max_body_bytes", .env = "AI_GATEWAY_MAX_BODY_BYTES", .min = 1024, .max = 100 * MIB,
     .field = GW_INT(maxBodyBytes)},
    {.key = "max_upstream_body_bytes", .min = 1024, .max = 100 * MIB, .field = GW_INT(maxUpstreamBodyBytes)},
    {.key = "default_max_tokens", .env = "OPENAI_MAX_TOKENS", .min = 1, .max = 10000000,
     .field = GW_INT(defaultMaxTokens)},
    {.key = "config_refresh_ms", .env = "AI_GATEWAY_CONFIG_REFRESH_MS", .min = 0, .max = 86400000,
     .field = GW_INT(configRefreshMs)},
    {.key = "default_model", .env = "OPENAI_MODEL", .type = T::Text, .field = GW_TEXT(defaultModel)},
    {.key = "default_provider", .type = T::Text, .field = GW_TEXT(defaultProvider)},
    {.key = "allow_unknown_models", .type = T::Boolean, .field = GW_BOOL(allowUnknownModels)},
    {.key = "demo", .env = "AI_GATEWAY_DEMO", .type = T::Choice, .expected = "\"auto\" or \"off\"",
     .choice = &DEMO},
    {.key = "usd_brl_rate", .env = "USD_BRL_RATE", .type = T::Decimal, .max = 1000,
     .expected = "a decimal number such as 5.40", .field = GW_INT(usdBrlRateMicro)},
    {.key = "quota_daily_limit", .env = "AI_QUOTA_DAILY_LIMIT", .min = 0, .max = 10000000000,
     .field = GW_INT(access.userDefaults.dailyRequests)},
    {.key = "quota_monthly_limit", .env = "AI_QUOTA_MONTHLY_LIMIT", .min = 0, .max = 10000000000,
     .field = GW_INT(access.userDefaults.monthlyRequests)},
    {.key = "quota_monthly_spend_limit", .env = "AI_QUOTA_MONTHLY_SPEND_LIMIT", .type = T::Decimal, .max = 1000000,
     .expected = "a USD amount such as 10.00", .field = GW_INT(access.userDefaults.monthlySpendPico),
     .scale = 1000000},
    {.key = "rate_limit_rpm", .env = "AI_RATE_LIMIT_RPM", .min = 0, .max = 10000000,
     .field = GW_INT(access.keyDefaults.rpm)},
    {.key = "rate_limit_tpm", .env = "AI_RATE_LIMIT_TPM", .min = 0, .max = 1000000000000,
     .field = GW_INT(access.keyDefaults.tpm)},
    {.key = "key_cache_ms", .env = "AI_KEY_CACHE_MS", .min = 0, .max = 3600000, .field = GW_INT(access.keyCacheMs)},
    {.key = "snapshot_cache_ms", .env = "AI_SNAPSHOT_CACHE_MS", .min = 0, .max = 60000,
     .field = GW_INT(access.snapshotCacheMs)},
    {.key = "routing_policy", .type = T::Choice,
     .expected = "one of ordered, preference, cost, latency, quality, round_robin, weighted",
     .choice = &ROUTE_POLICY},
    {.key = "breaker_failures", .env = "AI_GATEWAY_BREAKER_FAILURES", .min = 1, .max = 1000,
     .field = GW_INT(breaker.consecutiveFailures)},
    {.key = "breaker_failure_ratio_percent", .type = T::Percent, .min = 1, .max = 100,
     .field = GW_FIELD(double, breaker.failureRatio)},
    {.key = "breaker_window_ms", .min = 1000, .max = 3600000, .field = GW_INT(breaker.windowMs)},
    {.key = "breaker_open_ms", .env = "AI_GATEWAY_BREAKER_OPEN_MS", .min = 1000, .max = 3600000,
     .field = GW_INT(breaker.openMs)},
    {.key = "cache_enabled", .env = "AI_CACHE_ENABLED", .type = T::Boolean, .field = GW_BOOL(cache.enabled)},
    {.key = "cache_ttl_seconds", .env = "AI_CACHE_TTL_SECONDS", .min = 60, .max = 2592000,
     .field = GW_INT(cache.ttlSeconds)},
    {.key = "cache_nonzero_temperature", .type = T::Boolean, .field = GW_BOOL(cache.nonzeroTemperature)},
    {.key = "cache_multiple_choices", .type = T::Boolean, .field = GW_BOOL(cache.multipleChoices)},
    {.key = "cache_max_entry_bytes", .min = 1024, .max = 25 * MIB, .field = GW_INT(cache.maxEntryBytes)},
    {.key = "cache_memory_ms", .env = "AI_CACHE_MEMORY_MS", .min = 0, .max = 3600000, .field = GW_INT(cache.memoryMs)},
    {.key = "cache_shared_tenants", .type = T::List, .max = 1000, .expected = "an array of tenant ids",
     .field = GW_LIST(cache.sharedTenants)},
    {.key = "default_fallbacks", .type = T::List, .max = 8, .expected = "an array of at most 8 model names",
     .field = GW_LIST(defaultFallbacks)},
    {.key = "alert_error_rate_percent", .env = "AI_ALERT_ERROR_RATE_PERCENT", .min = 1, .max = 100,
     .field = GW_INT(alerts.errorRatePercent)},
    {.key = "alert_latency_p95_ms", .env = "AI_ALERT_LATENCY_P95_MS", .min = 0, .max = 600000,
     .field = GW_INT(alerts.latencyP95Ms)},
    {.key = "alert_window_minutes", .min = 5, .max = 1440, .field = GW_INT(alerts.windowMinutes)},
    {.key = "alert_min_requests", .min = 1, .max = 1000000, .field = GW_INT(alerts.minRequests)},
    {.key = "alert_repeat_minutes", .min = 5, .max = 10080, .field = GW_INT(alerts.repeatMinutes)},
    {.key = "pricing_sync_hours", .min = 1, .max = 720, .field = GW_INT(pricingSyncHours)},
    {.key = "responses_retention_days", .env = "AI_GATEWAY_RESPONSES_RETENTION_DAYS", .min = 1, .max = 365,
     .field = GW_INT(responsesRetentionDays)},
    {.key = "body_retention_days", .env = "AI_GATEWAY_BODY_RETENTION_DAYS", .min = 1, .max = 3650,
     .field = GW_INT(bodyRetentionDays)},
    {.key = "credit_leases", .env = "AI_GATEWAY_CREDIT_LEASES", .type = T::Boolean, .field = GW_BOOL(access.creditLeases)},
    {.key = "credit_lease_ms", .env = "AI_GATEWAY_CREDIT_LEASE_MS", .min = 3000, .max = 300000,
     .field = GW_INT(access.creditLeaseMs)},
    {.key = "usage_pack_ms", .env = "AI_GATEWAY_USAGE_PACK_MS", .min = 0, .max = 1000, .field = GW_INT(usagePackMs)},
    // Set by the deployment only: they change what the operator sees or
    // who may call, not something an admin key should switch.
    {.env = "LOG_LEVEL", .type = T::Choice, .expected = "debug, info, warn or error", .choice = &LOG_LEVEL},
    {.env = "LOG_PROMPTS", .type = T::Boolean, .field = GW_BOOL(logPrompts)},
    {.env = "LOG_PROMPT_MAX_BYTES", .min = 1, .max = 100000, .field = GW_INT(logPromptMaxBytes)},
    {.env = "ENABLE_AI_GATEWAY", .type = T::Boolean, .field = GW_BOOL(access.servingEnabled)},
    {.env = "PRICING_URL", .type = T::Url, .field = GW_TEXT(pricingUrl)},
};

#undef GW_FIELD
#undef GW_INT
#undef GW_BOOL
#undef GW_TEXT
#undef GW_LIST

std::string range(const Setting& s) { return std::to_string(s.min) + " and " + std::to_string(s.max); }

}  // namespace

std::span<const Setting> settingsTable() { return SETTINGS; }

const Setting* findSetting(std::string_view key) {
  for (const Setting& s : SETTINGS)
    if (*s.key != 0 && key == s.key) return &s;
  return nullptr;
}

void writeSetting(json::Writer& w, const Setting& s, const Config& config) {
  Config& c = const_cast<Config&>(config);  // the accessors only read here
  switch (s.type) {
    case T::Integer: w.integer(integer(s, c)); break;
    case T::Decimal: w.raw(formatPico(integer(s, c) * (1000000 / s.scale))); break;
    case T::Percent: w.integer(static_cast<int64_t>(ratio(s, c) * 100 + 0.5)); break;
    case T::Boolean: w.boolean(boolean(s, c)); break;
    case T::Text:
    case T::Url: w.string(text(s, c)); break;
    case T::List: w.strings(list(s, c)); break;
    case T::Choice: w.string(s.choice->chosen(config)); break;
  }
}

namespace config {

void readSettings(const View& g, Config& c, Validator& v) {
  const std::string p = "gateway";
  if (g.kind() != Kind::Object) return v.fail(p, "expected an object");
  for (const Setting& s : SETTINGS) {
    if (*s.key == 0 || !v.ok()) continue;
    const std::string key(s.key);
    switch (s.type) {
      case T::Integer: v.integer(g, key.c_str(), p, integer(s, c), s.min, s.max); break;
      case T::Decimal: {
        int64_t micros = -1;
        v.micros(g, key.c_str(), p, micros, static_cast<double>(s.max));
        if (micros >= 0) integer(s, c) = micros * s.scale;
        break;
      }
      case T::Percent: {
        int64_t percent = static_cast<int64_t>(ratio(s, c) * 100);
        v.integer(g, key.c_str(), p, percent, s.min, s.max);
        ratio(s, c) = static_cast<double>(percent) / 100;
        break;
      }
      case T::Boolean: v.boolean(g, key.c_str(), p, boolean(s, c)); break;
      case T::Text:
      case T::Url: v.string(g, key.c_str(), p, text(s, c), false); break;
      case T::List:
        if (!g.member(key).present()) break;
        list(s, c).clear();
        v.strings(g, key.c_str(), p, list(s, c), ("expected " + std::string(s.expected)).c_str(),
                  static_cast<size_t>(s.max), true);
        break;
      case T::Choice: {
        std::string name;
        v.string(g, key.c_str(), p, name, false);
        if (!name.empty() && !s.choice->choose(c, name)) v.fail(p + "." + key, "expected " + std::string(s.expected));
        break;
      }
    }
  }
}

void applySettingEnvironment(const Environment& env, Config& c, Validator& v) {
  for (const Setting& s : SETTINGS) {
    if (*s.env == 0 || !v.ok()) continue;
    auto it = env.vars.find(s.env);
    if (it == env.vars.end() || it->second.empty()) continue;
    const std::string& value = it->second;
    const std::string name(s.env);
    const std::string got = ", got '" + value + "'";
    switch (s.type) {
      case T::Integer:
        if (!parseEnvInteger(value, s.min, s.max, integer(s, c)))
          v.fail(name, "expected an integer between " + range(s) + got);
        break;
      case T::Percent: {
        int64_t percent = 0;
        if (!parseEnvInteger(value, s.min, s.max, percent)) v.fail(name, "expected an integer between " + range(s) + got);
        else ratio(s, c) = static_cast<double>(percent) / 100;
        break;
      }
      case T::Decimal: {
        int64_t micros = 0;
        if (!parseDecimalMicros(value, micros) || micros > s.max * 1000000) v.fail(name, "expected " + std::string(s.expected) + got);
        else integer(s, c) = micros * s.scale;
        break;
      }
      case T::Boolean:
        if (value == "true" || value == "1") boolean(s, c) = true;
        else if (value == "false" || value == "0") boolean(s, c) = false;
        else v.fail(name, "expected true or false" + got);
        break;
      case T::Text: text(s, c) = value; break;
      case T::Url:
        if (!validBaseUrl(value)) v.fail(name, "expected an http(s) URL");
        else text(s, c) = value;
        break;
      case T::List: break;  // no list is set from the environment
      case T::Choice:
        if (!s.choice->choose(c, value)) v.fail(name, "expected " + std::string(s.expected) + got);
        break;
    }
  }
}

void applySettingSecrets(const Environment& env, Config& c) {
  // Callers are checked against these by digest only; the values never reach the core.
  if (auto admin = env.digests.find("ADMIN_API_KEY"); admin != env.digests.end()) c.access.adminKeyDigest = admin->second;
  if (auto metrics = env.digests.find("METRICS_TOKEN"); metrics != env.digests.end())
    c.access.metricsTokenDigest = metrics->second;
  // A secret because it carries a token; only whether it is set matters here.
  c.alerts.webhookSet = env.secrets.count("GATEWAY_ALERT_WEBHOOK_URL") > 0;
  c.usageQueue = env.bindings.count(USAGE_QUEUE_BINDING) > 0;
  c.bodyStore = env.bindings.count(BODIES_BINDING) > 0;
}

void settingEnvNames(EnvNames& names) {
  for (const Setting& s : SETTINGS)
    if (*s.env != 0) names.vars.emplace_back(s.env);
  names.digests = {"ADMIN_API_KEY", "METRICS_TOKEN"};
  names.secrets = {"GATEWAY_ALERT_WEBHOOK_URL"};
  names.bindings = {USAGE_QUEUE_BINDING, BODIES_BINDING};
}

}  // namespace config

}  // namespace gw
