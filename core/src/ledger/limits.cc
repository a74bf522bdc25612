#include "gw/limits.h"

#include "gw/pricing.h"

namespace gw {

namespace {

using json::Kind;

constexpr int64_t MAX_RPM = 10000000;
constexpr int64_t MAX_TOKENS = 1000000000000;  // 10^12
constexpr int64_t MAX_REQUESTS = 10000000000;  // 10^10

ApiError readCount(const json::Tape& t, uint32_t v, const std::string& param, int64_t max, int64_t& out) {
  int64_t n = 0;
  if (t.kind(v) == Kind::Null) {
    out = -1;
    return {};
  }
  if (t.kind(v) != Kind::Number || !t.isInteger(v, &n))
    return invalidType(param, "a non-negative integer (or null for no limit)", t.kind(v) == Kind::Number ? "a fraction" : "another type");
  if (n < 0 || n > max)
    return invalidValue(param, param + " must be between 0 and " + std::to_string(max) + ", got " + std::to_string(n) + ".");
  out = n;
  return {};
}

// Money in decimal units ("10.00" or 10.5) -> 10^-12 units, exactly.
ApiError readMoney(const json::Tape& t, uint32_t v, const std::string& param, int64_t& out) {
  if (t.kind(v) == Kind::Null) {
    out = -1;
    return {};
  }
  std::string_view text = t.kind(v) == Kind::Number ? t.raw(v) : std::string_view();
  if (t.kind(v) == Kind::String) text = t.rawString(v);
  if (text.empty() || !parseDecimalFixed(text, 12, out))
    return invalidValue(param, param + " must be an amount between 0 and 1000000 with at most 12 decimals, got " +
                                   std::string(t.raw(v)).substr(0, 40) + ".");
  return {};
}

void writeMoney(json::Writer& w, std::string_view key, int64_t pico) { w.key(key).raw(formatPico(pico)); }

}  // namespace

QuotaLimits QuotaLimits::overlay(const QuotaLimits& o) const {
  QuotaLimits r = *this;
  if (o.rpm >= 0) r.rpm = o.rpm;
  if (o.tpm >= 0) r.tpm = o.tpm;
  if (o.dailyRequests >= 0) r.dailyRequests = o.dailyRequests;
  if (o.monthlyRequests >= 0) r.monthlyRequests = o.monthlyRequests;
  if (o.monthlySpendPico >= 0) r.monthlySpendPico = o.monthlySpendPico;
  return r;
}

const char* budgetTypeName(BudgetType t) {
  switch (t) {
    case BudgetType::Tokens: return "tokens";
    case BudgetType::Usd: return "USD";
    case BudgetType::Brl: return "BRL";
  }
  return "USD";
}

ApiError readQuotaLimits(const json::Tape& t, uint32_t node, const std::string& path, QuotaLimits& out) {
  if (t.kind(node) != Kind::Object) return invalidType(path, "an object", "another type");
  for (uint32_t k = t.firstChild(node); k != 0; k = t.nextSibling(node, k + 1)) {
    const uint32_t v = k + 1;
    const std::string name = t.string(k);
    const std::string param = path + "." + name;
    ApiError e;
    if (name == "rpm" || name == "requestsPerMinute") e = readCount(t, v, param, MAX_RPM, out.rpm);
    else if (name == "tpm" || name == "tokensPerMinute") e = readCount(t, v, param, MAX_TOKENS, out.tpm);
    else if (name == "dailyRequests" || name == "dailyLimit") e = readCount(t, v, param, MAX_REQUESTS, out.dailyRequests);
    else if (name == "monthlyRequests" || name == "monthlyLimit")
      e = readCount(t, v, param, MAX_REQUESTS, out.monthlyRequests);
    else if (name == "monthlySpendUsd" || name == "monthlySpendLimit") e = readMoney(t, v, param, out.monthlySpendPico);
    else
      e = invalidRequest("Unknown limit '" + name +
                             "'. Known: rpm, tpm, dailyRequests, monthlyRequests, monthlySpendUsd.",
                         param, "unknown_parameter");
    if (e) return e;
  }
  return {};
}

ApiError readBudget(const json::Tape& t, uint32_t node, Budget& out) {
  if (t.kind(node) != Kind::Object) return invalidType("body", "a JSON object", "another type");
  uint32_t type = t.find(node, "type");
  if (type == 0) return missingParameter("type");
  if (t.kind(type) != Kind::String) return invalidType("type", "a string", "another type");
  std::string typeName = t.string(type);
  if (typeName == "tokens") out.type = BudgetType::Tokens;
  else if (typeName == "USD" || typeName == "usd") out.type = BudgetType::Usd;
  else if (typeName == "BRL" || typeName == "brl") out.type = BudgetType::Brl;
  else return invalidValue("type", "type must be one of tokens, USD, BRL; got '" + typeName.substr(0, 40) + "'.");

  uint32_t limit = t.find(node, "limit");
  if (limit == 0) return missingParameter("limit");
  if (ApiError e = out.type == BudgetType::Tokens ? readCount(t, limit, "limit", MAX_TOKENS, out.limit)
                                                  : readMoney(t, limit, "limit", out.limit))
    return e;
  if (out.limit <= 0) return invalidValue("limit", "limit must be greater than 0.");

  uint32_t period = t.find(node, "period");
  if (period != 0) {
    if (t.kind(period) != Kind::String || !parsePeriod(t.string(period), out.period))
      return invalidValue("period", "period must be one of daily, weekly, monthly.");
  }
  uint32_t thresholds = t.find(node, "alertThresholds");
  if (thresholds != 0) {
    if (t.kind(thresholds) != Kind::Array) return invalidType("alertThresholds", "an array of percentages", "another type");
    if (t.node(thresholds).count > 10) return invalidValue("alertThresholds", "at most 10 thresholds.");
    out.alertThresholds.clear();
    int64_t previous = 0;
    uint32_t i = 0;
    for (uint32_t v = t.firstChild(thresholds); v != 0; v = t.nextSibling(thresholds, v), ++i) {
      int64_t pct = 0;
      const std::string param = "alertThresholds[" + std::to_string(i) + "]";
      if (t.kind(v) != Kind::Number || !t.isInteger(v, &pct) || pct < 1 || pct > 1000)
        return invalidValue(param, param + " must be an integer percentage between 1 and 1000.");
      if (pct <= previous) return invalidValue(param, "alertThresholds must be strictly ascending.");
      previous = pct;
      out.alertThresholds.push_back(pct);
    }
  }
  uint32_t pause = t.find(node, "pauseAtLimit");
  if (pause != 0) {
    if (t.kind(pause) != Kind::True && t.kind(pause) != Kind::False)
      return invalidType("pauseAtLimit", "a boolean", "another type");
    out.pauseAtLimit = t.kind(pause) == Kind::True;
  }
  return {};
}

void writeQuotaLimitsApi(json::Writer& w, const QuotaLimits& l) {
  w.beginObject();
  if (l.rpm >= 0) w.field("rpm", l.rpm);
  if (l.tpm >= 0) w.field("tpm", l.tpm);
  if (l.dailyRequests >= 0) w.field("dailyRequests", l.dailyRequests);
  if (l.monthlyRequests >= 0) w.field("monthlyRequests", l.monthlyRequests);
  if (l.monthlySpendPico >= 0) writeMoney(w, "monthlySpendUsd", l.monthlySpendPico);
  w.endObject();
}

void writeQuotaLimitsWire(json::Writer& w, const QuotaLimits& l) {
  w.beginObject();
  if (l.rpm >= 0) w.field("rpm", l.rpm);
  if (l.tpm >= 0) w.field("tpm", l.tpm);
  if (l.dailyRequests >= 0) w.field("daily_requests", l.dailyRequests);
  if (l.monthlyRequests >= 0) w.field("monthly_requests", l.monthlyRequests);
  if (l.monthlySpendPico >= 0) w.field("monthly_spend_pico", l.monthlySpendPico);
  w.endObject();
}

QuotaLimits readQuotaLimitsWire(const json::Tape& t, uint32_t o) {
  QuotaLimits l;
  if (o == 0 || t.kind(o) != Kind::Object) return l;
  l.rpm = t.integerAt(o, "rpm", -1);
  l.tpm = t.integerAt(o, "tpm", -1);
  l.dailyRequests = t.integerAt(o, "daily_requests", -1);
  l.monthlyRequests = t.integerAt(o, "monthly_requests", -1);
  l.monthlySpendPico = t.integerAt(o, "monthly_spend_pico", -1);
  return l;
}

bool readBudgetWire(const json::Tape& t, uint32_t o, Budget& b) {
  if (o == 0 || t.kind(o) != Kind::Object) return false;
  b.id = t.stringAt(o, "id");
  b.userId = t.stringAt(o, "user");
  const std::string type = t.stringAt(o, "type");
  if (type == "tokens") b.type = BudgetType::Tokens;
  else if (type == "USD") b.type = BudgetType::Usd;
  else if (type == "BRL") b.type = BudgetType::Brl;
  else return false;
  b.limit = t.integerAt(o, "limit");
  if (!parsePeriod(t.stringAt(o, "period"), b.period)) return false;
  b.alertThresholds = t.integersAt(o, "thresholds");
  b.pauseAtLimit = t.booleanAt(o, "pause", true);
  return !b.id.empty() && b.limit > 0;
}

std::string formatBudgetAmount(BudgetType t, int64_t amount) {
  return t == BudgetType::Tokens ? std::to_string(amount) : formatPico(amount);
}

void writeBudgetApi(json::Writer& w, const Budget& b) {
  w.beginObject().field("id", b.id);
  if (!b.userId.empty()) w.field("userId", b.userId);
  w.field("type", budgetTypeName(b.type)).key("limit").raw(formatBudgetAmount(b.type, b.limit));
  w.field("period", periodName(b.period)).key("alertThresholds").beginArray();
  for (int64_t p : b.alertThresholds) w.integer(p);
  w.endArray().field("pauseAtLimit", b.pauseAtLimit).endObject();
}

void writeBudgetWire(json::Writer& w, const Budget& b) {
  w.beginObject().field("id", b.id).field("user", b.userId).field("type", budgetTypeName(b.type));
  w.field("limit", b.limit).field("period", periodName(b.period)).key("thresholds").beginArray();
  for (int64_t p : b.alertThresholds) w.integer(p);
  w.endArray().field("pause", b.pauseAtLimit).endObject();
}

}  // namespace gw
