#!/bin/sh
# capture-freebsd.sh — capture a FreeBSD bhyve host's I/O MMU state for dmarsift.
#
# Usage: sh capture-freebsd.sh [-o DIR] [-d PATH_TO_DMARDUMP]
#
# Run it as root on the host (dmardump, pciconf -c and acpidump read /dev/mem and /dev/pci), copy
# DIR to any machine with dmarsift, then:   dmarsift analyze DIR
#
# Writes into DIR (created; it must be empty if it exists) the same layout `dmarsift capture` writes
# on Linux, with capture.json naming every part:
#   DMAR                  ACPI DMAR table (acpidump -n DMAR -b, from sysutils/acpica-tools)   dmar
#   dmardump.txt          tools/tools/dmardump output (build it: cd /usr/src/tools/tools/dmardump && make)
#                                                                                          dmardump-text
#   pciconf-lv.txt        pciconf -lvc (pciconf -lv when -c is refused)                     pci
#   sysctl-dev-pcib.txt   sysctl dev.pcib (bridge bus ranges)                               bridges
#   pciconf-r.txt         pciconf -r of every function (configuration space: MSI, ACS, ATS)  pci-config
#   smap.txt              sysctl machdep.smap (host memory map)                             memory-map
#   ps-args.txt           ps -ww -o args of the bhyve and vmrun.sh processes                vm-cmdlines
#   sysctl-iommu.txt      sysctl hw.vmm hw.dmar, for the record                              ignored
# Whatever cannot be captured is skipped with a line on stderr, and listed in capture.json "notes".
# Exit status: 0 when anything was captured, 2 when nothing was (or on bad usage).
#
# bhyve calls setproctitle(), so ps shows a running VM as "bhyve: NAME (bhyve)" without its
# arguments; only VMs started by vmrun.sh (whose shell keeps the full line) show their pass-through
# devices. For others, add the command line that started them to DIR as a text file (one per line).

set -u

prog=capture-freebsd.sh
out=""
dmardump=""

usage() {
	echo "usage: $prog [-o DIR] [-d PATH_TO_DMARDUMP]" >&2
	exit "$1"
}

while getopts "o:d:h" opt; do
	case $opt in
	o) out=$OPTARG ;;
	d) dmardump=$OPTARG ;;
	h) usage 0 ;;
	*) usage 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage 2

if [ -z "$out" ]; then
	out="dmarsift-$(hostname -s 2>/dev/null || echo host)-$(date +%Y%m%d-%H%M%S)"
fi
created=0
if [ -e "$out" ]; then
	if [ ! -d "$out" ] || [ -n "$(ls -A "$out" 2>/dev/null)" ]; then
		echo "$prog: $out: exists and is not an empty directory (refusing to mix two captures)" >&2
		exit 2
	fi
else
	mkdir -p "$out" || exit 2
	created=1
fi

parts=""
notes=""
captured=0

# JSON string body: backslashes and quotes escaped, control characters dropped.
json_escape() {
	printf '%s' "$1" | tr -d '\000-\037' | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'
}

add_part() {
	# "bytes": the size as written, so that dmarsift refuses a copy of the capture cut short.
	entry="    { \"kind\": \"$1\", \"path\": \"$2\", \"bytes\": $(wc -c <"$out/$2" | tr -d ' ') }"
	if [ -z "$parts" ]; then
		parts=$entry
	else
		parts="$parts,
$entry"
	fi
	# A third argument: the part does not count as captured (alone it makes no capture).
	[ "$1" = ignored ] || [ $# -gt 2 ] || captured=$((captured + 1))
}

note() {
	echo "$prog: $1" >&2
	if [ -z "$notes" ]; then
		notes=$(json_escape "$1")
	else
		notes="$notes\\n$(json_escape "$1")"
	fi
}

# capture FILE KIND COMMAND [ARG...]: COMMAND's output becomes part FILE of kind KIND.
capture() {
	file=$1
	kind=$2
	shift 2
	if "$@" >"$out/$file" 2>"$out/.stderr"; then
		if [ -s "$out/$file" ]; then
			add_part "$kind" "$file"
			rm -f "$out/.stderr"
			return 0
		fi
		note "$*: printed nothing; $file not captured"
	else
		note "$*: failed ($(head -n 1 "$out/.stderr")); $file not captured"
	fi
	rm -f "$out/$file" "$out/.stderr"
	return 1
}

if [ "$(id -u)" -ne 0 ]; then
	note "not running as root: dmardump, pciconf -c and acpidump need root"
fi

# 1. ACPI DMAR table, binary (ACPICA's acpidump writes dmar.dat into the current directory).
if command -v acpidump >/dev/null 2>&1; then
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/dmarsift.XXXXXX") || exit 2
	got=0
	for flags in "-t -n DMAR -b" "-n DMAR -b"; do
		# shellcheck disable=SC2086 # $flags is a list of options on purpose
		(cd "$tmp" && acpidump $flags) >/dev/null 2>&1 || continue
		for f in "$tmp"/*; do
			[ -f "$f" ] || continue
			if [ "$(head -c 4 "$f")" = DMAR ]; then
				mv "$f" "$out/DMAR" && add_part dmar DMAR && got=1
				break
			fi
		done
		[ $got -eq 1 ] && break
	done
	rm -rf "$tmp"
	[ $got -eq 1 ] || note "acpidump wrote no binary DMAR table (install sysutils/acpica-tools for acpidump -n DMAR -b); DMAR not captured"
else
	note "no acpidump (install sysutils/acpica-tools); DMAR not captured"
fi

# 2. dmardump: the remapping units and their context entries.
if [ -z "$dmardump" ]; then
	dmardump=$(command -v dmardump 2>/dev/null || true)
	if [ -z "$dmardump" ]; then
		for p in /usr/src/tools/tools/dmardump/dmardump /usr/obj/usr/src/*/tools/tools/dmardump/dmardump; do
			if [ -x "$p" ]; then
				dmardump=$p
				break
			fi
		done
	fi
fi
if [ -n "$dmardump" ] && [ -x "$dmardump" ]; then
	capture dmardump.txt dmardump-text "$dmardump"
else
	note "dmardump not built (cd /usr/src/tools/tools/dmardump && make, or pass -d PATH); dmardump.txt not captured"
fi

# 3. PCI inventory (with SR-IOV capabilities when allowed) and bridge bus ranges.
capture pciconf-lv.txt pci pciconf -lvc || capture pciconf-lv.txt pci pciconf -lv
capture sysctl-dev-pcib.txt bridges sysctl dev.pcib

# 3b. Each function's configuration space (MSI, ACS, ATS capabilities): pciconf -r prints values
# only, so a "# pciconf -r SELECTOR RANGE" line names each block (docs/pci-config.md). The
# extended space (0x100-0xfff) exists only for PCIe functions: its read may fail, and is skipped.
sels=$(pciconf -l 2>/dev/null | sed -n 's/^[^@]*@\(pci[0-9:]*\):.*/\1/p')
if [ -n "$sels" ]; then
	: >"$out/pciconf-r.txt"
	for sel in $sels; do
		if pciconf -r "$sel" 0:0xff >"$out/.block" 2>/dev/null && [ -s "$out/.block" ]; then
			{ echo "# pciconf -r $sel 0:0xff"; cat "$out/.block"; } >>"$out/pciconf-r.txt"
			if pciconf -r "$sel" 0x100:0xfff >"$out/.block" 2>/dev/null && [ -s "$out/.block" ]; then
				{ echo "# pciconf -r $sel 0x100:0xfff"; cat "$out/.block"; } >>"$out/pciconf-r.txt"
			fi
		fi
	done
	rm -f "$out/.block"
	if [ -s "$out/pciconf-r.txt" ]; then
		add_part pci-config pciconf-r.txt
	else
		rm -f "$out/pciconf-r.txt"
		note "pciconf -r read no configuration space (needs root); pciconf-r.txt not captured"
	fi
fi

# 4. Host memory map.
capture smap.txt memory-map sysctl machdep.smap

# 5. bhyve command lines.
pids=$(pgrep -f 'bhyve|vmrun\.sh' 2>/dev/null | tr '\n' ',' | sed 's/,$//')
if [ -n "$pids" ]; then
	if capture ps-args.txt vm-cmdlines ps -ww -o args -p "$pids" && grep -q '^bhyve: ' "$out/ps-args.txt"; then
		note "some bhyve processes show only their title (setproctitle): add the command lines that started them to $out as a text file"
	fi
else
	# What `ps -o args` prints for an empty process list: the header alone. It tells dmarsift that
	# no VM runs, which is not the same as not knowing.
	echo COMMAND >"$out/ps-args.txt"
	add_part vm-cmdlines ps-args.txt nocount
	note "no bhyve process running"
fi

# 6. vmm/dmar settings, for the person reading the capture.
if sysctl hw.vmm hw.dmar >"$out/sysctl-iommu.txt" 2>/dev/null || [ -s "$out/sysctl-iommu.txt" ]; then
	add_part ignored sysctl-iommu.txt
else
	rm -f "$out/sysctl-iommu.txt"
fi

if [ $captured -eq 0 ]; then
	echo "$prog: nothing captured" >&2
	if [ $created -eq 1 ]; then rm -rf "$out"; fi
	exit 2
fi

cat >"$out/capture.json" <<EOF
{
  "parts": [
$parts
  ],
  "notes": "$notes",
  "tool": { "name": "$prog", "host": "$(json_escape "$(uname -sr 2>/dev/null)")" },
  "created": "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
}
EOF

echo "captured $captured parts into $out; next: dmarsift analyze $out"
exit 0
