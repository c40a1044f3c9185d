/*
 * ctl.h - what the modules of vitrine-ctl, the ops team's fleet tool, share.
 *
 * vitrine-ctl signs bundles (bundle.h) and publishes them where devices
 * look for them (fleet.h), reads the devices' retained status documents,
 * rolls a bundle out in waves, and enrolls devices at the aggregator. It
 * never runs on a device. Every command is a function
 * vt_ctl_cmd_<name>(conf, argc, argv) returning an exit status: 0 done,
 * 1 failed, 2 usage error. Errors go to stderr, results to stdout.
 *
 * This header holds the pieces used by more than one command (or by a
 * unit test): options (ctl_opts.c), bundles and topics (ctl_bundle.c), the
 * MQTT session (ctl_mqtt.c), status documents (ctl_status.c), the list of
 * devices seen on the broker (ctl_devlist.c), rollout waves (ctl_waves.c)
 * and the broker's ACL (ctl_acl.c). No cJSON type appears here: only
 * ctl_status.c and ctl_devices.c use cJSON.
 */
#ifndef VT_CTL_H
#define VT_CTL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bundle.h"
#include "conf.h"

#define VT_CTL_PROG "vitrine-ctl"
#define VT_CTL_ID_MAX 64		/* a site, device or group id (vt_frame_id_valid) */
#define VT_CTL_TOPIC_MAX 256
#define VT_CTL_DEFAULT_TIMEOUT_S 10
#define VT_CTL_SETTLE_MS 300		/* quiet time that ends a collection of retained messages */

enum vt_ctl_exit { VT_CTL_OK = 0, VT_CTL_FAIL = 1, VT_CTL_USAGE = 2 };

/* Returned by a command's option parsing when the command should go on
 * (any other value is the exit status: --help, a usage error). */
#define VT_CTL_GO (-1)

/* ---- options and messages (ctl_opts.c) ------------------------------------------- */

/* Settings from the optional ctl.conf (see vt_ctl_conf_load); the
 * command line overrides each. Strings are owned (vt_ctl_conf_free). */
struct vt_ctl_conf {
	struct vt_hostport broker;
	char *tls_ca, *tls_cert, *tls_key;
	char *client_id;
	uint32_t timeout_s;
	struct vt_conf *raw;
};

/* How to reach the broker. Strings are borrowed (argv or the conf). */
struct vt_ctl_broker {
	struct vt_hostport hp;
	const char *tls_ca, *tls_cert, *tls_key;
	const char *client_id;
	char client_id_buf[64];
	uint32_t timeout_s;
};

/* Long option codes shared by the commands (short ones are letters). */
enum vt_ctl_opt {
	VT_CTL_OPT_BROKER = 0x100,
	VT_CTL_OPT_TLS_CA,
	VT_CTL_OPT_TLS_CERT,
	VT_CTL_OPT_TLS_KEY,
	VT_CTL_OPT_CLIENT_ID,
	VT_CTL_OPT_TIMEOUT,
	VT_CTL_OPT_KEY,
	VT_CTL_OPT_PUB,
	VT_CTL_OPT_GROUP,
	VT_CTL_OPT_DEVICE,
	VT_CTL_OPT_VERSION,
	VT_CTL_OPT_ROLLBACK,
	VT_CTL_OPT_NAME,
	VT_CTL_OPT_SERIAL,
	VT_CTL_OPT_AGAINST,
	VT_CTL_OPT_JSON,
	VT_CTL_OPT_WAIT_MS,
	VT_CTL_OPT_CLEAR,
	VT_CTL_OPT_KIND,
	VT_CTL_OPT_WAVES,
	VT_CTL_OPT_MAX_FAILURES,
	VT_CTL_OPT_WAVE_TIMEOUT,
	VT_CTL_OPT_DRY_RUN,
	VT_CTL_OPT_AGG_CONFIG,
	VT_CTL_OPT_PUBKEY,
	VT_CTL_OPT_LINE,
};

#define VT_CTL_BROKER_LONGOPTS                                                         \
	{ "broker", required_argument, NULL, VT_CTL_OPT_BROKER },                      \
	{ "tls-ca", required_argument, NULL, VT_CTL_OPT_TLS_CA },                      \
	{ "tls-cert", required_argument, NULL, VT_CTL_OPT_TLS_CERT },                  \
	{ "tls-key", required_argument, NULL, VT_CTL_OPT_TLS_KEY },                    \
	{ "client-id", required_argument, NULL, VT_CTL_OPT_CLIENT_ID },                \
	{ "timeout", required_argument, NULL, VT_CTL_OPT_TIMEOUT }

/* Load ctl.conf: path if given (an error if unreadable), else
 * $VITRINE_CTL_CONFIG, else ~/.config/vitrine/ctl.conf when it exists.
 * Returns 0, or 2 with the error printed. Free with vt_ctl_conf_free(). */
int vt_ctl_conf_load(const char *path, struct vt_ctl_conf *conf);
void vt_ctl_conf_free(struct vt_ctl_conf *conf);

/* Broker settings from conf (borrowed: conf must outlive b). */
void vt_ctl_broker_init(struct vt_ctl_broker *b, const struct vt_ctl_conf *conf);

/* Take option code with arg if it is a broker option: returns 1 when
 * taken, 0 when not a broker option, -1 on a bad value (printed as a
 * usage error of cmd). arg is borrowed. */
int vt_ctl_broker_opt(struct vt_ctl_broker *b, const char *cmd, int code, const char *arg);

/* Cross-option checks (a TLS certificate needs its key and a CA). 0 or
 * -1 (printed). */
int vt_ctl_broker_check(const struct vt_ctl_broker *b, const char *cmd);

/* "vitrine-ctl CMD: what\nTry 'vitrine-ctl CMD --help'." on stderr;
 * returns VT_CTL_USAGE. */
int vt_ctl_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "vitrine-ctl: what" on stderr. */
void vt_ctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The usage error for what getopt_long (with ':' leading its optstring)
 * returned as opt: ':' a missing value, '?' an unknown option. */
int vt_ctl_bad_option(const char *cmd, char **argv, int opt);

/* Decimal numbers: 0 or -1 when s is not a number within [min, max]. */
int vt_ctl_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int vt_ctl_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);

/* Split "site/device" into two valid ids. 0 or -1. */
int vt_ctl_split_device(const char *s, char site[VT_CTL_ID_MAX + 1],
			char device[VT_CTL_ID_MAX + 1]);

/* Copy at most cap - 1 bytes of src into dst, replacing what a terminal
 * must not receive (control bytes, non-ASCII) by '?'. */
void vt_ctl_copy_printable(char *dst, size_t cap, const char *src);

/* "2025-11-26 09:40:00.123 UTC" for UTC ms; "2025-11-26 09:40:00 UTC"
 * when with_ms is 0. */
void vt_ctl_format_utc(int64_t ms, int with_ms, char *buf, size_t cap);

/* "12s ago", "3m ago", "2h ago", "4d ago" for then_s seen at now_s. */
void vt_ctl_format_age(int64_t now_s, int64_t then_s, char *buf, size_t cap);

/* ---- help texts (ctl_help.c) ----------------------------------------------------- */

/* Print the manual of cmd (NULL: the tool's). 0, or -1 for an unknown cmd. */
int vt_ctl_help(const char *cmd, FILE *f);

/* Print cmd's manual on stdout and return VT_CTL_OK (for --help). */
int vt_ctl_help_ok(const char *cmd);

/* ---- bundles and topics (ctl_bundle.c) -------------------------------------------- */

/* A bundle file in memory: b borrows data. */
struct vt_ctl_bundle_file {
	const char *path;	/* borrowed */
	uint8_t *data;		/* owned */
	size_t len;
	struct vt_bundle b;
};

/* Read and parse path. 0, or -1 with the error (naming path) printed. */
int vt_ctl_bundle_load(const char *path, struct vt_ctl_bundle_file *f);
void vt_ctl_bundle_file_free(struct vt_ctl_bundle_file *f);

/* Does the buffer start like a bundle ("VTB1")? */
int vt_ctl_is_bundle(const uint8_t *data, size_t len);

/* Load an ops key (private or public). 0, or -1 with the error printed.
 * Caller frees *k with vt_sigkey_free(). */
int vt_ctl_key_load(const char *path, int is_private, struct vt_sigkey **k);

/* Encode and sign tmpl (its kind, flags, target, name, version, serial
 * and payload) with key; *out (malloc'ed, caller frees) is parsed again
 * into *parsed, which borrows *out. 0, or -1 with the error printed. */
int vt_ctl_bundle_sign(const struct vt_bundle *tmpl, const struct vt_sigkey *key, uint8_t **out,
		       size_t *out_len, struct vt_bundle *parsed);

/* The same bundle (kind, name, version, payload) signed again as a
 * rollback: VT_BUNDLE_ROLLBACK set, serial = now in ms and above
 * min_serial, target as given (NULL: the old one's). Ownership as
 * vt_ctl_bundle_sign(). */
int vt_ctl_bundle_resign_rollback(const struct vt_bundle *old, int target_type,
				  const char *target, uint64_t min_serial,
				  const struct vt_sigkey *key, uint8_t **out, size_t *out_len,
				  struct vt_bundle *parsed);

/* A serial for a bundle signed now: UTC ms. */
uint64_t vt_ctl_serial_now(void);

/* "config bundle v7 for group pilot (serial 1764150000123)" and the like. */
void vt_ctl_bundle_describe(const struct vt_bundle *b, char *buf, size_t cap);

/* The 16 hex digits of a key id. */
void vt_ctl_key_id_hex(const uint8_t id[VT_SIGKEY_ID_LEN], char hex[2 * VT_SIGKEY_ID_LEN + 1]);

/* The retained topic of a slot (kind, and name for a plugin):
 * vitrine/groups/<group>/bundle/config|plugin/<name> for a group target,
 * vitrine/v1/<site>/<device>/cmd/bundle/... for "site/device". Returns 0,
 * or -1 if it does not fit or the target is malformed. */
int vt_ctl_slot_topic(char *buf, size_t cap, int target_type, const char *target, int kind,
		      const char *name);

/* The slot's topic on one device (whatever the bundle's target). */
int vt_ctl_device_topic(char *buf, size_t cap, const char *site, const char *device, int kind,
			const char *name);

/* ---- MQTT session (ctl_mqtt.c) --------------------------------------------------- */

struct vt_ctl_mqtt;

/* Called for each message; topic and payload are borrowed for the call. */
typedef void (*vt_ctl_mqtt_msg_fn)(void *ctx, const char *topic, const uint8_t *payload,
				   size_t len);

/* Connect (clean session, MQTT 5) and wait for the CONNACK, at most the
 * broker's timeout. b is borrowed and must outlive the session. 0, or -1
 * with the reason printed. Close with vt_ctl_mqtt_close(). */
int vt_ctl_mqtt_connect(struct vt_ctl_mqtt **out, const struct vt_ctl_broker *b,
			vt_ctl_mqtt_msg_fn on_msg, void *ctx);

/* Subscribe at QoS 1 and wait for the SUBACK (re-subscribed after a
 * reconnection). 0 or -1 (printed). */
int vt_ctl_mqtt_subscribe(struct vt_ctl_mqtt *m, const char *filter);

/* Queue a retained QoS 1 publish (len 0 clears the topic). Its PUBACK is
 * awaited by vt_ctl_mqtt_flush(). payload is copied. 0 or -1 (printed). */
int vt_ctl_mqtt_publish(struct vt_ctl_mqtt *m, const char *topic, const void *payload,
			size_t len);

/* Wait for the PUBACK of every publish queued so far, at most the
 * broker's timeout. 0, or -1 when one was refused or did not come
 * (printed, with how many). */
int vt_ctl_mqtt_flush(struct vt_ctl_mqtt *m);

/* Let messages arrive until none came for quiet_ms, or max_ms passed.
 * 0 or -1 (connection lost for good, printed). */
int vt_ctl_mqtt_settle(struct vt_ctl_mqtt *m, int quiet_ms, int max_ms);

/* Let messages arrive for ms milliseconds. 0 or -1 (printed). */
int vt_ctl_mqtt_run(struct vt_ctl_mqtt *m, int ms);

/* Disconnect and free; NULL is fine. */
void vt_ctl_mqtt_close(struct vt_ctl_mqtt *m);

/* ---- status documents (ctl_status.c) ---------------------------------------------- */

#define VT_CTL_MAX_GROUPS 16
#define VT_CTL_MAX_PLUGINS 16
#define VT_CTL_MAX_DROPS 8
#define VT_CTL_REASON_MAX 256

enum vt_ctl_state {
	VT_CTL_STATE_NONE,	/* nothing retained (or cleared) */
	VT_CTL_STATE_ONLINE,
	VT_CTL_STATE_OFFLINE,
	VT_CTL_STATE_OTHER,	/* a JSON object with another "state" */
	VT_CTL_STATE_BAD,	/* not a JSON object: shown with alert bad-status */
};

struct vt_ctl_plugin_state {
	char name[VT_BUNDLE_MAX_NAME + 1];
	char state[16];		/* ok, degraded, finished... */
};

struct vt_ctl_plugin_bundle {
	char name[VT_BUNDLE_MAX_NAME + 1];
	uint32_t version;
	uint64_t serial;
};

struct vt_ctl_drop {
	char name[24];
	uint64_t count;
};

/* fleet.last: what happened to the last bundle the device looked at. */
struct vt_ctl_fleet_last {
	int present;
	char outcome[16];	/* applied, trial, refused, rolled_back */
	char kind[8];
	char name[VT_BUNDLE_MAX_NAME + 1];
	uint32_t version;
	uint64_t serial;
	int64_t at_ms;
	char reason[VT_CTL_REASON_MAX];
};

/* One device's status, as far as vitrine-ctl needs it. Strings are
 * printable ASCII (vt_ctl_copy_printable); numbers absent from the
 * document are -1 (signed) or have their has_ flag clear. */
struct vt_ctl_status {
	char site[VT_CTL_ID_MAX + 1];
	char device[VT_CTL_ID_MAX + 1];
	enum vt_ctl_state state;
	char state_word[16];
	char version[32];
	int64_t time_s;
	int64_t uptime_s;
	char groups[VT_CTL_MAX_GROUPS][VT_CTL_ID_MAX + 1];
	int n_groups;
	int has_fleet;
	int keys;
	int has_config;
	uint32_t config_version;
	uint64_t config_serial;
	struct vt_ctl_plugin_bundle bundles[VT_CTL_MAX_PLUGINS];
	int n_bundles;
	int trial;
	struct vt_ctl_fleet_last last;
	int has_spool;
	uint64_t spool_frames, spool_readings, spool_bytes;
	int64_t spool_oldest_s;
	int has_dropped;
	struct vt_ctl_drop drops[VT_CTL_MAX_DROPS];
	int n_drops;
	uint64_t dropped_total;
	int has_ack;
	uint64_t ack_seq;
	int64_t ack_age_s;
	int has_tls;		/* a client certificate ("tls":{...}) */
	int tls_off;		/* "tls":null: no client certificate */
	char cert_not_after[40];
	int64_t tls_days_left;
	int has_clock;		/* "clock":{...} (docs/PROTOCOL.md) */
	int clock_unsynced;	/* its state is "unsynced" */
	int64_t clock_unsynced_s;	/* for how long, -1: not said */
	uint64_t clock_flagged;	/* readings flagged since the agent started */
	struct vt_ctl_plugin_state plugins[VT_CTL_MAX_PLUGINS];
	int n_plugins;
	char *raw;		/* the payload as received, NUL-terminated (owned) */
	size_t raw_len;
};

/* Parse a status payload (len bytes, any content) into s, replacing what
 * s held but its site and device. Malformed input is not an error: s->state
 * says VT_CTL_STATE_BAD; an empty payload gives VT_CTL_STATE_NONE.
 * Returns 0, or -ENOMEM. Free with vt_ctl_status_clear(). */
int vt_ctl_status_parse(struct vt_ctl_status *s, const char *payload, size_t len);

/* Free what s owns; s can be parsed into again. */
void vt_ctl_status_clear(struct vt_ctl_status *s);

/* Is the device known to be in group? */
int vt_ctl_status_in_group(const struct vt_ctl_status *s, const char *group);

/* The ALERTS column: comma-separated short words, "-" when none. */
void vt_ctl_status_alerts(const struct vt_ctl_status *s, char *buf, size_t cap);

/* The CONFIG column: "v7" (from fleet.config), "local" (none), a '*'
 * added during a trial; "-" when unknown. */
void vt_ctl_status_config(const struct vt_ctl_status *s, char *buf, size_t cap);

/* Site and device of vitrine/v1/<site>/<device>/status. 0 or -1. */
int vt_ctl_status_topic(const char *topic, char site[VT_CTL_ID_MAX + 1],
			char device[VT_CTL_ID_MAX + 1]);

/* ---- the devices seen on the broker (ctl_devlist.c) ------------------------------- */

#define VT_CTL_STATUS_FILTER "vitrine/v1/+/+/status"

/* Statuses kept sorted by site, then device; each element is owned. */
struct vt_ctl_devlist {
	struct vt_ctl_status **v;
	size_t n, cap;
	unsigned updates;	/* messages taken, for callers that wait for news */
	int oom;		/* a message was lost for want of memory */
};

/* Take a message from a status topic: adds or updates the device; an
 * empty payload forgets it. Other topics are ignored. 0 or -ENOMEM. */
int vt_ctl_devlist_offer(struct vt_ctl_devlist *l, const char *topic, const uint8_t *payload,
			 size_t len);

/* The same as a vt_ctl_mqtt_msg_fn whose ctx is the list (sets l->oom). */
void vt_ctl_devlist_on_msg(void *list, const char *topic, const uint8_t *payload, size_t len);

/* The device's status, or NULL (borrowed: valid until the next offer). */
struct vt_ctl_status *vt_ctl_devlist_find(const struct vt_ctl_devlist *l, const char *site,
					  const char *device);

void vt_ctl_devlist_free(struct vt_ctl_devlist *l);

/* Connect to b, subscribe to filter (VT_CTL_STATUS_FILTER or one
 * device's status topic), collect the retained statuses until
 * VT_CTL_SETTLE_MS pass without one after the SUBACK (at most wait_ms),
 * and disconnect. 0 or -1 (printed). */
int vt_ctl_devlist_fetch(struct vt_ctl_devlist *l, const struct vt_ctl_broker *b,
			 const char *filter, int wait_ms);

/* ---- rollout waves (ctl_waves.c) --------------------------------------------------- */

#define VT_CTL_MAX_WAVES 32

/* Plan waves from spec ("1,10%,100%": a count, or a percentage of members
 * rounded up; each brings the total up to that size; the last must be
 * 100%) for members devices. totals[i] receives the cumulative size after
 * wave i; waves that would add nobody are left out. Returns the number of
 * waves (0 when members is 0), or -1 with what was expected in err. */
int vt_ctl_waves_plan(const char *spec, size_t members, size_t *totals, int max, char *err,
		      size_t errlen);

/* Should a wave of size devices with failures failed stop the rollout,
 * given max_pct (0..100) of failures tolerated? */
int vt_ctl_waves_too_many(size_t failures, size_t size, uint32_t max_pct);

/* ---- the broker's access control list (ctl_acl.c) ---------------------------------- */

/* What an ACL was made of. */
struct vt_ctl_acl_counts {
	size_t devices, groups, aggregators, ops;
};

/* Make the mosquitto acl_file for the inventory text (len bytes, need not
 * be NUL-terminated) named path: *out (malloc'ed, caller frees) of
 * *out_len bytes, and what it holds in *counts. Returns 0, -VT_ECONFIG
 * with "path:line: what was expected" in err (the inventory is refused),
 * or -ENOMEM. */
int vt_ctl_acl_make(const char *path, const char *text, size_t len, char **out,
		    size_t *out_len, struct vt_ctl_acl_counts *counts, char *err, size_t errlen);

/* ---- commands ------------------------------------------------------------------------ */

int vt_ctl_cmd_keygen(const struct vt_ctl_conf *conf, int argc, char **argv);
int vt_ctl_cmd_sign(const struct vt_ctl_conf *conf, int argc, char **argv);
int vt_ctl_cmd_inspect(const struct vt_ctl_conf *conf, int argc, char **argv);
int vt_ctl_cmd_push(const struct vt_ctl_conf *conf, int argc, char **argv);
int vt_ctl_cmd_rollback(const struct vt_ctl_conf *conf, int argc, char **argv);
int vt_ctl_cmd_devices(const struct vt_ctl_conf *conf, int argc, char **argv);
int vt_ctl_cmd_show(const struct vt_ctl_conf *conf, int argc, char **argv);
int vt_ctl_cmd_rollout(const struct vt_ctl_conf *conf, int argc, char **argv);
int vt_ctl_cmd_enroll(const struct vt_ctl_conf *conf, int argc, char **argv);
int vt_ctl_cmd_acl(const struct vt_ctl_conf *conf, int argc, char **argv);
int vt_ctl_cmd_train_dict(const struct vt_ctl_conf *conf, int argc, char **argv);

/* ---- signing options shared by sign and push (ctl_sign.c) ------------------------- */

struct vt_ctl_sign_opts {
	const char *key_path;
	const char *group;
	const char *device;	/* "site/device" */
	uint32_t version;
	int has_version;
	int rollback;
	const char *name;
	uint64_t serial;	/* 0: now */
	const char *against;	/* an agent.conf to lay a config over, or NULL */
};

/* Take a signing option: 1 taken, 0 not one, -1 bad value (printed). */
int vt_ctl_sign_opt(struct vt_ctl_sign_opts *o, const char *cmd, int code, const char *arg);

/* Any signing option given? */
int vt_ctl_sign_any(const struct vt_ctl_sign_opts *o);

/* Check the required ones (key, version, one target). 0 or VT_CTL_USAGE
 * (printed). */
int vt_ctl_sign_check(const struct vt_ctl_sign_opts *o, const char *cmd);

/* Read path, check it as a config or a plugin and sign it. Ownership as
 * vt_ctl_bundle_sign(). 0 or -1 (printed). */
int vt_ctl_sign_file(const struct vt_ctl_sign_opts *o, const char *path, uint8_t **out,
		     size_t *out_len, struct vt_bundle *parsed);

#define VT_CTL_SIGN_LONGOPTS                                                           \
	{ "key", required_argument, NULL, VT_CTL_OPT_KEY },                            \
	{ "group", required_argument, NULL, VT_CTL_OPT_GROUP },                        \
	{ "device", required_argument, NULL, VT_CTL_OPT_DEVICE },                      \
	{ "version", required_argument, NULL, VT_CTL_OPT_VERSION },                    \
	{ "rollback", no_argument, NULL, VT_CTL_OPT_ROLLBACK },                        \
	{ "name", required_argument, NULL, VT_CTL_OPT_NAME },                          \
	{ "serial", required_argument, NULL, VT_CTL_OPT_SERIAL },                      \
	{ "against", required_argument, NULL, VT_CTL_OPT_AGAINST }

#endif
