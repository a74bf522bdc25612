#include "gw/pricing.h"

#include <algorithm>

namespace gw {

Cost priceUsage(const Price& price, const Usage& usage, int64_t usdBrlRateMicro) {
  Cost c;
  if (!price.known) return c;
  c.priced = true;
  const int64_t cached = std::clamp<int64_t>(usage.cachedPromptTokens, 0, usage.promptTokens);
  const int64_t written = std::clamp<int64_t>(usage.cacheCreationTokens, 0, usage.promptTokens - cached);
  const int64_t fresh = usage.promptTokens - cached - written;
  const int64_t writeRate = price.cacheWrite > 0 ? price.cacheWrite : price.input;
  // tokens × micro-USD per 1M tokens = 10^-12 USD.
  c.picoUsd = fresh * price.input + cached * price.cachedInput + written * writeRate +
              std::max<int64_t>(0, usage.completionTokens) * price.output;
  __int128 brl = static_cast<__int128>(c.picoUsd) * usdBrlRateMicro;
  c.picoBrl = static_cast<int64_t>((brl + 500000) / 1000000);
  return c;
}

std::string formatPico(int64_t pico) {
  std::string out;
  if (pico < 0) {
    out.push_back('-');
    pico = -pico;
  }
  out += std::to_string(pico / 1000000000000LL);
  int64_t frac = pico % 1000000000000LL;
  if (frac == 0) return out;
  std::string digits = std::to_string(frac);
  out.push_back('.');
  out.append(12 - digits.size(), '0');
  while (!digits.empty() && digits.back() == '0') digits.pop_back();
  out += digits;
  return out;
}

std::string formatRatio(int64_t part, int64_t whole) {
  const int64_t tenThousandths = whole > 0 ? (part * 20000 + whole) / (2 * whole) : 0;
  std::string frac = std::to_string(tenThousandths % 10000);
  return std::to_string(tenThousandths / 10000) + "." + std::string(4 - frac.size(), '0') + frac;
}

int64_t estimateTokens(size_t bytes) { return static_cast<int64_t>((bytes + 3) / 4); }

void estimateUsage(Usage& usage, size_t promptBytes, size_t messageCount, size_t outputBytes) {
  if (usage.known) return;
  usage.known = true;
  usage.estimated = true;
  // Chat formats add a few tokens of framing per message.
  usage.promptTokens = estimateTokens(promptBytes) + 4 * static_cast<int64_t>(messageCount);
  usage.completionTokens = estimateTokens(outputBytes);
  usage.totalTokens = usage.promptTokens + usage.completionTokens;
}

bool parseDecimalFixed(std::string_view text, int places, int64_t& out) {
  int64_t whole = 0, frac = 0;
  int digits = -1;  // -1: before the point
  for (char c : text) {
    if (c == '.' && digits < 0) {
      digits = 0;
      continue;
    }
    if (c < '0' || c > '9') return false;
    if (digits < 0) {
      if (whole > 1000000) return false;
      whole = whole * 10 + (c - '0');
    } else {
      if (++digits > places) return false;
      frac = frac * 10 + (c - '0');
    }
  }
  if (text.empty() || text == "." || whole > 1000000) return false;
  int64_t unit = 1;
  for (int i = 0; i < places; ++i) unit *= 10;
  for (int i = digits < 0 ? 0 : digits; i < places; ++i) frac *= 10;
  out = whole * unit + frac;
  return true;
}

}  // namespace gw
