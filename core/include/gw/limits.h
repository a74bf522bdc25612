#pragma once
// What a key, a user or a tenant may consume, and budgets: the shapes the
// admin API accepts (validated here, naming the offending field) and the
// ledger enforces. -1 means "no limit at this level".
#include <cstdint>
#include <string>
#include <vector>

#include "gw/api_error.h"
#include "gw/json_tape.h"
#include "gw/json_writer.h"
#include "gw/periods.h"

namespace gw {

struct QuotaLimits {
  int64_t rpm = -1;              // requests per minute
  int64_t tpm = -1;              // tokens per minute (reserved worst case, settled to actual)
  int64_t dailyRequests = -1;    // per UTC day
  int64_t monthlyRequests = -1;  // per UTC calendar month
  int64_t monthlySpendPico = -1; // 10^-12 USD per UTC calendar month

  bool any() const { return rpm >= 0 || tpm >= 0 || dailyRequests >= 0 || monthlyRequests >= 0 || monthlySpendPico >= 0; }
  // Members set in `over` replace ours.
  QuotaLimits overlay(const QuotaLimits& over) const;
};

enum class BudgetType { Tokens, Usd, Brl };

struct Budget {
  std::string id;
  std::string userId;  // empty: the whole tenant
  BudgetType type = BudgetType::Usd;
  int64_t limit = 0;   // tokens, or 10^-12 USD / BRL
  Period period = Period::Monthly;
  std::vector<int64_t> alertThresholds{80, 90, 100};  // percent, ascending
  bool pauseAtLimit = true;
};

const char* budgetTypeName(BudgetType t);

// Client JSON (camelCase, money as decimal USD) -> values. `path` prefixes the
// param named in errors ("limits" -> "limits.rpm").
ApiError readQuotaLimits(const json::Tape& t, uint32_t node, const std::string& path, QuotaLimits& out);
ApiError readBudget(const json::Tape& t, uint32_t node, Budget& out);

// Client-facing JSON (camelCase, decimal money); unset members are omitted.
void writeQuotaLimitsApi(json::Writer& w, const QuotaLimits& l);
void writeBudgetApi(json::Writer& w, const Budget& b);
// The ledger's wire form (snake_case, integer pico units), written only by
// the core: readers skip what they do not know instead of naming errors.
void writeQuotaLimitsWire(json::Writer& w, const QuotaLimits& l);
void writeBudgetWire(json::Writer& w, const Budget& b);
QuotaLimits readQuotaLimitsWire(const json::Tape& t, uint32_t node);  // node 0 or not an object: none
bool readBudgetWire(const json::Tape& t, uint32_t node, Budget& out);

// Amount formatting for a budget of this type: tokens as an integer, money
// as a decimal.
std::string formatBudgetAmount(BudgetType t, int64_t amount);

}  // namespace gw
