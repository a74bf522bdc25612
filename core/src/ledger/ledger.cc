#include "gw/ledger.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "gw/json_tape.h"
#include "gw/json_writer.h"
#include "gw/key_record.h"
#include "gw/usage_log.h"
#include "gw/limits.h"
#include "gw/pricing.h"
#include "ledger_state.h"

namespace gw::ledger {

namespace {

using json::Kind;
using json::Tape;

// Amounts an op may carry: far above any real request, far below overflow
// when summed over every reservation a tenant can hold.
constexpr int64_t MAX_AMOUNT = int64_t{1} << 53;

int64_t amountAt(const Tape& op, std::string_view key) {
  return std::clamp<int64_t>(op.integerAt(op.root(), key), 0, MAX_AMOUNT);
}

int64_t floorTo(int64_t v, int64_t unit) { return v - ((v % unit) + unit) % unit; }

std::string keyAccount(std::string_view key) { return "key:" + std::string(key); }
std::string userAccount(std::string_view user) { return "user:" + std::string(user); }
constexpr std::string_view TENANT = "tenant";

// ---- the rules ------------------------------------------------------------

// Starts the account's current minute, day and month; true when any changed.
bool roll(Account& a, int64_t now) {
  bool changed = false;
  int64_t minute = floorTo(now, MS_PER_MINUTE);
  if (a.minute != minute) a.minute = minute, a.minuteRequests = 0, a.minuteTokens = 0, changed = true;
  int64_t day = periodBounds(Period::Daily, now).startMs;
  if (a.day != day) a.day = day, a.dayRequests = 0, changed = true;
  int64_t month = periodBounds(Period::Monthly, now).startMs;
  if (a.month != month)
    a.month = month, a.monthRequests = 0, a.monthTokens = 0, a.monthUsd = 0, a.monthBrl = 0, changed = true;
  return changed;
}

void roll(BudgetState& b, int64_t now) {
  int64_t start = periodBounds(b.budget.period, now).startMs;
  if (b.periodStart != start) b.periodStart = start, b.used = 0, b.alerted.clear();
}

bool budgetApplies(const Budget& b, std::string_view user) { return b.userId.empty() || b.userId == user; }

int64_t budgetAmount(BudgetType t, int64_t tokens, int64_t usd, int64_t brl) {
  return t == BudgetType::Tokens ? tokens : t == BudgetType::Usd ? usd : brl;
}

// The three accounts a request counts against, by name.
struct Scopes {
  std::string key, user;
  std::string_view tenant = TENANT;
};

bool reservationIn(const Reservation& r, std::string_view account) {
  if (account == TENANT) return true;
  if (account.substr(0, 5) == "user:") return account.substr(5) == r.user;
  return account.substr(0, 4) == "key:" && account.substr(4) == r.key;
}

// USD held for `account` by requests in flight and credit leases.
int64_t heldIn(const State& s, std::string_view account) {
  int64_t held = 0;
  for (const auto& r : s.reservations)
    if (reservationIn(r, account)) held += r.heldUsd();
  return held;
}

struct Denial {
  int status = 0;
  std::string code, type, message;
  int64_t retryAfterMs = 0;
};

// OpenAI's types: a rate limit names what ran out ("requests" or "tokens").
Denial deny(std::string code, std::string type, std::string message, int64_t retryAfterMs) {
  return {429, std::move(code), std::move(type), std::move(message), std::max<int64_t>(retryAfterMs, 0)};
}

std::string scopeLabel(std::string_view account) {
  if (account == TENANT) return "the tenant";
  if (account.substr(0, 5) == "user:") return "user '" + std::string(account.substr(5)) + "'";
  return "this API key";
}

Denial checkAccount(const State& s, std::string_view name, const Account& a, const QuotaLimits& l, int64_t tokens,
                    int64_t usd, int64_t now) {
  const int64_t minuteEnd = a.minute + MS_PER_MINUTE;
  if (l.rpm >= 0 && a.minuteRequests + 1 > l.rpm)
    return deny("rate_limit_exceeded", "requests",
                "Rate limit reached for " + scopeLabel(name) + ": " + std::to_string(l.rpm) + " requests per minute.",
                minuteEnd - now);
  if (l.tpm >= 0 && tokens > l.tpm)
    return deny("rate_limit_exceeded", "tokens",
                "Request too large for " + scopeLabel(name) + ": it may use " + std::to_string(tokens) +
                    " tokens (prompt estimate + max_tokens) but the limit is " + std::to_string(l.tpm) +
                    " tokens per minute. Lower max_tokens.",
                minuteEnd - now);
  if (l.tpm >= 0 && a.minuteTokens + tokens > l.tpm)
    return deny("rate_limit_exceeded", "tokens",
                "Rate limit reached for " + scopeLabel(name) + ": " + std::to_string(l.tpm) +
                    " tokens per minute (used " + std::to_string(a.minuteTokens) + ", requested " +
                    std::to_string(tokens) + ").",
                minuteEnd - now);
  if (l.dailyRequests >= 0 && a.dayRequests + 1 > l.dailyRequests)
    return deny("insufficient_quota", "insufficient_quota",
                "Daily request quota exhausted for " + scopeLabel(name) + " (" + std::to_string(l.dailyRequests) +
                    " per day).",
                a.day + MS_PER_DAY - now);
  const int64_t monthEnd = periodBounds(Period::Monthly, now).endMs;
  if (l.monthlyRequests >= 0 && a.monthRequests + 1 > l.monthlyRequests)
    return deny("insufficient_quota", "insufficient_quota",
                "Monthly request quota exhausted for " + scopeLabel(name) + " (" +
                    std::to_string(l.monthlyRequests) + " per month).",
                monthEnd - now);
  if (l.monthlySpendPico >= 0) {
    const int64_t reserved = heldIn(s, name);
    if (a.monthUsd + reserved + usd > l.monthlySpendPico)
      return deny("insufficient_quota", "insufficient_quota",
                  "Monthly spend limit reached for " + scopeLabel(name) + ": USD " + formatPico(l.monthlySpendPico) +
                      " (spent " + formatPico(a.monthUsd) + ", in flight " + formatPico(reserved) + ").",
                  monthEnd - now);
  }
  return {};
}

int64_t budgetInFlight(const State& s, const Budget& b) {
  int64_t reserved = 0;
  for (const auto& r : s.reservations)
    if (budgetApplies(b, r.user)) reserved += budgetAmount(b.type, r.heldTokens(), r.heldUsd(), r.heldBrl());
  return reserved;
}

Denial checkBudget(const State& s, const BudgetState& b, int64_t amount, int64_t now) {
  if (!b.budget.pauseAtLimit) return {};
  const int64_t reserved = budgetInFlight(s, b.budget);
  if (b.used + reserved + amount <= b.budget.limit) return {};
  const BudgetType t = b.budget.type;
  return deny("insufficient_quota", "insufficient_quota",
              "Budget '" + b.budget.id + "' reached: " + std::string(budgetTypeName(t)) + " " +
                  formatBudgetAmount(t, b.budget.limit) + " per " + periodName(b.budget.period) + " (used " +
                  formatBudgetAmount(t, b.used) + ", in flight " + formatBudgetAmount(t, reserved) + ").",
              periodBounds(b.budget.period, now).endMs - now);
}

struct Scope {
  const Account* account;
  QuotaLimits limits;
};

// The tightest per-minute limit across the key, its user and the tenant:
// what OpenAI's x-ratelimit-* headers describe.
void writeRate(json::Writer& w, const Scope (&scopes)[3], int64_t now) {
  bool requests = false, tokens = false;
  int64_t limitRequests = 0, remainingRequests = 0, resetRequests = 0;
  int64_t limitTokens = 0, remainingTokens = 0, resetTokens = 0;
  for (const Scope& sc : scopes) {
    const QuotaLimits& l = sc.limits;
    const int64_t reset = sc.account->minute + MS_PER_MINUTE - now;
    if (l.rpm >= 0) {
      int64_t remaining = std::max<int64_t>(0, l.rpm - sc.account->minuteRequests);
      if (!requests || remaining < remainingRequests)
        requests = true, limitRequests = l.rpm, remainingRequests = remaining, resetRequests = reset;
    }
    if (l.tpm >= 0) {
      int64_t remaining = std::max<int64_t>(0, l.tpm - sc.account->minuteTokens);
      if (!tokens || remaining < remainingTokens)
        tokens = true, limitTokens = l.tpm, remainingTokens = remaining, resetTokens = reset;
    }
  }
  w.key("rate").beginObject();
  if (requests)
    w.key("requests").beginObject().field("limit", limitRequests).field("remaining", remainingRequests)
        .field("reset_ms", resetRequests).endObject();
  if (tokens)
    w.key("tokens").beginObject().field("limit", limitTokens).field("remaining", remainingTokens)
        .field("reset_ms", resetTokens).endObject();
  w.endObject();
}

// A refusal, left open so the caller may add fields; close with endObject().
json::Writer& beginFailure(json::Writer& w, int status, std::string_view type, std::string_view code,
                           std::string_view message) {
  return w.beginObject().field("ok", false).field("status", status).field("type", type).field("code", code)
      .field("message", message);
}

std::string failure(int status, std::string_view type, std::string_view code, std::string_view message) {
  std::string out;
  json::Writer w(out);
  beginFailure(w, status, type, code, message).endObject();
  return out;
}

std::string invalidOp(std::string_view message) {
  return failure(400, "invalid_request_error", "invalid_ledger_op", message);
}

constexpr std::string_view OK = R"({"ok":true})";

void addSpend(State& s, std::string_view key, std::string_view user, int64_t tokens, int64_t usd, int64_t brl,
              int64_t now);

// Drops reservations whose request can no longer settle (the worker that
// held them died); their request counts stay, their holds go.
// Each still ends as a usage row (abandoned), which the host writes.
// A lease that was never reported (its isolate vanished) is charged in
// full: what it admitted is unknown, and at most all of it, so budgets
// stay exact; its credit then leaves the in-flight sums.
bool expireReservations(State& s, int64_t now) {
  size_t before = s.reservations.size();
  std::vector<Reservation> unreported;
  s.reservations.erase(std::remove_if(s.reservations.begin(), s.reservations.end(),
                                      [&s, &unreported, now](Reservation& r) {
                                        if (r.expiresMs > now) return false;
                                        if (!r.abandonedRow.empty()) s.abandonedRows.push_back(std::move(r.abandonedRow));
                                        if (r.lease) unreported.push_back(std::move(r));
                                        return true;
                                      }),
                       s.reservations.end());
  for (const Reservation& r : unreported) addSpend(s, r.key, r.user, r.heldTokens(), r.heldUsd(), r.heldBrl(), now);
  return s.reservations.size() != before;
}

QuotaLimits userLimits(const State& s, std::string_view user, const QuotaLimits& defaults) {
  auto it = s.quotas.find(user);
  return it == s.quotas.end() ? defaults : defaults.overlay(it->second);
}

void addSpend(State& s, std::string_view key, std::string_view user, int64_t tokens, int64_t usd, int64_t brl,
              int64_t now) {
  for (const std::string& name : {std::string(TENANT), userAccount(user), keyAccount(key)}) {
    Account& a = s.touch(name);
    roll(a, now);
    a.monthTokens += tokens, a.monthUsd += usd, a.monthBrl += brl;
    a.totalTokens += tokens, a.totalUsd += usd, a.totalBrl += brl;
  }
  for (auto& b : s.budgets) {
    if (!budgetApplies(b.budget, user)) continue;
    roll(b, now);
    b.used += budgetAmount(b.budget.type, tokens, usd, brl);
    for (int64_t pct : b.budget.alertThresholds) {
      if (std::find(b.alerted.begin(), b.alerted.end(), pct) != b.alerted.end()) continue;
      if (static_cast<__int128>(b.used) * 100 < static_cast<__int128>(pct) * b.budget.limit) continue;
      b.alerted.push_back(pct);
      const BudgetType t = b.budget.type;
      s.alerts.push_back({++s.alertSeq, b.budget.id, b.budget.userId, budgetTypeName(t), periodName(b.budget.period),
                          b.periodStart, pct, now, formatBudgetAmount(t, b.used),
                          formatBudgetAmount(t, b.budget.limit)});
    }
  }
}

// Takes `requests` and `tokens` of a hold back out of the windows they were
// counted in (those still current): a released request, a lease's unused part.
void uncount(State& s, const Reservation& r, int64_t requests, int64_t tokens) {
  for (const std::string& name : {std::string(TENANT), userAccount(r.user), keyAccount(r.key)}) {
    if (!s.accounts.count(name)) continue;
    Account& a = s.touch(name);
    if (a.minute == floorTo(r.atMs, MS_PER_MINUTE)) {
      a.minuteRequests = std::max<int64_t>(0, a.minuteRequests - requests);
      a.minuteTokens = std::max<int64_t>(0, a.minuteTokens - tokens);
    }
    if (a.day == periodBounds(Period::Daily, r.atMs).startMs) a.dayRequests = std::max<int64_t>(0, a.dayRequests - requests);
    if (a.month == periodBounds(Period::Monthly, r.atMs).startMs) {
      a.monthRequests = std::max<int64_t>(0, a.monthRequests - requests);
      a.totalRequests = std::max<int64_t>(0, a.totalRequests - requests);
    }
  }
}

// Scopes out of quota until a known time, mirrored into KV so isolates can
// refuse them without a ledger call. Rate limits are too short-lived to mirror.
// An account's block changes only when the account does (expiry is in
// `until`), so only changed accounts are looked at again.
void refreshBlock(State& s, const std::string& name, int64_t now) {
  auto it = s.accounts.find(name);
  if (it == s.accounts.end()) return;
  const Account& a = it->second;
  const QuotaLimits& l = name == TENANT ? s.tenantLimits : a.limits;
  const PeriodBounds month = periodBounds(Period::Monthly, now);
  const PeriodBounds day = periodBounds(Period::Daily, now);
  const bool thisMonth = a.month == month.startMs;
  Block b;
  if (thisMonth && l.monthlyRequests >= 0 && a.monthRequests >= l.monthlyRequests)
    b = {month.endMs, "Monthly request quota exhausted for " + scopeLabel(name) + "."};
  else if (thisMonth && l.monthlySpendPico >= 0 && a.monthUsd >= l.monthlySpendPico)
    b = {month.endMs, "Monthly spend limit reached for " + scopeLabel(name) + "."};
  else if (l.dailyRequests >= 0 && a.day == day.startMs && a.dayRequests >= l.dailyRequests)
    b = {day.endMs, "Daily request quota exhausted for " + scopeLabel(name) + "."};
  // A minute's limits too, so isolates refuse early what the ledger would
  // (cache hits above all, which never reach the ledger before answering).
  else if (const int64_t minute = floorTo(now, MS_PER_MINUTE); a.minute == minute && l.rpm >= 0 && a.minuteRequests >= l.rpm)
    b = {minute + MS_PER_MINUTE, "Rate limit reached for " + scopeLabel(name) + ": " + std::to_string(l.rpm) +
         " requests per minute.", "rate_limit_exceeded", "requests", l.rpm};
  else if (a.minute == minute && l.tpm >= 0 && a.minuteTokens >= l.tpm)
    b = {minute + MS_PER_MINUTE, "Rate limit reached for " + scopeLabel(name) + ": " + std::to_string(l.tpm) +
         " tokens per minute.", "rate_limit_exceeded", "tokens", l.tpm};
  if (b.until > 0) s.accountBlocks[name] = std::move(b);
  else s.accountBlocks.erase(name);
}

void refreshBlocks(State& s, int64_t now) {
  if (!s.blocksKnown) {
    for (const auto& [name, a] : s.accounts) refreshBlock(s, name, now);
    s.blocksKnown = true;
    return;
  }
  for (const auto& name : s.dirtyAccounts) refreshBlock(s, name, now);
}

std::string snapshotOf(const State& s, int64_t now) {
  std::map<std::string_view, const Block*, std::less<>> blocked;
  std::vector<Block> budgetBlocks;
  budgetBlocks.reserve(s.budgets.size());
  std::vector<std::string> budgetScopes;
  budgetScopes.reserve(s.budgets.size());
  auto block = [&](std::string_view scope, const Block* b) {
    if (b->until <= now) return;
    auto it = blocked.find(scope);
    if (it == blocked.end() || it->second->until < b->until) blocked[scope] = b;
  };
  for (const auto& [name, b] : s.accountBlocks) block(name, &b);
  for (const auto& b : s.budgets) {
    PeriodBounds p = periodBounds(b.budget.period, now);
    if (!b.budget.pauseAtLimit || b.periodStart != p.startMs || b.used < b.budget.limit) continue;
    budgetScopes.push_back(b.budget.userId.empty() ? std::string(TENANT) : userAccount(b.budget.userId));
    budgetBlocks.push_back({p.endMs, "Budget '" + b.budget.id + "' reached."});
  }
  for (size_t i = 0; i < budgetBlocks.size(); ++i) block(budgetScopes[i], &budgetBlocks[i]);
  std::string out;
  json::Writer w(out);
  w.beginObject().field("enabled", s.enabled);
  if (s.storeBodies) w.field("store_bodies", true);
  w.key("blocked").beginObject();
  for (const auto& [scope, b] : blocked) {
    w.key(scope).beginObject().field("until", b->until).field("message", b->message).field("code", b->code);
    w.field("type", b->type);
    if (b->limit >= 0) w.field("limit", b->limit);
    w.endObject();
  }
  w.endObject().endObject();
  return out;
}

// ---- operations -------------------------------------------------------------

// The key's, its user's and the tenant's accounts for an op that counts a
// request (reserve, hit, lease): the limits it carries recorded, rolled to
// now. A refusal after this leaves only these derived updates, which the
// next such op recomputes: not worth a write.
struct Accounts {
  Account& key;
  Account& user;
  Account& tenant;
};
Accounts accountsFor(State& s, const Tape& op, const std::string& key, const std::string& user, int64_t now) {
  Accounts a{s.touch(keyAccount(key)), s.touch(userAccount(user)), s.touch(TENANT)};
  a.key.user = user;
  a.key.limits = readQuotaLimitsWire(op, op.find(op.root(), "key_limits"));
  s.userDefaults = readQuotaLimitsWire(op, op.find(op.root(), "user_defaults"));
  a.user.limits = userLimits(s, user, s.userDefaults);
  for (Account* acc : {&a.key, &a.user, &a.tenant}) roll(*acc, now);
  return a;
}

// Whether an op changed the state (so the host must store it) and its result.
struct Step {
  bool mutated = true;
  std::string result;
};

Step reserve(State& s, const Tape& op, int64_t now) {
  const std::string id = op.stringAt(op.root(), "request_id"), key = op.stringAt(op.root(), "key"), user = op.stringAt(op.root(), "user");
  if (id.empty() || key.empty()) return {false, invalidOp("reserve needs request_id and key")};
  if (!s.enabled)
    return {false, failure(503, "service_unavailable", "tenant_disabled", "Serving is switched off for this tenant.")};
  if (s.revoked.count(key)) return {false, failure(401, "invalid_request_error", "invalid_api_key", "revoked")};
  for (const auto& r : s.reservations)
    if (r.id == id) return {false, R"({"ok":true,"duplicate":true})"};
  const int64_t tokens = amountAt(op, "tokens"), usd = amountAt(op, "usd"), brl = amountAt(op, "brl");

  const Scopes names{keyAccount(key), userAccount(user)};
  auto [keyAcc, userAcc, tenant] = accountsFor(s, op, key, user, now);
  const Scope scopes[3] = {{&keyAcc, keyAcc.limits}, {&userAcc, userAcc.limits}, {&tenant, s.tenantLimits}};
  const std::string_view scopeNames[3] = {names.key, names.user, names.tenant};

  auto refuse = [&](const Denial& d) {
    std::string out;
    json::Writer w(out);
    beginFailure(w, d.status, d.type, d.code, d.message).field("retry_after_ms", d.retryAfterMs);
    writeRate(w, scopes, now);
    w.endObject();
    return Step{false, std::move(out)};
  };
  for (size_t i = 0; i < 3; ++i)
    if (Denial d = checkAccount(s, scopeNames[i], *scopes[i].account, scopes[i].limits, tokens, usd, now); d.status)
      return refuse(d);
  for (auto& b : s.budgets) {
    if (!budgetApplies(b.budget, user)) continue;
    roll(b, now);
    if (Denial d = checkBudget(s, b, budgetAmount(b.budget.type, tokens, usd, brl), now); d.status) return refuse(d);
  }
  for (Account* a : {&keyAcc, &userAcc, &tenant}) {
    ++a->minuteRequests, ++a->dayRequests, ++a->monthRequests, ++a->totalRequests;
    a->minuteTokens += tokens;
  }
  const int64_t ttl = std::clamp<int64_t>(op.integerAt(op.root(), "ttl_ms", 600000), 1000, 24 * 3600000);
  const uint32_t row = op.find(op.root(), "abandoned_row");
  s.reservations.push_back({id, key, user, tokens, usd, brl, now, now + ttl,
                            row != 0 && op.kind(row) == Kind::Array ? std::string(op.raw(row)) : std::string()});
  std::string out;
  json::Writer w(out);
  w.beginObject().field("ok", true);
  writeRate(w, scopes, now);
  w.endObject();
  return {true, std::move(out)};
}

// Requests answered from the response cache (`hits` of them, counted in an
// isolate and written together): each counts as a request (rate
// limits and request quotas see it, through the snapshot) but costs nothing;
// what it saved is kept. Sent after the response, so it refuses nothing.
Step hit(State& s, const Tape& op, int64_t now) {
  const std::string key = op.stringAt(op.root(), "key"), user = op.stringAt(op.root(), "user");
  if (key.empty()) return {false, invalidOp("hit needs key")};
  const int64_t tokens = amountAt(op, "tokens_saved"), usd = amountAt(op, "usd_saved");
  const int64_t hits = std::clamp<int64_t>(op.integerAt(op.root(), "hits", 1), 1, 1000000000);
  auto [keyAcc, userAcc, tenant] = accountsFor(s, op, key, user, now);
  for (Account* a : {&keyAcc, &userAcc, &tenant}) {
    a->minuteRequests += hits, a->dayRequests += hits, a->monthRequests += hits, a->totalRequests += hits;
    a->cacheHits += hits, a->savedTokens += tokens, a->savedUsd += usd;
  }
  return {true, std::string(OK)};
}

Step settle(State& s, const Tape& op, int64_t now) {
  const std::string id = op.stringAt(op.root(), "request_id");
  const int64_t tokens = amountAt(op, "tokens"), usd = amountAt(op, "usd"), brl = amountAt(op, "brl");
  std::string key = op.stringAt(op.root(), "key"), user = op.stringAt(op.root(), "user");
  auto it = std::find_if(s.reservations.begin(), s.reservations.end(), [&](const Reservation& r) { return !r.lease && r.id == id; });
  if (it != s.reservations.end()) {
    key = it->key, user = it->user;
    // Tokens were counted at the reserved worst case in the minute they were
    // reserved; correct that minute to the actual.
    for (const std::string& name : {std::string(TENANT), userAccount(user), keyAccount(key)}) {
      Account& a = s.touch(name);
      if (a.minute == floorTo(it->atMs, MS_PER_MINUTE))
        a.minuteTokens = std::max<int64_t>(0, a.minuteTokens - it->tokens + tokens);
    }
    s.reservations.erase(it);
  }
  // Spend is recorded even when the reservation already expired: the call happened.
  if (!key.empty()) addSpend(s, key, user, tokens, usd, brl, now);
  return {true, std::string(OK)};
}

Step release(State& s, const Tape& op) {
  const std::string id = op.stringAt(op.root(), "request_id");
  auto it = std::find_if(s.reservations.begin(), s.reservations.end(), [&](const Reservation& r) { return !r.lease && r.id == id; });
  if (it == s.reservations.end()) return {false, R"({"ok":true,"released":false})"};
  uncount(s, *it, 1, it->tokens);
  s.reservations.erase(it);
  return {true, R"({"ok":true,"released":true})"};
}

// ---- credit leases ----------------------------------------------------------
//
// A lease is a block of requests, tokens and money an isolate admits
// requests against by itself, for a short time. The ledger grants only what
// every scope (key, user, tenant limits and budgets) has left after what is
// spent and what is held, so the sum of all grants never passes a limit.
// Its requests count in the windows of the moment it is granted (so it
// ends with them: at the minute's end when a per-minute limit applies, at
// the day's or month's end for those quotas); its amounts are in flight
// until it is reported (spend recorded, unused requests given back) or it
// expires unreported (charged in full).

constexpr int64_t UNLIMITED = MAX_AMOUNT;
constexpr int64_t DEFAULT_LEASE_MS = 30000, MAX_LEASE_MS = 300000, MAX_LEASE_REQUESTS = 100000;
constexpr int64_t MAX_LEASE_GRACE_MS = 3600000;

struct Room {
  int64_t requests = UNLIMITED, tokens = UNLIMITED, usd = UNLIMITED, brl = UNLIMITED;
};

void narrow(int64_t& room, int64_t limit, int64_t used) {
  if (limit >= 0) room = std::min(room, std::max<int64_t>(0, limit - used));
}

// What is left for new holds across the three scopes and the budgets that pause.
Room roomFor(const State& s, const Scope (&scopes)[3], const std::string_view (&names)[3], std::string_view user) {
  Room room;
  for (size_t i = 0; i < 3; ++i) {
    const Account& a = *scopes[i].account;
    const QuotaLimits& l = scopes[i].limits;
    narrow(room.requests, l.rpm, a.minuteRequests);
    narrow(room.requests, l.dailyRequests, a.dayRequests);
    narrow(room.requests, l.monthlyRequests, a.monthRequests);
    narrow(room.tokens, l.tpm, a.minuteTokens);
    if (l.monthlySpendPico >= 0) narrow(room.usd, l.monthlySpendPico, a.monthUsd + heldIn(s, names[i]));
  }
  for (const auto& b : s.budgets) {
    if (!budgetApplies(b.budget, user)) continue;
    const int64_t used = b.used + budgetInFlight(s, b.budget);
    int64_t& dimension = b.budget.type == BudgetType::Tokens ? room.tokens : b.budget.type == BudgetType::Usd ? room.usd : room.brl;
    if (b.budget.pauseAtLimit) narrow(dimension, b.budget.limit, used);
    // A lease ends at the next alert threshold: the report that crosses it
    // comes with the next ask, so the alert is not held back by the lease.
    for (int64_t pct : b.budget.alertThresholds) {
      if (std::find(b.alerted.begin(), b.alerted.end(), pct) != b.alerted.end()) continue;
      const auto at = static_cast<int64_t>((static_cast<__int128>(pct) * b.budget.limit + 99) / 100);
      narrow(dimension, at, used);
    }
  }
  return room;
}

// When a lease granted now must end: its requests are counted in the
// current windows of every limit that applies.
int64_t leaseEnd(const Scope (&scopes)[3], int64_t now, int64_t ttl) {
  int64_t end = now + ttl;
  for (const Scope& sc : scopes) {
    const QuotaLimits& l = sc.limits;
    if (l.rpm >= 0 || l.tpm >= 0) end = std::min(end, floorTo(now, MS_PER_MINUTE) + MS_PER_MINUTE);
    if (l.dailyRequests >= 0) end = std::min(end, periodBounds(Period::Daily, now).endMs);
    if (l.monthlyRequests >= 0 || l.monthlySpendPico >= 0) end = std::min(end, periodBounds(Period::Monthly, now).endMs);
  }
  return end;
}

// Records a lease's report (what it served and spent since it was granted,
// cumulative): the part not recorded before is spent.
void recordProgress(State& s, Reservation& r, const Tape& report, uint32_t at, int64_t now, bool& over) {
  auto upTo = [&](std::string_view key, int64_t granted, int64_t reported) {
    const int64_t v = std::clamp<int64_t>(report.integerAt(at, key), 0, MAX_AMOUNT);
    over = over || v > granted;
    return std::max(reported, std::min(v, granted));
  };
  const int64_t served = upTo("requests", r.requests, r.reportedRequests);
  const int64_t tokens = upTo("tokens", r.tokens, r.reportedTokens), usd = upTo("usd", r.usd, r.reportedUsd);
  const int64_t brl = upTo("brl", r.brl, r.reportedBrl);
  addSpend(s, r.key, r.user, tokens - r.reportedTokens, usd - r.reportedUsd, brl - r.reportedBrl, now);
  r.reportedRequests = served, r.reportedTokens = tokens, r.reportedUsd = usd, r.reportedBrl = brl;
}

// Ends a lease: what it served is spent, the requests it did not serve
// leave the windows they were counted in, its holds go.
void endLease(State& s, std::vector<Reservation>::iterator it, const Tape& report, uint32_t at, int64_t now, bool& over) {
  Reservation r = std::move(*it);
  s.reservations.erase(it);
  recordProgress(s, r, report, at, now, over);
  uncount(s, r, r.requests - r.reportedRequests, r.tokens - r.reportedTokens);
}

// The `progress` an op carries: reports of leases that go on admitting.
bool applyProgress(State& s, const Tape& op, int64_t now) {
  const uint32_t list = op.find(op.root(), "progress");
  if (list == 0 || op.kind(list) != Kind::Array) return false;
  bool changed = false, over = false;
  for (uint32_t p = op.firstChild(list); p != 0; p = op.nextSibling(list, p)) {
    if (op.kind(p) != Kind::Object) continue;
    const std::string id = op.stringAt(p, "lease_id");
    for (Reservation& r : s.reservations)
      if (r.lease && r.id == id) recordProgress(s, r, op, p, now, over), changed = true;
  }
  return changed;
}

void writeLease(json::Writer& w, const Reservation& r) {
  w.key("lease").beginObject().field("id", r.id).field("requests", r.requests).field("tokens", r.tokens);
  w.field("usd", r.usd).field("brl", r.brl).field("expires_ms", r.admitUntilMs).endObject();
}

struct Reported {
  bool mutated = false, known = true, over = false;
};

// One lease's report {lease_id, requests, tokens, usd, brl}. One the ledger
// no longer holds (it expired, and was charged in full) changes nothing.
void reportOne(State& s, const Tape& op, uint32_t at, int64_t now, Reported& out) {
  const std::string id = op.stringAt(at, "lease_id");
  auto it = std::find_if(s.reservations.begin(), s.reservations.end(),
                         [&](const Reservation& r) { return r.lease && r.id == id; });
  if (it == s.reservations.end()) {
    out.known = false;
    return;
  }
  endLease(s, it, op, at, now, out.over);
  out.mutated = true;
}

// The reports an op carries: `report` (one) and `reports` (an array of them).
Reported reportAll(State& s, const Tape& op, uint32_t at, int64_t now) {
  Reported out;
  if (uint32_t one = op.find(at, "report"); one != 0 && op.kind(one) == Kind::Object) reportOne(s, op, one, now, out);
  if (uint32_t many = op.find(at, "reports"); many != 0 && op.kind(many) == Kind::Array)
    for (uint32_t r = op.firstChild(many); r != 0; r = op.nextSibling(many, r))
      if (op.kind(r) == Kind::Object) reportOne(s, op, r, now, out);
  return out;
}

// lease_report {lease_id, requests, tokens, usd, brl} or {reports: [...]}: what leases served.
Step leaseReport(State& s, const Tape& op, int64_t now) {
  Reported r = reportAll(s, op, op.root(), now);
  if (!op.stringAt(op.root(), "lease_id").empty()) reportOne(s, op, op.root(), now, r);
  // A report past its grant is cut to it (a correct isolate never admits past it).
  if (r.over) return {r.mutated, R"({"ok":true,"over":true})"};
  return {r.mutated, r.known ? std::string(OK) : R"({"ok":true,"known":false})"};
}

// lease {lease_id, key, user, key_limits, user_defaults, requests, tokens,
// usd, brl (asked), min_tokens, min_usd, min_brl (one request's worst
// case), ttl_ms, report?}: grants what is left, up to what was asked; the
// report of the lease it replaces goes first, in the same call.
Step lease(State& s, const Tape& op, int64_t now) {
  const uint32_t root = op.root();
  const std::string id = op.stringAt(root, "lease_id"), key = op.stringAt(root, "key"), user = op.stringAt(root, "user");
  if (id.empty() || key.empty()) return {false, invalidOp("lease needs lease_id and key")};
  const bool reported = reportAll(s, op, root, now).mutated;
  if (!s.enabled)
    return {reported, failure(503, "service_unavailable", "tenant_disabled", "Serving is switched off for this tenant.")};
  if (s.revoked.count(key)) return {reported, failure(401, "invalid_request_error", "invalid_api_key", "revoked")};
  for (const auto& r : s.reservations)
    if (r.lease && r.id == id) {
      std::string out;
      json::Writer w(out);
      w.beginObject().field("ok", true).field("duplicate", true);
      writeLease(w, r);
      w.endObject();
      return {reported, std::move(out)};
    }
  auto [keyAcc, userAcc, tenant] = accountsFor(s, op, key, user, now);
  for (auto& b : s.budgets)
    if (budgetApplies(b.budget, user)) roll(b, now);
  const Scope scopes[3] = {{&keyAcc, keyAcc.limits}, {&userAcc, userAcc.limits}, {&tenant, s.tenantLimits}};
  const std::string keyName = keyAccount(key), userName = userAccount(user);
  const std::string_view scopeNames[3] = {keyName, userName, TENANT};

  const Room room = roomFor(s, scopes, scopeNames, user);
  const int64_t ttl = std::clamp<int64_t>(op.integerAt(root, "ttl_ms", DEFAULT_LEASE_MS), 1000, MAX_LEASE_MS);
  const int64_t end = leaseEnd(scopes, now, ttl);
  const int64_t minTokens = amountAt(op, "min_tokens"), minUsd = amountAt(op, "min_usd"), minBrl = amountAt(op, "min_brl");
  // A lease cut short by a window's end is asked for in proportion (what
  // was asked is sized for the whole ttl), never below one request.
  auto forLife = [&](int64_t asked, int64_t least) {
    if (end - now >= ttl) return asked;
    const auto part = static_cast<int64_t>((static_cast<__int128>(asked) * (end - now) + ttl - 1) / ttl);
    return std::max(part, std::min(asked, least));
  };
  Reservation r;
  r.id = id, r.key = key, r.user = user, r.lease = true, r.atMs = now;
  r.requests =
      std::min(forLife(std::clamp<int64_t>(op.integerAt(root, "requests", 1), 1, MAX_LEASE_REQUESTS), 1), room.requests);
  r.tokens = std::min(forLife(amountAt(op, "tokens"), minTokens), room.tokens);
  r.usd = std::min(forLife(amountAt(op, "usd"), minUsd), room.usd);
  r.brl = std::min(forLife(amountAt(op, "brl"), minBrl), room.brl);
  if (r.requests < 1 || r.tokens < minTokens || r.usd < minUsd || r.brl < minBrl) {
    // Less is left than one request's worst case: admission goes back to
    // the ledger, request by request, whose refusal says what ran out.
    std::string out;
    json::Writer w(out);
    Denial d;
    for (size_t i = 0; i < 3 && !d.status; ++i)
      d = checkAccount(s, scopeNames[i], *scopes[i].account, scopes[i].limits, minTokens, minUsd, now);
    for (auto& b : s.budgets)
      if (!d.status && budgetApplies(b.budget, user)) d = checkBudget(s, b, budgetAmount(b.budget.type, minTokens, minUsd, minBrl), now);
    if (!d.status) d = deny("insufficient_quota", "insufficient_quota", "Too little is left to lease.", 0);
    beginFailure(w, d.status, d.type, d.code, d.message).field("retry_after_ms", d.retryAfterMs).field("lease", false);
    writeRate(w, scopes, now);
    w.endObject();
    return {reported, std::move(out)};
  }
  r.admitUntilMs = end;
  // Requests admitted just before the end may run on: the holds wait this long for the report.
  r.expiresMs = r.admitUntilMs + std::clamp<int64_t>(op.integerAt(root, "grace_ms", 0), 0, MAX_LEASE_GRACE_MS);
  for (Account* a : {&keyAcc, &userAcc, &tenant}) {
    a->minuteRequests += r.requests, a->dayRequests += r.requests, a->monthRequests += r.requests;
    a->totalRequests += r.requests, a->minuteTokens += r.tokens;
  }
  std::string out;
  json::Writer w(out);
  w.beginObject().field("ok", true);
  writeLease(w, r);
  writeRate(w, scopes, now);
  w.endObject();
  s.reservations.push_back(std::move(r));
  return {true, std::move(out)};
}

void writeAmount(json::Writer& w, std::string_view key, BudgetType t, int64_t amount) {
  w.key(key).raw(formatBudgetAmount(t, amount));
}

// Hundredths of a percent, from integers, as a decimal ("81.25").
std::string percent(int64_t part, int64_t whole) {
  if (whole <= 0) return "0";
  const auto bp = static_cast<int64_t>(static_cast<__int128>(part) * 10000 / whole);
  std::string frac = std::to_string(bp % 100);
  return std::to_string(bp / 100) + "." + (frac.size() < 2 ? "0" + frac : frac);
}

void writeUsageEntry(json::Writer& w, const BudgetState& b, int64_t reserved, int64_t now) {
  const PeriodBounds p = periodBounds(b.budget.period, now);
  const int64_t used = b.periodStart == p.startMs ? b.used : 0;
  const BudgetType t = b.budget.type;
  const int64_t limit = b.budget.limit;
  const int64_t elapsed = std::max<int64_t>(now - p.startMs, 1);
  // Straight-line projection of this period's pace to its end.
  const auto projected = static_cast<int64_t>(static_cast<__int128>(used) * (p.endMs - p.startMs) / elapsed);
  w.beginObject().field("id", b.budget.id);
  if (!b.budget.userId.empty()) w.field("userId", b.budget.userId);
  w.field("type", budgetTypeName(t)).field("period", periodName(b.budget.period));
  writeAmount(w, "limit", t, limit);
  writeAmount(w, "used", t, used);
  writeAmount(w, "inFlight", t, reserved);
  writeAmount(w, "remaining", t, std::max<int64_t>(0, limit - used));
  w.key("percentage").raw(percent(used, limit));
  w.field("periodStart", isoTimestamp(p.startMs)).field("periodEnd", isoTimestamp(p.endMs));
  w.field("daysLeft", (p.endMs - now + MS_PER_DAY - 1) / MS_PER_DAY);
  writeAmount(w, "projected", t, projected);
  w.key("projectedPercentage").raw(percent(projected, limit));
  // What the budget does now: paused refuses requests; exceeded lets them
  // through (pauseAtLimit off); warning is past an alert threshold.
  bool pastThreshold = false;
  for (int64_t pct : b.budget.alertThresholds)
    pastThreshold = pastThreshold || static_cast<__int128>(used) * 100 >= static_cast<__int128>(pct) * limit;
  const char* state = used >= limit ? (b.budget.pauseAtLimit ? "paused" : "exceeded") : pastThreshold ? "warning" : "ok";
  w.field("state", state);
  w.field("pauseAtLimit", b.budget.pauseAtLimit).key("alertThresholds").beginArray();
  for (int64_t pct : b.budget.alertThresholds) w.integer(pct);
  w.endArray().key("alertsSent").beginArray();
  if (b.periodStart == p.startMs)
    for (int64_t pct : b.alerted) w.integer(pct);
  w.endArray().endObject();
}

void writeAccountUsage(json::Writer& w, const State& s, std::string_view name, const QuotaLimits& l, int64_t now) {
  auto it = s.accounts.find(name);
  Account a = it == s.accounts.end() ? Account{} : it->second;
  const bool today = a.day == periodBounds(Period::Daily, now).startMs;
  const bool thisMonth = a.month == periodBounds(Period::Monthly, now).startMs;
  // Requests a lease holds count against limits, but are not served
  // until a report says so.
  for (const auto& r : s.reservations) {
    if (!r.lease || !reservationIn(r, name)) continue;
    const int64_t unserved = r.requests - r.reportedRequests;
    if (a.day == periodBounds(Period::Daily, r.atMs).startMs) a.dayRequests = std::max<int64_t>(0, a.dayRequests - unserved);
    if (a.month == periodBounds(Period::Monthly, r.atMs).startMs) {
      a.monthRequests = std::max<int64_t>(0, a.monthRequests - unserved);
      a.totalRequests = std::max<int64_t>(0, a.totalRequests - unserved);
    }
  }
  w.field("dailyRequests", today ? a.dayRequests : 0).field("monthlyRequests", thisMonth ? a.monthRequests : 0);
  w.field("monthlyTokens", thisMonth ? a.monthTokens : 0);
  w.key("monthlySpendUsd").raw(formatPico(thisMonth ? a.monthUsd : 0));
  w.key("monthlySpendBrl").raw(formatPico(thisMonth ? a.monthBrl : 0));
  w.field("totalRequests", a.totalRequests).field("totalTokens", a.totalTokens);
  w.key("totalSpendUsd").raw(formatPico(a.totalUsd));
  w.field("cacheHits", a.cacheHits).field("cacheSavedTokens", a.savedTokens);
  w.key("cacheSavedUsd").raw(formatPico(a.savedUsd));
  w.key("limits");
  writeQuotaLimitsApi(w, l);
}

std::string usage(const State& s, const Tape& op, int64_t now) {
  const std::string user = op.stringAt(op.root(), "user");
  const bool allUsers = op.booleanAt(op.root(), "all_users", false);
  std::string out;
  json::Writer w(out);
  w.beginObject().field("ok", true).key("budgets").beginArray();
  for (const auto& b : s.budgets)
    if (allUsers || budgetApplies(b.budget, user)) writeUsageEntry(w, b, budgetInFlight(s, b.budget), now);
  w.endArray().field("inFlightRequests", static_cast<int64_t>(s.reservations.size()));
  w.key("tenant").beginObject().field("enabled", s.enabled);
  writeAccountUsage(w, s, TENANT, s.tenantLimits, now);
  w.endObject();
  if (!user.empty()) {
    w.key("user").beginObject().field("userId", user);
    writeAccountUsage(w, s, userAccount(user),
                      userLimits(s, user, readQuotaLimitsWire(op, op.find(op.root(), "user_defaults"))), now);
    w.endObject();
  }
  w.endObject();
  return out;
}

std::string getState(const State& s, int64_t now) {
  std::string out;
  json::Writer w(out);
  w.beginObject().field("ok", true).field("enabled", s.enabled).field("storeBodies", s.storeBodies).key("limits");
  writeQuotaLimitsApi(w, s.tenantLimits);
  w.key("quotas").beginObject();
  for (const auto& [u, l] : s.quotas) {
    w.key(u);
    writeQuotaLimitsApi(w, l);
  }
  w.endObject().key("revokedKeys").beginArray();
  for (const auto& k : s.revoked) w.string(k);
  w.endArray().field("inFlightRequests", static_cast<int64_t>(s.reservations.size()));
  w.field("pendingAlerts", static_cast<int64_t>(s.alerts.size())).key("budgets").beginArray();
  for (const auto& b : s.budgets) writeBudgetApi(w, b.budget);
  w.endArray().key("usage").beginObject();
  writeAccountUsage(w, s, TENANT, s.tenantLimits, now);
  w.endObject().endObject();
  return out;
}

Step setTenant(State& s, const Tape& op, int64_t now) {
  const uint32_t enabled = op.find(op.root(), "enabled");
  if (enabled != 0 && (op.kind(enabled) == Kind::True || op.kind(enabled) == Kind::False))
    s.enabled = op.kind(enabled) == Kind::True;
  const uint32_t bodies = op.find(op.root(), "store_bodies");
  if (bodies != 0 && (op.kind(bodies) == Kind::True || op.kind(bodies) == Kind::False))
    s.storeBodies = op.kind(bodies) == Kind::True;
  const uint32_t limits = op.find(op.root(), "limits");
  if (limits != 0 && op.kind(limits) == Kind::Object) s.tenantLimits = readQuotaLimitsWire(op, limits);
  if (s.accounts.count(TENANT)) s.dirtyAccounts.emplace(TENANT);  // its block may change with its limits
  return {true, getState(s, now)};
}

Step setQuota(State& s, const Tape& op) {
  const std::string user = op.stringAt(op.root(), "user");
  if (user.empty()) return {false, invalidOp("set_quota needs user")};
  const QuotaLimits& l = s.quotas[user] = readQuotaLimitsWire(op, op.find(op.root(), "limits"));
  // The user's effective limits change now, so the snapshot can lift a block.
  s.quotasDirty = true;
  if (s.accounts.count(userAccount(user))) s.touch(userAccount(user)).limits = userLimits(s, user, s.userDefaults);
  std::string out;
  json::Writer w(out);
  w.beginObject().field("ok", true).field("userId", user).key("limits");
  writeQuotaLimitsWire(w, l);
  w.endObject();
  return {true, std::move(out)};
}

Step resetQuota(State& s, const Tape& op) {
  const std::string user = op.stringAt(op.root(), "user");
  for (auto& [name, a] : s.accounts) {
    if (name != userAccount(user) && a.user != user) continue;
    s.dirtyAccounts.insert(name);
    a.minuteRequests = a.minuteTokens = a.dayRequests = 0;
    a.monthRequests = a.monthTokens = a.monthUsd = a.monthBrl = 0;
  }
  for (auto& b : s.budgets)
    if (b.budget.userId == user && !user.empty()) b.used = 0, b.alerted.clear();
  std::string out;
  json::Writer(out).beginObject().field("ok", true).field("userId", user).endObject();
  return {true, std::move(out)};
}

Step budgetSet(State& s, const Tape& op, int64_t now) {
  BudgetState b;
  if (!readBudgetWire(op, op.find(op.root(), "budget"), b.budget)) return {false, invalidOp("budget_set needs a valid budget")};
  auto it = std::find_if(s.budgets.begin(), s.budgets.end(),
                         [&](const BudgetState& x) { return x.budget.id == b.budget.id; });
  if (it == s.budgets.end()) {
    roll(b, now);
    s.budgets.push_back(std::move(b));
    return {true, std::string(OK)};
  }
  // Changing the limit keeps what was used this period; thresholds no
  // longer crossed under the new limit may be announced again.
  it->budget = b.budget;
  const int64_t used = it->used;
  it->alerted.erase(std::remove_if(it->alerted.begin(), it->alerted.end(),
                                   [&](int64_t pct) {
                                     return static_cast<__int128>(used) * 100 <
                                            static_cast<__int128>(pct) * b.budget.limit;
                                   }),
                    it->alerted.end());
  return {true, std::string(OK)};
}

Step budgetDelete(State& s, const Tape& op) {
  const std::string id = op.stringAt(op.root(), "id");
  const size_t before = s.budgets.size();
  s.budgets.erase(std::remove_if(s.budgets.begin(), s.budgets.end(),
                                 [&](const BudgetState& b) { return id.empty() || b.budget.id == id; }),
                  s.budgets.end());
  std::string out;
  json::Writer(out).beginObject().field("ok", true).field("deleted", static_cast<int64_t>(before - s.budgets.size()))
      .endObject();
  return {before != s.budgets.size(), std::move(out)};
}

// Ends the alerts with these sequence numbers (posted, or nowhere to post).
Step endAlerts(State& s, const std::vector<int64_t>& seqs) {
  const size_t before = s.alerts.size();
  s.alerts.erase(std::remove_if(s.alerts.begin(), s.alerts.end(),
                                [&](const Alert& a) { return std::find(seqs.begin(), seqs.end(), a.seq) != seqs.end(); }),
                 s.alerts.end());
  return {before != s.alerts.size(), std::string(OK)};
}

// What became of the alert posts the ledger asked for (its "fetches"): a
// 2xx, or no webhook set, ends an alert; anything else leaves it pending
// for the next settle or the cron's tick.
Step fetched(State& s, const Tape& op) {
  const uint32_t results = op.find(op.root(), "results");
  std::vector<int64_t> done;
  for (uint32_t r = results != 0 && op.kind(results) == Kind::Array ? op.firstChild(results) : 0; r != 0;
       r = op.nextSibling(results, r)) {
    const int64_t status = op.integerAt(r, "status", 0);
    const uint32_t unset = op.find(r, "unset");
    if ((status >= 200 && status < 300) || (unset != 0 && op.kind(unset) == Kind::True))
      done.push_back(op.integerAt(r, "id", -1));
  }
  return endAlerts(s, done);
}

// One POST per pending alert to BUDGET_ALERT_WEBHOOK_URL (a URL the host
// resolves by name, like every webhook): the host performs them and
// reports back with a "fetched" op.
std::string alertFetches(const State& s) {
  std::string out;
  json::Writer w(out);
  w.beginArray();
  for (const Alert& a : s.alerts) {
    std::string alert, body;
    json::Writer aw(alert);
    writeAlert(aw, a);
    json::Writer bw(body);
    bw.beginObject().field("event", "budget.threshold_crossed").field("tenantId", s.tenant).endObject();
    body.pop_back();
    body += ',';
    body.append(alert, 1);
    w.beginObject().field("id", a.seq).field("method", "POST").field("url_secret", "BUDGET_ALERT_WEBHOOK_URL");
    w.key("headers").beginObject().field("content-type", "application/json").endObject();
    w.field("body", body).endObject();
  }
  w.endArray();
  return out;
}

Step alertsSent(State& s, const Tape& op) { return endAlerts(s, op.integersAt(op.root(), "seqs")); }

Step dispatch(State& s, const Tape& op, std::string_view name, int64_t now) {
  if (name == "reserve") return reserve(s, op, now);
  if (name == "settle") return settle(s, op, now);
  if (name == "hit") return hit(s, op, now);
  if (name == "release") return release(s, op);
  if (name == "lease") return lease(s, op, now);
  if (name == "lease_report") return leaseReport(s, op, now);
  if (name == "set_tenant") return setTenant(s, op, now);
  if (name == "set_quota") return setQuota(s, op);
  if (name == "reset_quota") return resetQuota(s, op);
  if (name == "budget_set") return budgetSet(s, op, now);
  if (name == "budget_delete") return budgetDelete(s, op);
  if (name == "alerts_sent") return alertsSent(s, op);
  if (name == "fetched") return fetched(s, op);
  // A read first records the progress of the reader's isolate's leases, so it sees what they served.
  if (name == "usage") {
    const bool progressed = applyProgress(s, op, now);
    return {progressed, usage(s, op, now)};
  }
  if (name == "get") {
    const bool progressed = applyProgress(s, op, now);
    return {progressed, getState(s, now)};
  }
  if (name == "revoke") {
    const std::string key = op.stringAt(op.root(), "key");
    const bool added = !key.empty() && s.revoked.insert(key).second;
    s.revokedDirty = s.revokedDirty || added;
    return {added, std::string(OK)};
  }
  if (name == "tick") {
    for (auto& [name, a] : s.accounts)
      if (roll(a, now)) s.dirtyAccounts.insert(name);
    for (auto& b : s.budgets) roll(b, now);
    return {true, std::string(OK)};
  }
  return {false, invalidOp("unknown ledger op '" + std::string(name.substr(0, 40)) + "'")};
}

// Adds `"key":value` to a finished JSON object.
void appendMember(std::string& object, std::string_view key, std::string_view value) {
  object.pop_back();
  json::Writer w(object, object.size() <= 1);
  w.key(key).raw(value);
  object.push_back('}');
}

}  // namespace

Ledger::Ledger(std::string_view stored) : state_(std::make_unique<State>(readState(stored))) {}
Ledger::~Ledger() = default;
Ledger::Ledger(Ledger&&) noexcept = default;
Ledger& Ledger::operator=(Ledger&&) noexcept = default;

Outcome Ledger::apply(std::string_view opText, int64_t now) {
  Outcome out;
  Tape op;
  if (!op.parse(opText) || op.kind(op.root()) != Kind::Object) {
    out.result = invalidOp("ledger op is not a JSON object");
    return out;
  }
  State& s = *state_;
  const std::string name = op.stringAt(op.root(), "op");
  // Every op names its tenant, the same one each time: copied only when new.
  if (uint32_t tenant = op.find(op.root(), "tenant"); tenant != 0 && op.kind(tenant) == Kind::String &&
                                                      !op.rawString(tenant).empty() && op.rawString(tenant) != s.tenant)
    s.tenant = op.string(tenant);
  const bool expired = expireReservations(s, now);
  Step step = dispatch(s, op, name, now);
  bool changed = expired || step.mutated;
  if (!s.alerts.empty() && (name == "settle" || name == "tick")) {
    std::string alerts;
    json::Writer w(alerts);
    w.beginArray();
    for (const Alert& a : s.alerts) writeAlert(w, a);
    w.endArray();
    appendMember(step.result, "alerts", alerts);
    if (!s.tenant.empty()) appendMember(step.result, "fetches", alertFetches(s));
  }
  if (!s.abandonedRows.empty()) {
    std::string d1;
    json::Writer w(d1);
    w.beginArray();
    for (const std::string& row : s.abandonedRows)
      w.beginObject().field("sql", insertAbandonedRowSql()).key("params").raw(row).endObject();
    w.endArray();
    appendMember(step.result, "d1", d1);
    s.abandonedRows.clear();
  }
  refreshBlocks(s, now);
  std::string snapshot = snapshotOf(s, now);
  if (snapshot != s.snapshot) {
    appendMember(step.result, "snapshot", snapshot);
    // The KV copy the fast check reads (authenticate.cc), for the host to write.
    if (!s.tenant.empty()) {
      std::string kv;
      json::Writer w(kv);
      w.beginArray().beginObject().field("key", access::ledgerSnapshot(s.tenant)).key("value").raw(snapshot);
      w.endObject().endArray();
      appendMember(step.result, "kv", kv);
    }
    s.snapshot = std::move(snapshot);
    changed = true;
  }
  out.result = std::move(step.result);
  // A refusal leaves only derived updates (period rolls, limits last seen)
  // in the accounts it touched; they are written with the next change.
  if (changed) storedEntries(s, out.writes);
  return out;
}

std::string storedDocument(const std::map<std::string, std::string>& entries) {
  std::string out = "{";
  for (const auto& [key, value] : entries) {
    if (out.size() > 1) out.push_back(',');
    json::appendEscaped(out, key);
    out.push_back(':');
    out += value;
  }
  out.push_back('}');
  return out;
}

Outcome apply(std::string_view stored, std::string_view op, int64_t nowMs) { return Ledger(stored).apply(op, nowMs); }

}  // namespace gw::ledger
