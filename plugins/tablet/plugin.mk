PLUGINS += tablet
tablet_SRCS := plugins/tablet/tablet.c plugins/tablet/source_sim.c \
	plugins/common/plugin_conf.c plugins/common/sim_clock.c plugins/common/store_hours.c
tablet_TEST_SRCS := plugins/tablet/tablet_test.c plugins/common/test_host.c
tablet_LIBS :=
