#include "gw/ledger.h"

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "gw/json_writer.h"
#include "gw/limits.h"
#include "gw/nlohmann.h"
#include "gw/pricing.h"

namespace gw::ledger {

namespace {

using Doc = nlohmann::json;

// ---- typed, no-throw reads from nlohmann values --------------------------

int64_t num(const Doc& o, const char* key, int64_t fallback = 0) {
  if (!o.is_object()) return fallback;
  auto it = o.find(key);
  if (it == o.end()) return fallback;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_number_unsigned()) {
    uint64_t u = it->get<uint64_t>();
    return u > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(u);
  }
  return fallback;
}

std::string str(const Doc& o, const char* key) {
  if (!o.is_object()) return {};
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool flag(const Doc& o, const char* key, bool fallback) {
  if (!o.is_object()) return fallback;
  auto it = o.find(key);
  return it != o.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

const Doc& member(const Doc& o, const char* key) {
  static const Doc NONE;
  if (!o.is_object()) return NONE;
  auto it = o.find(key);
  return it == o.end() ? NONE : *it;
}

QuotaLimits readLimits(const Doc& o) {
  QuotaLimits l;
  if (!o.is_object()) return l;
  l.rpm = num(o, "rpm", -1);
  l.tpm = num(o, "tpm", -1);
  l.dailyRequests = num(o, "daily_requests", -1);
  l.monthlyRequests = num(o, "monthly_requests", -1);
  l.monthlySpendPico = num(o, "monthly_spend_pico", -1);
  return l;
}

Doc limitsJson(const QuotaLimits& l) {
  Doc o = Doc::object();
  if (l.rpm >= 0) o["rpm"] = l.rpm;
  if (l.tpm >= 0) o["tpm"] = l.tpm;
  if (l.dailyRequests >= 0) o["daily_requests"] = l.dailyRequests;
  if (l.monthlyRequests >= 0) o["monthly_requests"] = l.monthlyRequests;
  if (l.monthlySpendPico >= 0) o["monthly_spend_pico"] = l.monthlySpendPico;
  return o;
}

// ---- state ----------------------------------------------------------------

struct Account {
  std::string user;    // key accounts: whose key it is
  QuotaLimits limits;  // effective limits last enforced (for the KV snapshot)
  int64_t minute = 0, minuteRequests = 0, minuteTokens = 0;
  int64_t day = 0, dayRequests = 0;
  int64_t month = 0, monthRequests = 0, monthTokens = 0, monthUsd = 0, monthBrl = 0;
  int64_t totalRequests = 0, totalTokens = 0, totalUsd = 0, totalBrl = 0;
};

struct BudgetState {
  Budget budget;
  int64_t periodStart = 0;
  int64_t used = 0;
  std::vector<int64_t> alerted;  // thresholds already announced this period
};

struct Reservation {
  std::string id, key, user;
  int64_t tokens = 0, usd = 0, brl = 0, atMs = 0, expiresMs = 0;
};

struct State {
  bool enabled = true;
  QuotaLimits tenantLimits;
  std::map<std::string, QuotaLimits> quotas;  // per user
  std::map<std::string, Account> accounts;    // "tenant", "user:<id>", "key:<id>"
  std::set<std::string> revoked;
  std::vector<BudgetState> budgets;
  std::vector<Reservation> reservations;
  Doc alerts = Doc::array();
  int64_t alertSeq = 0;
  std::string snapshot;
};

Account readAccount(const Doc& o) {
  Account a;
  a.user = str(o, "user");
  a.limits = readLimits(member(o, "limits"));
  a.minute = num(o, "minute"), a.minuteRequests = num(o, "m_req"), a.minuteTokens = num(o, "m_tok");
  a.day = num(o, "day"), a.dayRequests = num(o, "d_req");
  a.month = num(o, "month"), a.monthRequests = num(o, "mo_req"), a.monthTokens = num(o, "mo_tok");
  a.monthUsd = num(o, "mo_usd"), a.monthBrl = num(o, "mo_brl");
  a.totalRequests = num(o, "t_req"), a.totalTokens = num(o, "t_tok"), a.totalUsd = num(o, "t_usd");
  a.totalBrl = num(o, "t_brl");
  return a;
}

Doc accountJson(const Account& a) {
  Doc o = {{"minute", a.minute}, {"m_req", a.minuteRequests}, {"m_tok", a.minuteTokens},
            {"day", a.day},       {"d_req", a.dayRequests},      {"month", a.month},
            {"mo_req", a.monthRequests}, {"mo_tok", a.monthTokens}, {"mo_usd", a.monthUsd},
            {"mo_brl", a.monthBrl}, {"t_req", a.totalRequests}, {"t_tok", a.totalTokens},
            {"t_usd", a.totalUsd}, {"t_brl", a.totalBrl}, {"limits", limitsJson(a.limits)}};
  if (!a.user.empty()) o["user"] = a.user;
  return o;
}

bool readBudgetWire(const Doc& o, Budget& b) {
  b.id = str(o, "id");
  b.userId = str(o, "user");
  std::string type = str(o, "type");
  if (type == "tokens") b.type = BudgetType::Tokens;
  else if (type == "USD") b.type = BudgetType::Usd;
  else if (type == "BRL") b.type = BudgetType::Brl;
  else return false;
  b.limit = num(o, "limit", 0);
  if (!parsePeriod(str(o, "period"), b.period)) return false;
  b.alertThresholds.clear();
  const Doc& t = member(o, "thresholds");
  if (t.is_array())
    for (const auto& p : t)
      if (p.is_number_integer()) b.alertThresholds.push_back(p.get<int64_t>());
  b.pauseAtLimit = flag(o, "pause", true);
  return !b.id.empty() && b.limit > 0;
}

Doc budgetWire(const Budget& b) {
  return {{"id", b.id}, {"user", b.userId}, {"type", budgetTypeName(b.type)}, {"limit", b.limit},
          {"period", periodName(b.period)}, {"thresholds", b.alertThresholds}, {"pause", b.pauseAtLimit}};
}

State readState(std::string_view text) {
  State s;
  if (text.empty()) return s;
  Doc d = Doc::parse(text.begin(), text.end(), nullptr, false);
  if (d.is_discarded() || !d.is_object()) return s;
  s.enabled = flag(d, "enabled", true);
  s.tenantLimits = readLimits(member(d, "limits"));
  const Doc& quotas = member(d, "quotas");
  if (quotas.is_object())
    for (auto it = quotas.begin(); it != quotas.end(); ++it) s.quotas[it.key()] = readLimits(it.value());
  const Doc& accounts = member(d, "accounts");
  if (accounts.is_object())
    for (auto it = accounts.begin(); it != accounts.end(); ++it) s.accounts[it.key()] = readAccount(it.value());
  const Doc& revoked = member(d, "revoked");
  if (revoked.is_array())
    for (const auto& k : revoked)
      if (k.is_string()) s.revoked.insert(k.get<std::string>());
  const Doc& budgets = member(d, "budgets");
  if (budgets.is_array())
    for (const auto& b : budgets) {
      BudgetState bs;
      if (!readBudgetWire(member(b, "budget"), bs.budget)) continue;
      bs.periodStart = num(b, "period_start");
      bs.used = num(b, "used");
      const Doc& alerted = member(b, "alerted");
      if (alerted.is_array())
        for (const auto& p : alerted)
          if (p.is_number_integer()) bs.alerted.push_back(p.get<int64_t>());
      s.budgets.push_back(std::move(bs));
    }
  const Doc& reservations = member(d, "reservations");
  if (reservations.is_array())
    for (const auto& r : reservations) {
      Reservation res{str(r, "id"), str(r, "key"), str(r, "user"), num(r, "tokens"), num(r, "usd"),
                      num(r, "brl"), num(r, "at"), num(r, "expires")};
      if (!res.id.empty()) s.reservations.push_back(std::move(res));
    }
  const Doc& alerts = member(d, "alerts");
  if (alerts.is_array()) s.alerts = alerts;
  s.alertSeq = num(d, "alert_seq");
  s.snapshot = str(d, "snapshot");
  return s;
}

std::string writeState(const State& s) {
  Doc d = {{"v", 1}, {"enabled", s.enabled}, {"limits", limitsJson(s.tenantLimits)}};
  Doc quotas = Doc::object();
  for (const auto& [user, l] : s.quotas) quotas[user] = limitsJson(l);
  d["quotas"] = std::move(quotas);
  Doc accounts = Doc::object();
  for (const auto& [name, a] : s.accounts) accounts[name] = accountJson(a);
  d["accounts"] = std::move(accounts);
  d["revoked"] = s.revoked;
  Doc budgets = Doc::array();
  for (const auto& b : s.budgets)
    budgets.push_back({{"budget", budgetWire(b.budget)}, {"period_start", b.periodStart}, {"used", b.used},
                       {"alerted", b.alerted}});
  d["budgets"] = std::move(budgets);
  Doc reservations = Doc::array();
  for (const auto& r : s.reservations)
    reservations.push_back({{"id", r.id}, {"key", r.key}, {"user", r.user}, {"tokens", r.tokens}, {"usd", r.usd},
                            {"brl", r.brl}, {"at", r.atMs}, {"expires", r.expiresMs}});
  d["reservations"] = std::move(reservations);
  d["alerts"] = s.alerts;
  d["alert_seq"] = s.alertSeq;
  d["snapshot"] = s.snapshot;
  return d.dump();
}

// ---- the rules ------------------------------------------------------------

int64_t floorTo(int64_t v, int64_t unit) { return v - ((v % unit) + unit) % unit; }

void roll(Account& a, int64_t now) {
  int64_t minute = floorTo(now, MS_PER_MINUTE);
  if (a.minute != minute) a.minute = minute, a.minuteRequests = 0, a.minuteTokens = 0;
  int64_t day = periodBounds(Period::Daily, now).startMs;
  if (a.day != day) a.day = day, a.dayRequests = 0;
  int64_t month = periodBounds(Period::Monthly, now).startMs;
  if (a.month != month) a.month = month, a.monthRequests = 0, a.monthTokens = 0, a.monthUsd = 0, a.monthBrl = 0;
}

void roll(BudgetState& b, int64_t now) {
  int64_t start = periodBounds(b.budget.period, now).startMs;
  if (b.periodStart != start) b.periodStart = start, b.used = 0, b.alerted.clear();
}

bool budgetApplies(const Budget& b, const std::string& user) { return b.userId.empty() || b.userId == user; }

int64_t budgetAmount(BudgetType t, int64_t tokens, int64_t usd, int64_t brl) {
  return t == BudgetType::Tokens ? tokens : t == BudgetType::Usd ? usd : brl;
}

// Reservations still outstanding for an account ("tenant", "user:u", "key:k").
bool reservationIn(const Reservation& r, const std::string& account) {
  return account == "tenant" || account == "user:" + r.user || account == "key:" + r.key;
}

struct Denial {
  int status = 0;
  std::string code, type, message;
  int64_t retryAfterMs = 0;
};

Denial deny(std::string code, std::string message, int64_t retryAfterMs) {
  std::string type = code == "rate_limit_exceeded" ? "requests" : "insufficient_quota";
  return {429, std::move(code), std::move(type), std::move(message), std::max<int64_t>(retryAfterMs, 0)};
}

std::string scopeLabel(const std::string& account) {
  if (account == "tenant") return "the tenant";
  if (account.rfind("user:", 0) == 0) return "user '" + account.substr(5) + "'";
  return "this API key";
}

Denial checkAccount(const State& s, const std::string& name, const Account& a, const QuotaLimits& l, int64_t tokens,
                    int64_t usd, int64_t now) {
  const int64_t minuteEnd = a.minute + MS_PER_MINUTE;
  const std::string who = scopeLabel(name);
  if (l.rpm >= 0 && a.minuteRequests + 1 > l.rpm)
    return deny("rate_limit_exceeded",
                "Rate limit reached for " + who + ": " + std::to_string(l.rpm) + " requests per minute.",
                minuteEnd - now);
  if (l.tpm >= 0 && tokens > l.tpm)
    return deny("rate_limit_exceeded",
                "Request too large for " + who + ": it may use " + std::to_string(tokens) +
                    " tokens (prompt estimate + max_tokens) but the limit is " + std::to_string(l.tpm) +
                    " tokens per minute. Lower max_tokens.",
                minuteEnd - now);
  if (l.tpm >= 0 && a.minuteTokens + tokens > l.tpm)
    return deny("rate_limit_exceeded",
                "Rate limit reached for " + who + ": " + std::to_string(l.tpm) + " tokens per minute (used " +
                    std::to_string(a.minuteTokens) + ", requested " + std::to_string(tokens) + ").",
                minuteEnd - now);
  if (l.dailyRequests >= 0 && a.dayRequests + 1 > l.dailyRequests)
    return deny("insufficient_quota",
                "Daily request quota exhausted for " + who + " (" + std::to_string(l.dailyRequests) + " per day).",
                a.day + MS_PER_DAY - now);
  const int64_t monthEnd = periodBounds(Period::Monthly, now).endMs;
  if (l.monthlyRequests >= 0 && a.monthRequests + 1 > l.monthlyRequests)
    return deny("insufficient_quota",
                "Monthly request quota exhausted for " + who + " (" + std::to_string(l.monthlyRequests) +
                    " per month).",
                monthEnd - now);
  if (l.monthlySpendPico >= 0) {
    int64_t reserved = 0;
    for (const auto& r : s.reservations)
      if (reservationIn(r, name)) reserved += r.usd;
    if (a.monthUsd + reserved + usd > l.monthlySpendPico)
      return deny("insufficient_quota",
                  "Monthly spend limit reached for " + who + ": USD " + formatPico(l.monthlySpendPico) +
                      " (spent " + formatPico(a.monthUsd) + ", in flight " + formatPico(reserved) + ").",
                  monthEnd - now);
  }
  return {};
}

Denial checkBudget(const State& s, const BudgetState& b, int64_t amount, int64_t now) {
  if (!b.budget.pauseAtLimit) return {};
  int64_t reserved = 0;
  for (const auto& r : s.reservations)
    if (budgetApplies(b.budget, r.user)) reserved += budgetAmount(b.budget.type, r.tokens, r.usd, r.brl);
  if (b.used + reserved + amount <= b.budget.limit) return {};
  const BudgetType t = b.budget.type;
  return deny("insufficient_quota",
              "Budget '" + b.budget.id + "' reached: " + std::string(budgetTypeName(t)) + " " +
                  formatBudgetAmount(t, b.budget.limit) + " per " + periodName(b.budget.period) + " (used " +
                  formatBudgetAmount(t, b.used) + ", in flight " + formatBudgetAmount(t, reserved) + ").",
              periodBounds(b.budget.period, now).endMs - now);
}

struct RateView {
  bool requests = false, tokens = false;
  int64_t limitRequests = 0, remainingRequests = 0, resetRequestsMs = 0;
  int64_t limitTokens = 0, remainingTokens = 0, resetTokensMs = 0;
};

// The tightest per-minute limit across the key, its user and the tenant:
// what OpenAI's x-ratelimit-* headers describe.
RateView rateView(const std::vector<std::pair<const Account*, QuotaLimits>>& scopes, int64_t now) {
  RateView v;
  for (const auto& [a, l] : scopes) {
    const int64_t reset = a->minute + MS_PER_MINUTE - now;
    if (l.rpm >= 0) {
      int64_t remaining = std::max<int64_t>(0, l.rpm - a->minuteRequests);
      if (!v.requests || remaining < v.remainingRequests)
        v.requests = true, v.limitRequests = l.rpm, v.remainingRequests = remaining, v.resetRequestsMs = reset;
    }
    if (l.tpm >= 0) {
      int64_t remaining = std::max<int64_t>(0, l.tpm - a->minuteTokens);
      if (!v.tokens || remaining < v.remainingTokens)
        v.tokens = true, v.limitTokens = l.tpm, v.remainingTokens = remaining, v.resetTokensMs = reset;
    }
  }
  return v;
}

Doc rateJson(const RateView& v) {
  Doc o = Doc::object();
  if (v.requests)
    o["requests"] = {{"limit", v.limitRequests}, {"remaining", v.remainingRequests}, {"reset_ms", v.resetRequestsMs}};
  if (v.tokens)
    o["tokens"] = {{"limit", v.limitTokens}, {"remaining", v.remainingTokens}, {"reset_ms", v.resetTokensMs}};
  return o;
}

Doc failure(int status, std::string type, std::string code, std::string message, std::string param = "") {
  Doc r = {{"ok", false}, {"status", status}, {"type", std::move(type)}, {"code", std::move(code)},
            {"message", std::move(message)}};
  if (!param.empty()) r["param"] = std::move(param);
  return r;
}

// Drops reservations whose request can no longer settle (the worker that
// held them died); their request counts stay, their holds go.
bool expireReservations(State& s, int64_t now) {
  size_t before = s.reservations.size();
  s.reservations.erase(std::remove_if(s.reservations.begin(), s.reservations.end(),
                                      [now](const Reservation& r) { return r.expiresMs <= now; }),
                       s.reservations.end());
  return s.reservations.size() != before;
}

QuotaLimits userLimits(const State& s, const std::string& user, const QuotaLimits& defaults) {
  auto it = s.quotas.find(user);
  return it == s.quotas.end() ? defaults : defaults.overlay(it->second);
}

void addSpend(State& s, const std::string& key, const std::string& user, int64_t tokens, int64_t usd, int64_t brl,
              int64_t now) {
  for (const std::string& name : {std::string("tenant"), "user:" + user, "key:" + key}) {
    Account& a = s.accounts[name];
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
      s.alerts.push_back({{"seq", ++s.alertSeq},
                          {"budget_id", b.budget.id},
                          {"user", b.budget.userId},
                          {"type", budgetTypeName(t)},
                          {"period", periodName(b.budget.period)},
                          {"period_start", b.periodStart},
                          {"threshold", pct},
                          {"used", formatBudgetAmount(t, b.used)},
                          {"limit", formatBudgetAmount(t, b.budget.limit)},
                          {"at_ms", now}});
    }
  }
}

void undoRequest(State& s, const Reservation& r) {
  for (const std::string& name : {std::string("tenant"), "user:" + r.user, "key:" + r.key}) {
    auto it = s.accounts.find(name);
    if (it == s.accounts.end()) continue;
    Account& a = it->second;
    if (a.minute == floorTo(r.atMs, MS_PER_MINUTE)) {
      a.minuteRequests = std::max<int64_t>(0, a.minuteRequests - 1);
      a.minuteTokens = std::max<int64_t>(0, a.minuteTokens - r.tokens);
    }
    if (a.day == periodBounds(Period::Daily, r.atMs).startMs) a.dayRequests = std::max<int64_t>(0, a.dayRequests - 1);
    if (a.month == periodBounds(Period::Monthly, r.atMs).startMs) {
      a.monthRequests = std::max<int64_t>(0, a.monthRequests - 1);
      a.totalRequests = std::max<int64_t>(0, a.totalRequests - 1);
    }
  }
}

// Scopes out of quota until a known time, mirrored into KV so isolates can
// refuse them without a ledger call. Rate limits are too short-lived to mirror.
std::string snapshotOf(const State& s, int64_t now) {
  Doc blocked = Doc::object();
  auto block = [&](const std::string& scope, int64_t until, const std::string& message) {
    auto it = blocked.find(scope);
    if (it != blocked.end() && num(*it, "until") >= until) return;
    blocked[scope] = {{"until", until}, {"message", message}};
  };
  const int64_t monthEnd = periodBounds(Period::Monthly, now).endMs;
  const int64_t dayEnd = periodBounds(Period::Daily, now).endMs;
  for (const auto& [name, a] : s.accounts) {
    const QuotaLimits& l = name == "tenant" ? s.tenantLimits : a.limits;
    const std::string who = scopeLabel(name);
    const bool thisMonth = a.month == periodBounds(Period::Monthly, now).startMs;
    if (l.dailyRequests >= 0 && a.day == periodBounds(Period::Daily, now).startMs && a.dayRequests >= l.dailyRequests)
      block(name, dayEnd, "Daily request quota exhausted for " + who + ".");
    if (thisMonth && l.monthlyRequests >= 0 && a.monthRequests >= l.monthlyRequests)
      block(name, monthEnd, "Monthly request quota exhausted for " + who + ".");
    if (thisMonth && l.monthlySpendPico >= 0 && a.monthUsd >= l.monthlySpendPico)
      block(name, monthEnd, "Monthly spend limit reached for " + who + ".");
  }
  for (const auto& b : s.budgets) {
    PeriodBounds p = periodBounds(b.budget.period, now);
    if (b.budget.pauseAtLimit && b.periodStart == p.startMs && b.used >= b.budget.limit)
      block(b.budget.userId.empty() ? "tenant" : "user:" + b.budget.userId, p.endMs,
            "Budget '" + b.budget.id + "' reached.");
  }
  Doc snap = {{"enabled", s.enabled}, {"blocked", blocked}};
  return snap.dump();
}

// ---- operations -------------------------------------------------------------

Doc reserve(State& s, const Doc& op, int64_t now) {
  const std::string id = str(op, "request_id"), key = str(op, "key"), user = str(op, "user");
  if (id.empty() || key.empty()) return failure(400, "invalid_request_error", "invalid_ledger_op", "reserve needs request_id and key");
  if (!s.enabled)
    return failure(503, "service_unavailable", "tenant_disabled", "Serving is switched off for this tenant.");
  if (s.revoked.count(key)) return failure(401, "invalid_request_error", "invalid_api_key", "revoked");
  for (const auto& r : s.reservations)
    if (r.id == id) return {{"ok", true}, {"duplicate", true}};
  const int64_t tokens = std::max<int64_t>(0, num(op, "tokens"));
  const int64_t usd = std::max<int64_t>(0, num(op, "usd"));
  const int64_t brl = std::max<int64_t>(0, num(op, "brl"));

  Account& keyAccount = s.accounts["key:" + key];
  Account& userAccount = s.accounts["user:" + user];
  Account& tenant = s.accounts["tenant"];
  keyAccount.user = user;
  keyAccount.limits = readLimits(member(op, "key_limits"));
  userAccount.limits = userLimits(s, user, readLimits(member(op, "user_defaults")));
  for (Account* a : {&keyAccount, &userAccount, &tenant}) roll(*a, now);
  const std::vector<std::pair<const Account*, QuotaLimits>> scopes = {
      {&keyAccount, keyAccount.limits}, {&userAccount, userAccount.limits}, {&tenant, s.tenantLimits}};
  auto refuse = [&](const Denial& d) {
    Doc r = failure(d.status, d.type, d.code, d.message);
    r["retry_after_ms"] = d.retryAfterMs;
    r["rate"] = rateJson(rateView(scopes, now));
    return r;
  };
  const std::string names[] = {"key:" + key, "user:" + user, "tenant"};
  for (size_t i = 0; i < scopes.size(); ++i)
    if (Denial d = checkAccount(s, names[i], *scopes[i].first, scopes[i].second, tokens, usd, now); d.status)
      return refuse(d);
  for (auto& b : s.budgets) {
    if (!budgetApplies(b.budget, user)) continue;
    roll(b, now);
    if (Denial d = checkBudget(s, b, budgetAmount(b.budget.type, tokens, usd, brl), now); d.status) return refuse(d);
  }
  for (Account* a : {&keyAccount, &userAccount, &tenant}) {
    ++a->minuteRequests, ++a->dayRequests, ++a->monthRequests, ++a->totalRequests;
    a->minuteTokens += tokens;
  }
  const int64_t ttl = std::clamp<int64_t>(num(op, "ttl_ms", 600000), 1000, 24 * 3600000);
  s.reservations.push_back({id, key, user, tokens, usd, brl, now, now + ttl});
  return {{"ok", true}, {"rate", rateJson(rateView(scopes, now))}};
}

Doc settle(State& s, const Doc& op, int64_t now) {
  const std::string id = str(op, "request_id");
  const int64_t tokens = std::max<int64_t>(0, num(op, "tokens"));
  const int64_t usd = std::max<int64_t>(0, num(op, "usd"));
  const int64_t brl = std::max<int64_t>(0, num(op, "brl"));
  std::string key = str(op, "key"), user = str(op, "user");
  auto it = std::find_if(s.reservations.begin(), s.reservations.end(), [&](const Reservation& r) { return r.id == id; });
  if (it != s.reservations.end()) {
    key = it->key, user = it->user;
    // Tokens were counted at the reserved worst case in the minute they were
    // reserved; correct that minute to the actual.
    for (const std::string& name : {std::string("tenant"), "user:" + user, "key:" + key}) {
      Account& a = s.accounts[name];
      if (a.minute == floorTo(it->atMs, MS_PER_MINUTE))
        a.minuteTokens = std::max<int64_t>(0, a.minuteTokens - it->tokens + tokens);
    }
    s.reservations.erase(it);
  }
  // Spend is recorded even when the reservation already expired: the call happened.
  if (!key.empty()) addSpend(s, key, user, tokens, usd, brl, now);
  return {{"ok", true}};
}

Doc release(State& s, const Doc& op) {
  const std::string id = str(op, "request_id");
  auto it = std::find_if(s.reservations.begin(), s.reservations.end(), [&](const Reservation& r) { return r.id == id; });
  if (it == s.reservations.end()) return {{"ok", true}, {"released", false}};
  undoRequest(s, *it);
  s.reservations.erase(it);
  return {{"ok", true}, {"released", true}};
}

void writeAmount(gw::json::Writer& w, std::string_view key, BudgetType t, int64_t amount) {
  w.key(key).raw(formatBudgetAmount(t, amount));
}

// Hundredths of a percent, from integers, as a decimal ("81.25").
std::string percent(int64_t part, int64_t whole) {
  if (whole <= 0) return "0";
  const auto bp = static_cast<int64_t>(static_cast<__int128>(part) * 10000 / whole);
  std::string frac = std::to_string(bp % 100);
  return std::to_string(bp / 100) + "." + (frac.size() < 2 ? "0" + frac : frac);
}

void writeUsageEntry(gw::json::Writer& w, const BudgetState& b, int64_t reserved, int64_t now) {
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
  w.field("pauseAtLimit", b.budget.pauseAtLimit).key("alertThresholds").beginArray();
  for (int64_t pct : b.budget.alertThresholds) w.integer(pct);
  w.endArray().key("alertsSent").beginArray();
  if (b.periodStart == p.startMs)
    for (int64_t pct : b.alerted) w.integer(pct);
  w.endArray().endObject();
}

void writeAccountUsage(gw::json::Writer& w, const Account& a, const QuotaLimits& l, int64_t now) {
  const bool today = a.day == periodBounds(Period::Daily, now).startMs;
  const bool thisMonth = a.month == periodBounds(Period::Monthly, now).startMs;
  w.field("dailyRequests", today ? a.dayRequests : 0).field("monthlyRequests", thisMonth ? a.monthRequests : 0);
  w.field("monthlyTokens", thisMonth ? a.monthTokens : 0);
  w.key("monthlySpendUsd").raw(formatPico(thisMonth ? a.monthUsd : 0));
  w.key("monthlySpendBrl").raw(formatPico(thisMonth ? a.monthBrl : 0));
  w.field("totalRequests", a.totalRequests).field("totalTokens", a.totalTokens);
  w.key("totalSpendUsd").raw(formatPico(a.totalUsd));
  w.key("limits");
  writeQuotaLimitsApi(w, l);
}

std::string usage(const State& s, const Doc& op, int64_t now) {
  const std::string user = str(op, "user");
  const bool allUsers = flag(op, "all_users", false);
  std::string out;
  gw::json::Writer w(out);
  w.beginObject().field("ok", true).key("budgets").beginArray();
  for (const auto& b : s.budgets) {
    if (!allUsers && !budgetApplies(b.budget, user)) continue;
    int64_t reserved = 0;
    for (const auto& r : s.reservations)
      if (budgetApplies(b.budget, r.user)) reserved += budgetAmount(b.budget.type, r.tokens, r.usd, r.brl);
    writeUsageEntry(w, b, reserved, now);
  }
  w.endArray().field("inFlightRequests", static_cast<int64_t>(s.reservations.size()));
  auto tenant = s.accounts.find("tenant");
  w.key("tenant").beginObject().field("enabled", s.enabled);
  writeAccountUsage(w, tenant == s.accounts.end() ? Account{} : tenant->second, s.tenantLimits, now);
  w.endObject();
  if (!user.empty()) {
    auto a = s.accounts.find("user:" + user);
    w.key("user").beginObject().field("userId", user);
    writeAccountUsage(w, a == s.accounts.end() ? Account{} : a->second,
                      userLimits(s, user, readLimits(member(op, "user_defaults"))), now);
    w.endObject();
  }
  w.endObject();
  return out;
}

std::string getState(const State& s, int64_t now) {
  std::string out;
  gw::json::Writer w(out);
  w.beginObject().field("ok", true).field("enabled", s.enabled).key("limits");
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
  w.endArray();
  auto tenant = s.accounts.find("tenant");
  w.key("usage").beginObject();
  writeAccountUsage(w, tenant == s.accounts.end() ? Account{} : tenant->second, s.tenantLimits, now);
  w.endObject().endObject();
  return out;
}

}  // namespace

Outcome apply(std::string_view stateText, std::string_view opText, int64_t now) {
  Outcome out;
  Doc op = Doc::parse(opText.begin(), opText.end(), nullptr, false);
  if (op.is_discarded() || !op.is_object()) {
    out.result = failure(400, "invalid_request_error", "invalid_ledger_op", "ledger op is not a JSON object").dump();
    return out;
  }
  State s = readState(stateText);
  const std::string name = str(op, "op");
  bool changed = expireReservations(s, now);
  bool mutates = true;
  Doc result = Doc::object();
  std::string rawResult;  // read views are written directly, so money stays exact decimal
  if (name == "reserve") {
    result = reserve(s, op, now);
    mutates = result.is_object() && flag(result, "ok", false) && !flag(result, "duplicate", false);
  } else if (name == "settle") {
    result = settle(s, op, now);
  } else if (name == "release") {
    result = release(s, op);
  } else if (name == "set_tenant") {
    if (member(op, "enabled").is_boolean()) s.enabled = flag(op, "enabled", true);
    if (member(op, "limits").is_object()) s.tenantLimits = readLimits(member(op, "limits"));
    rawResult = getState(s, now);
  } else if (name == "set_quota") {
    const std::string user = str(op, "user");
    if (user.empty()) result = failure(400, "invalid_request_error", "invalid_ledger_op", "set_quota needs user");
    else {
      s.quotas[user] = readLimits(member(op, "limits"));
      result = {{"ok", true}, {"userId", user}, {"limits", limitsJson(s.quotas[user])}};
    }
  } else if (name == "reset_quota") {
    const std::string user = str(op, "user");
    for (auto& [acct, a] : s.accounts) {
      if (acct != "user:" + user && a.user != user) continue;
      a.minuteRequests = a.minuteTokens = a.dayRequests = 0;
      a.monthRequests = a.monthTokens = a.monthUsd = a.monthBrl = 0;
    }
    for (auto& b : s.budgets)
      if (b.budget.userId == user && !user.empty()) b.used = 0, b.alerted.clear();
    result = {{"ok", true}, {"userId", user}};
  } else if (name == "budget_set") {
    BudgetState b;
    if (!readBudgetWire(member(op, "budget"), b.budget)) {
      result = failure(400, "invalid_request_error", "invalid_ledger_op", "budget_set needs a valid budget");
    } else {
      auto it = std::find_if(s.budgets.begin(), s.budgets.end(),
                             [&](const BudgetState& x) { return x.budget.id == b.budget.id; });
      if (it != s.budgets.end()) {
        // Changing the limit keeps what was used this period.
        it->budget = b.budget;
        it->alerted.erase(std::remove_if(it->alerted.begin(), it->alerted.end(),
                                         [&](int64_t pct) {
                                           return static_cast<__int128>(it->used) * 100 <
                                                  static_cast<__int128>(pct) * b.budget.limit;
                                         }),
                          it->alerted.end());
      } else {
        roll(b, now);
        s.budgets.push_back(std::move(b));
      }
      result = {{"ok", true}};
    }
  } else if (name == "budget_delete") {
    const std::string id = str(op, "id");
    const size_t before = s.budgets.size();
    s.budgets.erase(std::remove_if(s.budgets.begin(), s.budgets.end(),
                                   [&](const BudgetState& b) { return id.empty() || b.budget.id == id; }),
                    s.budgets.end());
    result = {{"ok", true}, {"deleted", before - s.budgets.size()}};
  } else if (name == "revoke") {
    const std::string key = str(op, "key");
    if (!key.empty()) s.revoked.insert(key);
    result = {{"ok", true}};
  } else if (name == "usage") {
    rawResult = usage(s, op, now);
    mutates = false;
  } else if (name == "get") {
    rawResult = getState(s, now);
    mutates = false;
  } else if (name == "tick") {
    for (auto& [acct, a] : s.accounts) roll(a, now);
    for (auto& b : s.budgets) roll(b, now);
    result = {{"ok", true}};
  } else if (name == "alerts_sent") {
    const Doc& seqs = member(op, "seqs");
    std::set<int64_t> sent;
    if (seqs.is_array())
      for (const auto& q : seqs)
        if (q.is_number_integer()) sent.insert(q.get<int64_t>());
    Doc kept = Doc::array();
    for (const auto& a : s.alerts)
      if (!sent.count(num(a, "seq"))) kept.push_back(a);
    s.alerts = std::move(kept);
    result = {{"ok", true}};
  } else {
    result = failure(400, "invalid_request_error", "invalid_ledger_op", "unknown ledger op '" + name.substr(0, 40) + "'");
    mutates = false;
  }
  changed = changed || mutates;
  if (!s.alerts.empty() && (name == "settle" || name == "tick")) result["alerts"] = s.alerts;
  const std::string snap = snapshotOf(s, now);
  if (snap != s.snapshot) {
    s.snapshot = snap;
    changed = true;
    if (rawResult.empty()) result["snapshot"] = Doc::parse(snap, nullptr, false);
    else rawResult.insert(rawResult.size() - 1, ",\"snapshot\":" + snap);
  }
  if (!rawResult.empty()) {
    out.result = std::move(rawResult);
  } else {
    out.result = result.dump();
  }
  if (changed) {
    out.stateChanged = true;
    out.state = writeState(s);
  }
  return out;
}

}  // namespace gw::ledger
