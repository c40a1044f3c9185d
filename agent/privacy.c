/*
 * privacy.c - keyed pseudonyms for identifier fields (see privacy.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>

#include "err.h"
#include "privacy.h"

struct vt_privacy {
	mbedtls_md_context_t hmac;	/* keyed once; reset per digest */
};

int vt_privacy_new(struct vt_privacy **out, const uint8_t key[32])
{
	struct vt_privacy *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	mbedtls_md_init(&p->hmac);
	if (mbedtls_md_setup(&p->hmac, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 1) != 0 ||
	    mbedtls_md_hmac_starts(&p->hmac, key, 32) != 0) {
		vt_privacy_free(p);
		return -VT_ECRYPTO;
	}
	*out = p;
	return 0;
}

void vt_privacy_free(struct vt_privacy *p)
{
	if (!p)
		return;
	mbedtls_md_free(&p->hmac);	/* zeroizes the key schedule */
	free(p);
}

static int vt_privacy_digest(struct vt_privacy *p, const char *domain, const void *a,
			     size_t alen, const void *b, size_t blen,
			     uint8_t digest[VT_DIGEST_LEN])
{
	uint8_t full[32];
	int rc = 0;

	if (mbedtls_md_hmac_reset(&p->hmac) != 0 ||
	    mbedtls_md_hmac_update(&p->hmac, (const uint8_t *)domain, strlen(domain) + 1) != 0 ||
	    mbedtls_md_hmac_update(&p->hmac, a, alen) != 0 ||
	    (blen && mbedtls_md_hmac_update(&p->hmac, b, blen) != 0) ||
	    mbedtls_md_hmac_finish(&p->hmac, full) != 0)
		rc = -VT_ECRYPTO;
	memcpy(digest, full, VT_DIGEST_LEN);
	mbedtls_platform_zeroize(full, sizeof(full));
	return rc;
}

static int vt_privacy_tablet(struct vt_privacy *p, const struct vitrine_tablet *in,
			     struct vt_reading *out)
{
	out->u.tablet.kiosk = in->kiosk;
	out->u.tablet.event = in->event;
	memcpy(out->u.tablet.screen, in->screen, sizeof(in->screen));
	memcpy(out->u.tablet.gtin, in->gtin, sizeof(in->gtin));
	out->u.tablet.duration_ms = in->duration_ms;
	return vt_privacy_digest(p, "tablet.session", in->session, strlen(in->session), NULL, 0,
				 out->u.tablet.session_digest);
}

static int vt_privacy_rfid(struct vt_privacy *p, const struct vitrine_rfid *in,
			   struct vt_reading *out)
{
	uint8_t serial_be[8];

	out->u.rfid.reader = in->reader;
	out->u.rfid.antenna = in->antenna;
	out->u.rfid.rssi_cdbm = in->rssi_cdbm;
	memcpy(out->u.rfid.gtin, in->gtin, sizeof(in->gtin));
	out->u.rfid.filter = in->filter;
	for (int i = 0; i < 8; i++)
		serial_be[i] = (uint8_t)(in->serial >> (56 - 8 * i));
	/* The digest covers product and serial: a serial is unique only
	 * within its GTIN. */
	return vt_privacy_digest(p, "rfid.sgtin", in->gtin, strlen(in->gtin), serial_be,
				 sizeof(serial_be), out->u.rfid.tag_digest);
}

int vt_privacy_apply(struct vt_privacy *p, const struct vitrine_reading *in,
		     struct vt_reading *out)
{
	memset(out, 0, sizeof(*out));
	out->kind = in->kind;
	out->time_ms = in->time_ms;
	switch (in->kind) {
	case VITRINE_KIND_FOOTFALL:
		out->u.footfall = in->u.footfall;
		return 0;
	case VITRINE_KIND_TABLET:
		return vt_privacy_tablet(p, &in->u.tablet, out);
	case VITRINE_KIND_RFID:
		return vt_privacy_rfid(p, &in->u.rfid, out);
	}
	return -VT_EINVAL_READING;
}
