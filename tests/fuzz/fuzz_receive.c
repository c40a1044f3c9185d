/*
 * fuzz_receive.c - libFuzzer target for vt_agg_receive(), the aggregator's
 * whole trust boundary: topic, header, registry, epoch key, AEAD, zstd,
 * protobuf and the Batch checks.
 *
 * Input: byte 0 is the length L of a topic that follows (0: the default
 * topic "vitrine/v1/site-1/dev-1/data"), then the MQTT payload. Byte 0 of
 * 0xfe or 0xff instead feeds the rest, as an already opened payload of
 * codec zstd or none, straight to the decoders behind the AEAD, which
 * mutations of a sealed frame almost never reach. The
 * registry holds "dev-1" with the RFC 7748 section 6.1 key of Bob, and the
 * aggregator is Alice, so seeds sealed by the real vt_sealer with Bob's key
 * get past the tag and mutations reach the decoders.
 *
 * Built with -DFUZZ_RECEIVE_GENERATE this file is the seed generator
 * instead: `fuzz_receive_gen DIR` writes the seeds of
 * tests/fuzz/corpus/receive/ into DIR.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "keys.h"
#include "receive.h"

#define FUZZ_DEFAULT_TOPIC "vitrine/v1/site-1/dev-1/data"

#include "fuzz_keys.h"

#ifndef FUZZ_RECEIVE_GENERATE

static struct vt_agg_device fuzz_devices[1];
static struct vt_agg_registry fuzz_reg;
static struct vt_agg_key_cache fuzz_cache;
static struct vt_agg_rx *fuzz_rx;

static void fuzz_setup(void)
{
	snprintf(fuzz_devices[0].id, sizeof(fuzz_devices[0].id), "dev-1");
	memcpy(fuzz_devices[0].pub, fuzz_dev_pub, VT_KEY_LEN);
	memcpy(fuzz_reg.agg_priv, fuzz_agg_priv, VT_KEY_LEN);
	fuzz_reg.devices = fuzz_devices;
	fuzz_reg.n_devices = 1;
	if (vt_agg_rx_new(&fuzz_rx) < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char topic[256];
	struct vt_agg_result res;
	size_t tlen;

	if (!fuzz_rx)
		fuzz_setup();
	if (size < 1)
		return 0;
	if (data[0] >= 0xfe) {
		memset(&res, 0, sizeof(res));
		snprintf(res.hdr.device, sizeof(res.hdr.device), "dev-1");
		snprintf(res.site, sizeof(res.site), "site-1");
		vt_agg_decode_opened(fuzz_rx, data[0] == 0xfe ? VT_FRAME_CODEC_ZSTD : 0, data + 1,
				     size - 1, &res);
		if ((res.reason == VT_AGG_OK) != (res.batch != NULL))
			abort();
		vt_agg_result_clear(&res);
		return 0;
	}
	tlen = data[0];
	if (tlen + 1 > size)
		return 0;
	if (tlen) {
		memcpy(topic, data + 1, tlen);
		topic[tlen] = '\0';
	} else {
		snprintf(topic, sizeof(topic), "%s", FUZZ_DEFAULT_TOPIC);
	}
	/* The payload gets its own exact-size buffer, so ASan sees over-reads. */
	{
		size_t plen = size - 1 - tlen;
		uint8_t *payload = malloc(plen ? plen : 1);

		if (!payload)
			return 0;
		memcpy(payload, data + 1 + tlen, plen);
		vt_agg_receive(topic, payload, plen, &fuzz_reg, &fuzz_cache, fuzz_rx, &res);
		if ((res.reason == VT_AGG_OK) != (res.batch != NULL))
			abort();
		vt_agg_result_clear(&res);
		free(payload);
	}
	return 0;
}

#else /* FUZZ_RECEIVE_GENERATE */

#include <zstd.h>

static const char *gen_dir;
static struct vt_agg_device gen_device;
static struct vt_agg_registry gen_reg;
static struct vt_agg_key_cache gen_cache;
static struct vt_agg_rx *gen_rx;

/* The seeds are only useful if the valid ones are accepted: check. */
static void gen_expect(const char *name, const char *topic, const uint8_t *p, size_t n,
		       enum vt_agg_reason want)
{
	struct vt_agg_result res;
	enum vt_agg_reason got;

	got = vt_agg_receive(topic ? topic : FUZZ_DEFAULT_TOPIC, p, n, &gen_reg, &gen_cache,
			     gen_rx, &res);
	vt_agg_result_clear(&res);
	if (got != want) {
		fprintf(stderr, "seed %s: %s, expected %s\n", name, vt_agg_reason_name(got),
			vt_agg_reason_name(want));
		exit(1);
	}
}

static void gen_write(const char *name, const char *topic, const uint8_t *p, size_t n)
{
	char path[1024];
	size_t tlen = topic ? strlen(topic) : 0;
	uint8_t t = (uint8_t)tlen;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", gen_dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(&t, 1, 1, f) != 1 || fwrite(topic ? topic : "", 1, tlen, f) != tlen ||
	    fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* A seed for the opened-payload mode (mode byte 0xfe zstd, 0xff none). */
static void gen_plain(const char *name, uint8_t mode, const uint8_t *p, size_t n)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", gen_dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(&mode, 1, 1, f) != 1 || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* A Batch with one reading of each kind, packed into buf. */
static size_t gen_batch(const char *site, const char *device, uint8_t *buf)
{
	static uint8_t digest[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	Vitrine__V1__Batch b = VITRINE__V1__BATCH__INIT;
	Vitrine__V1__Reading r[3] = { VITRINE__V1__READING__INIT, VITRINE__V1__READING__INIT,
				      VITRINE__V1__READING__INIT };
	Vitrine__V1__Reading *rp[3] = { &r[0], &r[1], &r[2] };
	Vitrine__V1__Footfall ff = VITRINE__V1__FOOTFALL__INIT;
	Vitrine__V1__TabletEvent te = VITRINE__V1__TABLET_EVENT__INIT;
	Vitrine__V1__RfidRead rf = VITRINE__V1__RFID_READ__INIT;

	ff.door = 1;
	ff.direction = VITRINE__V1__DIRECTION__DIRECTION_IN;
	ff.count = 1;
	te.kiosk = 2;
	te.type = VITRINE__V1__TABLET_EVENT_TYPE__TABLET_EVENT_SCREEN_VIEW;
	te.session_digest.data = digest;
	te.session_digest.len = sizeof(digest);
	te.screen = "home";
	rf.reader = 1;
	rf.antenna = 2;
	rf.rssi_cdbm = -6000;
	rf.gtin = "03012345678901";
	rf.tag_digest.data = digest;
	rf.tag_digest.len = sizeof(digest);
	r[0].kind_case = VITRINE__V1__READING__KIND_FOOTFALL;
	r[0].footfall = &ff;
	r[1].kind_case = VITRINE__V1__READING__KIND_TABLET;
	r[1].tablet = &te;
	r[1].time_offset_ms = 100;
	r[2].kind_case = VITRINE__V1__READING__KIND_RFID;
	r[2].rfid = &rf;
	r[2].time_offset_ms = -100;
	b.site = (char *)site;
	b.device = (char *)device;
	b.base_time_ms = 1714557600000LL;
	b.n_readings = 3;
	b.readings = rp;
	return vitrine__v1__batch__pack(&b, buf);
}

/* A Batch of window cells (anonymous mode), one per metric, packed into
 * buf; bad_metric puts an unknown metric in the last one; part is every
 * cell's release id (0: the field absent, as in the seeds made before it). */
static size_t gen_window_batch(const char *site, const char *device, int bad_metric,
			       uint64_t part, uint8_t *buf)
{
	Vitrine__V1__Batch b = VITRINE__V1__BATCH__INIT;
	Vitrine__V1__Reading r[6];
	Vitrine__V1__Reading *rp[6];
	Vitrine__V1__WindowCount w[6];

	for (int i = 0; i < 6; i++) {
		vitrine__v1__reading__init(&r[i]);
		vitrine__v1__window_count__init(&w[i]);
		w[i].length_s = 3600;
		w[i].metric = (Vitrine__V1__Metric)(i + 1);
		w[i].dim1 = (uint32_t)i;
		w[i].dim2 = i == 0 ? 1 : 0;
		w[i].count = 10 + (uint64_t)i;
		w[i].k = 5;
		w[i].epsilon_milli = i & 1 ? 500 : 0;
		w[i].part = part;
		r[i].kind_case = VITRINE__V1__READING__KIND_WINDOW;
		r[i].window = &w[i];
		r[i].time_offset_ms = -3600000;
		rp[i] = &r[i];
	}
	w[2].label = "home";
	w[3].label = "03012345678901";
	w[4].other = 1;
	w[5].label = "03012345678918";
	if (bad_metric)
		w[5].metric = (Vitrine__V1__Metric)7;
	b.site = (char *)site;
	b.device = (char *)device;
	b.base_time_ms = 1714557600000LL;
	b.n_readings = 6;
	b.readings = rp;
	return vitrine__v1__batch__pack(&b, buf);
}

static void gen_sealed(struct vt_sealer *s, uint64_t seq, int codec, const uint8_t *p,
		       size_t n, const char *name, const char *topic, int flip_last,
		       enum vt_agg_reason want)
{
	uint8_t frame[4096];
	size_t flen;

	if (vt_sealer_seal(s, seq, codec, p, n, frame, sizeof(frame), &flen) != 0) {
		fprintf(stderr, "seal %s failed\n", name);
		exit(1);
	}
	if (flip_last)
		frame[flen - 1] ^= 1;
	gen_expect(name, topic, frame, flen, want);
	gen_write(name, topic, frame, flen);
}

int main(int argc, char **argv)
{
	struct vt_sealer *s = NULL, *other = NULL;
	static uint8_t zeros[5 << 20];
	uint8_t packed[1024], z[2048], bomb[8192], wpacked[1024];
	size_t plen, zlen, blen, wlen;
	uint64_t seq = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	gen_dir = argv[1];
	snprintf(gen_device.id, sizeof(gen_device.id), "dev-1");
	memcpy(gen_device.pub, fuzz_dev_pub, VT_KEY_LEN);
	memcpy(gen_reg.agg_priv, fuzz_agg_priv, VT_KEY_LEN);
	gen_reg.devices = &gen_device;
	gen_reg.n_devices = 1;
	if (vt_agg_rx_new(&gen_rx) < 0)
		return 1;
	if (vt_sealer_new(&s, "dev-1", 1, VT_FRAME_AEAD_CHACHAPOLY, fuzz_dev_priv, fuzz_agg_pub) ||
	    vt_sealer_new(&other, "dev-2", 1, VT_FRAME_AEAD_AESGCM, fuzz_dev_priv, fuzz_agg_pub))
		return 1;
	plen = gen_batch("site-1", "dev-1", packed);
	zlen = ZSTD_compress(z, sizeof(z), packed, plen, 3);
	blen = ZSTD_compress(bomb, sizeof(bomb), zeros, sizeof(zeros), 19);
	if (ZSTD_isError(zlen) || ZSTD_isError(blen))
		return 1;
	gen_sealed(s, seq++, VT_FRAME_CODEC_ZSTD, z, zlen, "valid_zstd", NULL, 0, VT_AGG_OK);
	gen_sealed(s, seq++, 0, packed, plen, "valid_codec_none", NULL, 0, VT_AGG_OK);
	gen_sealed(s, seq++, VT_FRAME_CODEC_ZSTD, z, zlen, "valid_explicit_topic",
		   FUZZ_DEFAULT_TOPIC, 0, VT_AGG_OK);
	gen_sealed(s, seq++, VT_FRAME_CODEC_ZSTD, z, zlen, "bad_tag", NULL, 1, VT_AGG_BAD_TAG);
	gen_sealed(s, seq++, VT_FRAME_CODEC_ZSTD, z, zlen, "topic_other_device",
		   "vitrine/v1/site-1/dev-9/data", 0, VT_AGG_TOPIC_MISMATCH);
	gen_sealed(s, seq++, VT_FRAME_CODEC_ZSTD, z, zlen, "topic_other_site",
		   "vitrine/v1/site-2/dev-1/data", 0, VT_AGG_TOPIC_MISMATCH);
	gen_sealed(s, seq++, VT_FRAME_CODEC_ZSTD, bomb, blen, "zstd_bomb", NULL, 0, VT_AGG_DECODE);
	gen_sealed(s, seq++, VT_FRAME_CODEC_ZSTD, packed, plen, "not_zstd", NULL, 0, VT_AGG_DECODE);
	gen_sealed(other, 1, VT_FRAME_CODEC_ZSTD, z, zlen, "unknown_device",
		   "vitrine/v1/site-1/dev-2/data", 0, VT_AGG_UNKNOWN_DEVICE);
	wlen = gen_window_batch("site-1", "dev-1", 0, 0, wpacked);
	gen_sealed(s, seq++, 0, wpacked, wlen, "valid_windows", NULL, 0, VT_AGG_OK);
	gen_plain("opened_windows", 0xff, wpacked, wlen);
	/* A part beyond 2^63: any 64-bit release id is accepted. */
	wlen = gen_window_batch("site-1", "dev-1", 0, UINT64_MAX - 6, wpacked);
	gen_sealed(s, seq++, 0, wpacked, wlen, "valid_windows_part", NULL, 0, VT_AGG_OK);
	gen_plain("opened_windows_part", 0xff, wpacked, wlen);
	wlen = gen_window_batch("site-1", "dev-1", 1, 0, wpacked);
	gen_sealed(s, seq++, 0, wpacked, wlen, "windows_bad_metric", NULL, 0, VT_AGG_DECODE);
	gen_plain("opened_zstd", 0xfe, z, zlen);
	gen_plain("opened_none", 0xff, packed, plen);
	gen_plain("opened_bomb", 0xfe, bomb, blen);
	gen_write("garbage", NULL, (const uint8_t *)"VT\x01\x00\x05", 5);
	gen_write("empty", NULL, (const uint8_t *)"", 0);
	vt_sealer_free(s);
	vt_sealer_free(other);
	vt_agg_rx_free(gen_rx);
	return 0;
}

#endif
