/*
 * fleet_state.h - what the fleet has installed on this device, in one file.
 *
 * <state_dir>/fleet.state holds, for the configuration and for each plugin
 * shipped by bundle (a "slot"), the running bundle and the one before it
 * (the rollback target), the highest serial ever tried in that slot (a
 * bundle at or below it is never applied again: replay protection, and a
 * bundle that was rolled back stays rolled back) and the last few serials
 * handled there, the trial under way if
 * any, and the outcome of the last bundle. The whole file is replaced
 * atomically (write, fsync, rename, fsync the directory), so a device
 * killed at any point runs either the old set or the new one, never a mix.
 *
 * Layout (big-endian): "VTFS", version 1, then records (tag u8, length
 * u32, bytes), then CRC-32C of everything before it. A damaged file is
 * reported and ignored: the device runs its own agent.conf and plugins.
 */
#ifndef VT_FLEET_STATE_H
#define VT_FLEET_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "bundle.h"

#define VT_FLEET_STATE_FILE "fleet.state"
#define VT_FLEET_MAX_SLOTS 17		/* the config and 16 plugins */
#define VT_FLEET_REASON_MAX 240
#define VT_FLEET_SEEN 16

enum vt_fleet_outcome {
	VT_FLEET_NONE = 0,
	VT_FLEET_APPLIED,	/* passed its health check */
	VT_FLEET_TRIAL,		/* installed, health check under way */
	VT_FLEET_REFUSED,	/* not installed (signature, target, version...) */
	VT_FLEET_ROLLED_BACK,	/* installed, failed its health check, undone */
};

struct vt_fleet_slot {
	int kind;			/* VT_BUNDLE_CONFIG or VT_BUNDLE_PLUGIN */
	char name[VT_BUNDLE_MAX_NAME + 1];	/* plugin name; "" for the config */
	uint8_t *cur, *prev;		/* whole bundles (malloc'ed), or NULL */
	size_t cur_len, prev_len;
	uint64_t high_serial;		/* highest serial tried here */
	/* Serials of the signed bundles handled here lately, oldest first:
	 * their retained copies come back at every connection and are
	 * ignored quietly, where an older serial never seen is a replay. */
	uint64_t seen[VT_FLEET_SEEN];
	int n_seen;
};

struct vt_fleet_result {
	int outcome;			/* enum vt_fleet_outcome */
	int kind;
	char name[VT_BUNDLE_MAX_NAME + 1];
	uint32_t version;
	uint64_t serial;
	int64_t wall_ms;
	char reason[VT_FLEET_REASON_MAX + 1];
};

struct vt_fleet_state {
	struct vt_fleet_slot slots[VT_FLEET_MAX_SLOTS];
	int n_slots;
	int trial_slot;			/* -1: no trial */
	uint32_t trial_starts;		/* agent starts during the trial */
	struct vt_fleet_result last;
};

void vt_fleet_state_init(struct vt_fleet_state *st);
void vt_fleet_state_free(struct vt_fleet_state *st);

/* Decode a state file's bytes. Returns 0 or -VT_EFRAME with *why. */
int vt_fleet_state_decode(const uint8_t *buf, size_t len, struct vt_fleet_state *st,
			  const char **why);
/* Encode into a new buffer (caller frees). */
int vt_fleet_state_encode(const struct vt_fleet_state *st, uint8_t **out, size_t *len);

/* Read <dir>/fleet.state: 0 (a missing file is an empty state), or a
 * negative code with the reason in err (the state is then empty). */
int vt_fleet_state_read(const char *dir, struct vt_fleet_state *st, char *err, size_t errlen);
/* Replace <dir>/fleet.state atomically and durably. */
int vt_fleet_state_write(const char *dir, const struct vt_fleet_state *st);

/* The slot of (kind, name); created (empty) when create is set. NULL when
 * absent or full. */
struct vt_fleet_slot *vt_fleet_state_slot(struct vt_fleet_state *st, int kind, const char *name,
					  int create);

/* Record serial as handled in s (raising high_serial); was it already? */
void vt_fleet_state_note(struct vt_fleet_slot *s, uint64_t serial);
int vt_fleet_state_seen(const struct vt_fleet_slot *s, uint64_t serial);

const char *vt_fleet_outcome_name(int outcome);

#endif
