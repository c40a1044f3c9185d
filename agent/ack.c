/*
 * ack.c - end-to-end acknowledgment messages and their MAC (ack.h).
 */
#include <string.h>

#include <mbedtls/constant_time.h>
#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>

#include "ack.h"
#include "be.h"
#include "err.h"
#include "frame.h"

#define VT_ACK_INFO "vitrine ack v1"
#define VT_ACK_SIGNED 11	/* bytes covered by the MAC, after the topic */
#define VT_ACK_MAC_LEN 16

int vt_ack_key(const uint8_t priv[VT_KEY_LEN], const uint8_t peer_pub[VT_KEY_LEN],
	       const char *device, uint8_t key[VT_KEY_LEN])
{
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	uint8_t shared[VT_KEY_LEN];
	int rc;

	if (!vt_frame_id_valid(device))
		return -VT_EFRAME;
	rc = vt_keys_x25519(priv, peer_pub, shared);
	if (rc == 0 && (!md || mbedtls_hkdf(md, (const unsigned char *)device, strlen(device),
					    shared, sizeof(shared),
					    (const unsigned char *)VT_ACK_INFO,
					    sizeof(VT_ACK_INFO) - 1, key, VT_KEY_LEN) != 0))
		rc = -VT_ECRYPTO;
	mbedtls_platform_zeroize(shared, sizeof(shared));
	return rc;
}

/* HMAC-SHA256(key, topic || 0 || head), truncated. */
static void vt_ack_mac(const uint8_t key[VT_KEY_LEN], const char *topic, const uint8_t *head,
		       uint8_t mac[VT_ACK_MAC_LEN])
{
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	mbedtls_md_context_t ctx;
	uint8_t full[32] = { 0 };
	static const uint8_t zero;

	mbedtls_md_init(&ctx);
	if (md && mbedtls_md_setup(&ctx, md, 1) == 0 &&
	    mbedtls_md_hmac_starts(&ctx, key, VT_KEY_LEN) == 0 &&
	    mbedtls_md_hmac_update(&ctx, (const unsigned char *)topic, strlen(topic)) == 0 &&
	    mbedtls_md_hmac_update(&ctx, &zero, 1) == 0 &&
	    mbedtls_md_hmac_update(&ctx, head, VT_ACK_SIGNED) == 0)
		mbedtls_md_hmac_finish(&ctx, full);
	mbedtls_md_free(&ctx);
	/* On a (never seen) library failure the MAC is all zeros: it then
	 * verifies nothing real, since the other side computes a real one. */
	memcpy(mac, full, VT_ACK_MAC_LEN);
	mbedtls_platform_zeroize(full, sizeof(full));
}

void vt_ack_encode(const uint8_t key[VT_KEY_LEN], const char *topic, uint64_t seq,
		   uint8_t out[VT_ACK_LEN])
{
	out[0] = 'V';
	out[1] = 'A';
	out[2] = 1;
	vt_put_be64(out + 3, seq);
	vt_ack_mac(key, topic, out, out + VT_ACK_SIGNED);
}

int vt_ack_decode(const uint8_t key[VT_KEY_LEN], const char *topic, const uint8_t *msg,
		  size_t len, uint64_t *seq)
{
	uint8_t mac[VT_ACK_MAC_LEN];

	if (len != VT_ACK_LEN || msg[0] != 'V' || msg[1] != 'A' || msg[2] != 1)
		return -VT_EDECODE;
	vt_ack_mac(key, topic, msg, mac);
	if (mbedtls_ct_memcmp(mac, msg + VT_ACK_SIGNED, VT_ACK_MAC_LEN) != 0)
		return -VT_EAUTH;
	*seq = vt_get_be64(msg + 3);
	return 0;
}
