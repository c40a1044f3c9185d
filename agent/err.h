/*
 * err.h - vitrine's error codes and vt_strerror().
 *
 * Every function that can fail returns 0 or a negative code: either a negated
 * errno value (-ENOENT, -ENOMEM...) or one of the VT_E* codes below, which sit
 * far outside errno's range. vt_strerror() turns either into words.
 */
#ifndef VT_ERR_H
#define VT_ERR_H

enum vt_err {
	VT_EBASE = 10000,
	VT_ECONFIG,	/* configuration invalid */
	VT_EABI,	/* plugin ABI mismatch */
	VT_ECRYPTO,	/* a crypto primitive failed */
	VT_EAUTH,	/* frame authentication failed (bad tag) */
	VT_EFRAME,	/* malformed frame header */
	VT_EDECODE,	/* malformed payload (zstd or protobuf) */
	VT_EUNKNOWN_DEVICE, /* device not registered at the aggregator */
	VT_ETOOBIG,	/* value exceeds a configured or protocol bound */
	VT_EFULL,	/* a bounded queue is full */
	VT_EINVAL_READING, /* a plugin emitted an invalid reading */
	VT_EMQTT,	/* the MQTT library reported an error */
	VT_EDB,		/* the database reported an error */
	VT_ELAST
};

/* Words for a code returned by any vt_ function (negative), never NULL. */
const char *vt_strerror(int code);

#endif
