/*
 * crc32c.h - CRC-32C (Castagnoli), the checksum of spool records.
 *
 * Polynomial 0x1EDC6F41 (reflected 0x82F63B78), initial value and final
 * xor 0xFFFFFFFF, as in RFC 3720 (iSCSI), appendix B.4. Check value:
 * crc32c("123456789") = 0xE3069283.
 */
#ifndef VT_CRC32C_H
#define VT_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continue a CRC over len more bytes; start with crc = 0. */
uint32_t vt_crc32c(uint32_t crc, const void *data, size_t len);

#endif
