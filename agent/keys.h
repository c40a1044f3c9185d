/*
 * keys.h - X25519 key pairs, key files and hex, on mbedTLS.
 *
 * Keys are 32-byte strings in the RFC 7748 encoding (little-endian u
 * coordinate; private scalars are clamped when used). Key files hold one line
 * of 64 lowercase hex digits; private key files are created 0600 and refused
 * when group or others can read them.
 */
#ifndef VT_KEYS_H
#define VT_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define VT_KEY_LEN 32

/* New random key pair. Returns 0 or a negative code. */
int vt_keys_generate(uint8_t priv[VT_KEY_LEN], uint8_t pub[VT_KEY_LEN]);

/* Public key of a private key. */
int vt_keys_public(const uint8_t priv[VT_KEY_LEN], uint8_t pub[VT_KEY_LEN]);

/* X25519(priv, peer_pub) -> shared. Fails (VT_ECRYPTO) on an all-zero result
 * (a low-order peer point). */
int vt_keys_x25519(const uint8_t priv[VT_KEY_LEN], const uint8_t peer_pub[VT_KEY_LEN],
		   uint8_t shared[VT_KEY_LEN]);

/* Hex: out must hold 2*len+1 bytes. Decode accepts upper and lower case and
 * requires exactly 2*len digits; returns 0 or -EINVAL. */
void vt_hex_encode(const uint8_t *in, size_t len, char *out);
int vt_hex_decode(const char *hex, uint8_t *out, size_t len);

/* Key files. load_private refuses (-EPERM) a file readable by group/others.
 * Trailing whitespace is ignored. */
int vt_keys_load(const char *path, uint8_t key[VT_KEY_LEN], int is_private);
int vt_keys_save(const char *path, const uint8_t key[VT_KEY_LEN], int is_private);

/* Wipe secret material (mbedtls_platform_zeroize). */
void vt_keys_wipe(void *p, size_t len);

/* SHA-256 of data[len] (mbedTLS 2 or 3). Returns 0 or mbedTLS's error. */
int vt_keys_sha256(const void *data, size_t len, uint8_t out[32]);

#endif
