#pragma once
// Exact call pricing. Prices are integers (micro-USD per 1M tokens), so a
// cost is an integer count of 10^-12 USD and its decimal form is exact to the
// last digit; BRL is derived at the configured rate and rounded to 10^-12.
#include <cstdint>
#include <string>
#include <string_view>

#include "gw/config.h"
#include "gw/usage.h"

namespace gw {

struct Cost {
  bool priced = false;   // a price was known for the model
  int64_t picoUsd = 0;   // 10^-12 USD
  int64_t picoBrl = 0;   // 10^-12 BRL
};

Cost priceUsage(const Price& price, const Usage& usage, int64_t usdBrlRateMicro);

// 1234500 (10^-12 units) -> "0.0000012345"; always at least "0".
std::string formatPico(int64_t pico);
// part / whole with exactly 4 decimals ("0.8600"), rounded half up; "0.0000"
// when whole is 0. Integer arithmetic: no printf in the module.
std::string formatRatio(int64_t part, int64_t whole);

// A rough count (4 bytes per token) for when a provider reports no usage.
int64_t estimateTokens(size_t bytes);
// Fills missing usage from byte counts and marks it estimated.
void estimateUsage(Usage& usage, size_t promptBytes, size_t messageCount, size_t outputBytes);

// A non-negative decimal of at most 10^6 with up to `places` decimals, as an
// integer count of 10^-places ("5.40", 6 -> 5400000), exactly; false for
// anything else.
bool parseDecimalFixed(std::string_view text, int places, int64_t& out);
inline bool parseDecimalMicros(std::string_view text, int64_t& out) { return parseDecimalFixed(text, 6, out); }

}  // namespace gw
