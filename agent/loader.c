/*
 * loader.c - dlopen a collector plugin and check its ABI (see loader.h).
 */
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "loader.h"

/* The smallest plugin struct the agent can use: everything up to fini. */
#define VT_LOADER_MIN_SIZE \
	(offsetof(struct vitrine_plugin, fini) + sizeof(((struct vitrine_plugin *)0)->fini))

static int vt_loader_name_ok(const char *name)
{
	size_t n = strnlen(name, VT_LOADER_NAME_MAX + 1);

	return n >= 1 && n <= VT_LOADER_NAME_MAX &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

static int vt_loader_check(const struct vitrine_plugin *p, const char *path, char *err,
			   size_t errlen)
{
	if (p->abi_major != VITRINE_ABI_MAJOR) {
		snprintf(err, errlen,
			 "%s: plugin built for ABI %u.%u, this agent speaks ABI %d.%d (only %d.x loads); rebuild it against this agent's vitrine/plugin.h",
			 path, p->abi_major, p->abi_minor, VITRINE_ABI_MAJOR, VITRINE_ABI_MINOR,
			 VITRINE_ABI_MAJOR);
		return -VT_EABI;
	}
	if (p->struct_size < VT_LOADER_MIN_SIZE) {
		snprintf(err, errlen,
			 "%s: plugin struct is %u bytes, ABI %d.%d needs at least %zu (plugin ABI %u.%u); rebuild it",
			 path, p->struct_size, VITRINE_ABI_MAJOR, VITRINE_ABI_MINOR,
			 (size_t)VT_LOADER_MIN_SIZE, p->abi_major, p->abi_minor);
		return -VT_EABI;
	}
	if (!p->name || !p->init) {
		snprintf(err, errlen, "%s: plugin has no %s (ABI %u.%u)", path,
			 p->name ? "init callback" : "name", p->abi_major, p->abi_minor);
		return -VT_EABI;
	}
	/* The name prefixes config keys, names checkpoint entries and the
	 * status: plugin.h promises [a-z0-9_]+; hold plugins to it. */
	if (!vt_loader_name_ok(p->name)) {
		snprintf(err, errlen, "%s: plugin name '%.40s' is not 1 to %d of [a-z0-9_]", path,
			 p->name, VT_LOADER_NAME_MAX);
		return -VT_EABI;
	}
	return 0;
}

int vt_loader_open(const char *dir, const char *name, struct vt_loaded_plugin *out,
		   char *err, size_t errlen)
{
	const struct vitrine_plugin *sym;
	size_t n;
	int rc;

	memset(out, 0, sizeof(*out));
	if (strchr(name, '/'))
		n = (size_t)snprintf(out->path, sizeof(out->path), "%s", name);
	else
		n = (size_t)snprintf(out->path, sizeof(out->path), "%s/%s.so", dir, name);
	if (n >= sizeof(out->path)) {
		snprintf(err, errlen, "plugin '%s': path too long", name);
		return -ENAMETOOLONG;
	}
	if (access(out->path, R_OK) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot load plugin '%s': %s", out->path, name,
			 strerror(errno));
		return rc;
	}
	out->handle = dlopen(out->path, RTLD_NOW | RTLD_LOCAL);
	if (!out->handle) {
		snprintf(err, errlen, "%s: cannot load plugin '%s': %s", out->path, name,
			 dlerror());
		return -ENOEXEC;
	}
	sym = dlsym(out->handle, VITRINE_PLUGIN_SYMBOL);
	if (!sym) {
		snprintf(err, errlen,
			 "%s: no symbol '%s': not a vitrine plugin (agent ABI %d.%d)",
			 out->path, VITRINE_PLUGIN_SYMBOL, VITRINE_ABI_MAJOR, VITRINE_ABI_MINOR);
		rc = -VT_EABI;
		goto out_close;
	}
	rc = vt_loader_check(sym, out->path, err, errlen);
	if (rc < 0)
		goto out_close;
	/* An older plugin's struct is shorter: fields it lacks stay zero. */
	memcpy(&out->desc, sym,
	       sym->struct_size < sizeof(out->desc) ? sym->struct_size : sizeof(out->desc));
	return 0;
out_close:
	dlclose(out->handle);
	out->handle = NULL;
	return rc;
}

void vt_loader_close(struct vt_loaded_plugin *lp)
{
	if (lp->handle)
		dlclose(lp->handle);
	lp->handle = NULL;
}
