# windows.awk - anonymous mode computed independently of the agent: reads
# events as the agent's --tap writes them in pseudonymous mode, prints the
# window cells that anonymous mode must send for the same readings, one
# CSV line each as the tap writes them (docs/PRIVACY.md, "anonymous mode").
#
#   awk -F, -v k=10 -v window_s=900 -v device=pi-01 -f windows.awk events.csv
#
# Windows are window_s long; RFID presence counts an item once per reader and
# 5-minute slot (the item is known by its digest, stable within the run);
# a cell below k goes to its metric's "other" cell (dim1 0, no label, dim2
# kept), and an "other" cell below k is not sent.
BEGIN {
	OFS = ","
	CONVFMT = OFMT = "%.0f"	# times in ms exceed what mawk prints as integers
	len = window_s * 1000
	slot = 300000
	split("30000 60000 120000 300000 600000", bucket_upper, " ")
}

function wstart(t) { return t - t % len }

function add(t, metric, dim1, dim2, label, n,    key) {
	key = wstart(t) SUBSEP metric SUBSEP dim1 SUBSEP dim2 SUBSEP label
	count[key] += n
}

function bucket(ms,    b) {
	for (b = 0; b < 5 && ms >= bucket_upper[b + 1]; b++)
		;
	return b
}

{ site = $2 }

$1 == "footfall" {
	add($4, "footfall_passes", $5, $6 == "in" ? 1 : 2, "", $7)
}

$1 == "tablet" && $6 == "session_start" { add($4, "kiosk_sessions", $5, 0, "", 1) }
$1 == "tablet" && $6 == "session_end" { add($4, "kiosk_session_length", $5, bucket($10), "", 1) }
$1 == "tablet" && $6 == "screen_view" { add($4, "kiosk_screen_views", $5, 0, $8, 1) }
$1 == "tablet" && $6 == "product_lookup" { add($4, "kiosk_lookups", $5, 0, $9, 1) }

$1 == "rfid" {
	seen_key = int($4 / slot) SUBSEP $5 SUBSEP $8 SUBSEP $10
	if (!(seen_key in seen)) {
		seen[seen_key] = 1
		add($4, "rfid_presence", $5, 0, $8, 1)
	}
}

END {
	for (key in count) {
		split(key, f, SUBSEP)
		if (count[key] >= k) {
			print "window", site, device, f[1], len / 1000, f[2], f[3], f[4], f[5], 0, count[key], k, 0
		} else {
			other[f[1] SUBSEP f[2] SUBSEP f[4]] += count[key]
		}
	}
	for (key in other) {
		split(key, f, SUBSEP)
		if (other[key] >= k)
			print "window", site, device, f[1], len / 1000, f[2], 0, f[3], "", 1, other[key], k, 0
	}
}
