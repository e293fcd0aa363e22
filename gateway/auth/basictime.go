package auth

import "time"

// parseBasicTime parses s in the ISO 8601 basic forms SigV4 uses, the day
// ("20060102") or the instant ("20060102T150405Z"), in UTC, and accepts
// exactly what time.Parse accepts with those layouts. Every signed request
// carries both; time.Parse spent about 2 µs on each, by its general layout
// machinery.
func parseBasicTime(s string) (time.Time, bool) {
	if len(s) != len(scopeLayout) && len(s) != len(amzDateLayout) {
		return time.Time{}, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[4:6])
	day, ok3 := digits(s[6:8])
	if !ok1 || !ok2 || !ok3 || month < 1 || month > 12 || day < 1 || day > daysIn(time.Month(month), year) {
		return time.Time{}, false
	}
	var hour, min, sec int
	if len(s) == len(amzDateLayout) {
		var ok4, ok5, ok6 bool
		hour, ok4 = digits(s[9:11])
		min, ok5 = digits(s[11:13])
		sec, ok6 = digits(s[13:15])
		if s[8] != 'T' || s[15] != 'Z' || !ok4 || !ok5 || !ok6 || hour > 23 || min > 59 || sec > 59 {
			return time.Time{}, false
		}
	}
	return time.Date(year, time.Month(month), day, hour, min, sec, 0, time.UTC), true
}

// digits is the value of a (short, non-empty) string of ASCII digits.
func digits(s string) (int, bool) {
	n, ok := parseDecimal(s)
	return int(n), ok
}

func daysIn(m time.Month, year int) int {
	if m == time.February {
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	}
	return 30 + int((m+m/8)&1)
}
