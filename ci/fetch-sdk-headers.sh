#!/usr/bin/env bash
# Fetch the five DPDK driver-SDK headers that Debian's libdpdk-dev does not
# ship, from Debian's own `dpdk` source package of exactly the installed
# version. They are never committed: this runs at set-up time.
#
# usage: ci/fetch-sdk-headers.sh [DESTDIR]   (default: .deps/dpdk-sdk)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$top/.deps/dpdk-sdk}
headers="ethdev_driver.h ethdev_vdev.h bus_vdev_driver.h bus_driver.h dev_driver.h"

die() { echo "fetch-sdk-headers: error: $*" >&2; exit 1; }

ver=$(dpkg-query -W -f='${Version}' libdpdk-dev 2>/dev/null) ||
	die "libdpdk-dev is not installed (run ci/setup.sh first)"
[ -n "$ver" ] || die "cannot read the installed libdpdk-dev version"

if [ -f "$dest/.version" ] && [ "$(cat "$dest/.version")" = "$ver" ]; then
	ok=1
	for h in $headers; do [ -f "$dest/$h" ] || ok=0; done
	if [ $ok = 1 ]; then
		echo "fetch-sdk-headers: headers for dpdk $ver already in $dest"
		exit 0
	fi
fi

# deb-src entries derived from the machine's own deb entries (both the
# deb822 .sources files and one-line sources.list files), so that no
# archive host name is ever written into this repository.
srcfile=/etc/apt/sources.list.d/vdevpeer-deb-src.sources
need_src=1
if apt-cache showsrc "dpdk=$ver" 2>/dev/null | grep -q '^Package: dpdk'; then
	need_src=0
fi
if [ $need_src = 1 ]; then
	[ "$(id -u)" = 0 ] || die "deb-src entries are missing and adding them needs root"
	tmp=$(mktemp)
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		[ "$f" = "$srcfile" ] && continue
		# keep stanzas whose Types include deb, rewrite them to deb-src
		awk 'BEGIN{RS=""; ORS="\n\n"}
		     /(^|\n)Types:[^\n]*(^| )deb( |\n|$)/ {
		       gsub(/(^|\n)Types:[^\n]*/, "\nTypes: deb-src"); sub(/^\n/, ""); print }' "$f" >> "$tmp"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		grep -E '^[[:space:]]*deb[[:space:]]' "$f" |
			sed -E 's/^[[:space:]]*deb[[:space:]]/deb-src /' |
			while read -r line; do
				echo "Types: deb-src"
				set -- $line; shift
				if [[ $1 == \[* ]]; then shift; fi  # drop [options]
				echo "URIs: $1"; shift
				echo "Suites: $1"; shift
				echo "Components: $*"
				echo
			done >> "$tmp" || true
	done
	[ -s "$tmp" ] || die "no deb entries found in /etc/apt to derive deb-src entries from"
	install -m 0644 "$tmp" "$srcfile"
	rm -f "$tmp"
	apt-get update -qq || die "apt-get update failed after adding $srcfile"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
( cd "$work" && apt-get source -qq --download-only "dpdk=$ver" ) >/dev/null 2>"$work/err" ||
	die "cannot download the dpdk $ver source package: $(tail -3 "$work/err")"
dsc=$(ls "$work"/dpdk_*.dsc 2>/dev/null | head -1)
[ -n "$dsc" ] || die "no .dsc for dpdk $ver was downloaded"
( cd "$work" && dpkg-source --no-check -x "$dsc" src ) >/dev/null 2>&1 ||
	die "dpkg-source could not unpack $dsc (is dpkg-dev installed?)"

mkdir -p "$dest"
for h in $headers; do
	p=$(find "$work/src/lib" "$work/src/drivers" -name "$h" -print -quit)
	[ -n "$p" ] || die "$h not found in the dpdk $ver source"
	install -m 0644 "$p" "$dest/$h"
done
echo "$ver" > "$dest/.version"
echo "fetch-sdk-headers: installed $headers for dpdk $ver into $dest"
