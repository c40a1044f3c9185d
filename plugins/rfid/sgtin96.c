/*
 * plugins/rfid/sgtin96.c - SGTIN-96 EPC codec (GS1 EPC Tag Data Standard).
 *
 * Bit layout and partition table as in TDS section 14 (SGTIN-96). Values are
 * range-checked against the number of decimal digits each field stands for,
 * not only against its bit width: 40 bits can hold more than 12 digits, and a
 * tag carrying such a value is not a valid SGTIN. This file knows nothing of
 * readers, antennas or the agent.
 */
#include "sgtin96.h"

#include <errno.h>
#include <string.h>

#define SGTIN96_POS_FILTER 8
#define SGTIN96_POS_PARTITION 11
#define SGTIN96_POS_PREFIX 14
#define SGTIN96_POS_SERIAL 58

struct sgtin96_split {
	uint8_t prefix_bits;
	uint8_t prefix_digits;
	uint8_t item_bits;
	uint8_t item_digits;
};

static const struct sgtin96_split sgtin96_table[SGTIN96_PARTITIONS] = {
	{ 40, 12, 4, 1 },  { 37, 11, 7, 2 },  { 34, 10, 10, 3 }, { 30, 9, 14, 4 },
	{ 27, 8, 17, 5 },  { 24, 7, 20, 6 },  { 20, 6, 24, 7 },
};

static uint64_t pow10_u64(unsigned n)
{
	uint64_t v = 1;

	while (n--)
		v *= 10;
	return v;
}

/* Big-endian bit field access over the 12-byte EPC. */
static void bits_put(uint8_t *buf, unsigned pos, unsigned width, uint64_t v)
{
	for (unsigned i = 0; i < width; i++) {
		unsigned bit = pos + i;
		uint8_t mask = (uint8_t)(0x80u >> (bit % 8));

		if ((v >> (width - 1 - i)) & 1)
			buf[bit / 8] |= mask;
		else
			buf[bit / 8] &= (uint8_t)~mask;
	}
}

static uint64_t bits_get(const uint8_t *buf, unsigned pos, unsigned width)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < width; i++) {
		unsigned bit = pos + i;

		v = (v << 1) | ((buf[bit / 8] >> (7 - bit % 8)) & 1);
	}
	return v;
}

static int sgtin96_check(const struct sgtin96 *s)
{
	const struct sgtin96_split *sp;

	if (s->filter > 7 || s->partition >= SGTIN96_PARTITIONS)
		return -EINVAL;
	sp = &sgtin96_table[s->partition];
	if (s->company_prefix >= pow10_u64(sp->prefix_digits) ||
	    s->item_ref >= pow10_u64(sp->item_digits) ||
	    s->serial > SGTIN96_SERIAL_MAX)
		return -ERANGE;
	return 0;
}

int sgtin96_encode(const struct sgtin96 *s, uint8_t epc[SGTIN96_EPC_BYTES])
{
	const struct sgtin96_split *sp;
	int rc = sgtin96_check(s);

	if (rc)
		return rc;
	sp = &sgtin96_table[s->partition];
	memset(epc, 0, SGTIN96_EPC_BYTES);
	epc[0] = SGTIN96_HEADER;
	bits_put(epc, SGTIN96_POS_FILTER, 3, s->filter);
	bits_put(epc, SGTIN96_POS_PARTITION, 3, s->partition);
	bits_put(epc, SGTIN96_POS_PREFIX, sp->prefix_bits, s->company_prefix);
	bits_put(epc, SGTIN96_POS_PREFIX + sp->prefix_bits, sp->item_bits,
		 s->item_ref);
	bits_put(epc, SGTIN96_POS_SERIAL, 38, s->serial);
	return 0;
}

int sgtin96_decode(const uint8_t epc[SGTIN96_EPC_BYTES], struct sgtin96 *s)
{
	const struct sgtin96_split *sp;
	struct sgtin96 d;

	if (epc[0] != SGTIN96_HEADER)
		return -EPROTONOSUPPORT;
	d.filter = (uint32_t)bits_get(epc, SGTIN96_POS_FILTER, 3);
	d.partition = (uint32_t)bits_get(epc, SGTIN96_POS_PARTITION, 3);
	if (d.partition >= SGTIN96_PARTITIONS)
		return -EINVAL;
	sp = &sgtin96_table[d.partition];
	d.company_prefix = bits_get(epc, SGTIN96_POS_PREFIX, sp->prefix_bits);
	d.item_ref = (uint32_t)bits_get(epc, SGTIN96_POS_PREFIX + sp->prefix_bits,
					sp->item_bits);
	d.serial = bits_get(epc, SGTIN96_POS_SERIAL, 38);
	if (sgtin96_check(&d))
		return -ERANGE;
	*s = d;
	return 0;
}

int gtin14_check_digit(const char *digits13)
{
	unsigned sum = 0;

	for (int i = 0; i < 13; i++) {
		if (digits13[i] < '0' || digits13[i] > '9')
			return -EINVAL;
		/* Weight 3 on the digit next to the check digit, then alternate. */
		sum += (unsigned)(digits13[i] - '0') * (i % 2 == 0 ? 3 : 1);
	}
	return (int)((10 - sum % 10) % 10);
}

int gtin14_valid(const char *gtin)
{
	int check;

	if (strlen(gtin) != SGTIN96_GTIN_LEN)
		return 0;
	check = gtin14_check_digit(gtin);
	return check >= 0 && gtin[13] == '0' + check;
}

/* Writes v as exactly n decimal digits, zero-padded, without a NUL. */
static void put_digits(char *out, unsigned n, uint64_t v)
{
	while (n--) {
		out[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

int sgtin96_gtin14(const struct sgtin96 *s, char gtin[SGTIN96_GTIN_LEN + 1])
{
	const struct sgtin96_split *sp;
	char item[8];

	if (sgtin96_check(s))
		return -ERANGE;
	sp = &sgtin96_table[s->partition];
	put_digits(item, sp->item_digits, s->item_ref);
	/* Indicator digit, company prefix, rest of the item reference. */
	gtin[0] = item[0];
	put_digits(gtin + 1, sp->prefix_digits, s->company_prefix);
	memcpy(gtin + 1 + sp->prefix_digits, item + 1, sp->item_digits - 1u);
	gtin[13] = (char)('0' + gtin14_check_digit(gtin));
	gtin[14] = '\0';
	return 0;
}

static int digits_value(const char *str, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (strlen(str) != len)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (str[i] < '0' || str[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(str[i] - '0');
	}
	*out = v;
	return 0;
}

int sgtin96_from_digits(const char *company_prefix, const char *item_ref,
			uint32_t filter, uint64_t serial, struct sgtin96 *s)
{
	size_t prefix_len = strlen(company_prefix);
	uint64_t prefix, item;

	if (prefix_len < 6 || prefix_len > 12)
		return -EINVAL;
	if (digits_value(company_prefix, prefix_len, &prefix) ||
	    digits_value(item_ref, 13 - prefix_len, &item))
		return -EINVAL;
	s->filter = filter;
	s->partition = (uint32_t)(12 - prefix_len);
	s->company_prefix = prefix;
	s->item_ref = (uint32_t)item;
	s->serial = serial;
	return sgtin96_check(s) ? -EINVAL : 0;
}
