/*
 * RFC 3339 §5.6 date-time: a strict parser for the times applications assert
 * (occurred_at) and the one fixed form the server writes (received_at).
 * Calendar arithmetic is done here rather than with timegm()/mktime(), whose
 * results depend on the TZ environment and on the C library.
 */
#include <stdint.h>

#include "ledger/entry.h"
#include "ledger/error.h"

#define USEC_PER_SEC INT64_C(1000000)
#define SEC_PER_DAY INT64_C(86400)

/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z, the 4-digit years. */
#define USEC_MIN (INT64_C(-62167219200) * USEC_PER_SEC)
#define USEC_MAX (INT64_C(253402300800) * USEC_PER_SEC - 1)

/*
 * Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil; eras of 400 years make it exact for every year).
 */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil. */
static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int
is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned
days_in_month(int64_t y, unsigned m)
{
	static const unsigned char mdays[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	return m == 2 && is_leap(y) ? 29 : mdays[m - 1];
}

/*
 * Reads exactly n decimal digits.  Stops at the first non-digit, so it never
 * reads past the terminating NUL.
 */
static int
digits(const char **p, int n, unsigned *out)
{
	unsigned v = 0;

	while (n-- > 0) {
		if (**p < '0' || **p > '9')
			return -1;
		v = v * 10 + (unsigned)(**p - '0');
		(*p)++;
	}
	*out = v;
	return 0;
}

static int
expect(const char **p, char c)
{
	if (**p != c)
		return -1;
	(*p)++;
	return 0;
}

int
ledger_time_parse_rfc3339(const char *s, int64_t *usec)
{
	unsigned year, mon, mday, hour, min, sec, oh = 0, om = 0;
	int64_t frac = 0, t;
	int ndigits = 0, sign = 0;
	const char *p = s;

	if (s == NULL)
		return LEDGER_EINVAL;
	/* full-date "T" partial-time, RFC 3339 §5.6 */
	if (digits(&p, 4, &year) || expect(&p, '-') || digits(&p, 2, &mon) ||
	    expect(&p, '-') || digits(&p, 2, &mday) || expect(&p, 'T') ||
	    digits(&p, 2, &hour) || expect(&p, ':') || digits(&p, 2, &min) ||
	    expect(&p, ':') || digits(&p, 2, &sec))
		return LEDGER_EINVAL;
	if (*p == '.') {
		p++;
		/* Digits past the sixth are read (up to nine) but truncated. */
		while (*p >= '0' && *p <= '9') {
			if (++ndigits > 9)
				return LEDGER_EINVAL;
			if (ndigits <= 6)
				frac = frac * 10 + (*p - '0');
			p++;
		}
		if (ndigits == 0)
			return LEDGER_EINVAL;
		for (; ndigits < 6; ndigits++)
			frac *= 10;
	}
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		p++;
		if (digits(&p, 2, &oh) || expect(&p, ':') || digits(&p, 2, &om))
			return LEDGER_EINVAL;
	} else
		return LEDGER_EINVAL;
	if (*p != '\0')
		return LEDGER_EINVAL;

	/* Leap seconds (sec == 60) are refused: see entry.h. */
	if (mon < 1 || mon > 12 || mday < 1 || mday > days_in_month(year, mon) ||
	    hour > 23 || min > 59 || sec > 59 || oh > 23 || om > 59)
		return LEDGER_EINVAL;

	t = days_from_civil(year, mon, mday) * SEC_PER_DAY +
	    hour * 3600 + min * 60 + sec;
	/* local time = UTC + offset, so UTC = local - offset */
	t -= sign * (int64_t)(oh * 3600 + om * 60);
	if (usec != NULL)
		*usec = t * USEC_PER_SEC + frac;
	return LEDGER_OK;
}

/* Writes v as exactly n decimal digits, most significant first. */
static char *
put_digits(char *p, uint64_t v, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + n;
}

void
ledger_time_format(int64_t usec, char out[LEDGER_TIME_LEN + 1])
{
	int64_t secs, frac, days, sod, year;
	unsigned mon, mday;
	char *p = out;

	if (usec < USEC_MIN)
		usec = USEC_MIN;
	if (usec > USEC_MAX)
		usec = USEC_MAX;
	/* Floor division, so that times before 1970 come out right. */
	secs = usec / USEC_PER_SEC;
	frac = usec % USEC_PER_SEC;
	if (frac < 0) {
		frac += USEC_PER_SEC;
		secs--;
	}
	days = secs / SEC_PER_DAY;
	sod = secs % SEC_PER_DAY;
	if (sod < 0) {
		sod += SEC_PER_DAY;
		days--;
	}
	civil_from_days(days, &year, &mon, &mday);

	p = put_digits(p, (uint64_t)year, 4);
	*p++ = '-';
	p = put_digits(p, mon, 2);
	*p++ = '-';
	p = put_digits(p, mday, 2);
	*p++ = 'T';
	p = put_digits(p, (uint64_t)(sod / 3600), 2);
	*p++ = ':';
	p = put_digits(p, (uint64_t)(sod / 60 % 60), 2);
	*p++ = ':';
	p = put_digits(p, (uint64_t)(sod % 60), 2);
	*p++ = '.';
	p = put_digits(p, (uint64_t)frac, 6);
	*p++ = 'Z';
	*p = '\0';
}
