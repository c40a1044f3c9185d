PLUGINS += footfall
footfall_SRCS := plugins/footfall/footfall.c plugins/footfall/beams.c plugins/footfall/source_sim.c
footfall_TEST_SRCS := plugins/footfall/footfall_test.c
footfall_LIBS := -lm
