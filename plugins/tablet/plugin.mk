PLUGINS += tablet
# The real kiosks' source (source_kiosk.c and its kiosk_*.c) reads JSON
# with cJSON. Its HTTP endpoint (kiosk_http.c, libmicrohttpd) is a module
# of its own, tablet-http.so, which tablet.so loads only when
# tablet.http_port is set (kiosk_http.h says why); the unit tests link it.
tablet_SRCS := plugins/tablet/tablet.c plugins/tablet/source_sim.c \
	plugins/tablet/source_kiosk.c plugins/tablet/kiosk_event.c plugins/common/rate.c \
	plugins/tablet/kiosk_http_load.c plugins/tablet/kiosk_sock.c \
	plugins/common/plugin_conf.c plugins/common/sim_clock.c plugins/common/store_hours.c
tablet_TEST_SRCS := plugins/tablet/tablet_test.c plugins/tablet/kiosk_test.c \
	plugins/common/test_host.c plugins/tablet/kiosk_http.c
TABLET_MHD_CFLAGS := $(shell $(PKG_CONFIG) --cflags libmicrohttpd 2>/dev/null)
TABLET_MHD_LIBS := $(or $(shell $(PKG_CONFIG) --libs libmicrohttpd 2>/dev/null),-lmicrohttpd)
TABLET_CJSON_CFLAGS := $(shell $(PKG_CONFIG) --cflags libcjson 2>/dev/null)
TABLET_CJSON_LIBS := $(or $(shell $(PKG_CONFIG) --libs libcjson 2>/dev/null),-lcjson)
$(call obj,plugins/tablet/kiosk_http.c): VT_CFLAGS += $(TABLET_MHD_CFLAGS)
$(call obj,plugins/tablet/kiosk_event.c): VT_CFLAGS += $(TABLET_CJSON_CFLAGS)
tablet_LIBS := $(TABLET_CJSON_LIBS) -ldl
tablet_TEST_LIBS := $(TABLET_MHD_LIBS)

PLUGIN_MODULES += tablet-http
tablet-http_SRCS := plugins/tablet/kiosk_http.c
tablet-http_LIBS := $(TABLET_MHD_LIBS)

# tests/fuzz/fuzz_kiosk_event.c fuzzes the kiosk event parser (cJSON).
fuzz_kiosk_event_SRCS := plugins/tablet/kiosk_event.c
fuzz_kiosk_event_LIBS := $(TABLET_CJSON_LIBS)
