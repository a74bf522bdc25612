#pragma once
// UTC calendar periods from a millisecond clock the host supplies: minute
// windows for rate limits, and the day / ISO week (Monday first) / calendar
// month that quotas and budgets reset on.
#include <cstdint>
#include <string>
#include <string_view>

namespace gw {

constexpr int64_t MS_PER_MINUTE = 60000;
constexpr int64_t MS_PER_DAY = 86400000;

enum class Period { Daily, Weekly, Monthly };

struct PeriodBounds {
  int64_t startMs = 0;
  int64_t endMs = 0;  // exclusive
};

PeriodBounds periodBounds(Period p, int64_t nowMs);
bool parsePeriod(std::string_view name, Period& out);
const char* periodName(Period p);
// Days since 1970-01-01 for a civil date, and back (proleptic Gregorian).
int64_t daysFromCivil(int64_t y, unsigned m, unsigned d);
void civilFromDays(int64_t days, int64_t& y, unsigned& m, unsigned& d);
// "2026-11-22T10:00:00.000Z"
std::string isoTimestamp(int64_t ms);
// "2026-12-01", "2026-12-01T10:00:00Z" or with milliseconds, UTC only.
bool parseIsoTimestamp(std::string_view text, int64_t& ms);

}  // namespace gw
