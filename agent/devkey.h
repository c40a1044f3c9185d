/*
 * devkey.h - the device's key pair in state_dir (device.key, 0600): its
 * public half is what the aggregator knows the device by (docs/PROTOCOL.md,
 * Keys).
 */
#ifndef VT_DEVKEY_H
#define VT_DEVKEY_H

#include <stdint.h>

#include "config.h"
#include "keys.h"

#define VT_DEVKEY_FILE "device.key"
/* Versions before 0.2 kept a pseudonym key here; the agent removes it. */
#define VT_DEVKEY_OLD_PSEUDONYM_FILE "pseudonym.key"

/* --keygen: create state_dir's device key pair (refusing to overwrite
 * unless force, and while the spool holds frames sealed with the old key),
 * start the sequence numbers at the provisioning time, and print the line
 * to add to aggregator.conf. */
int vt_devkey_generate(const struct vt_agent_config *cfg, int force);

/* --pubkey: print "device <id> <public key hex>" for the existing key. */
int vt_devkey_print(const struct vt_agent_config *cfg);

/* Load the device's private key into dev (the caller wipes it); the error
 * is logged with what to do. */
int vt_devkey_load(const struct vt_agent_config *cfg, uint8_t dev[VT_KEY_LEN]);

/* Zero and remove a pseudonym key file left by a version before 0.2. */
void vt_devkey_remove_old_pseudonym_key(const struct vt_agent_config *cfg);

#endif
