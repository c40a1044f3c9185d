/*
 * plugins/tablet/kiosk_http_load.c - finds the kiosk HTTP server
 * (kiosk_http.h): linked in (the plugin's unit tests), or tablet-http.so
 * opened on first use from the directory that tablet.so was loaded from,
 * else from the installed plugin directory (VT_PLUGIN_DIR): a tablet.so
 * that a fleet bundle delivered lives in the agent's state_dir, without a
 * module beside it, and uses the installed one (the module's version says
 * whether the two fit).
 *
 * The module is found where the agent's plugins come from, never on a
 * search path or through the environment: it runs inside the agent.
 */
#include "kiosk_http.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#ifndef VT_PLUGIN_DIR
#define VT_PLUGIN_DIR "/usr/local/lib/vitrine/plugins"
#endif

/* "<dir of this object>/tablet-http.so" into path[n]; -ENOENT when the
 * directory cannot be told. */
static int kiosk_http_module_path(char *path, size_t n)
{
	Dl_info info;
	const char *slash;
	int len;

	if (!dladdr((void *)kiosk_http_module_path, &info) || !info.dli_fname)
		return -ENOENT;
	slash = strrchr(info.dli_fname, '/');
	if (!slash)
		len = snprintf(path, n, "./%s", KIOSK_HTTP_MODULE_FILE);
	else
		len = snprintf(path, n, "%.*s/%s", (int)(slash - info.dli_fname),
			       info.dli_fname, KIOSK_HTTP_MODULE_FILE);
	return len < 0 || (size_t)len >= n ? -ENOENT : 0;
}

int kiosk_http_load(const struct kiosk_http_module **mod, void **handle,
		    const struct vitrine_host *host, struct vitrine_ctx *ctx)
{
	const struct kiosk_http_module *m;
	char path[4096];
	void *h;

	*handle = NULL;
	if (&kiosk_http_module) {
		*mod = &kiosk_http_module;
		return 0;
	}
	if (kiosk_http_module_path(path, sizeof(path))) {
		host->log(ctx, VITRINE_LOG_ERROR,
			  "kiosk HTTP (tablet.http_port): cannot tell which directory tablet.so was loaded from, to find %s",
			  KIOSK_HTTP_MODULE_FILE);
		return -ENOENT;
	}
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		char why[512];

		snprintf(why, sizeof(why), "%s", dlerror());
		snprintf(path, sizeof(path), "%s/%s", VT_PLUGIN_DIR, KIOSK_HTTP_MODULE_FILE);
		h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		if (!h) {
			host->log(ctx, VITRINE_LOG_ERROR,
				  "kiosk HTTP (tablet.http_port) needs %s, which did not load: %s (nor %s: %s); install it beside tablet.so (package vitrine-plugins), or set tablet.http_port 0 and use tablet.socket",
				  KIOSK_HTTP_MODULE_FILE, why, path, dlerror());
			return -ENOENT;
		}
	}
	m = dlsym(h, "kiosk_http_module");
	if (!m || m->version != KIOSK_HTTP_MODULE_VERSION) {
		host->log(ctx, VITRINE_LOG_ERROR,
			  "%s is not the kiosk HTTP module of this tablet.so (%s %u, want %u): install tablet.so and %s from the same build",
			  path, m ? "version" : "no kiosk_http_module, version",
			  m ? m->version : 0, KIOSK_HTTP_MODULE_VERSION,
			  KIOSK_HTTP_MODULE_FILE);
		dlclose(h);
		return -EPROTO;
	}
	*mod = m;
	*handle = h;
	return 0;
}

void kiosk_http_unload(void *handle)
{
	if (handle)
		dlclose(handle);
}
