#include "common/time.h"

#include <chrono>
#include <cstdio>

namespace tributary {
namespace {

// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  *y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y += *m <= 2;
}

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

}  // namespace

Result<Micros> ParseTime(std::string_view s, bool allow_date_only) {
  auto bad = [&](const char* why) {
    return Status::InvalidArgument(std::string("invalid date-time '") +
                                   std::string(s.substr(0, 64)) + "': " + why);
  };
  int year, month, day, hour = 0, minute = 0, second = 0;
  if (!Digits(s, 0, 4, &year) || s.size() < 10 || s[4] != '-' || !Digits(s, 5, 2, &month) ||
      s[7] != '-' || !Digits(s, 8, 2, &day)) {
    return bad("expected YYYY-MM-DD");
  }
  if (month < 1 || month > 12) return bad("month out of range");
  if (day < 1 || day > DaysInMonth(year, month)) return bad("day out of range");
  size_t pos = 10;
  int64_t micros = 0;
  int64_t offset_seconds = 0;
  if (pos == s.size()) {
    if (!allow_date_only) return bad("missing time of day");
  } else {
    if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') return bad("expected 'T' after the date");
    ++pos;
    if (!Digits(s, pos, 2, &hour) || s.size() < pos + 8 || s[pos + 2] != ':' ||
        !Digits(s, pos + 3, 2, &minute) || s[pos + 5] != ':' || !Digits(s, pos + 6, 2, &second)) {
      return bad("expected HH:MM:SS");
    }
    if (hour > 23 || minute > 59 || second > 60) return bad("time of day out of range");
    if (second == 60) second = 59;  // a leap second is kept inside its minute
    pos += 8;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      size_t digits = 0;
      int64_t frac = 0;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        if (digits < 6) frac = frac * 10 + (s[pos] - '0');
        ++digits;
        ++pos;
      }
      if (digits == 0) return bad("empty fraction of a second");
      if (digits > 9) return bad("more than 9 fractional digits");
      for (size_t i = digits; i < 6; ++i) frac *= 10;
      micros = frac;
    }
    if (pos < s.size()) {
      char c = s[pos];
      if (c == 'Z' || c == 'z') {
        ++pos;
      } else if (c == '+' || c == '-') {
        int oh, om;
        if (!Digits(s, pos + 1, 2, &oh) || s.size() < pos + 6 || s[pos + 3] != ':' ||
            !Digits(s, pos + 4, 2, &om)) {
          return bad("expected an offset like +HH:MM");
        }
        if (oh > 23 || om > 59) return bad("offset out of range");
        offset_seconds = (oh * 3600 + om * 60) * (c == '+' ? 1 : -1);
        pos += 6;
      } else {
        return bad("unexpected characters after the time");
      }
    }
    if (pos != s.size()) return bad("unexpected characters after the offset");
  }
  int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_seconds;
  return secs * 1000000 + micros;
}

namespace {

// Writes `v` (0 <= v < 10^width) as exactly `width` digits.
char* PutDigits(char* p, int64_t v, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return p + width;
}

}  // namespace

std::string FormatTime(Micros t) {
  if (t == kForever) return "forever";
  int64_t secs = t >= 0 ? t / 1000000 : -((-t + 999999) / 1000000);
  int64_t frac = t - secs * 1000000;
  int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  int64_t rem = secs - days * 86400;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[64];
  char* p = buf;
  if (y >= 0 && y <= 9999) {  // the digits written directly: answers hold one per edge
    p = PutDigits(p, y, 4);
    *p++ = '-';
    p = PutDigits(p, m, 2);
    *p++ = '-';
    p = PutDigits(p, d, 2);
    *p++ = 'T';
    p = PutDigits(p, rem / 3600, 2);
    *p++ = ':';
    p = PutDigits(p, rem / 60 % 60, 2);
    *p++ = ':';
    p = PutDigits(p, rem % 60, 2);
  } else {
    p += std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld",
                       static_cast<long long>(y), m, d, static_cast<long long>(rem / 3600),
                       static_cast<long long>(rem / 60 % 60), static_cast<long long>(rem % 60));
  }
  if (frac != 0) {
    *p++ = '.';
    p = PutDigits(p, frac, 6);
  }
  *p++ = 'Z';
  return std::string(buf, p);
}

Micros NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace tributary
