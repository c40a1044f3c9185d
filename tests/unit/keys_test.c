/*
 * keys_test.c - X25519 against RFC 7748, hex, key files and wiping (keys.c).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "err.h"
#include "keys.h"
#include "vt_os.h"
#include "vt_test.h"

/* RFC 7748 section 6.1. */
static const char alice_priv_hex[] =
	"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
static const char alice_pub_hex[] =
	"8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
static const char bob_priv_hex[] =
	"5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
static const char bob_pub_hex[] =
	"de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
static const char shared_hex[] =
	"4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

static int key_from_hex(const char *hex, uint8_t key[VT_KEY_LEN])
{
	return vt_hex_decode(hex, key, VT_KEY_LEN) == 0;
}

static int key_equals_hex(const uint8_t key[VT_KEY_LEN], const char *hex)
{
	char got[2 * VT_KEY_LEN + 1];

	vt_hex_encode(key, VT_KEY_LEN, got);
	return strcmp(got, hex) == 0;
}

static int is_zero(const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		if (b[i])
			return 0;
	return 1;
}

static void tmp_path(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", vt_test_tmpdir(), name);
}

VT_TEST(x25519_public_keys_match_rfc7748_vectors)
{
	uint8_t priv[VT_KEY_LEN], pub[VT_KEY_LEN];

	CHECK(key_from_hex(alice_priv_hex, priv));
	CHECK_EQ_INT(vt_keys_public(priv, pub), 0);
	CHECK(key_equals_hex(pub, alice_pub_hex));
	CHECK(key_from_hex(bob_priv_hex, priv));
	CHECK_EQ_INT(vt_keys_public(priv, pub), 0);
	CHECK(key_equals_hex(pub, bob_pub_hex));
}

VT_TEST(x25519_shared_secret_matches_rfc7748_vector_both_ways)
{
	uint8_t priv[VT_KEY_LEN], peer[VT_KEY_LEN], shared[VT_KEY_LEN];

	CHECK(key_from_hex(alice_priv_hex, priv));
	CHECK(key_from_hex(bob_pub_hex, peer));
	CHECK_EQ_INT(vt_keys_x25519(priv, peer, shared), 0);
	CHECK(key_equals_hex(shared, shared_hex));
	CHECK(key_from_hex(bob_priv_hex, priv));
	CHECK(key_from_hex(alice_pub_hex, peer));
	CHECK_EQ_INT(vt_keys_x25519(priv, peer, shared), 0);
	CHECK(key_equals_hex(shared, shared_hex));
}

/* RFC 7748 section 5.2: unclamped scalars, and a u with bit 255 set that
 * must be masked rather than rejected. */
VT_TEST(x25519_clamps_scalar_and_masks_u_per_rfc7748_section_5_2)
{
	uint8_t k[VT_KEY_LEN], u[VT_KEY_LEN], out[VT_KEY_LEN];

	CHECK(key_from_hex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4", k));
	CHECK(key_from_hex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c", u));
	CHECK_EQ_INT(vt_keys_x25519(k, u, out), 0);
	CHECK(key_equals_hex(out,
			     "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"));
	CHECK(key_from_hex("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d", k));
	CHECK(key_from_hex("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493", u));
	CHECK_EQ_INT(vt_keys_x25519(k, u, out), 0);
	CHECK(key_equals_hex(out,
			     "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"));
}

VT_TEST(x25519_rejects_low_order_peer_points)
{
	uint8_t priv[VT_KEY_LEN], peer[VT_KEY_LEN], shared[VT_KEY_LEN];

	CHECK(key_from_hex(alice_priv_hex, priv));
	memset(peer, 0, sizeof(peer)); /* u = 0 */
	CHECK_EQ_INT(vt_keys_x25519(priv, peer, shared), -VT_ECRYPTO);
	CHECK(is_zero(shared, sizeof(shared)));
	peer[0] = 1; /* u = 1 */
	CHECK_EQ_INT(vt_keys_x25519(priv, peer, shared), -VT_ECRYPTO);
	/* u = p - 1 = 2^255 - 20 */
	memset(peer, 0xff, sizeof(peer));
	peer[0] = 0xec;
	peer[31] = 0x7f;
	CHECK_EQ_INT(vt_keys_x25519(priv, peer, shared), -VT_ECRYPTO);
}

VT_TEST(generated_key_pairs_agree_and_differ)
{
	uint8_t a_priv[VT_KEY_LEN], a_pub[VT_KEY_LEN], b_priv[VT_KEY_LEN], b_pub[VT_KEY_LEN];
	uint8_t ab[VT_KEY_LEN], ba[VT_KEY_LEN], pub[VT_KEY_LEN];

	CHECK_EQ_INT(vt_keys_generate(a_priv, a_pub), 0);
	CHECK_EQ_INT(vt_keys_generate(b_priv, b_pub), 0);
	CHECK(memcmp(a_priv, b_priv, VT_KEY_LEN) != 0);
	CHECK(memcmp(a_pub, b_pub, VT_KEY_LEN) != 0);
	CHECK_EQ_INT(vt_keys_public(a_priv, pub), 0);
	CHECK(memcmp(pub, a_pub, VT_KEY_LEN) == 0);
	CHECK_EQ_INT(vt_keys_x25519(a_priv, b_pub, ab), 0);
	CHECK_EQ_INT(vt_keys_x25519(b_priv, a_pub, ba), 0);
	CHECK(memcmp(ab, ba, VT_KEY_LEN) == 0);
}

VT_TEST(hex_round_trips_and_encodes_lowercase)
{
	uint8_t in[4] = { 0x00, 0xab, 0x7f, 0xff }, back[4];
	char hex[9];

	vt_hex_encode(in, sizeof(in), hex);
	CHECK_STR(hex, "00ab7fff");
	CHECK_EQ_INT(vt_hex_decode(hex, back, sizeof(back)), 0);
	CHECK(memcmp(in, back, sizeof(in)) == 0);
	CHECK_EQ_INT(vt_hex_decode("00AB7FFF", back, sizeof(back)), 0);
	CHECK(memcmp(in, back, sizeof(in)) == 0);
}

VT_TEST(hex_decode_rejects_bad_digits_and_wrong_length)
{
	uint8_t out[4];

	CHECK_EQ_INT(vt_hex_decode("00ab7ff", out, sizeof(out)), -EINVAL);
	CHECK_EQ_INT(vt_hex_decode("00ab7fff0", out, sizeof(out)), -EINVAL);
	CHECK_EQ_INT(vt_hex_decode("00ab7ffg", out, sizeof(out)), -EINVAL);
	CHECK_EQ_INT(vt_hex_decode("0xab7fff", out, sizeof(out)), -EINVAL);
	CHECK_EQ_INT(vt_hex_decode(" 0ab7fff", out, sizeof(out)), -EINVAL);
	CHECK_EQ_INT(vt_hex_decode("", out, sizeof(out)), -EINVAL);
}

VT_TEST(hex_decode_failure_leaves_no_partial_key)
{
	uint8_t out[4];

	memset(out, 0x55, sizeof(out));
	CHECK_EQ_INT(vt_hex_decode("1122zz44", out, sizeof(out)), -EINVAL);
	CHECK(is_zero(out, sizeof(out)));
}

VT_TEST(key_files_round_trip_with_private_mode_0600)
{
	uint8_t priv[VT_KEY_LEN], pub[VT_KEY_LEN], back[VT_KEY_LEN];
	char priv_path[300], pub_path[300];
	struct stat st;

	tmp_path(priv_path, sizeof(priv_path), "device.key");
	tmp_path(pub_path, sizeof(pub_path), "device.pub");
	CHECK_EQ_INT(vt_keys_generate(priv, pub), 0);
	CHECK_EQ_INT(vt_keys_save(priv_path, priv, 1), 0);
	CHECK_EQ_INT(vt_keys_save(pub_path, pub, 0), 0);
	CHECK_EQ_INT(stat(priv_path, &st), 0);
	CHECK_EQ_INT(st.st_mode & 0777, 0600);
	CHECK_EQ_INT(vt_keys_load(priv_path, back, 1), 0);
	CHECK(memcmp(back, priv, VT_KEY_LEN) == 0);
	CHECK_EQ_INT(vt_keys_load(pub_path, back, 0), 0);
	CHECK(memcmp(back, pub, VT_KEY_LEN) == 0);
}

VT_TEST(key_file_is_one_line_of_lowercase_hex)
{
	uint8_t key[VT_KEY_LEN];
	char path[300], *text = NULL;
	size_t len = 0;

	tmp_path(path, sizeof(path), "alice.pub");
	CHECK(key_from_hex(alice_pub_hex, key));
	CHECK_EQ_INT(vt_keys_save(path, key, 0), 0);
	CHECK_EQ_INT(vt_os_read_file(path, 1024, &text, &len), 0);
	CHECK_EQ_INT(len, 65);
	CHECK(strncmp(text, alice_pub_hex, 64) == 0 && text[64] == '\n');
	free(text);
}

VT_TEST(key_file_load_ignores_trailing_whitespace_and_rejects_junk)
{
	static const char padded[] =
		"8520F0098930A754748B7DDCB43EF75A0DBF3A0D26381AF4EBA4A98EAA9B4E6A \r\n\n";
	static const char short_key[] = "8520f0098930a754748b7ddcb43ef75a\n";
	static const char leading[] =
		" 8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a\n";
	uint8_t key[VT_KEY_LEN];
	char path[300];

	tmp_path(path, sizeof(path), "peer.pub");
	CHECK_EQ_INT(vt_os_write_file_atomic(path, padded, strlen(padded), 0644), 0);
	CHECK_EQ_INT(vt_keys_load(path, key, 0), 0);
	CHECK(key_equals_hex(key, alice_pub_hex));
	CHECK_EQ_INT(vt_os_write_file_atomic(path, short_key, strlen(short_key), 0644), 0);
	CHECK_EQ_INT(vt_keys_load(path, key, 0), -EINVAL);
	CHECK_EQ_INT(vt_os_write_file_atomic(path, leading, strlen(leading), 0644), 0);
	CHECK_EQ_INT(vt_keys_load(path, key, 0), -EINVAL);
}

VT_TEST(private_key_file_readable_by_others_is_refused)
{
	uint8_t priv[VT_KEY_LEN], back[VT_KEY_LEN];
	char path[300];

	tmp_path(path, sizeof(path), "loose.key");
	CHECK(key_from_hex(alice_priv_hex, priv));
	CHECK_EQ_INT(vt_keys_save(path, priv, 1), 0);
	CHECK_EQ_INT(chmod(path, 0644), 0);
	CHECK_EQ_INT(vt_keys_load(path, back, 1), -EPERM);
	CHECK_EQ_INT(chmod(path, 0640), 0);
	CHECK_EQ_INT(vt_keys_load(path, back, 1), -EPERM);
	CHECK_EQ_INT(chmod(path, 0602), 0);
	CHECK_EQ_INT(vt_keys_load(path, back, 1), -EPERM);
	/* The same file is fine as a public key, and as a private one at 0400. */
	CHECK_EQ_INT(vt_keys_load(path, back, 0), 0);
	CHECK_EQ_INT(chmod(path, 0400), 0);
	CHECK_EQ_INT(vt_keys_load(path, back, 1), 0);
	CHECK(memcmp(back, priv, VT_KEY_LEN) == 0);
}

VT_TEST(missing_key_file_reports_enoent)
{
	uint8_t key[VT_KEY_LEN];
	char path[300];

	tmp_path(path, sizeof(path), "absent.key");
	CHECK_EQ_INT(vt_keys_load(path, key, 1), -ENOENT);
	CHECK_EQ_INT(vt_keys_load(path, key, 0), -ENOENT);
}

VT_TEST(wipe_zeroes_the_buffer)
{
	uint8_t secret[VT_KEY_LEN];

	memset(secret, 0xa5, sizeof(secret));
	vt_keys_wipe(secret, sizeof(secret));
	CHECK(is_zero(secret, sizeof(secret)));
}

VT_TEST_MAIN()
