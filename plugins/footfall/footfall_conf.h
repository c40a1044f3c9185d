/*
 * plugins/footfall/footfall_conf.h - the configuration keys of the real
 * footfall sources: the GPIO doors (door1..door16, active_low, bias,
 * gpio_replay) and the people counter (counter_listen, counter_serial).
 *
 * Errors are logged through vp_conf_bad() as `footfall.<key> = "<value>" is
 * invalid: expected <what>` and returned as -EINVAL. The strings stored in
 * the params are copies, except replay.path, borrowed from the host (it
 * lives until fini). What it does not do: the simulation's keys
 * (plugin_conf.c, sim_clock.c) or open anything.
 */
#ifndef VT_FOOTFALL_CONF_H
#define VT_FOOTFALL_CONF_H

#include "counter.h"
#include "source.h"

#include "common/plugin_conf.h"

#define FOOTFALL_DOOR_KEYS                                                     \
	"door1", "door2", "door3", "door4", "door5", "door6", "door7", "door8", \
	"door9", "door10", "door11", "door12", "door13", "door14", "door15",   \
	"door16"

#define FOOTFALL_GPIO_KEYS FOOTFALL_DOOR_KEYS, "active_low", "bias", "gpio_replay"
#define FOOTFALL_COUNTER_KEYS "counter_listen", "counter_serial", "counter_rate"

#define FOOTFALL_COUNTER_LISTEN_DEFAULT "127.0.0.1:7878"

/* door<n>, active_low, bias and gpio_replay into *p (replay start and speed
 * are the caller's). At least one door. 0 or -EINVAL. */
int footfall_conf_gpio(const struct vp_conf *c, struct footfall_gpio_params *p);

/* counter_listen, counter_serial and counter_rate into *p. 0 or -EINVAL. */
int footfall_conf_counter(const struct vp_conf *c, struct footfall_counter_params *p);

#endif /* VT_FOOTFALL_CONF_H */
