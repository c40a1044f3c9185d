/*
 * plugins/footfall/footfall_conf.c - the configuration keys of the GPIO
 * and people-counter sources (see footfall_conf.h).
 */
#include "footfall_conf.h"

#include "counter_io.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define CONF_TOKENS_MAX 3
#define CONF_LINE_MAX 65535

/* Splits a copy of val (in buf) on blanks; the number of tokens, or
 * CONF_TOKENS_MAX + 1 when there are more. */
static int conf_split(const char *val, char *buf, size_t len, char **tok)
{
	char *save = NULL;
	int n = 0;

	snprintf(buf, len, "%s", val);
	for (char *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (n == CONF_TOKENS_MAX)
			return n + 1;
		tok[n++] = t;
	}
	return n;
}

static int conf_door(const struct vp_conf *c, const char *key, const char *val,
		     struct footfall_gpio_door *d)
{
	static const char expected[] =
		"\"<chip> <line of beam A> <line of beam B>\", e.g. \"gpiochip0 17 27\" (two different lines 0..65535)";
	char buf[128], *tok[CONF_TOKENS_MAX];
	uint64_t a, b;

	if (strlen(val) >= sizeof(buf) || conf_split(val, buf, sizeof(buf), tok) != 3 ||
	    strlen(tok[0]) >= sizeof(d->chip) || vp_parse_u64(tok[1], 0, CONF_LINE_MAX, &a) ||
	    vp_parse_u64(tok[2], 0, CONF_LINE_MAX, &b) || a == b)
		return vp_conf_bad(c, key, val, expected);
	snprintf(d->chip, sizeof(d->chip), "%s", tok[0]);
	d->line[BEAMS_LINE_A] = (uint32_t)a;
	d->line[BEAMS_LINE_B] = (uint32_t)b;
	return 0;
}

/* The same line of the same chip named twice, in two doors. */
static int conf_doors_overlap(const struct vp_conf *c, const struct footfall_gpio_params *p)
{
	char key[16], what[96];

	for (int i = 0; i < FOOTFALL_DOORS_MAX; i++)
		for (int j = 0; j < i; j++) {
			const struct footfall_gpio_door *x = &p->door[i], *y = &p->door[j];

			if (!x->chip[0] || !y->chip[0] || strcmp(x->chip, y->chip))
				continue;
			for (int k = 0; k < 4; k++) {
				if (x->line[k / 2] != y->line[k % 2])
					continue;
				snprintf(key, sizeof(key), "door%d", i + 1);
				snprintf(what, sizeof(what), "lines not already used by footfall.door%d",
					 j + 1);
				return vp_conf_bad(c, key, c->host->config(c->ctx, key), what);
			}
		}
	return 0;
}

static int conf_bias(const struct vp_conf *c, enum gpio_bias *bias)
{
	static const struct {
		const char *name;
		enum gpio_bias bias;
	} names[] = {
		{ "pull-up", GPIO_BIAS_PULL_UP }, { "pull-down", GPIO_BIAS_PULL_DOWN },
		{ "disabled", GPIO_BIAS_DISABLED }, { "as-is", GPIO_BIAS_AS_IS },
	};
	const char *val = c->host->config(c->ctx, "bias");

	*bias = GPIO_BIAS_PULL_UP;
	if (!val)
		return 0;
	for (size_t i = 0; i < VP_ARRAY_SIZE(names); i++)
		if (!strcmp(val, names[i].name)) {
			*bias = names[i].bias;
			return 0;
		}
	return vp_conf_bad(c, "bias", val, "pull-up, pull-down, disabled or as-is");
}

int footfall_conf_gpio(const struct vp_conf *c, struct footfall_gpio_params *p)
{
	static const char *const keys[] = { FOOTFALL_DOOR_KEYS };
	const char *val;
	uint64_t active_low = 1;
	int doors = 0, rc;

	memset(p, 0, sizeof(*p));
	for (int i = 0; i < FOOTFALL_DOORS_MAX; i++) {
		val = c->host->config(c->ctx, keys[i]);
		if (!val)
			continue;
		rc = conf_door(c, keys[i], val, &p->door[i]);
		if (rc)
			return rc;
		doors++;
	}
	if (!doors)
		return vp_conf_bad(c, "source", "gpio",
				   "at least one footfall.door<n> line with it, e.g. \"footfall.door1 gpiochip0 17 27\"");
	rc = conf_doors_overlap(c, p);
	if (rc)
		return rc;
	val = c->host->config(c->ctx, "active_low");
	if (val && vp_parse_u64(val, 0, 1, &active_low))
		return vp_conf_bad(c, "active_low", val,
				   "1 (a broken beam pulls its line low) or 0 (it drives it high)");
	p->active_low = (int)active_low;
	p->replay.path = c->host->config(c->ctx, "gpio_replay");
	if (p->replay.path && !p->replay.path[0])
		return vp_conf_bad(c, "gpio_replay", "", "the path of a replay file");
	return conf_bias(c, &p->bias);
}

static int conf_serial(const struct vp_conf *c, const char *val,
		       struct footfall_counter_params *p)
{
	char buf[192], *tok[CONF_TOKENS_MAX];
	uint64_t speed;

	if (strlen(val) >= sizeof(buf) || conf_split(val, buf, sizeof(buf), tok) != 2 ||
	    strlen(tok[0]) >= sizeof(p->serial) || tok[0][0] != '/' ||
	    vp_parse_u64(tok[1], 1, 4000000, &speed) || !counter_io_baud_ok((uint32_t)speed))
		return vp_conf_bad(c, "counter_serial", val,
				   "\"<device path> <bit/s>\", e.g. \"/dev/ttyUSB0 9600\" (1200 to 230400 bit/s)");
	snprintf(p->serial, sizeof(p->serial), "%s", tok[0]);
	p->serial_speed = (uint32_t)speed;
	return 0;
}

/* footfall.counter_rate: lines a second per input (bursts of 5x that). */
static int conf_counter_rate(const struct vp_conf *c, struct footfall_counter_params *p)
{
	struct {
		uint64_t rate;
	} v;
	static const struct vp_num_key key[] = {
		{ "counter_rate", COUNTER_RATE_DEFAULT, 1, COUNTER_RATE_MAX, 0 },
	};
	int rc = vp_conf_numbers(c, key, 1, &v);

	if (!rc)
		p->rate = (uint32_t)v.rate;
	return rc;
}

int footfall_conf_counter(const struct vp_conf *c, struct footfall_counter_params *p)
{
	const char *listen = c->host->config(c->ctx, "counter_listen");
	const char *serial = c->host->config(c->ctx, "counter_serial");

	memset(p, 0, sizeof(*p));
	if (!listen)
		listen = FOOTFALL_COUNTER_LISTEN_DEFAULT;
	if (strcmp(listen, "off")) {
		if (strlen(listen) >= sizeof(p->listen) || !counter_io_addr_ok(listen))
			return vp_conf_bad(c, "counter_listen", listen,
					   "\"<address>:<port>\", e.g. \"127.0.0.1:7878\", or \"off\"");
		snprintf(p->listen, sizeof(p->listen), "%s", listen);
	}
	if (serial && conf_serial(c, serial, p))
		return -EINVAL;
	if (conf_counter_rate(c, p))
		return -EINVAL;
	if (!p->listen[0] && !p->serial[0])
		return vp_conf_bad(c, "counter_listen", listen,
				   "an address:port when footfall.counter_serial is not set");
	return 0;
}
