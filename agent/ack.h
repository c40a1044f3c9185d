/*
 * ack.h - the end-to-end acknowledgment: message format and its MAC.
 *
 * The aggregator tells a device, on vitrine/v1/<site>/<device>/ack
 * (retained, QoS 1), the highest sequence number up to which everything the
 * device still meant to deliver is committed to its database. The device
 * then retires those frames from its spool. Only the two ends can make a
 * valid ack: the MAC key comes from the X25519 secret between the device's
 * static key and the aggregator's (docs/PROTOCOL.md, "Acknowledgment").
 *
 *   offset 0  2  magic "VA"
 *          2  1  version 1
 *          3  8  acknowledged sequence number (big-endian)
 *         11 16  HMAC-SHA256(ack key, topic || 0x00 || bytes 0..10), first 16
 */
#ifndef VT_ACK_H
#define VT_ACK_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"

#define VT_ACK_LEN 27

/* The ack key of a device: the same on both sides, since
 * X25519(dev_priv, agg_pub) == X25519(agg_priv, dev_pub). priv is one side's
 * private key, peer_pub the other side's public key. Returns 0 or a negative
 * code (low-order peer key). */
int vt_ack_key(const uint8_t priv[VT_KEY_LEN], const uint8_t peer_pub[VT_KEY_LEN],
	       const char *device, uint8_t key[VT_KEY_LEN]);

/* Write the VT_ACK_LEN bytes acknowledging seq on topic. */
void vt_ack_encode(const uint8_t key[VT_KEY_LEN], const char *topic, uint64_t seq,
		   uint8_t out[VT_ACK_LEN]);

/* Check an ack received on topic. Returns 0 and sets *seq, or -VT_EDECODE
 * (wrong size, magic or version) or -VT_EAUTH (MAC does not verify). */
int vt_ack_decode(const uint8_t key[VT_KEY_LEN], const char *topic, const uint8_t *msg,
		  size_t len, uint64_t *seq);

#endif
