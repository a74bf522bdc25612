#pragma once
// State shared by the sessions of one core instance: the active config (and
// why it is invalid, if it is), per-provider health, counters. Owned by the
// Gateway and passed to sessions; there is no global.
#include <cstdint>
#include "gw/move_function.h"
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gw/breaker.h"
#include "gw/config.h"
#include "gw/key_record.h"
#include "gw/status.h"

namespace gw {

struct ProviderStats {
  int64_t requests = 0;
  int64_t failures = 0;
  int64_t consecutiveFailures = 0;
  int64_t lastStatus = 0;
  int64_t lastSuccessMs = 0;
  int64_t lastFailureMs = 0;
  double latencyEwmaMs = 0;
  std::string lastError;
};

// A key record read from KV (parsed once), trusted for
// AccessConfig::keyCacheMs; the ledger still refuses a revoked key at once.
struct CachedKey {
  access::KeyRecord key;
  int64_t fetchedMs = 0;
};

// A tenant's quota snapshot read from KV, trusted for
// AccessConfig::snapshotCacheMs. It only lets an isolate refuse early; a
// stale one costs at most a ledger call (that refuses) or a refusal the
// ledger has since lifted.
struct CachedSnapshot {
  std::string text;
  int64_t fetchedMs = 0;
};

// A user's saved model choice for one context (empty provider: none saved),
// trusted for preferences::CACHE_MS; a change made through this instance
// replaces it at once.
struct CachedPreference {
  std::string provider;
  std::string model;
  int64_t fetchedMs = 0;
};

// A tenant's own provider keys (KV vault:tenant:<id>), trusted for
// AccessConfig::keyCacheMs; a change made through this instance replaces
// them at once. Shared with the sessions using them.
struct CachedVault {
  std::shared_ptr<const vault::Keys> keys;
  int64_t fetchedMs = 0;
};

// Identical cache misses in flight in this instance: the leader calls
// upstream, the others wait for its answer instead of calling too.
struct Flight {
  uint32_t leader = 0;
  std::vector<uint32_t> waiting;  // session ids
};

// Cache entries this instance read or stored recently, so a hot entry costs
// no KV read; trusted for CacheConfig::memoryMs (an invalidation made
// elsewhere reaches this instance within that), bounded by bytes.
struct HotEntry {
  std::string text;
  int64_t expiresMs = 0;
  int64_t fetchedMs = 0;
};

// Cache hits counted in this instance and not yet written: hits are served
// without waiting on anything, and their accounting is written at most
// once per cache::HIT_FLUSH_MS (one ledger op per key, one D1 update per
// entry) instead of once per hit.
struct HitCount {
  int64_t hits = 0, tokens = 0, usdPico = 0, lastHitMs = 0;
  std::string keyLimits;  // ledger: the key's limits, as its op carries them
};

// A credit lease this instance holds from its tenant's ledger: requests of
// one key and user are admitted against it, and settled into it, with no
// ledger call (README: Credit leases). Once it can admit no more and
// nothing admitted against it is still running it is done, and its report
// (what it served and spent) goes to the ledger with the next lease asked
// for, or alone by the time the lease ends.
struct LeaseRate {
  bool known = false;
  int64_t limit = 0, remaining = 0, resetAtMs = 0;  // the ledger's window at the grant, the lease's own requests counted
};
struct HeldLease {
  std::string id;
  int64_t requests = 0, tokens = 0, usd = 0, brl = 0;  // what is left to admit
  int64_t served = 0, spentTokens = 0, spentUsd = 0, spentBrl = 0;  // what it admitted and settled
  int64_t running = 0;  // admitted, not settled yet
  int64_t granted = 0;  // requests granted
  int64_t admitUntilMs = 0;  // admits until then (the ledger waits grace_ms more for its report)
  LeaseRate rateRequests, rateTokens;  // for x-ratelimit-* on what it admits
};
struct LeaseScope {
  std::string tenant;
  std::vector<HeldLease> held;
  std::vector<HeldLease> done;  // reports not sent yet
  bool asking = false;          // a lease call is out
  int64_t seq = 0;              // this instance's lease count, for their ids
  int64_t noAskUntilMs = 0;     // the ledger refused a lease: per request until then
  int64_t askedAheadOfMs = 0;   // the end a lease was last asked for ahead of
  int64_t retryReportsAtMs = 0; // a call carrying reports failed: they wait for the report job then
  int64_t lastEndMs = -1;       // when a request of this scope last ended here
  int64_t paceStartMs = 0, paceCount = 0, lastPaceCount = 0;  // requests ended per lease life
};

// What this instance knows of one routing target ("provider/model"): its
// circuit breaker, when the record other instances publish for it was last
// read, and its recent latency for the `latency` policy.
struct TargetHealth {
  CircuitBreaker breaker;
  // The provider answered 429: calls wait until then (its retry-after),
  // without counting against the breaker. A rate limit is not an outage.
  int64_t rateLimitedUntilMs = 0;
  int64_t sharedReadMs = 0;
  double latencyEwmaMs = 0;  // whole answers (non-streamed)
  double ttftEwmaMs = 0;     // time to the stream's head
};

// Exponentially weighted moving average; the first sample stands alone.
inline void addSample(double& ewma, double sample) { ewma = ewma == 0 ? sample : 0.8 * ewma + 0.2 * sample; }

// What providers used beyond what the ledger held for them (they ignored
// the max_tokens they were sent): not charged, so no limit or budget is
// passed, but counted, so the operator sees it (GET /metrics).
// How this instance admitted metered requests, and the leases it asked for.
struct AdmissionCounts {
  int64_t viaLease = 0, viaLedger = 0;
  int64_t leasesGranted = 0, leasesRefused = 0;
};

struct OvershootCounts {
  int64_t requests = 0;
  int64_t tokens = 0;
  int64_t picoUsd = 0;
  int64_t streamsCut = 0;  // streams ended as `length` once past their reservation
};

struct GatewayState {
  std::string bundledConfig;
  Environment env;
  std::string overrideConfig;  // last KV override document applied
  std::shared_ptr<const Config> config;
  Status configStatus = Status::failure("not configured");
  int64_t lastRefreshMs = -1;  // -1: never read the KV override
  bool refreshInFlight = false;
  int64_t startedMs = -1;
  int64_t requestsServed = 0;
  std::map<std::string, ProviderStats, std::less<>> providerStats;
  std::map<std::string, CachedKey, std::less<>> keyCache;  // by key digest
  std::map<std::string, CachedSnapshot, std::less<>> snapshotCache;  // by tenant
  std::map<std::string, CachedVault, std::less<>> tenantVaults;      // by tenant
  std::string gatewayVaultDoc;  // the KV vault:gateway document env.gatewayKeys came from
  std::map<std::string, TargetHealth, std::less<>> targets;  // by routing target "provider/model"
  std::map<std::string, CachedPreference, std::less<>> preferenceCache;  // by preferences::cacheKey
  std::map<std::string, Flight, std::less<>> flights;  // by cache storage key
  std::map<std::string, HotEntry, std::less<>> hotEntries;  // by cache storage key
  size_t hotBytes = 0;
  std::map<std::string, HitCount, std::less<>> ledgerHits;  // by "tenant\nkey\nuser"
  std::map<std::string, LeaseScope, std::less<>> leases;    // by "tenant\nkey\nuser" (AccessConfig::creditLeases)
  int64_t leasesSweptMs = 0;  // when idle lease scopes were last forgotten
  std::map<std::string, HitCount, std::less<>> entryHits;   // by "scope\nkey"
  int64_t hitsFlushedMs = 0;
  // Sessions another session's input gave work to; the next poll names them
  // so the host polls them too.
  std::vector<uint32_t> woken;
  // Hands a landed flight to a waiting session (set by the Gateway, which owns them).
  MoveFunction<void(uint32_t session, const std::string* entry)> landFlight;
  uint64_t roundRobin = 0;                                           // advanced per routed request
  OvershootCounts overshoot;
  AdmissionCounts admissions;
  int64_t breakersListedMs = 0;  // health last read every shared breaker record

  // A ledger answer that carries a new snapshot refreshes this instance's
  // copy at once (the KV mirror follows), so a budget raised here is not
  // refused here from a stale copy.
  void noteLedgerResult(std::string_view tenant, std::string_view result, int64_t nowMs);
  // Stores a tenant's snapshot text (empty: none known); returns the stored copy.
  const std::string& cacheSnapshot(std::string_view tenant, std::string_view text, int64_t nowMs);

  // Rebuilds the active config from bundled + override + env. Keeps the
  // previous valid config serving when an override is invalid.
  Status rebuild(std::string_view overrideJson);
  // Serves `config`, already loaded from bundled + `overrideJson` + env.
  void install(std::string overrideJson, Config config);
  bool refreshDue(int64_t nowMs) const;
  // Takes the gateway's vault document into env.gatewayKeys (rebuild() then
  // serves it); an unreadable one leaves none.
  void setGatewayKeys(std::string doc);
  // Caches a tenant's vault keys; returns the shared copy.
  std::shared_ptr<const vault::Keys> cacheTenantKeys(std::string_view tenant, vault::Keys keys, int64_t nowMs);
  void recordAttempt(const std::string& provider, int64_t nowMs, int status, bool success, double latencyMs,
                     std::string_view error);
};

}  // namespace gw
