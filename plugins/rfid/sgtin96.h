/*
 * plugins/rfid/sgtin96.h - SGTIN-96 EPC codec (GS1 EPC Tag Data Standard).
 *
 * Encodes and decodes the 96-bit binary form of a Serialised GTIN:
 *   header 8 (0x30) | filter 3 | partition 3 | company prefix M | item ref N | serial 38
 * with M + N = 44 split by the partition table, and derives the GTIN-14 that
 * the company prefix and item reference stand for. Pure functions, no
 * allocation, no I/O. It does not handle SGTIN-198 (alphanumeric serials),
 * other EPC schemes or the URI forms.
 */
#ifndef VT_RFID_SGTIN96_H
#define VT_RFID_SGTIN96_H

#include <stdint.h>

#define SGTIN96_HEADER 0x30
#define SGTIN96_EPC_BYTES 12
#define SGTIN96_PARTITIONS 7
#define SGTIN96_SERIAL_MAX ((UINT64_C(1) << 38) - 1)
#define SGTIN96_GTIN_LEN 14

struct sgtin96 {
	uint32_t filter;	  /* 0..7 (1 = point-of-sale item) */
	uint32_t partition;	  /* 0..6: company prefix has 12 - partition digits */
	uint64_t company_prefix;  /* < 10^(12 - partition) */
	uint32_t item_ref;	  /* indicator digit first; < 10^(partition + 1) */
	uint64_t serial;	  /* 0..SGTIN96_SERIAL_MAX */
};

/* Packs s into epc (big-endian, 12 bytes). Returns 0, or -EINVAL (filter or
 * partition out of range) or -ERANGE (a value too large for its field). */
int sgtin96_encode(const struct sgtin96 *s, uint8_t epc[SGTIN96_EPC_BYTES]);

/* Unpacks epc into *s. Returns 0; -EPROTONOSUPPORT when the header is not
 * SGTIN-96; -EINVAL for partition 7; -ERANGE when the company prefix or item
 * reference has more digits than its partition allows. */
int sgtin96_decode(const uint8_t epc[SGTIN96_EPC_BYTES], struct sgtin96 *s);

/* Writes the GTIN-14 of s (14 digits and a NUL) to gtin[15]. 0 or -ERANGE. */
int sgtin96_gtin14(const struct sgtin96 *s, char gtin[SGTIN96_GTIN_LEN + 1]);

/* Fills *s from the decimal company prefix (6..12 digits, leading zeros
 * count) and item reference (13 - prefix digits, indicator digit first).
 * Returns 0 or -EINVAL. */
int sgtin96_from_digits(const char *company_prefix, const char *item_ref,
			uint32_t filter, uint64_t serial, struct sgtin96 *s);

/* GS1 mod-10 check digit of 13 decimal digits: 0..9, or -EINVAL. */
int gtin14_check_digit(const char *digits13);

/* 1 when gtin is exactly 14 digits with a correct check digit, else 0. */
int gtin14_valid(const char *gtin);

#endif /* VT_RFID_SGTIN96_H */
