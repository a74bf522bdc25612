#include "ledger_state.h"

#include "gw/json_tape.h"
#include "gw/json_writer.h"

namespace gw::ledger {

namespace {

using json::Kind;
using json::Tape;

// Calls fn(index) for each element of the array at `key`; nothing when
// absent or not an array.
template <typename Fn>
void eachIn(const Tape& t, uint32_t object, std::string_view key, Fn fn) {
  const uint32_t c = t.find(object, key);
  if (c == 0 || t.kind(c) != Kind::Array) return;
  for (uint32_t v = t.firstChild(c); v != 0; v = t.nextSibling(c, v)) fn(v);
}

void writeIntegers(json::Writer& w, std::string_view key, const std::vector<int64_t>& values) {
  w.key(key).beginArray();
  for (int64_t v : values) w.integer(v);
  w.endArray();
}

Account readAccount(const Tape& t, uint32_t o) {
  Account a;
  a.user = t.stringAt(o, "user");
  a.limits = readQuotaLimitsWire(t, t.find(o, "limits"));
  a.minute = t.integerAt(o, "minute"), a.minuteRequests = t.integerAt(o, "m_req");
  a.minuteTokens = t.integerAt(o, "m_tok");
  a.day = t.integerAt(o, "day"), a.dayRequests = t.integerAt(o, "d_req");
  a.month = t.integerAt(o, "month"), a.monthRequests = t.integerAt(o, "mo_req");
  a.monthTokens = t.integerAt(o, "mo_tok"), a.monthUsd = t.integerAt(o, "mo_usd");
  a.monthBrl = t.integerAt(o, "mo_brl");
  a.totalRequests = t.integerAt(o, "t_req"), a.totalTokens = t.integerAt(o, "t_tok");
  a.totalUsd = t.integerAt(o, "t_usd"), a.totalBrl = t.integerAt(o, "t_brl");
  a.cacheHits = t.integerAt(o, "hits"), a.savedTokens = t.integerAt(o, "s_tok"), a.savedUsd = t.integerAt(o, "s_usd");
  return a;
}

void writeAccount(json::Writer& w, const Account& a) {
  w.beginObject().field("minute", a.minute).field("m_req", a.minuteRequests).field("m_tok", a.minuteTokens);
  w.field("day", a.day).field("d_req", a.dayRequests).field("month", a.month);
  w.field("mo_req", a.monthRequests).field("mo_tok", a.monthTokens).field("mo_usd", a.monthUsd);
  w.field("mo_brl", a.monthBrl).field("t_req", a.totalRequests).field("t_tok", a.totalTokens);
  w.field("t_usd", a.totalUsd).field("t_brl", a.totalBrl);
  if (a.cacheHits > 0) w.field("hits", a.cacheHits).field("s_tok", a.savedTokens).field("s_usd", a.savedUsd);
  w.key("limits");
  writeQuotaLimitsWire(w, a.limits);
  if (!a.user.empty()) w.field("user", a.user);
  w.endObject();
}

Alert readAlert(const Tape& t, uint32_t o) {
  Alert a;
  a.seq = t.integerAt(o, "seq");
  a.budgetId = t.stringAt(o, "budget_id"), a.user = t.stringAt(o, "user");
  a.type = t.stringAt(o, "type"), a.period = t.stringAt(o, "period");
  a.periodStart = t.integerAt(o, "period_start"), a.threshold = t.integerAt(o, "threshold");
  a.used = t.stringAt(o, "used"), a.limit = t.stringAt(o, "limit");
  a.atMs = t.integerAt(o, "at_ms");
  return a;
}

}  // namespace

void writeAlert(json::Writer& w, const Alert& a) {
  w.beginObject().field("seq", a.seq).field("budget_id", a.budgetId).field("user", a.user);
  w.field("type", a.type).field("period", a.period).field("period_start", a.periodStart);
  w.field("threshold", a.threshold).field("used", a.used).field("limit", a.limit).field("at_ms", a.atMs);
  w.endObject();
}

Account& State::touch(std::string_view name) {
  auto it = accounts.find(name);
  if (it == accounts.end()) it = accounts.emplace(std::string(name), Account{}).first;
  if (!dirtyAccounts.count(name)) dirtyAccounts.emplace(name);
  return it->second;
}

constexpr std::string_view ACCOUNT_PREFIX = "a:";

State readState(std::string_view text) {
  State s;
  Tape t;
  if (text.empty() || !t.parse(text) || t.kind(t.root()) != Kind::Object) return s;
  const uint32_t m = t.find(t.root(), "meta");
  if (m != 0 && t.kind(m) == Kind::Object) {
    s.enabled = t.booleanAt(m, "enabled", true);
    s.storeBodies = t.booleanAt(m, "store_bodies", false);
    s.tenantLimits = readQuotaLimitsWire(t, t.find(m, "limits"));
    s.userDefaults = readQuotaLimitsWire(t, t.find(m, "user_defaults"));
    eachIn(t, m, "budgets", [&](uint32_t v) {
      BudgetState b;
      if (t.kind(v) != Kind::Object || !readBudgetWire(t, t.find(v, "budget"), b.budget)) return;
      b.periodStart = t.integerAt(v, "period_start");
      b.used = t.integerAt(v, "used");
      b.alerted = t.integersAt(v, "alerted");
      s.budgets.push_back(std::move(b));
    });
    eachIn(t, m, "reservations", [&](uint32_t v) {
      if (t.kind(v) != Kind::Object) return;
      Reservation r{t.stringAt(v, "id"),      t.stringAt(v, "key"),     t.stringAt(v, "user"),
                    t.integerAt(v, "tokens"), t.integerAt(v, "usd"),    t.integerAt(v, "brl"),
                    t.integerAt(v, "at"),     t.integerAt(v, "expires"), {}};
      if (uint32_t row = t.find(v, "row"); row != 0 && t.kind(row) == Kind::Array) r.abandonedRow = t.raw(row);
      r.requests = t.integerAt(v, "n", 1);
      r.lease = t.kind(t.find(v, "lease")) == Kind::True;
      r.admitUntilMs = t.integerAt(v, "until", r.expiresMs);
      if (uint32_t rep = t.find(v, "rep"); rep != 0 && t.kind(rep) == Kind::Array) {
        const std::vector<int64_t> n = t.integersAt(v, "rep");
        if (n.size() == 4) r.reportedRequests = n[0], r.reportedTokens = n[1], r.reportedUsd = n[2], r.reportedBrl = n[3];
      }
      if (!r.id.empty()) s.reservations.push_back(std::move(r));
    });
    eachIn(t, m, "alerts", [&](uint32_t v) {
      if (t.kind(v) == Kind::Object) s.alerts.push_back(readAlert(t, v));
    });
    s.alertSeq = t.integerAt(m, "alert_seq");
    s.snapshot = t.stringAt(m, "snapshot");
  }
  if (uint32_t q = t.find(t.root(), "quotas"); q != 0 && t.kind(q) == Kind::Object)
    for (uint32_t k = t.firstChild(q); k != 0; k = t.nextSibling(q, k + 1))
      s.quotas[t.string(k)] = readQuotaLimitsWire(t, k + 1);
  eachIn(t, t.root(), "revoked", [&](uint32_t v) {
    if (t.kind(v) == Kind::String) s.revoked.insert(t.string(v));
  });
  for (uint32_t k = t.firstChild(t.root()); k != 0; k = t.nextSibling(t.root(), k + 1)) {
    if (t.kind(k + 1) != Kind::Object) continue;
    const std::string name = t.string(k);
    if (name.size() > ACCOUNT_PREFIX.size() && name.compare(0, ACCOUNT_PREFIX.size(), ACCOUNT_PREFIX) == 0)
      s.accounts[name.substr(ACCOUNT_PREFIX.size())] = readAccount(t, k + 1);
  }
  return s;
}

namespace {

std::string metaEntry(const State& s) {
  std::string out;
  out.reserve(256 + 560 * s.reservations.size() + 200 * s.budgets.size() + s.snapshot.size());
  json::Writer w(out);
  w.beginObject().field("v", 2).field("enabled", s.enabled).field("store_bodies", s.storeBodies).key("limits");
  writeQuotaLimitsWire(w, s.tenantLimits);
  w.key("user_defaults");
  writeQuotaLimitsWire(w, s.userDefaults);
  w.key("budgets").beginArray();
  for (const auto& b : s.budgets) {
    w.beginObject().key("budget");
    writeBudgetWire(w, b.budget);
    w.field("period_start", b.periodStart).field("used", b.used);
    writeIntegers(w, "alerted", b.alerted);
    w.endObject();
  }
  w.endArray().key("reservations").beginArray();
  for (const auto& r : s.reservations) {
    w.beginObject().field("id", r.id).field("key", r.key).field("user", r.user).field("tokens", r.tokens)
        .field("usd", r.usd).field("brl", r.brl).field("at", r.atMs).field("expires", r.expiresMs);
    if (!r.abandonedRow.empty()) w.key("row").raw(r.abandonedRow);
    if (r.lease) {
      w.field("lease", true).field("n", r.requests).field("until", r.admitUntilMs);
      if (r.reportedRequests || r.reportedTokens || r.reportedUsd || r.reportedBrl)
        w.key("rep").beginArray().integer(r.reportedRequests).integer(r.reportedTokens).integer(r.reportedUsd)
            .integer(r.reportedBrl).endArray();
    }
    w.endObject();
  }
  w.endArray().key("alerts").beginArray();
  for (const auto& a : s.alerts) writeAlert(w, a);
  w.endArray().field("alert_seq", s.alertSeq).field("snapshot", s.snapshot).endObject();
  return out;
}

}  // namespace

void storedEntries(State& s, std::vector<std::pair<std::string, std::string>>& out) {
  out.emplace_back("meta", metaEntry(s));
  if (s.quotasDirty) {
    std::string q;
    json::Writer w(q);
    w.beginObject();
    for (const auto& [user, l] : s.quotas) {
      w.key(user);
      writeQuotaLimitsWire(w, l);
    }
    w.endObject();
    out.emplace_back("quotas", std::move(q));
  }
  if (s.revokedDirty) {
    std::string r;
    json::Writer w(r);
    w.beginArray();
    for (const auto& k : s.revoked) w.string(k);
    w.endArray();
    out.emplace_back("revoked", std::move(r));
  }
  for (const auto& name : s.dirtyAccounts) {
    auto it = s.accounts.find(name);
    if (it == s.accounts.end()) continue;
    std::string a;
    json::Writer w(a);
    writeAccount(w, it->second);
    out.emplace_back(std::string(ACCOUNT_PREFIX) + name, std::move(a));
  }
  s.dirtyAccounts.clear();
  s.quotasDirty = s.revokedDirty = false;
}

}  // namespace gw::ledger
