#!/usr/bin/env bash
# tests/packaging/deb_install.sh - the Debian packages of `make deb` on this
# machine, as an ops person would use them:
#  - apt-get installs them with their dependencies;
#  - the vitrine user, /etc/vitrine root:vitrine 0750, configuration files
#    0640 and registered as conffiles, the aggregator's key pair, the state
#    folders, the units enabled, stripped programs;
#  - the default agent.conf is refused with a message that says what is
#    missing (the service does not run unconfigured);
#  - configured, the INSTALLED agent and aggregator, started as their units
#    say (ExecStart=, User=; systemd need not be PID 1 here), deliver
#    readings through a real mosquitto on 127.0.0.1 into the aggregator's
#    database, every one of them;
#  - apt-get purge leaves none of their files, state or unit links.
#
# It installs packages into this machine and purges them again, so it runs
# only as root and with VT_ALLOW_SYSTEM_INSTALL=1 (CI sets it), never from
# make test:
#   make deb && VT_ALLOW_SYSTEM_INSTALL=1 tests/packaging/deb_install.sh
# O (default build/host) names the build whose $O/deb/*.deb are installed.
# Prints PASS/FAIL lines; exits 1 if any failed.
if [ "${VT_ALLOW_SYSTEM_INSTALL:-0}" != 1 ]; then
	echo "deb_install.sh: installs and purges vitrine packages on this machine;" \
		"set VT_ALLOW_SYSTEM_INSTALL=1 to let it (CI does)" >&2
	exit 2
fi
if [ "$(id -u)" != 0 ]; then
	echo "deb_install.sh: needs root (apt-get install, the vitrine user)" >&2
	exit 2
fi
. "$(dirname "$0")/../integration/lib.sh"

failed=0
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
export DEBIAN_FRONTEND=noninteractive

PACKAGES="vitrine-agent vitrine-plugins vitrine-aggregator vitrine-ctl vitrine-plugin-dev"
DB=/var/lib/vitrine-aggregator/aggregator.db
debs=("$O"/deb/vitrine-*.deb)
if [ ! -f "${debs[0]}" ]; then
	fail deb_packages_built "no $O/deb/vitrine-*.deb: run make deb first"
	exit 1
fi

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q ' installed$'; }
# present: installed, or removed with its configuration files left.
present() {
	local s
	s=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)
	[ -n "$s" ] && [ "${s##* }" != not-installed ]
}
not_installed() { ! present "$1"; }
# as_vitrine COMMAND...: as the services run (setpriv execs, so a
# background job's $! is the program itself).
as_vitrine() { setpriv --reuid=vitrine --regid=vitrine --init-groups -- "$@"; }
# unit_exec UNIT: the unit's ExecStart= command line, without systemd's
# prefixes (-, @, +, !).
unit_exec() { sed -n 's/^ExecStart=[-@+!:]*//p' "/lib/systemd/system/$1" | tail -n 1; }
unit_user() { sed -n 's/^User=//p' "/lib/systemd/system/$1" | tail -n 1; }
mode_of() { stat -c '%U:%G %a' "$1" 2>/dev/null; }

purge_all() {
	local p list=""
	for p in $PACKAGES; do present "$p" && list="$list $p"; done
	[ -z "$list" ] || apt-get purge -y -q $list >"$T/purge.log" 2>&1
}
had_user=0
getent passwd vitrine >/dev/null && had_user=1
# Whatever happens, the machine ends without vitrine's packages (and
# without the vitrine user if this test made it).
finish() {
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	purge_all
	if [ "$had_user" = 0 ] && getent passwd vitrine >/dev/null; then
		deluser --quiet --system vitrine >/dev/null 2>&1
		getent group vitrine >/dev/null && delgroup --quiet --system vitrine >/dev/null 2>&1
	fi
	cleanup
}
trap finish EXIT

if present vitrine-agent || present vitrine-aggregator; then
	echo "deb_install.sh: vitrine packages were installed already; purging them first" >&2
	purge_all
fi

# ---- install ---------------------------------------------------------------
apt-get install -y -q "${debs[@]}" >"$T/install.log" 2>&1
rc=$?
check apt_installs_the_packages_and_their_dependencies [ "$rc" = 0 ]
if [ "$rc" != 0 ]; then
	tail -n 20 "$T/install.log" | sed 's/^/  | /'
	exit 1
fi
for p in $PACKAGES; do
	check "${p//-/_}_installed" installed "$p"
done

# ---- what the packages set up --------------------------------------------------
IFS=: read -r _ _ uid _ _ home shell <<<"$(getent passwd vitrine)"
system_uid() { [ -n "$uid" ] && [ "$uid" -lt 1000 ]; }
check system_user_vitrine system_uid
check vitrine_user_home_is_its_state [ "$home" = /var/lib/vitrine ]
check vitrine_user_cannot_log_in [ "$shell" = /usr/sbin/nologin ]
check vitrine_group [ "$(id -gn vitrine 2>/dev/null)" = vitrine ]
check etc_vitrine_root_vitrine_0750 [ "$(mode_of /etc/vitrine)" = "root:vitrine 750" ]
check agent_conf_root_vitrine_0640 [ "$(mode_of /etc/vitrine/agent.conf)" = "root:vitrine 640" ]
check aggregator_conf_root_vitrine_0640 [ "$(mode_of /etc/vitrine/aggregator.conf)" = "root:vitrine 640" ]
check agent_conf_is_a_conffile \
	grep -q '^ /etc/vitrine/agent.conf [0-9a-f]\{32\}$' <<<"$(dpkg-query -W -f='${Conffiles}\n' vitrine-agent)"
check aggregator_conf_is_a_conffile \
	grep -q '^ /etc/vitrine/aggregator.conf [0-9a-f]\{32\}$' <<<"$(dpkg-query -W -f='${Conffiles}\n' vitrine-aggregator)"
# The aggregator refuses a private key others than its owner may read.
check aggregator_key_made_vitrine_0600 [ "$(mode_of /etc/vitrine/aggregator.key)" = "vitrine:vitrine 600" ]
AGG_PUB=$(vitrine-aggregator pubkey 2>/dev/null)
check aggregator_pubkey_is_64_hex grep -qE '^[0-9a-f]{64}$' <<<"$AGG_PUB"
check agent_state_dir_vitrine_0700 [ "$(mode_of /var/lib/vitrine)" = "vitrine:vitrine 700" ]
check aggregator_state_dir_vitrine_0750 [ "$(mode_of /var/lib/vitrine-aggregator)" = "vitrine:vitrine 750" ]
for u in vitrine-agent.service vitrine-aggregator.service; do
	check "${u%.service}_unit_installed" test -f "/lib/systemd/system/$u"
	check "${u%.service}_unit_enabled" test -L "/etc/systemd/system/multi-user.target.wants/$u"
	if command -v systemd-analyze >/dev/null; then
		check "${u%.service}_unit_verifies" systemd-analyze verify --man=no "/lib/systemd/system/$u"
	fi
	check "${u%.service}_unit_runs_as_vitrine" [ "$(unit_user "$u")" = vitrine ]
done
for b in vitrine-agent vitrine-aggregator vitrine-ctl; do
	check "${b//-/_}_stripped" [ "$(readelf -S "/usr/bin/$b" | grep -c '\.symtab')" = 0 ]
	check "${b//-/_}_manual_page" test -f "/usr/share/man/man1/$b.1.gz"
done
check plugins_installed test -f /usr/lib/vitrine/plugins/footfall.so -a -f /usr/lib/vitrine/plugins/tablet.so \
	-a -f /usr/lib/vitrine/plugins/rfid.so
check agent_looks_for_plugins_where_they_are grep -qF '[/usr/lib/vitrine/plugins]' \
	<<<"$(vitrine-agent --help)"
check plugin_sdk_found_by_pkg_config \
	[ "$(pkg-config --variable=plugindir vitrine-plugin 2>/dev/null)" = /usr/lib/vitrine/plugins ]

# The default configuration does not say which device this is: refused,
# with the reason, and so the service does not run (the unit's ExecStart
# is the same program, which exits 2 on it).
as_vitrine vitrine-agent --check-config >"$T/check0.out" 2>&1
rc=$?
check unconfigured_agent_refused_with_exit_2 [ "$rc" = 2 ]
check unconfigured_agent_says_what_is_missing grep -q "missing required key 'site'" "$T/check0.out"

# ---- configure, as README.Debian says --------------------------------------------
PORT=$(free_port)
start_broker "$PORT" || { fail broker_starts "mosquitto did not listen on $PORT"; exit 1; }
sed -i "s/^broker .*/broker          127.0.0.1:$PORT/" /etc/vitrine/aggregator.conf
echo "commit_interval_ms 50" >>/etc/vitrine/aggregator.conf
sed -i "s/^broker .*/broker          127.0.0.1:$PORT/" /etc/vitrine/agent.conf
{
	echo "site            cannes-croisette"
	echo "device          pi-deb-1"
	echo "aggregator_key  $AGG_PUB"
	echo "privacy_mode    pseudonymous"
	echo "batch_max_age_ms 200"
	sim_plugins 300 11
} >>/etc/vitrine/agent.conf
check configured_agent_conf_keeps_its_mode [ "$(mode_of /etc/vitrine/agent.conf)" = "root:vitrine 640" ]
DEVICE_LINE=$(as_vitrine vitrine-agent --keygen 2>"$T/keygen.err" | grep '^device ')
check device_keygen_as_vitrine grep -qE '^device pi-deb-1 [0-9a-f]{64}$' <<<"$DEVICE_LINE"
check device_key_owned_by_vitrine_0600 [ "$(mode_of /var/lib/vitrine/device.key)" = "vitrine:vitrine 600" ]
vitrine-ctl enroll --aggregator-config /etc/vitrine/aggregator.conf --line "$DEVICE_LINE" >"$T/enroll.log" 2>&1
check ctl_enrolls_the_device [ $? = 0 ]
check enrolled_aggregator_conf_keeps_its_mode [ "$(mode_of /etc/vitrine/aggregator.conf)" = "root:vitrine 640" ]
as_vitrine vitrine-agent --check-config >"$T/check1.out" 2>&1
check configured_agent_passes_check_config [ $? = 0 ]
as_vitrine vitrine-aggregator --check-config >"$T/check2.out" 2>&1
check aggregator_passes_check_config [ $? = 0 ]

# ---- run: the units' commands, as the units' user -------------------------------
chmod 0711 "$T"
install -d -o vitrine -g vitrine "$T/run"
read -ra agg_cmd <<<"$(unit_exec vitrine-aggregator.service)"
: >"$T/aggregator.log"
setpriv --reuid="$(unit_user vitrine-aggregator.service)" --regid=vitrine --init-groups -- \
	"${agg_cmd[@]}" >>"$T/aggregator.log" 2>&1 &
AGG_PID=$!
PIDS+=("$AGG_PID")
wait_for 100 'grep -q "subscribed to" "$T/aggregator.log"'
check installed_aggregator_subscribes grep -q "subscribed to" "$T/aggregator.log"

read -ra agent_cmd <<<"$(unit_exec vitrine-agent.service)"
timeout 90 setpriv --reuid="$(unit_user vitrine-agent.service)" --regid=vitrine --init-groups -- \
	"${agent_cmd[@]}" --tap "$T/run/tap.csv" --exit-when-done >"$T/agent.log" 2>&1
rc=$?
check installed_agent_delivers_and_exits_0 [ "$rc" = 0 ]
tap=$(wc -l <"$T/run/tap.csv" 2>/dev/null || echo 0)
check agent_loaded_the_three_installed_plugins \
	[ "$(cut -d, -f1 "$T/run/tap.csv" 2>/dev/null | sort -u | tr '\n' ' ')" = "footfall rfid tablet " ]
db_rows() {
	as_vitrine sqlite3 "$DB" "select (select count(*) from footfall)+(select count(*) from tablet)+(select count(*) from rfid)" 2>/dev/null || echo 0
}
wait_for 100 '[ "$(db_rows)" -ge "$tap" ]'
all_stored() { [ "$tap" -gt 0 ] && [ "$(db_rows)" = "$tap" ]; }
check readings_reach_the_aggregator_database all_stored
as_vitrine vitrine-aggregator export >"$T/export.csv" 2>>"$T/aggregator.log"
same_readings() { [ "$tap" -gt 0 ] && cmp -s <(LC_ALL=C sort "$T/run/tap.csv") "$T/export.csv"; }
check every_reading_stored_field_for_field same_readings
check agent_state_all_owned_by_vitrine [ -z "$(find /var/lib/vitrine /var/lib/vitrine-aggregator ! -user vitrine)" ]
kill -TERM "$AGG_PID" 2>/dev/null
wait "$AGG_PID" 2>/dev/null
if [ "$failed" != 0 ]; then
	for f in check0.out check1.out agent.log aggregator.log enroll.log; do
		[ -s "$T/$f" ] && { echo "  -- $f"; tail -n 8 "$T/$f" | sed 's/^/  | /'; }
	done
fi

# ---- purge ---------------------------------------------------------------------
apt-get purge -y -q $PACKAGES >"$T/purge.log" 2>&1
check apt_purges_the_packages [ $? = 0 ]
for p in $PACKAGES; do
	check "${p//-/_}_gone" not_installed "$p"
done
left=""
for f in /usr/bin/vitrine-agent /usr/bin/vitrine-aggregator /usr/bin/vitrine-ctl /usr/lib/vitrine \
	/usr/include/vitrine /usr/share/pkgconfig/vitrine-plugin.pc /etc/vitrine /var/lib/vitrine \
	/var/lib/vitrine-aggregator /lib/systemd/system/vitrine-agent.service \
	/lib/systemd/system/vitrine-aggregator.service /usr/share/doc/vitrine-agent \
	/usr/share/man/man1/vitrine-agent.1.gz; do
	[ -e "$f" ] || [ -L "$f" ] && left="$left $f"
done
left="$left $(find /etc/systemd/system /var/lib/systemd/deb-systemd-helper-enabled \
	/var/lib/systemd/deb-systemd-helper-masked -name '*vitrine*' 2>/dev/null | tr '\n' ' ')"
left=$(echo $left)
if [ -z "$left" ]; then pass purge_leaves_no_files_state_or_unit_links; else
	fail purge_leaves_no_files_state_or_unit_links "left:$left"; fi
# Debian keeps system users on purge (platform/debian/user.sh).
user_exists() { getent passwd vitrine >/dev/null; }
check purge_keeps_the_vitrine_user user_exists

echo "deb_install: $([ "$failed" = 0 ] && echo "all passed" || echo "$failed failed")"
[ "$failed" = 0 ]
