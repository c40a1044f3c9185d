#!/usr/bin/env bash
# tests/bench/chart.sh RESULTS.txt OUT.svg - the bench's chart: bytes on the
# wire and agent CPU per reading against the batch size (10, 100, 1000),
# vitrine against one JSON message per reading and collectd's mqtt plugin
# (the baselines, which do not batch: flat lines), both on log scales. Reads the "name value"
# lines tests/bench/run.sh writes; plain SVG, no script, no library.
set -eu
in=$1 out=$2
awk -v date="$(date -u +%F)" '
function y_of(v, lo, hi) {	# log scale, top = hi
	return top + (log(hi) - log(v)) / (log(hi) - log(lo)) * ph
}
function panel(x0, title, key, base, base2, unit, fmt,    lo, hi, i, b, px, py, pts, d, by) {
	lo = 1e9; hi = 0
	for (i = 1; i <= 3; i++) { b = batches[i]; v[i] = fig["pipeline.batch" b "." key]
		if (v[i] < lo) lo = v[i]; if (v[i] > hi) hi = v[i] }
	if (base != "" && base > hi) hi = base
	if (base != "" && base < lo) lo = base
	if (base2 != "" && base2 > hi) hi = base2
	if (base2 != "" && base2 < lo) lo = base2
	lo /= 2; hi *= 2
	printf "<g transform=\"translate(%d,0)\">\n", x0
	printf "<text x=\"%d\" y=\"24\" class=\"t\">%s</text>\n", pw / 2 + left, title
	printf "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"ax\"/>\n", left, top, left, top + ph
	printf "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"ax\"/>\n", left, top + ph, left + pw, top + ph
	for (d = 1e-3; d <= 1e4; d *= 10) {	# decades on the y axis
		for (m = 1; m <= 9; m++) { by = d * m
			if (by < lo || by > hi) continue
			py = y_of(by, lo, hi)
			if (m == 1 || m == 2 || m == 5) {
				printf "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" class=\"grid\"/>\n", left, py, left + pw, py
				printf "<text x=\"%d\" y=\"%.1f\" class=\"yl\">%g</text>\n", left - 6, py + 4, by }
		}
	}
	printf "<text x=\"14\" y=\"%d\" class=\"yl\" transform=\"rotate(-90 14 %d)\">%s</text>\n", top + ph / 2, top + ph / 2, unit
	pts = ""
	for (i = 1; i <= 3; i++) {
		px = left + (i - 0.5) * pw / 3; py = y_of(v[i], lo, hi)
		pts = pts sprintf("%.1f,%.1f ", px, py)
		printf "<text x=\"%.1f\" y=\"%d\" class=\"xl\">%d</text>\n", px, top + ph + 18, batches[i]
		printf "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" class=\"v\"/>\n", px, py
		printf "<text x=\"%.1f\" y=\"%.1f\" class=\"vl\">" fmt "</text>\n", px + 7, py - 7, v[i]
	}
	printf "<polyline points=\"%s\" class=\"vline\"/>\n", pts
	if (base != "") {
		py = y_of(base, lo, hi)
		printf "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" class=\"base\"/>\n", left, py, left + pw, py
		printf "<text x=\"%d\" y=\"%.1f\" class=\"bl\">JSON, one message per reading: " fmt "</text>\n", left + 6, py - 6, base
	}
	if (base2 != "") {
		py = y_of(base2, lo, hi)
		printf "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" class=\"base2\"/>\n", left, py, left + pw, py
		printf "<text x=\"%d\" y=\"%.1f\" class=\"bl2\">collectd, one message per value: " fmt "</text>\n", left + 6, py + 14, base2
	}
	printf "<text x=\"%d\" y=\"%d\" class=\"xl\">readings per frame (batch)</text>\n", left + pw / 2, top + ph + 38
	printf "</g>\n"
}
{ fig[$1] = $2 }
END {
	split("10 100 1000", batches, " ")
	for (i = 1; i <= 3; i++) if (fig["pipeline.batch" batches[i] ".agent_us_per_reading"] == "") {
		print "chart.sh: no pipeline figures for batch " batches[i] " in the results" > "/dev/stderr"; exit 1 }
	left = 60; top = 40; pw = 300; ph = 240
	printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"780\" height=\"360\" viewBox=\"0 0 780 360\" font-family=\"sans-serif\" font-size=\"12\">\n"
	printf "<title>vitrine make bench, %s: bytes and CPU per reading against batch size, vitrine and one JSON message per reading</title>\n", date
	printf "<style>.ax{stroke:#333}.grid{stroke:#ddd}.t{font-weight:bold;text-anchor:middle}.yl{text-anchor:end;fill:#444}"
	printf ".xl{text-anchor:middle;fill:#444}.v{fill:#1f5fa8}.vline{fill:none;stroke:#1f5fa8;stroke-width:2}"
	printf ".vl{fill:#1f5fa8}.base{stroke:#c0392b;stroke-width:2;stroke-dasharray:6 4}.bl{fill:#c0392b}"
	printf ".base2{stroke:#b9770e;stroke-width:2;stroke-dasharray:2 3}.bl2{fill:#b9770e}</style>\n"
	printf "<rect width=\"780\" height=\"360\" fill=\"#fff\"/>\n"
	panel(0, "bytes on the wire per reading (MQTT included)", "wire_bytes_per_reading",
	      fig["baseline.json.bytes_per_reading"], fig["baseline.collectd.bytes_per_value"], "bytes", "%.1f")
	panel(390, "agent CPU per reading", "agent_us_per_reading",
	      fig["baseline.json.cpu_us_per_reading"], fig["baseline.collectd.cpu_us_per_value"], "µs", "%.2f")
	printf "<text x=\"390\" y=\"352\" class=\"xl\">blue: vitrine (simulation, privacy, encryption, spool included); red: JSON; ochre: collectd (QoS 0); %s</text>\n", date
	printf "</svg>\n"
}' "$in" >"$out.tmp"
mv "$out.tmp" "$out"
