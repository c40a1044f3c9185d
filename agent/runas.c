/*
 * runas.c - an agent or aggregator started as root becomes its own user
 * (see runas.h).
 *
 * The agent never changes the owner of a file that exists: a state_dir
 * left by a run as root is refused with the command that hands it over,
 * instead of being taken silently.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "runas.h"

/* Refuse the first entry of dir that the user does not own. */
static int vt_runas_entries(const struct vt_runas_who *who, const char *dir,
			   const struct passwd *pw, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (!d) {
		snprintf(err, errlen, "cannot read %s: %s", dir, strerror(errno));
		return -VT_ECONFIG;
	}
	while ((e = readdir(d)) != NULL) {
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    st.st_uid == pw->pw_uid)
			continue;
		snprintf(err, errlen,
			 "%s/%s belongs to uid %u, not to user %s: %s could not write it; "
			 "give the folder to the user: chown -R %s: %s",
			 dir, e->d_name, (unsigned)st.st_uid, pw->pw_name, who->what, pw->pw_name,
			 dir);
		rc = -VT_ECONFIG;
		break;
	}
	closedir(d);
	return rc;
}

/* A folder the program writes: made for the user when missing (its parent
 * must exist), refused when it or an entry in it belongs to someone else. */
static int vt_runas_dir(const struct vt_runas_who *who, const char *dir,
			const struct passwd *pw, char *err, size_t errlen)
{
	struct stat st;

	if (stat(dir, &st) < 0) {
		if (errno != ENOENT || mkdir(dir, 0700) < 0 ||
		    chown(dir, pw->pw_uid, pw->pw_gid) < 0) {
			snprintf(err, errlen, "cannot make %s for user %s: %s", dir, pw->pw_name,
				 strerror(errno));
			return -VT_ECONFIG;
		}
		VT_INFO("created %s for user %s (0700)", dir, pw->pw_name);
		return 0;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s is not a folder", dir);
		return -VT_ECONFIG;
	}
	if (st.st_uid != pw->pw_uid) {
		snprintf(err, errlen,
			 "%s belongs to uid %u, not to user %s: %s could not write it; "
			 "give it to the user: chown -R %s: %s",
			 dir, (unsigned)st.st_uid, pw->pw_name, who->what, pw->pw_name, dir);
		return -VT_ECONFIG;
	}
	return vt_runas_entries(who, dir, pw, err, errlen);
}

/* Change user, group and supplementary groups for good, and check that
 * root cannot be had back. */
static int vt_runas_switch(const struct passwd *pw, char *err, size_t errlen)
{
	int ngroups = 0;

	if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0) {
		snprintf(err, errlen, "cannot become user %s: %s", pw->pw_name, strerror(errno));
		return -VT_ECONFIG;
	}
	if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		snprintf(err, errlen, "became user %s but could get root back: refusing to run",
			 pw->pw_name);
		return -VT_ECONFIG;
	}
	/* Nothing it executes (the agent: only itself, on a reload) gains
	 * rights. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		VT_WARN("cannot set no_new_privs: %s", strerror(errno));
	ngroups = getgroups(0, NULL);
	VT_INFO("running as user %s (uid %u, gid %u, %d groups)", pw->pw_name,
		(unsigned)pw->pw_uid, (unsigned)pw->pw_gid, ngroups < 0 ? 0 : ngroups);
	return 0;
}

/* getpwnam(3): these mean "no such user", the others a failed lookup. */
static int vt_runas_no_user(int e)
{
	return e == 0 || e == ENOENT || e == ESRCH || e == EBADF || e == EPERM;
}

/* The user's entry, or NULL with err saying why. */
static const struct passwd *vt_runas_lookup(const char *user, const char *path, char *err,
					    size_t errlen)
{
	const struct passwd *pw;

	errno = 0;
	pw = getpwnam(user);
	if (!pw)
		snprintf(err, errlen, "%s: user %s: %s", path, user,
			 vt_runas_no_user(errno) ?
				 "no such user (the Debian package makes vitrine; or: adduser --system --group NAME)" :
				 strerror(errno));
	return pw;
}

int vt_runas_check_user(const char *user, const char *path, char *err, size_t errlen)
{
	if (!user || !user[0])
		return 0;
	return vt_runas_lookup(user, path, err, errlen) ? 0 : -VT_ECONFIG;
}

int vt_runas_user(const struct vt_runas_who *who, const char *user, const char *const *dirs,
		  const char *path, char *err, size_t errlen)
{
	const struct passwd *pw;
	char what[384];
	int rc = 0;

	if (!user || !user[0]) {
		if (geteuid() == 0)
			VT_WARN("running as root: set `user vitrine` in %s, or run the "
				"%s systemd unit, which runs it as that user "
				"(docs/OPERATIONS.md)", path, who->unit);
		return 0;
	}
	pw = vt_runas_lookup(user, path, err, errlen);
	if (!pw)
		return -VT_ECONFIG;
	if (geteuid() != 0) {
		if (geteuid() != pw->pw_uid)
			VT_WARN("%s: user %s: not started as root, so running on as uid %u", path,
				user, (unsigned)geteuid());
		return 0;
	}
	if (pw->pw_uid == 0)
		return 0;
	for (size_t i = 0; dirs[i] && rc == 0; i++)
		rc = vt_runas_dir(who, dirs[i], pw, what, sizeof(what));
	if (rc == 0)
		rc = vt_runas_switch(pw, what, sizeof(what));
	if (rc < 0)
		snprintf(err, errlen, "%s: user %s: %s", path, user, what);
	return rc;
}

int vt_runas_check(const struct vt_agent_config *cfg, const char *path, char *err, size_t errlen)
{
	return vt_runas_check_user(cfg->user, path, err, errlen);
}

int vt_runas(const struct vt_agent_config *cfg, const char *path, char *err, size_t errlen)
{
	static const struct vt_runas_who agent = { "the agent", "vitrine-agent" };
	const char *dirs[3] = { cfg->state_dir, NULL, NULL };

	if (strcmp(cfg->spool_dir, cfg->state_dir) != 0)
		dirs[1] = cfg->spool_dir;
	return vt_runas_user(&agent, cfg->user, dirs, path, err, errlen);
}
