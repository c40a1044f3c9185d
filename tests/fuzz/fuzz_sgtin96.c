/*
 * fuzz_sgtin96.c - libFuzzer target for the rfid plugin's SGTIN-96 codec
 * (plugins/rfid/sgtin96.c). The EPC comes from a UHF reader on the shop
 * floor, so the decoder parses outside input.
 *
 * Input: the first SGTIN96_EPC_BYTES bytes are the EPC (shorter inputs are
 * ignored: the decoder takes exactly 12 bytes, as rfid.c hands it). Any
 * bytes after them are two NUL-separated strings for sgtin96_from_digits(),
 * the path the simulated source and a future product table take.
 *
 * Checked, with abort() on failure:
 * - the decoder's fields equal ones read here independently of its bit
 *   helpers, and its error code is the one the header promises;
 * - a decoded EPC re-encodes to the same 12 bytes;
 * - its GTIN-14 is 14 digits with a correct check digit (computed here, not
 *   with gtin14_check_digit), spells out the prefix and item reference, and
 *   sgtin96_from_digits() of those digits gives the decoded fields back;
 * - anything sgtin96_from_digits() accepts encodes and decodes to itself.
 *
 * What this file does not do: test the rfid plugin's glue (rfid.c) or the
 * simulated source.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/rfid/sgtin96.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_DIGITS_MAX 16

static uint64_t fuzz_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static int fuzz_same(const struct sgtin96 *a, const struct sgtin96 *b)
{
	return a->filter == b->filter && a->partition == b->partition &&
	       a->company_prefix == b->company_prefix && a->item_ref == b->item_ref &&
	       a->serial == b->serial;
}

/* GS1 mod-10 over 13 digits, weights 3,1,3,... from the left, written out
 * again here so that a mistake in gtin14_check_digit() cannot hide itself. */
static int fuzz_check_digit(const char *g)
{
	unsigned sum = 0;

	for (int i = 0; i < 13; i++)
		sum += (unsigned)(g[i] - '0') * (i % 2 ? 1u : 3u);
	return (int)((10 - sum % 10) % 10);
}

static uint64_t fuzz_digits_value(const char *s, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	return v;
}

/* The GTIN-14 of a valid s: shape, check digit, contents, and back again. */
static void fuzz_gtin(const struct sgtin96 *s)
{
	char gtin[SGTIN96_GTIN_LEN + 1];
	char prefix[FUZZ_DIGITS_MAX], item[FUZZ_DIGITS_MAX];
	size_t prefix_digits = 12 - s->partition;
	size_t item_digits = 13 - prefix_digits;
	struct sgtin96 back;

	memset(gtin, 'x', sizeof(gtin));
	if (sgtin96_gtin14(s, gtin) != 0)
		abort();
	if (gtin[SGTIN96_GTIN_LEN] != '\0')
		abort();
	for (int i = 0; i < SGTIN96_GTIN_LEN; i++)
		if (gtin[i] < '0' || gtin[i] > '9')
			abort();
	if (gtin[13] - '0' != fuzz_check_digit(gtin) || !gtin14_valid(gtin))
		abort();

	/* Indicator digit, company prefix, rest of the item reference. */
	memcpy(prefix, gtin + 1, prefix_digits);
	prefix[prefix_digits] = '\0';
	item[0] = gtin[0];
	memcpy(item + 1, gtin + 1 + prefix_digits, item_digits - 1);
	item[item_digits] = '\0';
	if (fuzz_digits_value(prefix, prefix_digits) != s->company_prefix ||
	    fuzz_digits_value(item, item_digits) != s->item_ref)
		abort();
	if (sgtin96_from_digits(prefix, item, s->filter, s->serial, &back) != 0 ||
	    !fuzz_same(&back, s))
		abort();
}

static void fuzz_epc(const uint8_t epc[SGTIN96_EPC_BYTES])
{
	/* TDS table 14-2: bits of the item reference per partition. */
	static const unsigned item_bits[SGTIN96_PARTITIONS] = { 4, 7, 10, 14, 17, 20, 24 };
	struct sgtin96 s, want;
	uint8_t again[SGTIN96_EPC_BYTES];
	uint64_t fields, prefix_max = 1, item_max = 1;
	uint32_t partition = (epc[1] >> 2) & 7;
	int rc = sgtin96_decode(epc, &s);

	if (epc[0] != SGTIN96_HEADER) {
		if (rc != -EPROTONOSUPPORT)
			abort();
		return;
	}
	if (partition >= SGTIN96_PARTITIONS) {
		if (rc != -EINVAL)
			abort();
		return;
	}
	/* Bits 14..57 are company prefix and item reference, 58..95 the serial. */
	fields = (fuzz_be64(epc + 1) >> 14) & ((UINT64_C(1) << 44) - 1);
	want.filter = epc[1] >> 5;
	want.partition = partition;
	want.company_prefix = fields >> item_bits[partition];
	want.item_ref = (uint32_t)(fields & ((UINT64_C(1) << item_bits[partition]) - 1));
	want.serial = fuzz_be64(epc + 4) & SGTIN96_SERIAL_MAX;
	for (uint32_t i = 0; i < 12 - partition; i++)
		prefix_max *= 10;
	for (uint32_t i = 0; i < partition + 1; i++)
		item_max *= 10;
	if (want.company_prefix >= prefix_max || want.item_ref >= item_max) {
		if (rc != -ERANGE)
			abort();
		return;
	}
	if (rc != 0 || !fuzz_same(&s, &want))
		abort();
	if (sgtin96_encode(&s, again) != 0 || memcmp(again, epc, SGTIN96_EPC_BYTES) != 0)
		abort();
	fuzz_gtin(&s);
}

static int fuzz_all_digits(const char *str)
{
	for (; *str; str++)
		if (*str < '0' || *str > '9')
			return 0;
	return 1;
}

/* sgtin96_from_digits() on two strings from the input. Filter and serial
 * are the EPC's fields with one more bit each (bits 8..11, 57..95), so that
 * values just past their limits come up as often as valid ones. */
static void fuzz_from_digits(const uint8_t epc[SGTIN96_EPC_BYTES], const uint8_t *rest,
			     size_t rest_len)
{
	uint32_t filter = epc[1] >> 4;
	uint64_t serial = fuzz_be64(epc + 4) & ((SGTIN96_SERIAL_MAX << 1) | 1);
	char *prefix = malloc(rest_len + 1);
	const char *item;
	size_t prefix_len;
	struct sgtin96 s, back;
	uint8_t epc_out[SGTIN96_EPC_BYTES];
	int valid, rc;

	if (!prefix)
		return;
	/* Exactly the input and one NUL, so ASan sees a read past either string. */
	memcpy(prefix, rest, rest_len);
	prefix[rest_len] = '\0';
	prefix_len = strlen(prefix);
	item = prefix_len < rest_len ? prefix + prefix_len + 1 : prefix + rest_len;
	valid = prefix_len >= 6 && prefix_len <= 12 && fuzz_all_digits(prefix) &&
		strlen(item) == 13 - prefix_len && fuzz_all_digits(item) && filter <= 7 &&
		serial <= SGTIN96_SERIAL_MAX;
	rc = sgtin96_from_digits(prefix, item, filter, serial, &s);
	if (rc != (valid ? 0 : -EINVAL))
		abort();
	if (valid) {
		if (s.filter != filter || s.serial != serial ||
		    s.partition != 12 - prefix_len ||
		    s.company_prefix != fuzz_digits_value(prefix, prefix_len) ||
		    s.item_ref != fuzz_digits_value(item, 13 - prefix_len))
			abort();
		if (sgtin96_encode(&s, epc_out) != 0 || sgtin96_decode(epc_out, &back) != 0 ||
		    !fuzz_same(&back, &s))
			abort();
		fuzz_gtin(&s);
	}
	free(prefix);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *epc;

	if (size < SGTIN96_EPC_BYTES)
		return 0;
	/* A copy of exactly 12 bytes, so ASan sees the decoder read past it. */
	epc = malloc(SGTIN96_EPC_BYTES);
	if (!epc)
		return 0;
	memcpy(epc, data, SGTIN96_EPC_BYTES);
	fuzz_epc(epc);
	if (size > SGTIN96_EPC_BYTES)
		fuzz_from_digits(epc, data + SGTIN96_EPC_BYTES, size - SGTIN96_EPC_BYTES);
	free(epc);
	return 0;
}
