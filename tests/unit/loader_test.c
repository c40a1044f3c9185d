/*
 * loader_test.c - the plugin loader accepts ABI 1.x plugins and refuses a
 * missing file, a missing symbol, another major and a short struct, with a
 * message naming the file and both versions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "loader.h"
#include "vt_test.h"

static const char *abi_dir(void)
{
	static char dir[512];
	const char *o = getenv("O");

	snprintf(dir, sizeof(dir), "%s/tests/abi", o ? o : "build/host");
	return dir;
}

VT_TEST(loader_accepts_abi_1_0_plugin)
{
	struct vt_loaded_plugin lp;
	char err[512] = "";

	CHECK_EQ_INT(vt_loader_open(abi_dir(), "abi_v1_0", &lp, err, sizeof(err)), 0);
	CHECK_STR(lp.desc.name, "abi_v1_0");
	CHECK(lp.desc.init != NULL && lp.desc.collect != NULL);
	CHECK_EQ_INT(lp.desc.collect_interval_ms, 10);
	vt_loader_close(&lp);
}

VT_TEST(loader_refuses_missing_file_naming_it)
{
	struct vt_loaded_plugin lp;
	char err[512] = "";

	CHECK(vt_loader_open(abi_dir(), "does_not_exist", &lp, err, sizeof(err)) < 0);
	CHECK(strstr(err, "does_not_exist.so") != NULL);
	CHECK(strstr(err, "No such file") != NULL);
}

VT_TEST(loader_refuses_missing_symbol)
{
	struct vt_loaded_plugin lp;
	char err[512] = "";

	CHECK_EQ_INT(vt_loader_open(abi_dir(), "abi_nosym", &lp, err, sizeof(err)), -VT_EABI);
	CHECK(strstr(err, "abi_nosym.so") != NULL);
	CHECK(strstr(err, "vitrine_plugin") != NULL);
	CHECK(lp.handle == NULL);
}

VT_TEST(loader_refuses_other_major_naming_both_versions)
{
	struct vt_loaded_plugin lp;
	char err[512] = "", ours[32];

	CHECK_EQ_INT(vt_loader_open(abi_dir(), "abi_major2", &lp, err, sizeof(err)), -VT_EABI);
	CHECK(strstr(err, "abi_major2.so") != NULL);
	CHECK(strstr(err, "ABI 2.3") != NULL);
	snprintf(ours, sizeof(ours), "ABI %d.%d", VITRINE_ABI_MAJOR, VITRINE_ABI_MINOR);
	CHECK(strstr(err, ours) != NULL);
}

VT_TEST(loader_refuses_short_struct)
{
	struct vt_loaded_plugin lp;
	char err[512] = "";

	CHECK_EQ_INT(vt_loader_open(abi_dir(), "abi_short", &lp, err, sizeof(err)), -VT_EABI);
	CHECK(strstr(err, "16 bytes") != NULL);
}

VT_TEST(loader_refuses_a_name_outside_a_z_0_9_underscore)
{
	struct vt_loaded_plugin lp;
	char err[512] = "";

	CHECK_EQ_INT(vt_loader_open(abi_dir(), "abi_badname", &lp, err, sizeof(err)), -VT_EABI);
	CHECK(strstr(err, "plugin name 'Door-Counter' is not 1 to 31 of [a-z0-9_]") != NULL);
	CHECK(lp.handle == NULL);
}

VT_TEST(loader_takes_a_path_as_name)
{
	struct vt_loaded_plugin lp;
	char err[512] = "", path[600];

	snprintf(path, sizeof(path), "%s/abi_v1_0.so", abi_dir());
	CHECK_EQ_INT(vt_loader_open("/nonexistent", path, &lp, err, sizeof(err)), 0);
	CHECK_STR(lp.path, path);
	vt_loader_close(&lp);
}

VT_TEST_MAIN()
