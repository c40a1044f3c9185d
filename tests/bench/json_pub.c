/*
 * json_pub.c - the baseline of make bench: what a naive agent (or
 * Telegraf's MQTT output with the JSON format) does with the same
 * readings, one JSON message per reading, QoS 1, over the same broker.
 *
 *   json_pub HOST PORT FILE
 *
 * FILE holds readings as the agent's --tap writes them (CSV, one per line:
 * footfall, tablet or rfid). Each becomes a JSON object published to
 * bench/json/<site>/<device>/<kind>; the program waits until the broker
 * has acknowledged every message, then prints one line:
 *
 *   json_pub: readings N cpu_s S payload_bytes B wire_bytes W
 *
 * wire_bytes counts each MQTT 3.1.1 PUBLISH packet whole (fixed header,
 * topic, packet id, payload) as it goes on the socket; TCP/IP headers are
 * left out, as for vitrine's figure. CPU is user + system time of this
 * process, reading the file included (so the baseline is not flattered).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <mosquitto.h>

#define JP_MAX_FIELDS 12

static long jp_acked;

static void jp_on_publish(struct mosquitto *m, void *arg, int mid)
{
	(void)m;
	(void)arg;
	(void)mid;
	jp_acked++;
}

/* Split line at commas in place; returns the number of fields. */
static int jp_split(char *line, char **f)
{
	int n = 0;

	line[strcspn(line, "\r\n")] = '\0';
	f[n++] = line;
	for (char *p = line; *p && n < JP_MAX_FIELDS; p++) {
		if (*p == ',') {
			*p = '\0';
			f[n++] = p + 1;
		}
	}
	return n;
}

/* The JSON of one reading into buf, its topic into topic; -1 if the line
 * is not a reading. */
static int jp_json(char **f, int n, char *buf, size_t len, char *topic, size_t tlen)
{
	int w = -1;

	if (n < 3 || snprintf(topic, tlen, "bench/json/%s/%s/%s", f[1], f[2], f[0]) >= (int)tlen)
		return -1;
	if (strcmp(f[0], "footfall") == 0 && n == 7)
		w = snprintf(buf, len, "{\"site\":\"%s\",\"device\":\"%s\",\"time\":%s,"
				       "\"door\":%s,\"direction\":\"%s\",\"count\":%s}",
			     f[1], f[2], f[3], f[4], f[5], f[6]);
	else if (strcmp(f[0], "tablet") == 0 && n == 10)
		w = snprintf(buf, len, "{\"site\":\"%s\",\"device\":\"%s\",\"time\":%s,"
				       "\"kiosk\":%s,\"event\":\"%s\",\"session\":\"%s\","
				       "\"screen\":\"%s\",\"gtin\":\"%s\",\"duration_ms\":%s}",
			     f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9]);
	else if (strcmp(f[0], "rfid") == 0 && n == 12)	/* reads, dwell_ms: plugin ABI 1.2 */
		w = snprintf(buf, len, "{\"site\":\"%s\",\"device\":\"%s\",\"time\":%s,"
				       "\"reader\":%s,\"antenna\":%s,\"rssi_cdbm\":%s,"
				       "\"gtin\":\"%s\",\"filter\":%s,\"tag\":\"%s\","
				       "\"reads\":%s,\"dwell_ms\":%s}",
			     f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10], f[11]);
	return w > 0 && (size_t)w < len ? w : -1;
}

/* Bytes of the variable-length "remaining length" field for n. */
static long jp_varint_len(long n)
{
	long b = 1;

	while (n >= 128) {
		n /= 128;
		b++;
	}
	return b;
}

static double jp_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

/* Publish every reading of in; counts into the totals. 0 or -1. */
static int jp_publish_all(struct mosquitto *m, FILE *in, long *n, long *payload, long *wire)
{
	char line[1024], json[2048], topic[256];
	char *f[JP_MAX_FIELDS];

	while (fgets(line, sizeof(line), in)) {
		int nf = jp_split(line, f);
		int len = jp_json(f, nf, json, sizeof(json), topic, sizeof(topic));
		long rem;

		if (len < 0) {
			/* Every line of the tap is a reading: one not understood
			 * would flatter the baseline, so it is an error. */
			fprintf(stderr, "json_pub: not a reading this program knows: %.60s\n", f[0]);
			return -1;
		}
		while (mosquitto_publish(m, NULL, topic, len, json, 1, false) == MOSQ_ERR_NOMEM ||
		       *n - jp_acked > 1000)	/* keep at most 1000 in flight */
			if (mosquitto_loop(m, 100, 1) != MOSQ_ERR_SUCCESS)
				return -1;
		rem = 2 + (long)strlen(topic) + 2 + len;	/* topic length, topic, id, payload */
		*wire += 1 + jp_varint_len(rem) + rem;
		*payload += len;
		(*n)++;
		if ((*n & 63) == 0 && mosquitto_loop(m, 0, 1) != MOSQ_ERR_SUCCESS)
			return -1;
	}
	while (jp_acked < *n)
		if (mosquitto_loop(m, 100, 1) != MOSQ_ERR_SUCCESS)
			return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct mosquitto *m = NULL;
	long n = 0, payload = 0, wire = 0;
	double cpu0;
	FILE *in;
	int rc = 1;

	if (argc != 4) {
		fprintf(stderr, "usage: json_pub HOST PORT FILE\n");
		return 2;
	}
	if (!(in = fopen(argv[3], "r"))) {
		fprintf(stderr, "json_pub: %s: %s\n", argv[3], strerror(errno));
		return 1;
	}
	cpu0 = jp_cpu_s();
	mosquitto_lib_init();
	m = mosquitto_new("vitrine-bench-json", true, NULL);
	if (!m || mosquitto_max_inflight_messages_set(m, 1000) != MOSQ_ERR_SUCCESS)
		goto out;
	mosquitto_publish_callback_set(m, jp_on_publish);
	if (mosquitto_connect(m, argv[1], atoi(argv[2]), 60) != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "json_pub: cannot connect to %s:%s\n", argv[1], argv[2]);
		goto out;
	}
	if (jp_publish_all(m, in, &n, &payload, &wire) < 0) {
		fprintf(stderr, "json_pub: stopped after %ld readings\n", n);
		goto out;
	}
	printf("json_pub: readings %ld cpu_s %.3f payload_bytes %ld wire_bytes %ld\n", n,
	       jp_cpu_s() - cpu0, payload, wire);
	rc = 0;
out:
	fclose(in);
	mosquitto_destroy(m);
	mosquitto_lib_cleanup();
	return rc;
}
