PLUGINS += rfid
rfid_SRCS := plugins/rfid/rfid.c plugins/rfid/sgtin96.c plugins/rfid/source_sim.c \
	plugins/rfid/llrp.c plugins/rfid/source_llrp.c plugins/rfid/presence.c \
	plugins/common/plugin_conf.c plugins/common/sim_clock.c plugins/common/store_hours.c
rfid_TEST_SRCS := plugins/rfid/rfid_test.c plugins/rfid/llrp_test.c plugins/rfid/presence_test.c plugins/common/test_host.c
# tests/fuzz/fuzz_sgtin96.c fuzzes the EPC decoder, which is outside libvt.
fuzz_sgtin96_SRCS := plugins/rfid/sgtin96.c
# tests/fuzz/fuzz_llrp.c fuzzes the LLRP codec: what readers send.
fuzz_llrp_SRCS := plugins/rfid/llrp.c
