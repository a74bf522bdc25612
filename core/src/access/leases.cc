#include "leases.h"

#include <algorithm>

#include "gw/json_tape.h"
#include "gw/json_writer.h"
#include "gw/limits.h"
#include "gw/session.h"

namespace gw::leases {

namespace {

using json::Kind;

// Requests further apart than this are admitted per request: a lease
// (its ask and its report) would cost more ledger calls than it saves.
constexpr int64_t PACE_GAP_MS = 10000;
constexpr int64_t MIN_LEASE_REQUESTS = 4, MAX_LEASE_REQUESTS = 256;
// After the ledger refused a lease, per request for this long (a raised
// quota is leased again within it).
constexpr int64_t REFUSED_MIN_MS = 1000, REFUSED_MAX_MS = 10000;
// Scopes kept per instance before idle ones are forgotten.
constexpr size_t MAX_IDLE_SCOPES = 4096;
constexpr int64_t SWEEP_EVERY_MS = 1000;
// Reports of a call that failed (the ledger unreachable) are sent again by
// the report job this much later, until the ledger stops waiting for them.
constexpr int64_t REPORT_RETRY_MS = 5000;

bool timeLeft(const HeldLease& l, int64_t now) { return l.admitUntilMs > now; }

bool hasRoom(const HeldLease& l, const Worst& w, int64_t now) {
  return timeLeft(l, now) && l.requests >= 1 && l.tokens >= w.tokens && l.usd >= w.cost.picoUsd &&
         l.brl >= w.cost.picoBrl;
}

void writeLimits(json::Writer& w, const Session& s) {
  const Principal& p = s.principal();
  const AccessConfig& cfg = s.config().access;
  w.field("key", p.keyId).field("user", p.accountUser()).key("key_limits");
  writeQuotaLimitsWire(w, cfg.keyDefaults.overlay(p.limits));
  w.key("user_defaults");
  writeQuotaLimitsWire(w, cfg.userDefaults);
}

// A lease's report: what it served and spent since its grant (cumulative).
void writeReport(json::Writer& w, const HeldLease& l) {
  w.beginObject().field("lease_id", l.id).field("requests", l.served).field("tokens", l.spentTokens);
  w.field("usd", l.spentUsd).field("brl", l.spentBrl).endObject();
}

void writeReports(json::Writer& w, const std::vector<HeldLease>& done) {
  w.key("reports").beginArray();
  for (const HeldLease& l : done) writeReport(w, l);
  w.endArray();
}

LeaseRate readRate(const json::Tape& t, uint32_t rate, std::string_view name, int64_t now) {
  LeaseRate out;
  const uint32_t at = rate == 0 ? 0 : t.find(rate, name);
  if (at == 0 || t.kind(at) != Kind::Object) return out;
  out.known = true;
  out.limit = t.integerAt(at, "limit"), out.remaining = t.integerAt(at, "remaining");
  out.resetAtMs = now + t.integerAt(at, "reset_ms");
  return out;
}

// Leases that can admit no more (none like `worst`, when given) with
// nothing running are done: their reports wait in `done`.
void retire(LeaseScope& scope, const Worst* worst, int64_t now) {
  for (auto it = scope.held.begin(); it != scope.held.end();) {
    const bool open = worst ? hasRoom(*it, *worst, now) : timeLeft(*it, now) && it->requests >= 1;
    if (open || it->running > 0) {
      ++it;
      continue;
    }
    scope.done.push_back(std::move(*it));
    it = scope.held.erase(it);
  }
}

// How long past a lease's end the ledger waits for its report (then it
// charges the lease in full, and a report changes nothing).
int64_t reportGraceMs(const Session& s) { return s.config().requestTimeoutMs + 60000; }

// Reports a failed call carried wait for another: they ride with the next
// ask, or the report job sends them shortly (never in the same turn, so a
// ledger that is down is not called in a loop). Those the ledger no longer
// waits for are dropped: it charged them in full.
void requeue(Session& s, const std::string& name, std::vector<HeldLease>&& reports) {
  auto found = s.state().leases.find(name);
  if (found == s.state().leases.end()) return;
  LeaseScope& scope = found->second;
  const int64_t now = s.nowMs();
  for (HeldLease& l : reports) {
    const bool known = std::any_of(scope.done.begin(), scope.done.end(), [&](const HeldLease& d) { return d.id == l.id; });
    if (!known && l.admitUntilMs + reportGraceMs(s) > now) scope.done.push_back(std::move(l));
  }
  if (scope.done.empty() || scope.retryReportsAtMs > now) return;
  scope.retryReportsAtMs = now + REPORT_RETRY_MS;
  s.scheduleJob(REPORT_JOB, REPORT_RETRY_MS);
}

// Pending reports wait to ride with the next ask while a lease with time
// left (whose end runs the report job) or an ask in flight will carry
// them; otherwise they go now, in one call (after a failed one, not before
// its retry is due).
void flushUnbacked(Session& s, const std::string& name, LeaseScope& scope) {
  if (scope.done.empty() || scope.asking || s.nowMs() < scope.retryReportsAtMs) return;
  for (const HeldLease& l : scope.held)
    if (timeLeft(l, s.nowMs())) return;
  std::string op;
  json::Writer w(op);
  w.beginObject().field("op", "lease_report");
  writeReports(w, scope.done);
  w.endObject();
  s.ledger(scope.tenant, op, [name, sent = std::move(scope.done)](Session& s, const EffectResult& r) mutable {
    if (!r.ok) requeue(s, name, std::move(sent));
  });
  scope.done.clear();
}

// Forgets scopes with nothing held, reported or asked for, quiet for a while.
void forgetIdle(GatewayState& state, int64_t quietMs, int64_t now) {
  for (auto it = state.leases.begin(); it != state.leases.end();) {
    const LeaseScope& scope = it->second;
    const bool idle = scope.held.empty() && scope.done.empty() && !scope.asking && now - scope.lastEndMs > quietMs;
    it = idle ? state.leases.erase(it) : ++it;
  }
}

// Requests of this scope to expect in one lease's life, from its pace here.
int64_t perLeaseLife(const LeaseScope& scope, int64_t leaseMs, int64_t now) {
  const int64_t elapsed = std::max<int64_t>(now - scope.paceStartMs, leaseMs / 8);
  return std::max(scope.lastPaceCount, scope.paceCount * leaseMs / elapsed);
}

void onGrant(Session& s, const std::string& name, const EffectResult& r, std::vector<HeldLease>&& carried) {
  // Unanswered, the call may not have reached the ledger: its reports go again.
  if (!r.ok) requeue(s, name, std::move(carried));
  auto found = s.state().leases.find(name);
  if (found == s.state().leases.end()) return;
  LeaseScope& scope = found->second;
  scope.asking = false;
  const int64_t now = s.nowMs();
  json::Tape t;
  const bool parsed = r.ok && t.parse(r.data) && t.kind(t.root()) == Kind::Object;
  const uint32_t lease = parsed ? t.find(t.root(), "lease") : 0;
  if (parsed && t.kind(t.find(t.root(), "ok")) == Kind::True && lease != 0 && t.kind(lease) == Kind::Object) {
    HeldLease l;
    l.id = t.stringAt(lease, "id");
    l.requests = l.granted = t.integerAt(lease, "requests");
    l.tokens = t.integerAt(lease, "tokens"), l.usd = t.integerAt(lease, "usd"), l.brl = t.integerAt(lease, "brl");
    // It admits to its end: what it admits last is settled while the ledger waits for the report (grace_ms).
    l.admitUntilMs = t.integerAt(lease, "expires_ms");
    const uint32_t rate = t.find(t.root(), "rate");
    l.rateRequests = readRate(t, rate, "requests", now);
    l.rateTokens = readRate(t, rate, "tokens", now);
    ++s.state().admissions.leasesGranted;
    // The same grant answered twice (a repeated call) is one lease.
    const bool known = std::any_of(scope.held.begin(), scope.held.end(), [&](const HeldLease& h) { return h.id == l.id; });
    if (!l.id.empty() && !known) {
      // When it stops admitting, the report job sends what is left to report.
      s.scheduleJob(REPORT_JOB, l.admitUntilMs - now + 1);
      scope.held.push_back(std::move(l));
    }
  } else {
    ++s.state().admissions.leasesRefused;
    const int64_t wait = parsed ? t.integerAt(t.root(), "retry_after_ms", REFUSED_MIN_MS) : REFUSED_MIN_MS;
    scope.noAskUntilMs = now + std::clamp(wait, REFUSED_MIN_MS, REFUSED_MAX_MS);
  }
  flushUnbacked(s, name, scope);
}

void ask(Session& s, const std::string& name, LeaseScope& scope, const Worst& worst) {
  scope.asking = true;
  const int64_t leaseMs = s.config().access.creditLeaseMs;
  const int64_t n = std::clamp(perLeaseLife(scope, leaseMs, s.nowMs()), MIN_LEASE_REQUESTS, MAX_LEASE_REQUESTS);
  std::string op;
  json::Writer w(op);
  w.beginObject().field("op", "lease").field("lease_id", s.requestId() + "-" + std::to_string(++scope.seq));
  writeLimits(w, s);
  w.field("requests", n).field("tokens", n * worst.tokens).field("usd", n * worst.cost.picoUsd);
  w.field("brl", n * worst.cost.picoBrl).field("min_tokens", worst.tokens).field("min_usd", worst.cost.picoUsd);
  w.field("min_brl", worst.cost.picoBrl).field("ttl_ms", leaseMs);
  // What it admits last may run as long as any request: the ledger waits that long for the report.
  w.field("grace_ms", reportGraceMs(s));
  if (!scope.done.empty()) writeReports(w, scope.done);
  w.endObject();
  s.ledger(scope.tenant, op, [name, carried = std::move(scope.done)](Session& s, const EffectResult& r) mutable {
    onGrant(s, name, r, std::move(carried));
  });
  scope.done.clear();
}

}  // namespace

HeldLease* admit(Session& s, std::string_view name, const Worst& worst) {
  auto scope = s.state().leases.find(name);
  if (scope == s.state().leases.end()) return nullptr;
  for (HeldLease& l : scope->second.held) {
    if (!hasRoom(l, worst, s.nowMs())) continue;
    --l.requests, l.tokens -= worst.tokens, l.usd -= worst.cost.picoUsd, l.brl -= worst.cost.picoBrl;
    ++l.running;
    return &l;
  }
  return nullptr;
}

HeldLease* find(Session& s, std::string_view name, std::string_view id) {
  if (id.empty()) return nullptr;
  auto scope = s.state().leases.find(name);
  if (scope == s.state().leases.end()) return nullptr;
  for (HeldLease& l : scope->second.held)
    if (l.id == id) return &l;
  return nullptr;
}

bool canAdmit(const GatewayState& state, std::string_view scope, int64_t nowMs) {
  auto it = state.leases.find(scope);
  if (it == state.leases.end()) return false;
  for (const HeldLease& l : it->second.held)
    if (timeLeft(l, nowMs) && l.requests >= 1) return true;
  return false;
}

void tend(Session& s, const std::string& name, const Worst& worst) {
  if (!s.config().access.creditLeases) return;
  const int64_t now = s.nowMs(), leaseMs = s.config().access.creditLeaseMs;
  // Past the bound, idle scopes are swept at most once a second: a sweep
  // walks them all, and every request would otherwise pay for it.
  if (s.state().leases.size() > MAX_IDLE_SCOPES && now - s.state().leasesSweptMs >= SWEEP_EVERY_MS) {
    s.state().leasesSweptMs = now;
    forgetIdle(s.state(), PACE_GAP_MS, now);
  }
  LeaseScope& scope = s.state().leases[name];
  scope.tenant = s.principal().tenantId;
  if (now - scope.paceStartMs >= leaseMs) {
    scope.lastPaceCount = now - scope.paceStartMs < 2 * leaseMs ? scope.paceCount : 0;
    scope.paceStartMs = now, scope.paceCount = 0;
  }
  ++scope.paceCount;
  const bool steady = scope.lastEndMs >= 0 && now - scope.lastEndMs <= PACE_GAP_MS;
  scope.lastEndMs = now;
  retire(scope, &worst, now);
  // The next lease is asked for once the held ones are down to a quarter
  // of a grant, or stop admitting within a sixth of a lease's life: it
  // lands before they run out.
  // (once per end: a window's end, the minute's say, cuts the next one short too).
  int64_t room = 0, granted = 0, lastEnd = 0;
  for (const HeldLease& l : scope.held) {
    if (!hasRoom(l, worst, now)) continue;
    room += l.requests, granted = std::max(granted, l.granted), lastEnd = std::max(lastEnd, l.admitUntilMs);
  }
  const bool endingSoon = room > 0 && lastEnd - now <= leaseMs / 6 && lastEnd > scope.askedAheadOfMs;
  const bool low = room == 0 || room <= granted / 4 || endingSoon;
  if (low && !scope.asking && now >= scope.noAskUntilMs && (steady || room > 0)) {
    if (endingSoon) scope.askedAheadOfMs = lastEnd;
    return ask(s, name, scope, worst);
  }
  flushUnbacked(s, name, scope);
}

void reportDue(Session& s) {
  const int64_t now = s.nowMs();
  for (auto& entry : s.state().leases) {
    retire(entry.second, nullptr, now);
    flushUnbacked(s, entry.first, entry.second);
  }
  forgetIdle(s.state(), PACE_GAP_MS, now);
}

void writeProgress(json::Writer& w, const GatewayState& state, std::string_view tenant) {
  bool any = false;
  for (const auto& entry : state.leases) {
    if (entry.second.tenant != tenant) continue;
    for (const auto* list : {&entry.second.held, &entry.second.done})
      for (const HeldLease& l : *list) {
        if (l.served == 0) continue;
        if (!any) w.key("progress").beginArray(), any = true;
        writeReport(w, l);
      }
  }
  if (any) w.endArray();
}

std::string readOp(std::string_view name, const GatewayState& state, std::string_view tenant) {
  std::string op;
  json::Writer w(op);
  w.beginObject().field("op", name);
  writeProgress(w, state, tenant);
  w.endObject();
  return op;
}

}  // namespace gw::leases
