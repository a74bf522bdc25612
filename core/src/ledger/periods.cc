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

bool parseIsoTimestamp(std::string_view t, int64_t& ms) {
  auto digits = [&](size_t at, size_t n, int64_t& out) {
    if (at + n > t.size()) return false;
    out = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (t[i] < '0' || t[i] > '9') return false;
      out = out * 10 + (t[i] - '0');
    }
    return true;
  };
  int64_t y, mo, d, h = 0, mi = 0, s = 0, frac = 0;
  if (!digits(0, 4, y) || t.size() < 10 || t[4] != '-' || !digits(5, 2, mo) || t[7] != '-' || !digits(8, 2, d))
    return false;
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return false;
  if (t.size() > 10) {
    if (t.size() < 20 || t[10] != 'T' || !digits(11, 2, h) || t[13] != ':' || !digits(14, 2, mi) || t[16] != ':' ||
        !digits(17, 2, s) || h > 23 || mi > 59 || s > 59)
      return false;
    size_t at = 19;
    if (t[at] == '.') {
      if (!digits(20, 3, frac)) return false;
      at = 23;
    }
    if (at + 1 != t.size() || t[at] != 'Z') return false;
  }
  const int64_t days = daysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  int64_t cy;
  unsigned cm, cd;
  civilFromDays(days, cy, cm, cd);
  if (cd != d) return false;  // 2026-02-30
  ms = days * MS_PER_DAY + h * 3600000 + mi * 60000 + s * 1000 + frac;
  return true;
}

}  // namespace gw
