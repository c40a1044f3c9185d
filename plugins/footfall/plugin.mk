PLUGINS += footfall
footfall_SRCS := plugins/footfall/footfall.c plugins/footfall/beams.c plugins/footfall/source_sim.c \
	plugins/common/plugin_conf.c plugins/common/sim_clock.c plugins/common/store_hours.c
footfall_TEST_SRCS := plugins/footfall/footfall_test.c plugins/common/test_host.c
footfall_LIBS :=
