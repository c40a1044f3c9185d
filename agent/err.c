/*
 * err.c - words for vitrine's error codes (see err.h).
 */
#include <string.h>

#include "err.h"

static const char *const vt_err_words[] = {
	[VT_ECONFIG - VT_EBASE] = "invalid configuration",
	[VT_EABI - VT_EBASE] = "plugin ABI mismatch",
	[VT_ECRYPTO - VT_EBASE] = "cryptographic operation failed",
	[VT_EAUTH - VT_EBASE] = "authentication failed (bad tag or wrong key)",
	[VT_EFRAME - VT_EBASE] = "malformed frame",
	[VT_EDECODE - VT_EBASE] = "malformed payload",
	[VT_EUNKNOWN_DEVICE - VT_EBASE] = "unknown device",
	[VT_ETOOBIG - VT_EBASE] = "value too large",
	[VT_EFULL - VT_EBASE] = "queue full",
	[VT_EINVAL_READING - VT_EBASE] = "invalid reading",
	[VT_EMQTT - VT_EBASE] = "MQTT error",
	[VT_EDB - VT_EBASE] = "database error",
};

const char *vt_strerror(int code)
{
	int c = code < 0 ? -code : code;

	if (c > VT_EBASE && c < VT_ELAST && vt_err_words[c - VT_EBASE])
		return vt_err_words[c - VT_EBASE];
	if (c > 0 && c < VT_EBASE)
		return strerror(c);
	return c == 0 ? "success" : "unknown error";
}
