PLUGINS += rfid
rfid_SRCS := plugins/rfid/rfid.c plugins/rfid/sgtin96.c plugins/rfid/source_sim.c
rfid_TEST_SRCS := plugins/rfid/rfid_test.c
