/*
 * optout.h - the opt-out list: tagged items whose owners asked not to be
 * counted (docs/PRIVACY.md R12).
 *
 * The file (privacy_optout) lists one item per line in the GS1 element
 * string form printed on labels, `(01)<GTIN-14>(21)<serial>`; blank lines
 * and '#' comments are ignored. At load each entry is replaced by a 128-bit
 * HMAC under a key of its own (drawn at start, RAM only) and the text is
 * wiped, so the agent's memory holds no list of raw identifiers. A read is
 * matched by the same HMAC before any other privacy step, and dropped.
 */
#ifndef VT_OPTOUT_H
#define VT_OPTOUT_H

#include <stddef.h>
#include <stdint.h>

#define VT_OPTOUT_MAX_ENTRIES 100000
#define VT_OPTOUT_MAX_BYTES (4u << 20)

struct vt_optout;

/* Load path (NULL: an empty list). On error returns VT_ECONFIG (or -errno)
 * with "path:line: ..." in err. Free with vt_optout_free(). */
int vt_optout_load(struct vt_optout **out, const char *path, char *err, size_t errlen);
void vt_optout_free(struct vt_optout *o);

/* 1 when the item (GTIN-14 digits, SGTIN serial) is on the list, 0 when
 * not, negative on a crypto failure. */
int vt_optout_match_sgtin(struct vt_optout *o, const char *gtin, uint64_t serial);

size_t vt_optout_count(const struct vt_optout *o);

/* 1 when the list's key is locked in RAM. */
int vt_optout_locked(const struct vt_optout *o);

/* The check digit of a GTIN's first 13 digits (GS1 General Specifications,
 * section 7.9: weights 3,1,3,... from the right), '0'..'9'. */
char vt_optout_gtin_check_digit(const char *gtin13);

#endif
