/*
 * sigkey.h - the ops signing keys of fleet bundles: ECDSA P-256 on mbedTLS.
 *
 * An ops team signs bundles with a private key that never leaves its
 * machine; devices hold only public keys (fleet_ops_key in agent.conf).
 * Key files are PEM ("EC PRIVATE KEY" / "PUBLIC KEY"), so that openssl reads
 * them too (`openssl ec -in ops.key -text`). A private key file is created
 * 0600 and refused when group or others may read it.
 *
 * Signatures are deterministic ECDSA (RFC 6979) over SHA-256, carried as
 * r || s, 32 bytes each. A key is named on the wire by its id: the first 8
 * bytes of SHA-256 of the uncompressed public point (0x04 || X || Y).
 */
#ifndef VT_SIGKEY_H
#define VT_SIGKEY_H

#include <stddef.h>
#include <stdint.h>

#define VT_SIGKEY_ID_LEN 8
#define VT_SIGKEY_SIG_LEN 64

struct vt_sigkey;

/* A new random key pair. Returns 0 or a negative code. */
int vt_sigkey_generate(struct vt_sigkey **out);

/* Load a PEM file: a private key (is_private, refused with -EPERM when
 * group or others may read it) or a public key (a private key file is
 * accepted there too, and only its public half is kept). Errors are
 * written to err with the path. */
int vt_sigkey_load(const char *path, int is_private, struct vt_sigkey **out, char *err,
		   size_t errlen);

/* Write the private key (0600, refusing to replace an existing file) and
 * the public key (0644) as PEM. */
int vt_sigkey_save(const struct vt_sigkey *k, const char *priv_path, const char *pub_path);

void vt_sigkey_free(struct vt_sigkey *k);

void vt_sigkey_id(const struct vt_sigkey *k, uint8_t id[VT_SIGKEY_ID_LEN]);

/* Sign SHA-256(msg). The key must be private. */
int vt_sigkey_sign(const struct vt_sigkey *k, const uint8_t *msg, size_t len,
		   uint8_t sig[VT_SIGKEY_SIG_LEN]);

/* 0 when sig is k's signature of msg, VT_EAUTH otherwise. */
int vt_sigkey_verify(const struct vt_sigkey *k, const uint8_t *msg, size_t len,
		     const uint8_t sig[VT_SIGKEY_SIG_LEN]);

#endif
