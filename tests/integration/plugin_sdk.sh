#!/usr/bin/env bash
# tests/integration/plugin_sdk.sh - the plugin SDK works as docs/PLUGINS.md
# says: `make install` puts the agent, plugin.h and vitrine-plugin.pc under
# a root; plugins/template, copied out of the tree, builds against them with
# pkg-config alone; the installed agent loads it, and its readings reach a
# real aggregator through a real broker.
. "$(dirname "$0")/lib.sh"

root="$T/root"
# A make of our own, not the jobserver of the `make test` that runs us.
env -u MAKEFLAGS -u MAKELEVEL make --no-print-directory -C "$VT_ROOT" O="$O" \
	DESTDIR="$root" PREFIX=/usr install >"$T/install.log" 2>&1
check sdk_make_install_succeeds [ $? = 0 ]
check sdk_installs_header_and_pc_file test -f "$root/usr/include/vitrine/plugin.h" \
	-a -f "$root/usr/lib/pkgconfig/vitrine-plugin.pc"
export PKG_CONFIG_PATH="$root/usr/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$root"
check sdk_pc_names_the_abi [ "$(pkg-config --variable=abi vitrine-plugin)" = \
	"$(sed -n 's/^#define VITRINE_ABI_MAJOR //p' "$VT_ROOT/agent/include/vitrine/plugin.h").$(sed -n \
	's/^#define VITRINE_ABI_MINOR //p' "$VT_ROOT/agent/include/vitrine/plugin.h")" ]

# Out of the tree: nothing but the installed SDK on the include path.
cp -r "$VT_ROOT/plugins/template" "$T/myplugin"
rm -f "$T/myplugin/template.so"
env -u MAKEFLAGS -u MAKELEVEL make --no-print-directory -C "$T/myplugin" >"$T/build.log" 2>&1
check sdk_template_builds_out_of_tree test -f "$T/myplugin/template.so"
check sdk_template_uses_the_installed_header grep -q -- "-I$root/usr/include" "$T/build.log"
env -u MAKEFLAGS -u MAKELEVEL make --no-print-directory -C "$T/myplugin" install >>"$T/build.log" 2>&1
check sdk_template_installs_into_plugindir test -f "$root/usr/lib/vitrine/plugins/template.so"

PORT=$(free_port)
start_broker "$PORT"
AGENT="$root/usr/bin/vitrine-agent" PLUGIN_DIR="$root/usr/lib/vitrine/plugins" setup_keys
printf 'plugin template\ntemplate.limit 25\n' >>"$T/agent.conf"
start_aggregator
timeout 30 "$root/usr/bin/vitrine-agent" -c "$T/agent.conf" --exit-when-done 2>"$T/agent.log"
check sdk_installed_agent_runs_the_template [ $? = 0 ]
wait_for 100 '[ "$(db_count)" = 25 ]'
check sdk_template_readings_reach_the_aggregator [ "$(db_count)" = 25 ]
check sdk_template_logged_as_started grep -q "plugin template 0.1.0 started" "$T/agent.log"
