/*
 * ctl_devlist.c - the devices vitrine-ctl has seen on the broker: one
 * parsed status per site/device, kept sorted (the order every listing
 * uses) and found by binary search, since a rollout looks devices up at
 * each status that arrives.
 *
 * What is known of a device is its latest retained status and the site
 * and device of its topic; an empty retained status (cleared by ops)
 * forgets it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static int vt_ctl_devlist_cmp(const struct vt_ctl_status *s, const char *site,
			      const char *device)
{
	int c = strcmp(s->site, site);

	return c ? c : strcmp(s->device, device);
}

/* Index of (site, device), or where it would go; *found says which. */
static size_t vt_ctl_devlist_pos(const struct vt_ctl_devlist *l, const char *site,
				 const char *device, int *found)
{
	size_t lo = 0, hi = l->n;

	*found = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = vt_ctl_devlist_cmp(l->v[mid], site, device);

		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void vt_ctl_devlist_remove(struct vt_ctl_devlist *l, size_t pos)
{
	vt_ctl_status_clear(l->v[pos]);
	free(l->v[pos]);
	memmove(&l->v[pos], &l->v[pos + 1], (l->n - pos - 1) * sizeof(l->v[0]));
	l->n--;
}

static struct vt_ctl_status *vt_ctl_devlist_insert(struct vt_ctl_devlist *l, size_t pos,
						   const char *site, const char *device)
{
	struct vt_ctl_status *s;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct vt_ctl_status **v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		l->v = v;
		l->cap = cap;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	snprintf(s->site, sizeof(s->site), "%s", site);
	snprintf(s->device, sizeof(s->device), "%s", device);
	vt_ctl_status_clear(s);
	memmove(&l->v[pos + 1], &l->v[pos], (l->n - pos) * sizeof(l->v[0]));
	l->v[pos] = s;
	l->n++;
	return s;
}

int vt_ctl_devlist_offer(struct vt_ctl_devlist *l, const char *topic, const uint8_t *payload,
			 size_t len)
{
	char site[VT_CTL_ID_MAX + 1], device[VT_CTL_ID_MAX + 1];
	struct vt_ctl_status *s;
	size_t pos;
	int found;

	if (vt_ctl_status_topic(topic, site, device) < 0)
		return 0;
	l->updates++;
	pos = vt_ctl_devlist_pos(l, site, device, &found);
	if (len == 0) {
		if (found)
			vt_ctl_devlist_remove(l, pos);
		return 0;
	}
	s = found ? l->v[pos] : vt_ctl_devlist_insert(l, pos, site, device);
	if (!s)
		return -ENOMEM;
	return vt_ctl_status_parse(s, (const char *)payload, len);
}

void vt_ctl_devlist_on_msg(void *list, const char *topic, const uint8_t *payload, size_t len)
{
	struct vt_ctl_devlist *l = list;

	if (vt_ctl_devlist_offer(l, topic, payload, len) < 0)
		l->oom = 1;
}

struct vt_ctl_status *vt_ctl_devlist_find(const struct vt_ctl_devlist *l, const char *site,
					  const char *device)
{
	int found;
	size_t pos = vt_ctl_devlist_pos(l, site, device, &found);

	return found ? l->v[pos] : NULL;
}

void vt_ctl_devlist_free(struct vt_ctl_devlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		vt_ctl_status_clear(l->v[i]);
		free(l->v[i]);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int vt_ctl_devlist_fetch(struct vt_ctl_devlist *l, const struct vt_ctl_broker *b,
			 const char *filter, int wait_ms)
{
	struct vt_ctl_mqtt *m;
	int rc = -1;

	if (vt_ctl_mqtt_connect(&m, b, vt_ctl_devlist_on_msg, l) < 0)
		return -1;
	if (vt_ctl_mqtt_subscribe(m, filter) < 0 ||
	    vt_ctl_mqtt_settle(m, VT_CTL_SETTLE_MS, wait_ms) < 0)
		goto out_close;
	if (l->oom) {
		vt_ctl_error("out of memory while collecting statuses");
		goto out_close;
	}
	rc = 0;
out_close:
	vt_ctl_mqtt_close(m);
	return rc;
}
