/*
 * plugins/footfall/gpio_provider.h - the narrow interface between the GPIO
 * beam driver (source_gpio.c) and whatever delivers GPIO line events.
 *
 * A provider requests one line of a chip (by chip name and line number) for
 * events on both edges and hands out the events queued on it, each with a
 * timestamp in µs on the provider's clock. Two providers:
 * - gpio_gpiod.c: the kernel's GPIO character device through libgpiod 1.6
 *   (timestamps: CLOCK_MONOTONIC; a kernel before 5.7 stamps v1 events with
 *   CLOCK_REALTIME, which the provider converts);
 * - gpio_replay.c: a recorded edge sequence from a text file, for tests and
 *   for replaying a site's recording on a desk (gpio_replay_file.h).
 * A provider knows nothing of doors, beams or passes. Single-threaded.
 */
#ifndef VT_FOOTFALL_GPIO_PROVIDER_H
#define VT_FOOTFALL_GPIO_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

/* Pull resistor asked for on an input line. */
enum gpio_bias {
	GPIO_BIAS_AS_IS = 0,	/* leave it as the board set it */
	GPIO_BIAS_DISABLED,
	GPIO_BIAS_PULL_UP,
	GPIO_BIAS_PULL_DOWN,
};

struct gpio_line_event {
	int64_t ts_us;		/* provider clock, non-decreasing per line */
	uint8_t rising;		/* 1: the line went high; 0: it went low */
};

/* Longest operator message a provider writes. */
#define GPIO_ERR_MAX 192

struct gpio_line;		/* one requested line; owned by its provider */
struct gpio_provider;

struct gpio_provider_ops {
	const char *name;	/* "gpiod", "replay" */
	/* Requests line `offset` of `chip` as an input with events on both
	 * edges. 0 and *out (freed with release), or -errno with a sentence
	 * for the operator in err, e.g. "gpiochip0 line 99 does not exist
	 * (the chip has 54 lines)": -ENODEV when the chip or line does not
	 * exist, -EBUSY when another program holds the line. */
	int (*request)(struct gpio_provider *p, const char *chip, uint32_t offset,
		       enum gpio_bias bias, struct gpio_line **out, char *err,
		       size_t errlen);
	/* Moves up to max queued events into ev, oldest first, without
	 * blocking. A provider that paces itself keeps events later than
	 * until_us queued; the kernel's provider hands out what it has.
	 * Returns how many (0: none queued) or -errno: the line is lost. */
	int (*read)(struct gpio_line *l, int64_t until_us,
		    struct gpio_line_event *ev, int max);
	/* The line's electrical level when it was requested (1 high, 0 low)
	 * and in *ts_us the time on the provider's clock it held at: no
	 * event of the line is older. -errno when it is not known (the
	 * driver then assumes the beam clear). The driver feeds it to the
	 * beams as an edge, so a beam blocked at start is seen. */
	int (*level)(struct gpio_line *l, int64_t *ts_us);
	/* Gives the line back (NULL is a no-op). */
	void (*release)(struct gpio_line *l);
	/* The time on the provider's clock up to which every event that
	 * happened has been queued: a later read returns nothing older. */
	int64_t (*settled_us)(struct gpio_provider *p);
	/* UTC ms at ts_us = 0 of the provider's clock, now. */
	int64_t (*epoch_utc_ms)(struct gpio_provider *p);
	/* 1 when no event will ever come again (a replay past its end). */
	int (*ended)(struct gpio_provider *p);
	/* Frees the provider; every line must have been released. */
	void (*destroy)(struct gpio_provider *p);
};

/* Providers embed this as their first member. */
struct gpio_provider {
	const struct gpio_provider_ops *ops;
};

/* The libgpiod provider. 0 and *out, or -ENOMEM. */
int gpio_gpiod_create(struct gpio_provider **out);

struct gpio_replay_params {
	const char *path;	/* borrowed: the recording (gpio_replay_file.h) */
	int64_t start_utc_ms;	/* UTC of t_us = 0 in the file */
	double speed;		/* recorded µs per real µs; 0 = all at once */
};

/* The replay provider: reads and checks the whole file now. 0 and *out,
 * or -errno with "<path>: line N: what is wrong" (or why the file cannot
 * be read) in err. */
int gpio_replay_create(const struct gpio_replay_params *p,
		       struct gpio_provider **out, char *err, size_t errlen);

#endif /* VT_FOOTFALL_GPIO_PROVIDER_H */
