#!/bin/sh
# platform/debian/help2man.sh NAME SECTION VERSION DATE - a manual page
# (roff) on stdout from a program's --help text on stdin.
#
# The programs' --help is written as a manual already (STYLE.md: NAME,
# SYNOPSIS, DESCRIPTION, OPTIONS... headings in capitals at the margin, text
# indented by two): each heading becomes a section, NAME its whatis line,
# and the text is kept as it is laid out (no fill), with '-' as a minus
# sign so that options copy and paste. Used by mkdeb.sh; the help2man
# package would need to run the program the same way and knows less of
# this layout.
set -eu
name=$1 section=$2 version=$3 date=$4
awk -v name="$name" -v section="$section" -v version="$version" -v date="$date" '
function roff(s) {
	gsub(/\\/, "\\e", s)
	gsub(/-/, "\\-", s)
	if (s ~ /^[.\047]/) s = "\\&" s
	return s
}
function flush_name() {
	if (whatis != "") {
		sub(/^[^ ]+ - /, "", whatis)
		print roff(name) " \\- " roff(whatis)
		whatis = ""
	}
}
BEGIN {
	print ".TH " toupper(name) " " section " \"" date "\" \"vitrine " version "\" \"vitrine manual\""
}
/^[A-Z][A-Z ]*[A-Z]$/ {
	flush_name()
	if (nofill) { print ".fi"; nofill = 0 }
	blanks = 0
	print ".SH " $0
	sect = $0
	next
}
sect == "NAME" {
	line = $0
	sub(/^ +/, "", line)
	if (line != "") whatis = whatis (whatis == "" ? "" : " ") line
	next
}
sect == "" { next }
{
	line = $0
	sub(/^  /, "", line)
	# Blank lines only between text, not before a heading or the end.
	if (line == "") { blanks++; next }
	if (!nofill) { print ".nf"; nofill = 1; blanks = 0 }
	for (; blanks > 0; blanks--) print ""
	print roff(line)
}
END {
	flush_name()
	if (nofill) print ".fi"
}'
