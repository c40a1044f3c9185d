# ---- platform/debian/user.sh, shared by the postinst of vitrine-agent and
# vitrine-aggregator (mkdeb.sh puts it in place of #VITRINE_USER#): the
# system user both services run as, and the folder of their configuration
# and keys, /etc/vitrine, readable by that user's group only.
#
# adduser, not systemd-sysusers: it works with or without systemd (a
# container, a chroot, the CI machine where systemd is not running), and is
# how Debian 12's packages make their users (its debhelper does not handle
# sysusers.d files). The user is kept on purge, as Debian does: files it owned
# may remain (backups, a moved database), and a later user must not
# inherit them.
if ! getent group vitrine >/dev/null; then
	addgroup --system --quiet vitrine
fi
if ! getent passwd vitrine >/dev/null; then
	adduser --system --ingroup vitrine --home /var/lib/vitrine --no-create-home \
		--quiet vitrine
fi

# vitrine_perm MODE OWNER PATH: unless the administrator chose otherwise
# with dpkg-statoverride.
vitrine_perm() {
	if [ -e "$3" ] && ! dpkg-statoverride --list "$3" >/dev/null 2>&1; then
		chown "$2" "$3"
		chmod "$1" "$3"
	fi
}
vitrine_perm 0750 root:vitrine /etc/vitrine
# ---- end of platform/debian/user.sh
