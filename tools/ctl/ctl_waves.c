/*
 * ctl_waves.c - the arithmetic of a rollout: how many devices each wave
 * brings the total to, and when a wave's failures stop the rollout.
 *
 * Pure functions, no I/O: ctl_rollout.c runs the waves, the unit tests
 * check the plans.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

/* One entry: "N" (devices) or "P%" (1..100, of members, rounded up).
 * *size receives the total it asks for; *pct whether it was a percentage. */
static int vt_ctl_waves_entry(const char *tok, size_t len, size_t members, size_t *size,
			      int *is_pct)
{
	char num[16];
	uint64_t v;

	*is_pct = len > 0 && tok[len - 1] == '%';
	if (*is_pct)
		len--;
	if (len == 0 || len >= sizeof(num))
		return -1;
	memcpy(num, tok, len);
	num[len] = '\0';
	if (vt_ctl_parse_u64(num, 1, *is_pct ? 100 : 1000000000, &v) < 0)
		return -1;
	if (*is_pct)
		*size = (size_t)((v * members + 99) / 100);
	else
		*size = v < members ? (size_t)v : members;
	return 0;
}

int vt_ctl_waves_plan(const char *spec, size_t members, size_t *totals, int max, char *err,
		      size_t errlen)
{
	const char *p = spec;
	size_t prev = 0;
	int n = 0, last_full = 0;

	for (;;) {
		size_t len = strcspn(p, ","), size;
		int is_pct;

		if (vt_ctl_waves_entry(p, len, members, &size, &is_pct) < 0) {
			snprintf(err, errlen, "wave '%.*s': expected a number of devices (1 or more) or a percentage (1%% to 100%%)",
				 (int)(len > 20 ? 20 : len), p);
			return -1;
		}
		last_full = is_pct && len == 4 && memcmp(p, "100%", 4) == 0;
		if (size > prev) {
			if (n == max) {
				snprintf(err, errlen, "more than %d waves", max);
				return -1;
			}
			totals[n++] = size;
			prev = size;
		}
		p += len;
		if (*p == '\0')
			break;
		p++;
	}
	if (!last_full) {
		snprintf(err, errlen, "the last wave must be 100%% (every member), e.g. 1,10%%,100%%");
		return -1;
	}
	return n;
}

int vt_ctl_waves_too_many(size_t failures, size_t size, uint32_t max_pct)
{
	/* failures / size > max_pct / 100, without division. */
	return size && (unsigned long long)failures * 100 > (unsigned long long)max_pct * size;
}
