PLUGINS += tablet
tablet_SRCS := plugins/tablet/tablet.c plugins/tablet/source_sim.c
tablet_TEST_SRCS := plugins/tablet/tablet_test.c
tablet_LIBS := -lm
