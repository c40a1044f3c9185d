/*
 * loader.h - loading collector plugins with dlopen and checking their ABI.
 *
 * A plugin is refused, with a message naming the file and both versions,
 * when the file is missing or not loadable, when it lacks the
 * `vitrine_plugin` symbol, when its abi_major differs from the agent's,
 * when its struct is smaller than the agent needs, or when its name is not
 * 1 to 31 of [a-z0-9_]. The caller decides what
 * a refusal means (the agent runs on with the plugins that did load).
 */
#ifndef VT_LOADER_H
#define VT_LOADER_H

#include <stddef.h>

#include "vitrine/plugin.h"

#define VT_LOADER_NAME_MAX 31	/* a plugin's name: 1..31 of [a-z0-9_] */

struct vt_loaded_plugin {
	void *handle;			/* dlopen handle; vt_loader_close() */
	struct vitrine_plugin desc;	/* a copy, zero-extended to our size */
	char path[512];
};

/* Load name from dir (dir/name.so), or the path itself when name contains
 * a '/'. On failure returns VT_EABI or -ENOENT/-ENOEXEC with the reason in
 * err. */
int vt_loader_open(const char *dir, const char *name, struct vt_loaded_plugin *out,
		   char *err, size_t errlen);
void vt_loader_close(struct vt_loaded_plugin *lp);

#endif
