#include "gw/periods.h"

namespace gw {

namespace {

int64_t floorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

// Howard Hinnant's civil-date algorithms.
int64_t daysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = floorDiv(y, 400);
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = floorDiv(z, 146097);
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2);
}

PeriodBounds periodBounds(Period p, int64_t nowMs) {
  const int64_t day = floorDiv(nowMs, MS_PER_DAY);
  switch (p) {
    case Period::Daily:
      return {day * MS_PER_DAY, (day + 1) * MS_PER_DAY};
    case Period::Weekly: {
      // 1970-01-01 was a Thursday; weeks start on Monday.
      const int64_t start = floorDiv(day + 3, 7) * 7 - 3;
      return {start * MS_PER_DAY, (start + 7) * MS_PER_DAY};
    }
    case Period::Monthly: {
      int64_t y;
      unsigned m, d;
      civilFromDays(day, y, m, d);
      const int64_t start = daysFromCivil(y, m, 1);
      const int64_t end = m == 12 ? daysFromCivil(y + 1, 1, 1) : daysFromCivil(y, m + 1, 1);
      return {start * MS_PER_DAY, end * MS_PER_DAY};
    }
  }
  return {};
}

bool parsePeriod(std::string_view name, Period& out) {
  if (name == "daily") out = Period::Daily;
  else if (name == "weekly") out = Period::Weekly;
  else if (name == "monthly") out = Period::Monthly;
  else return false;
  return true;
}

const char* periodName(Period p) {
  switch (p) {
    case Period::Daily: return "daily";
    case Period::Weekly: return "weekly";
    case Period::Monthly: return "monthly";
  }
  return "monthly";
}

std::string isoTimestamp(int64_t ms) {
  const int64_t day = floorDiv(ms, MS_PER_DAY);
  int64_t rest = ms - day * MS_PER_DAY;
  int64_t y;
  unsigned mo, d;
  civilFromDays(day, y, mo, d);
  auto two = [](std::string& s, int64_t v) {
    s.push_back(static_cast<char>('0' + v / 10));
    s.push_back(static_cast<char>('0' + v % 10));
  };
  std::string s = std::to_string(y);
  s.push_back('-');
  two(s, mo);
  s.push_back('-');
  two(s, d);
  s.push_back('T');
  two(s, rest / 3600000);
  s.push_back(':');
  two(s, rest / 60000 % 60);
  s.push_back(':');
  two(s, rest / 1000 % 60);
  s.push_back('.');
  int64_t millis = rest % 1000;
  s.push_back(static_cast<char>('0' + millis / 100));
  two(s, millis % 100);
  s.push_back('Z');
  return s;
}

}  // namespace gw
