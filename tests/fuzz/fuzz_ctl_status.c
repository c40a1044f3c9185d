/*
 * fuzz_ctl_status.c - libFuzzer target for vitrine-ctl's reader of status
 * documents (vt_ctl_status_parse, with cJSON): what any device, or anyone
 * able to publish on the broker, retains on vitrine/v1/<site>/<device>/status.
 * Any input must parse (as a status, or as "bad"); every text vitrine-ctl
 * then prints for it (the CONFIG and ALERTS columns, the version, groups,
 * plugin names and states) must be printable ASCII, so that a hostile
 * status cannot send escape sequences to an operator's terminal.
 *
 * Seeds: tests/fuzz/corpus/ctl_status/, status documents as the agent
 * writes them (online, offline, with fleet outcomes).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_ctl_printable(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	if (n == cap)
		abort();	/* not terminated */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vt_ctl_status s;
	char buf[1024];

	memset(&s, 0, sizeof(s));
	strcpy(s.site, "s1");
	strcpy(s.device, "d1");
	if (vt_ctl_status_parse(&s, (const char *)data, size) < 0)
		return 0;
	vt_ctl_status_alerts(&s, buf, sizeof(buf));
	fuzz_ctl_printable(buf, sizeof(buf));
	vt_ctl_status_config(&s, buf, sizeof(buf));
	fuzz_ctl_printable(buf, sizeof(buf));
	fuzz_ctl_printable(s.version, sizeof(s.version));
	fuzz_ctl_printable(s.state_word, sizeof(s.state_word));
	fuzz_ctl_printable(s.last.reason, sizeof(s.last.reason));
	fuzz_ctl_printable(s.last.outcome, sizeof(s.last.outcome));
	for (int i = 0; i < s.n_groups; i++)
		fuzz_ctl_printable(s.groups[i], sizeof(s.groups[i]));
	for (int i = 0; i < s.n_plugins; i++) {
		fuzz_ctl_printable(s.plugins[i].name, sizeof(s.plugins[i].name));
		fuzz_ctl_printable(s.plugins[i].state, sizeof(s.plugins[i].state));
	}
	(void)vt_ctl_status_in_group(&s, "pilot");
	vt_ctl_status_clear(&s);
	return 0;
}
