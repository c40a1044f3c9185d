PLUGINS += footfall
footfall_SRCS := plugins/footfall/footfall.c plugins/footfall/beams.c plugins/footfall/source_sim.c \
	plugins/footfall/footfall_conf.c plugins/footfall/source_gpio.c \
	plugins/footfall/gpio_gpiod.c plugins/footfall/gpio_replay.c plugins/footfall/gpio_replay_file.c \
	plugins/footfall/counter.c plugins/footfall/counter_io.c plugins/footfall/counter_line.c \
	plugins/common/rate.c \
	plugins/common/plugin_conf.c plugins/common/sim_clock.c plugins/common/store_hours.c
footfall_TEST_SRCS := plugins/footfall/footfall_test.c plugins/footfall/footfall_sources_test.c \
	plugins/common/test_host.c
# libgpiod 1.6 (Debian 12: libgpiod-dev); -lgpiod when pkg-config does not know it.
footfall_LIBS := $(or $(shell $(PKG_CONFIG) --libs libgpiod 2>/dev/null),-lgpiod)
$(call obj,plugins/footfall/gpio_gpiod.c): VT_CFLAGS += $(shell $(PKG_CONFIG) --cflags libgpiod 2>/dev/null)
# tests/fuzz/fuzz_counter_line.c and fuzz_gpio_replay.c fuzz the counter's
# line parser and the replay file parser, which are outside libvt.
fuzz_counter_line_SRCS := plugins/footfall/counter_line.c plugins/common/plugin_conf.c
fuzz_gpio_replay_SRCS := plugins/footfall/gpio_replay_file.c
