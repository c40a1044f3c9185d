/*
 * plugins/footfall/counter_io.h - the operating-system side of the people
 * counter source: a non-blocking TCP listening socket from "address:port"
 * and a serial port in raw mode at a given speed.
 *
 * Each function returns 0 and a descriptor the caller owns (close(2) it),
 * or -errno with a sentence for the operator in err. What it does not do:
 * read lines or emit readings (counter.c).
 */
#ifndef VT_FOOTFALL_COUNTER_IO_H
#define VT_FOOTFALL_COUNTER_IO_H

#include <stddef.h>
#include <stdint.h>

/* Whether speed (bits per second) is one the serial driver can be set to. */
int counter_io_baud_ok(uint32_t speed);

/* Whether addr is "a.b.c.d:port" or "[v6]:port" with numbers only. */
int counter_io_addr_ok(const char *addr);

/* Listens on "a.b.c.d:port" or "[v6]:port" (port 0: any free one),
 * non-blocking, close-on-exec. *port_out gets the port bound. */
int counter_io_listen(const char *addr, int *fd_out, uint16_t *port_out,
		      char *err, size_t errlen);

/* Accepts one pending connection, non-blocking; 0 and *fd_out, -EAGAIN
 * when none is pending, or -errno. peer gets "a.b.c.d:port". */
int counter_io_accept(int listen_fd, int *fd_out, char *peer, size_t peerlen);

/* Opens a serial port for reading, raw (no echo, no line editing, 8N1, no
 * flow control, modem lines ignored) at speed, non-blocking, and drops
 * what was queued before. */
int counter_io_serial(const char *path, uint32_t speed, int *fd_out,
		      char *err, size_t errlen);

#endif /* VT_FOOTFALL_COUNTER_IO_H */
