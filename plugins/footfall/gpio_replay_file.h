/*
 * plugins/footfall/gpio_replay_file.h - the GPIO replay file: a recorded
 * sequence of line edges, as text, and its parser.
 *
 * One item per text line; blanks and `#` comments are ignored:
 *
 *   chip <name> <lines>                   a chip and how many lines it has
 *   <t_us> <chip> <line> rising|falling   an edge on line <line> of <chip>
 *   end <t_us>                            optional: when the recording ends
 *
 * <t_us> is µs from the start of the recording (0..10^15), in
 * non-decreasing order through the file; a chip is declared before its
 * edges; <line> is below the chip's line count. Without an `end` line the
 * recording ends one second after its last edge; `end` comes after every
 * edge. Fields are separated by spaces or tabs; a text line is at most
 * GPIO_REPLAY_LINE_MAX bytes. Pure: no I/O, no clock; the parser is fuzzed
 * (tests/fuzz/fuzz_gpio_replay.c).
 */
#ifndef VT_FOOTFALL_GPIO_REPLAY_FILE_H
#define VT_FOOTFALL_GPIO_REPLAY_FILE_H

#include <stddef.h>
#include <stdint.h>

#define GPIO_REPLAY_LINE_MAX 256
#define GPIO_REPLAY_CHIPS_MAX 8
#define GPIO_REPLAY_CHIP_NAME_MAX 32	/* NUL included */
#define GPIO_REPLAY_LINES_MAX 1024	/* lines per chip */
#define GPIO_REPLAY_EVENTS_MAX 1000000
#define GPIO_REPLAY_T_MAX INT64_C(1000000000000000)
#define GPIO_REPLAY_TAIL_US INT64_C(1000000)

struct gpio_replay_chip {
	char name[GPIO_REPLAY_CHIP_NAME_MAX];
	uint32_t lines;
};

struct gpio_replay_event {
	int64_t t_us;
	uint16_t chip;		/* index in chips[] */
	uint16_t line;
	uint8_t rising;
};

struct gpio_replay_file {
	struct gpio_replay_chip chips[GPIO_REPLAY_CHIPS_MAX];
	uint32_t nchips;
	struct gpio_replay_event *events;	/* owned; in file order */
	size_t nevents;
	int64_t end_us;
};

/* Parses len bytes of text into *f (zeroed first). 0, or -EINVAL with
 * "line N: what is wrong" in err, or -ENOMEM; on error *f holds nothing
 * to free. On success free with gpio_replay_file_free(). */
int gpio_replay_file_parse(const char *text, size_t len,
			   struct gpio_replay_file *f, char *err, size_t errlen);

void gpio_replay_file_free(struct gpio_replay_file *f);

/* Index of the chip named name, or -1. */
int gpio_replay_file_chip(const struct gpio_replay_file *f, const char *name);

#endif /* VT_FOOTFALL_GPIO_REPLAY_FILE_H */
