/*
 * devkey.c - the device's X25519 key in state_dir: created by --keygen
 * (with the start of its sequence numbers), printed by --pubkey, loaded at
 * start (devkey.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devkey.h"
#include "err.h"
#include "keys.h"
#include "log.h"
#include "spool.h"
#include "state.h"
#include "vt_os.h"

static int vt_devkey_path(char *buf, size_t len, const char *dir, const char *name)
{
	return snprintf(buf, len, "%s/%s", dir, name) >= (int)len ? -ENAMETOOLONG : 0;
}

/* Frames sealed with the old device key would never be accepted after
 * --keygen --force: refuse while the spool holds any. */
static int vt_devkey_spool_busy(const struct vt_agent_config *cfg)
{
	struct vt_spool_stats st;

	if (vt_spool_inspect(cfg->spool_dir, &st, NULL, NULL) < 0 || st.frames == 0)
		return 0;
	VT_ERROR("%s holds %llu frames (%llu readings) sealed with the current key and not yet acknowledged: let the agent deliver them first, or delete that directory to discard them, then run --keygen --force again",
		 cfg->spool_dir, (unsigned long long)st.frames, (unsigned long long)st.readings);
	return -EBUSY;
}

/* A new device key starts its sequence numbers at the provisioning time
 * (seconds << 20), never lower than where they are: a device whose state
 * was wiped and that is enrolled again under the same id can then never
 * reuse a number its predecessor used, which the aggregator would take for
 * a duplicate (and acknowledge) instead of storing it. */
static int vt_devkey_seq_start(const char *state_dir)
{
	int64_t now = vt_os_now_ms();
	uint64_t now_s = (uint64_t)(now / 1000), current;
	int rc;

	if (now < VT_OS_CLOCK_SET_MS) {
		VT_ERROR("the clock is not set (it says %lld s since 1970): set it (NTP) before --keygen, whose sequence numbers start from it",
			 (long long)(now / 1000));
		return -ERANGE;
	}
	rc = vt_state_load(state_dir, "seq", &current);
	if (rc < 0)
		return rc;
	if (current >= now_s << 20)
		return 0;
	return vt_state_store(state_dir, "seq", now_s << 20);
}

int vt_devkey_generate(const struct vt_agent_config *cfg, int force)
{
	char dev_path[PATH_MAX], hex[2 * VT_KEY_LEN + 1];
	uint8_t priv[VT_KEY_LEN], pub[VT_KEY_LEN];
	struct stat st;
	int rc;

	if (vt_devkey_path(dev_path, sizeof(dev_path), cfg->state_dir, VT_DEVKEY_FILE))
		return -ENAMETOOLONG;
	if (force && vt_devkey_spool_busy(cfg) < 0)
		return -EBUSY;
	if (!force && stat(dev_path, &st) == 0) {
		VT_ERROR("%s exists: refusing to replace the device key (the aggregator knows the old one); use --force to replace it",
			 dev_path);
		return -EEXIST;
	}
	rc = vt_os_mkdir_p(cfg->state_dir, 0700);
	if (rc == 0)
		rc = vt_keys_generate(priv, pub);
	if (rc == 0)
		rc = vt_keys_save(dev_path, priv, 1);
	if (rc == 0)
		rc = vt_devkey_seq_start(cfg->state_dir);
	vt_keys_wipe(priv, sizeof(priv));
	if (rc < 0) {
		VT_ERROR("cannot create keys in %s: %s", cfg->state_dir, vt_strerror(rc));
		return rc;
	}
	vt_hex_encode(pub, VT_KEY_LEN, hex);
	printf("# add this line to the aggregator's configuration:\ndevice %s %s\n", cfg->device,
	       hex);
	return 0;
}

int vt_devkey_print(const struct vt_agent_config *cfg)
{
	char path[PATH_MAX], hex[2 * VT_KEY_LEN + 1];
	uint8_t priv[VT_KEY_LEN], pub[VT_KEY_LEN];
	int rc;

	rc = vt_devkey_path(path, sizeof(path), cfg->state_dir, VT_DEVKEY_FILE);
	if (rc == 0)
		rc = vt_keys_load(path, priv, 1);
	if (rc == 0)
		rc = vt_keys_public(priv, pub);
	vt_keys_wipe(priv, sizeof(priv));
	if (rc < 0) {
		VT_ERROR("cannot read device key %s: %s (run vitrine-agent --keygen first)", path,
			 vt_strerror(rc));
		return rc;
	}
	vt_hex_encode(pub, VT_KEY_LEN, hex);
	printf("device %s %s\n", cfg->device, hex);
	return 0;
}

/* Load the device's secret key from state_dir. */
int vt_devkey_load(const struct vt_agent_config *cfg, uint8_t dev[VT_KEY_LEN])
{
	char path[PATH_MAX];
	int rc = vt_devkey_path(path, sizeof(path), cfg->state_dir, VT_DEVKEY_FILE);

	if (rc == 0)
		rc = vt_keys_load(path, dev, 1);
	if (rc < 0)
		VT_ERROR("cannot read %s: %s%s", path, vt_strerror(rc),
			 rc == -ENOENT ? " (run vitrine-agent --keygen first)" :
			 rc == -EPERM ? " (must be readable by its owner only: chmod 600)" : "");
	return rc;
}

/* Versions before 0.2 kept a pseudonym key on disk; keys now live in RAM
 * only (docs/PRIVACY.md R3), so an old file is zeroed and removed. */
void vt_devkey_remove_old_pseudonym_key(const struct vt_agent_config *cfg)
{
	char path[PATH_MAX];

	if (vt_devkey_path(path, sizeof(path), cfg->state_dir, VT_DEVKEY_OLD_PSEUDONYM_FILE) < 0 ||
	    access(path, F_OK) < 0)
		return;
	if (vt_os_zero_file(path) < 0 || unlink(path) < 0 ||
	    vt_os_fsync_dir(cfg->state_dir) < 0)
		VT_WARN("cannot remove %s, a pseudonym key from an older version: remove it by hand (keys now live in RAM only)",
			path);
	else
		VT_INFO("removed %s: pseudonym keys now live in RAM only and rotate", path);
}
