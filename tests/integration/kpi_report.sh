# kpi_report.sh - the key figures (docs/KPIS.md) end to end, with real parts:
# mosquitto, the aggregator and three agents with the simulated plugins:
#   cannes-croisette  anonymous mode (window counts; device k 5, so that
#                     counts of 5 to 9 reach the aggregator, whose k is 10)
#   nice-massena      pseudonymous mode (events)
#   tiny-shop         pseudonymous, 7 footfall passes and an RFID canary tag
#                     whose product (GTIN 70614141123451) is in no catalogue:
#                     every figure of it is below k.
# Then:
#   - footfall in per day equals what SQL counts from the stored rows;
#   - export --kpi (CSV and JSON lines) loads with Python's csv and json
#     modules, with the documented columns, the same rows in both;
#   - nothing below k shows in any output (CSV, JSON, terminal, HTML): the
#     canary GTIN is in the raw export but in none of them, tiny-shop's
#     footfall is suppressed;
#   - the HTML report opens in headless Chromium, holds every chart title,
#     loads nothing (no CSP report, no script error), renders to a
#     non-blank screenshot and stays small.
. "$(dirname "$0")/lib.sh"

CANARY_EPC=3034257BF6B7A66BADC0FFEE
CANARY_GTIN=70614141123451
PORT=$(free_port)
start_broker "$PORT" || { fail kpi_broker_starts "mosquitto did not listen on $PORT"; exit 1; }
PRIVACY_MODE=anonymous setup_keys
sim_plugins 1500 21 >>"$T/agent.conf"
printf 'privacy_k 5\nprivacy_window_s 3600\n' >>"$T/agent.conf"

# add_device NAME SITE MODE: a second agent configuration, registered.
add_device() {
	mkdir -p "$T/state-$1"
	SITE=$2 PRIVACY_MODE=$3 write_agent_conf "$T/agent-$1.conf" "$T/state-$1" "$1"
	"$AGENT" -c "$T/agent-$1.conf" --keygen | grep '^device ' >>"$T/aggregator.conf"
}
add_device pi-02 nice-massena pseudonymous
sim_plugins 1500 22 >>"$T/agent-pi-02.conf"
add_device pi-03 tiny-shop pseudonymous
cat >>"$T/agent-pi-03.conf" <<CONF
plugin footfall
footfall.speed 0
footfall.start 2026-11-25T10:00:00Z
footfall.limit 7
plugin rfid
rfid.speed 0
rfid.start 2026-11-25T10:00:00Z
rfid.items 20
rfid.canary $CANARY_EPC
rfid.limit 60
CONF

start_aggregator
for c in agent agent-pi-02 agent-pi-03; do
	timeout 120 "$AGENT" -c "$T/$c.conf" --exit-when-done 2>"$T/$c.log"
	check "kpi_${c//-/_}_run_exits_0" [ "$?" = 0 ]
done
wait_for 100 '[ "$(sqlite3 "$T/agg/vitrine.db" "select count(distinct device) from frames")" = 3 ]'
sleep 1	# the last commit
kill "$AGG_PID" && wait "$AGG_PID" 2>/dev/null

DB="$T/agg/vitrine.db"
kpi() { "$AGG" -c "$T/aggregator.conf" "$@" 2>>"$T/kpi.err"; }

# ---- the figures agree with the stored rows --------------------------------------
kpi export --kpi footfall_in --period day >"$T/in.csv"
check kpi_export_exits_0 [ "$?" = 0 ]
sql_anon=$(sqlite3 "$DB" "select sum(count) from windows where site = 'cannes-croisette'
	and metric = 'footfall_passes' and dim2 = 1 and time_ms >= 1795564800000 and time_ms < 1795651200000")
sql_pseudo=$(sqlite3 "$DB" "select sum(count) from footfall where site = 'nice-massena'
	and direction = 'in' and time_ms >= 1795564800000 and time_ms < 1795651200000")
kpi_of() { awk -F, -v s="$1" '$1 == s && $3 ~ /^2026-11-25T/ { print $11 }' "$T/in.csv"; }
check footfall_in_of_window_counts_is_their_sum [ -n "$sql_anon" ] && [ "$(kpi_of cannes-croisette)" = "$sql_anon" ]
check footfall_in_of_events_is_their_count [ -n "$sql_pseudo" ] && [ "$(kpi_of nice-massena)" = "$sql_pseudo" ]

# ---- exports load in Python, CSV and JSON lines alike --------------------------------
kpi export --kpi all >"$T/kpi.csv"
kpi export --kpi all --json >"$T/kpi.json"
cat >"$T/load.py" <<'PY'
import csv, json, sys
cols = ["site", "period", "start", "end", "kpi", "unit", "gtin", "zone", "bucket", "weeks",
        "value", "suppressed"]
counts = {"footfall_in", "footfall_out", "kiosk_sessions", "kiosk_screens", "kiosk_lookups",
          "session_length", "product_presence", "zone_presence", "product_lookups"}
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
lines = [json.loads(l) for l in open(sys.argv[2])]
assert rows and list(rows[0].keys()) == cols, rows[0].keys()
assert len(rows) == len(lines), (len(rows), len(lines))
kinds = set()
for r, j in zip(rows, lines):
    assert list(j.keys()) == cols, j.keys()
    assert (r["site"], r["kpi"], r["start"]) == (j["site"], j["kpi"], j["start"])
    assert r["suppressed"] in ("0", "1") and (r["suppressed"] == "1") == j["suppressed"]
    if j["suppressed"]:
        assert r["value"] == "" and j["value"] is None, r
        assert r["gtin"] == "" and j["gtin"] is None, r   # products below k are dropped
    else:
        assert float(r["value"]) == j["value"], (r, j)
        if r["kpi"] in counts:
            assert j["value"] >= 10, r                    # nothing below k shows
    kinds.add(r["kpi"])
print("kpis", len(kinds), "rows", len(rows))
PY
out=$(python3 "$T/load.py" "$T/kpi.csv" "$T/kpi.json" 2>&1)
check exports_load_with_python_csv_and_json [ "$?" = 0 ] || echo "$out" >&2
kinds=$(echo "$out" | sed -n 's/^kpis \([0-9]*\) .*/\1/p')
# per hour: every figure but the daily dwell and the previous weeks (the
# data spans three days); lookups of one product may all stay below k
check exports_hold_every_kind_of_hourly_figure [ "${kinds:-0}" -ge 11 ]
# The simulated visits last 4 to 40 minutes, 22 on average: Little's law
# must find about that, from events and from hour-long windows alike.
kpi export --kpi dwell_mean --period day >"$T/dwell.csv"
check dwell_is_plausible_for_every_store_and_day \
	[ "$(awk -F, 'NR > 1 && $12 == 0 { n++; if ($11 < 660 || $11 > 1980) bad++ } END { print n + 0, bad + 0 }' "$T/dwell.csv")" = "6 0" ]

# ---- nothing below k, anywhere -------------------------------------------------------
kpi export >"$T/raw.csv"
check canary_product_reached_the_database grep -q ",$CANARY_GTIN," "$T/raw.csv"
kpi report --since 2026-11-25 --until 2026-11-25 --html "$T/report.html" >"$T/report.txt"
check report_exits_0 [ "$?" = 0 ]
kpi export --kpi all --period week --json >"$T/week.json"
for f in kpi.csv kpi.json week.json report.txt report.html; do
	check "canary_product_absent_from_${f//./_}" [ "$(grep -c "$CANARY_GTIN" "$T/$f")" = 0 ]
done
check tiny_shop_footfall_is_suppressed_in_csv \
	[ "$(awk -F, '$1 == "tiny-shop" && $5 == "footfall_in" && ($11 != "" || $12 != 1)' "$T/kpi.csv" | wc -l)" = 0 ]
check tiny_shop_has_suppressed_rows [ "$(grep -c '^tiny-shop,.*,footfall_in,.*,,1$' "$T/kpi.csv")" -ge 1 ]
check tiny_shop_footfall_is_null_in_json \
	grep -q '"site":"tiny-shop".*"kpi":"footfall_in".*"value":null,"suppressed":true' "$T/kpi.json"
check report_shows_dashes_for_tiny_shop \
	grep -qE '^  2026-11-25 +- +- ' <(sed -n '/== tiny-shop ==/,/^$/p' "$T/report.txt")

# ---- periods in a time zone -------------------------------------------------------------
kpi export --kpi footfall_in --period day --tz Europe/Paris --site nice-massena >"$T/paris.csv"
check periods_follow_the_time_zone grep -q '^nice-massena,day,2026-11-25T00:00:00+01:00,2026-11-26T00:00:00+01:00,' "$T/paris.csv"
kpi export --kpi all --tz Mars/Olympus >/dev/null
check unknown_time_zone_is_a_usage_error [ "$?" = 2 ]
kpi report --k 3 >/dev/null
check k_below_the_floor_is_refused [ "$?" = 2 ]

# ---- the HTML report in a browser ---------------------------------------------------------
size=$(stat -c %s "$T/report.html")
check html_report_is_small [ "$size" -lt 300000 ]
check html_report_loads_nothing [ "$(grep -oiE '<script|<link|<img|@import|url\(|https?://[^" ]*' "$T/report.html" |
	grep -vx 'http://www.w3.org/2000/svg' | wc -l)" = 0 ]
if ! command -v chromium >/dev/null; then
	echo "SKIP html_report_renders_in_chromium: chromium not installed (make deps installs it)"
	exit 0
fi
browse() { # extra chromium options...
	timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run \
		--user-data-dir="$T/chromium" --enable-logging=stderr --v=0 "$@" "file://$T/report.html"
}
browse --dump-dom >"$T/dom.html" 2>"$T/chromium.log"
check chromium_loads_the_report [ "$?" = 0 ]
for title in "Footfall per hour" "Occupancy over the day" "Kiosk sessions per hour" \
	"Kiosk engagement per hour" "Top products by RFID presence" cannes-croisette nice-massena tiny-shop; do
	check "html_report_has_${title// /_}" grep -qF "$title" "$T/dom.html"
done
check html_report_has_charts [ "$(grep -o '<svg' "$T/dom.html" | wc -l)" -ge 15 ]
check html_report_has_no_script_error \
	[ "$(grep -ciE 'Uncaught|Refused to|Content Security Policy|ERR_FILE|console\(' "$T/chromium.log")" = 0 ]
browse --window-size=1400,2400 --screenshot="$T/report.png" >/dev/null 2>>"$T/chromium.log"
cat >"$T/png.py" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n"
pos, idat, w, h, ctype = 8, b"", 0, 0, 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        assert depth == 8 and ctype in (2, 6), (depth, ctype)
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
bpp = 3 if ctype == 2 else 4
raw, stride, prev, rows = zlib.decompress(idat), w * bpp, bytearray(w * bpp), []
for y in range(h):               # undo the PNG filters, row by row
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], prev[i - bpp] if i >= bpp else 0
        p = a + b - c
        pred = {0: 0, 1: a, 2: b, 3: (a + b) // 2,
                4: a if abs(p - a) <= abs(p - b) and abs(p - a) <= abs(p - c) else b if abs(p - b) <= abs(p - c) else c}[f]
        line[i] = (line[i] + pred) & 255
    rows.append(line)
    prev = line
blue = sum(1 for r in rows for i in range(0, stride, bpp) if abs(r[i] - 0x1f) < 12 and abs(r[i + 1] - 0x6f) < 12 and abs(r[i + 2] - 0x8b) < 12)
ink = sum(1 for r in rows for i in range(0, stride, bpp) if r[i] < 200)
print(w, h, blue, ink)
assert blue > 2000 and ink > 20000, (blue, ink)   # bars drawn, text written
PY
out=$(python3 "$T/png.py" "$T/report.png" 2>&1)
check html_report_renders_charts_in_a_screenshot [ "$?" = 0 ] || echo "png: $out" >&2
