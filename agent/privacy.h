/*
 * privacy.h - the agent's privacy stage: what a plugin hands in, what may
 * go on.
 *
 * docs/PRIVACY.md is the reference; the rules it numbers are enforced here:
 *  - R9  each plugin's field declaration is checked at load against the
 *        agent's own field table; fields a reading fills without having
 *        declared them are zeroed and counted;
 *  - R12 an RFID read of an item on the opt-out list is dropped first;
 *  - R10 an RFID read weaker than the RSSI floor (a tag outside the shop)
 *        is dropped;
 *  - R2-R5 identifiers become HMAC-SHA256 digests truncated to 64 bits under
 *        a per-device key that is drawn at random, kept in locked RAM only and
 *        rotated (pseudonym.h); one key per kind of identifier;
 *  - R13 there is no field for a loyalty or customer id: none can pass;
 *  - R6-R8 a plugin in anonymous mode (the default) sends no events: its
 *        readings become counts per window (window.h), released under the
 *        k threshold and optional noise (noise.h); its digests, used only to
 *        count distinct items, come from a key that lives 5 minutes.
 * struct vt_reading (reading.h), the only thing that leaves this stage, has
 * no field that can hold a raw identifier.
 */
#ifndef VT_PRIVACY_H
#define VT_PRIVACY_H

#include <stddef.h>
#include <stdint.h>

#include "reading.h"
#include "anon.h"
#include "window.h"

/* Compiled-in floors (R15): no configuration or remote update can go past
 * them; config.c refuses such a value with a message naming the rule. */
#define VT_PRIVACY_ROTATION_MAX_S 86400	/* pseudonymous keys live <= 24 h */
#define VT_PRIVACY_ROTATION_MIN_S 60
#define VT_PRIVACY_ANON_ROTATION_S 300	/* anonymous mode's keys: 5 min */
#define VT_PRIVACY_K_MIN 5
#define VT_PRIVACY_K_DEFAULT 10
#define VT_PRIVACY_WINDOW_MIN_S 900	/* anonymous windows >= 15 min */
#define VT_PRIVACY_WINDOW_MAX_S 86400

#define VT_PRIVACY_RSSI_FLOOR_DEFAULT (-7000)	/* centi-dBm: -70 dBm */

enum vt_privacy_mode {
	VT_PRIVACY_ANONYMOUS = 1,	/* counts per window only (default) */
	VT_PRIVACY_PSEUDONYMOUS = 2,	/* events with rotating digests */
};

struct vt_privacy_conf {
	uint32_t rotation_s;		/* pseudonymous key lifetime, <= 24 h */
	int32_t rssi_floor_cdbm;	/* RFID reads below are dropped */
	const char *optout_path;	/* NULL: no opt-out list */
	uint32_t window_s;		/* anonymous windows, >= 15 min */
	uint32_t k;			/* >= VT_PRIVACY_K_MIN */
	uint32_t epsilon_milli;		/* noise per released count; 0: none */
	uint32_t budget_milli;		/* epsilon per hour, with noise */
	const char *state_dir;		/* window checkpoint; NULL: none */
	int64_t checkpoint_ms;		/* its period (the spool's group commit) */
};

/* "anonymous" / "pseudonymous" to a mode; 0 when neither. */
int vt_privacy_mode_parse(const char *name);
const char *vt_privacy_mode_name(int mode);

/* Per plugin; the counters are shown in the status message. */
struct vt_privacy_source {
	char name[32];
	int mode;		/* enum vt_privacy_mode */
	struct vt_anon_plugin *anon;	/* anonymous mode: its window (anon.h) */
	uint32_t declared[4];	/* per kind: bit i = field i of that kind */
	uint32_t warned[4];	/* undeclared fields already logged */
	uint64_t optout;	/* reads dropped: item on the opt-out list */
	uint64_t below_rssi;	/* reads dropped: weaker than the floor */
	uint64_t undeclared;	/* fields zeroed: not declared */
};

struct vt_privacy;

/* Keys are drawn lazily; the opt-out list is read now. On error returns a
 * negative code with the reason in err. Free with vt_privacy_free(). */
int vt_privacy_new(struct vt_privacy **out, const struct vt_privacy_conf *conf, char *err,
		   size_t errlen);
void vt_privacy_free(struct vt_privacy *p);

/* Check a plugin's field declaration (R9) and register it in mode. Returns
 * 0 with *src (owned by p), or VT_EABI with the reason in err. A plugin
 * registered before under the same name (a reload) gets its source back,
 * window and counters included, when mode and fields are the same; when
 * they differ, -EBUSY with the reason (only a restart changes them). */
int vt_privacy_source_add(struct vt_privacy *p, const char *plugin, int mode,
			  const struct vitrine_field *fields, struct vt_privacy_source **src,
			  char *err, size_t errlen);

/* Where the cells of released windows go (the pipeline's batcher); a NULL
 * cell asks it to seal and sync what it holds (anon.h). */
void vt_privacy_set_sink(struct vt_privacy *p, vt_window_sink sink, void *arg);

/* The agent's clock (borrowed; set before plugins register): each reading
 * is stamped with it as it comes in (clock.h), and the windows' times
 * follow it. Without one, readings keep the time their plugin gave. */
void vt_privacy_set_clock(struct vt_privacy *p, struct vt_clock *clock);
/* The clock became trusted: correct the windows opened before. */
void vt_privacy_fix_clock(struct vt_privacy *p);

/* Dropped on purpose by a rule (counted in src): not an error. */
#define VT_PRIVACY_DROPPED 1
/* Counted into the plugin's window (anonymous mode): nothing to batch. */
#define VT_PRIVACY_WINDOWED 2

/* A validated plugin reading in; the reading that may go on out. Returns 0,
 * VT_PRIVACY_DROPPED, VT_PRIVACY_WINDOWED, or a negative code (why set:
 * the reading is invalid, e.g. a kind the plugin did not declare). wall_ms and mono_ms are now. No
 * allocation. */
int vt_privacy_apply(struct vt_privacy *p, struct vt_privacy_source *src,
		     const struct vitrine_reading *in, struct vt_reading *out, int64_t wall_ms,
		     int64_t mono_ms, const char **why);

/* Wipe keys whose time is up even when no reading needs them, and release
 * anonymous windows as `when` says (window.h); call from the loop at least
 * once a second. */
void vt_privacy_tick(struct vt_privacy *p, int64_t wall_ms, int64_t mono_ms,
		     enum vt_window_when when);

/* The privacy object of the status message ("privacy":{...}), without the
 * key; returns the length written (truncated at cap like snprintf). */
size_t vt_privacy_status_json(const struct vt_privacy *p, char *json, size_t cap);

/* Sources registered so far, for the status and the exit summary. */
size_t vt_privacy_sources(const struct vt_privacy *p, const struct vt_privacy_source **list);

#endif
