# Shared by every test file: load helper
#
# Hermetic: PATH is the build's bin/ plus the system, HOME and TMPDIR are the
# test's own, no database unless a test asks for one with use_db.

VS_TOP=${VS_TOP:-$(cd "$BATS_TEST_DIRNAME/.." && pwd)}
PATH="$VS_TOP/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
export PATH
export HOME="$BATS_TEST_TMPDIR"
export TMPDIR="$BATS_TEST_TMPDIR"
export VS_MEDIA_ROOT="$BATS_TEST_TMPDIR/media"
unset VS_DATABASE_URL VS_PUBLISH_URL VS_PUBLIC_BASE_URL VS_DEBUG
export LC_ALL=C.UTF-8
# a pipeline fails when any of its programs does: "vs-ingest a | vs-encode"
# in a setup cannot pass on vs-encode's status alone
set -o pipefail

bats_require_minimum_version 1.5.0

# use_db: gives this test file a fresh, migrated database of its own, named
# in VS_TEST_DB_URL. Call it from setup_file; a test that wants the
# database calls with_db.
use_db() {
	local name
	name="t_$(basename "$BATS_TEST_FILENAME" .bats | tr -c 'a-zA-Z0-9\n' '_')"
	psql_admin -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" >/dev/null
	VS_TEST_DB_URL=${VS_TEST_PG_URL/\/\/\/vs\?/\/\/\/$name?}
	export VS_TEST_DB_URL
	VS_DATABASE_URL=$VS_TEST_DB_URL vs-db migrate >/dev/null
}

with_db() {
	export VS_DATABASE_URL=$VS_TEST_DB_URL
}

psql_admin() {
	psql -X -q -v ON_ERROR_STOP=1 "${VS_TEST_PG_URL/\/\/\/vs\?/\/\/\/postgres?}" "$@"
}

# sql QUERY: runs QUERY in the test's database, unaligned, no headers.
sql() {
	psql -X -q -tA -v ON_ERROR_STOP=1 "$VS_DATABASE_URL" -c "$1"
}

# jqr FILE FILTER: jq -r over a file (never pipe a command into jq: the pipe
# would hide its status from run).
jqr() {
	jq -r "$2" "$1"
}

# ffprobe_field FILE STREAM ENTRY: one value, e.g. ffprobe_field a.mp4 v:0 width
ffprobe_field() {
	ffprobe -v error -select_streams "$2" -show_entries "stream=$3" -of csv=p=0 "$1"
}

# fixture NAME: prints the path of a test medium, making it on first use
# (with the ffmpeg CLI; nothing is committed). Shared by all files of a run.
fixture() {
	local name=$1 dir=${VS_FIXTURES:-$BATS_FILE_TMPDIR} out
	out="$dir/$name"
	(
		flock 9
		[ -s "$out" ] || [ -e "$out.done" ] || { make_fixture "$name" "$out" && touch "$out.done"; }
	) 9>"$dir/.lock-$name"
	printf '%s\n' "$out"
}

ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }

# random_bytes SEED COUNT: COUNT random-looking bytes, the same for a SEED
# each run (AES-CTR of COUNT zeros): /dev/urandom now and then gives bytes
# that libavformat takes for MPEG audio or lyrics, and a test's outcome
# changes.
random_bytes() {
	head -c "$2" /dev/zero | openssl enc -aes-256-ctr -nosalt -pbkdf2 -pass "pass:$1" 2>/dev/null
}

make_fixture() {
	local name=$1 out=$2 tmp
	tmp="$out.tmp.${name##*.}"
	case $name in
	lecture.mp4) # 320x240, 4 s, 25 fps, stereo AAC, two chapters
		printf ';FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=2000\ntitle=Introduction\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=2000\nEND=4000\ntitle=Limits\n' >"$out.meta"
		ff -f lavfi -i testsrc2=size=320x240:rate=25 -f lavfi -i "sine=f=440:sample_rate=48000" \
			-i "$out.meta" -map 0:v -map 1:a -map_metadata 2 -map_chapters 2 -t 4 \
			-c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac -ac 2 -movflags +faststart "$tmp" ;;
	other.mp4) # different content from lecture.mp4
		ff -f lavfi -i testsrc=size=320x240:rate=25 -t 2 -c:v libx264 -preset ultrafast -pix_fmt yuv420p "$tmp" ;;
	noaudio.mp4)
		ff -f lavfi -i testsrc2=size=320x180:rate=30 -t 2 -c:v libx264 -preset ultrafast -pix_fmt yuv420p "$tmp" ;;
	rotated.mp4) # stored 320x180, shown turned a quarter (a display matrix)
		ff -f lavfi -i testsrc2=size=320x180:rate=25 -t 2 -c:v libx264 -preset ultrafast -pix_fmt yuv420p "$out.raw.mp4" &&
			ff -i "$out.raw.mp4" -c copy -metadata:s:v:0 rotate=90 "$tmp" ;;
	anamorphic.mkv) # 720x576 stored, 16:9 shown
		ff -f lavfi -i testsrc2=size=720x576:rate=25 -t 2 -vf setsar=64/45 -c:v libx264 -preset ultrafast -pix_fmt yuv420p "$tmp" ;;
	clip.mkv)
		ff -f lavfi -i testsrc2=size=320x240:rate=25 -f lavfi -i sine -t 3 -c:v libx264 -preset ultrafast -c:a libopus "$tmp" 2>/dev/null ||
			ff -f lavfi -i testsrc2=size=320x240:rate=25 -f lavfi -i sine -t 3 -c:v libx264 -preset ultrafast -c:a aac "$tmp" ;;
	clip.ts)
		ff -f lavfi -i testsrc2=size=320x240:rate=25 -t 3 -c:v mpeg2video "$tmp" ;;
	audio.m4a)
		ff -f lavfi -i sine=f=440 -t 2 -c:a aac "$tmp" ;;
	still.png)
		ff -f lavfi -i testsrc2=size=64x64 -frames:v 1 "$tmp" ;;
	still.jpg)
		ff -f lavfi -i testsrc2=size=64x64 -frames:v 1 "$tmp" ;;
	empty.mp4)
		: >"$out"; return 0 ;;
	text.txt)
		printf 'Lecture notes\nnot a video\n' >"$out"; return 0 ;;
	text.mp4)
		printf 'Lecture notes\nnot a video\n' >"$out"; return 0 ;;
	garbage.mp4)
		random_bytes vs-garbage 200000 >"$out"; return 0 ;;
	truncated.mp4) # moov first, data cut short
		head -c "$(($(stat -c %s "$(fixture lecture.mp4)") / 2))" "$(fixture lecture.mp4)" >"$out"; return 0 ;;
	truncated-moov-last.mp4) # moov last, cut before it
		ff -f lavfi -i testsrc2=size=320x240:rate=25 -t 3 -c:v libx264 -preset ultrafast "$out.full.mp4" &&
			head -c "$(($(stat -c %s "$out.full.mp4") - 2000))" "$out.full.mp4" >"$out"; return $? ;;
	truncated.mkv)
		head -c "$(($(stat -c %s "$(fixture clip.mkv)") / 3))" "$(fixture clip.mkv)" >"$out"; return 0 ;;
	hevc10.mkv)
		ff -f lavfi -i testsrc2=size=320x180:rate=25 -t 2 -c:v libx265 -pix_fmt yuv420p10le -x265-params log-level=none "$tmp" ;;
	vp9.webm)
		ff -f lavfi -i testsrc2=size=320x180:rate=25 -t 2 -c:v libvpx-vp9 -deadline realtime -cpu-used 8 "$tmp" ;;
	av1.mkv)
		ff -f lavfi -i testsrc2=size=320x180:rate=25 -t 1 -c:v libaom-av1 -cpu-used 8 -row-mt 1 "$tmp" ;;
	interlaced.ts) # 50 fields a second, top field first, MPEG-2 with MP2 audio
		ff -f lavfi -i testsrc2=size=720x576:rate=50 -f lavfi -i sine=f=300 -t 2 -vf interlace \
			-c:v mpeg2video -flags +ildct+ilme -b:v 4M -c:a mp2 "$tmp" ;;
	surround.mp4) # 5.1 at 44.1 kHz
		ff -f lavfi -i testsrc2=size=320x180:rate=30 -f lavfi -i sine=f=440:sample_rate=44100 \
			-filter_complex "[1]pan=5.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0[a]" -map 0:v -map "[a]" -t 2 \
			-c:v libx264 -preset ultrafast -c:a aac "$tmp" ;;
	vfr.mp4) # 30 fps for a second, then 15 fps
		ff -f lavfi -i testsrc2=size=320x180:rate=30 -t 3 -vf "setpts='if(lt(N,30),N/30/TB,(N*2-30)/30/TB)'" \
			-fps_mode vfr -c:v libx264 -preset ultrafast "$tmp" ;;
	fast120.mp4)
		ff -f lavfi -i testsrc2=size=320x180:rate=120 -t 1 -c:v libx264 -preset ultrafast "$tmp" ;;
	lowrate.mp4) # 640x360 at about 200 kbit/s: less than any default cap
		ff -f lavfi -i testsrc2=size=640x360:rate=25 -t 2 -c:v libx264 -preset ultrafast -b:v 200k "$tmp" ;;
	tiny.mp4)
		ff -f lavfi -i testsrc2=size=160x90:rate=25 -t 2 -c:v libx264 -preset ultrafast "$tmp" ;;
	portrait.mp4)
		ff -f lavfi -i testsrc2=size=360x640:rate=30 -f lavfi -i sine -t 2 -c:v libx264 -preset ultrafast -c:a aac "$tmp" ;;
	hd.mp4) # 640x360 with audio, for ladders
		ff -f lavfi -i testsrc2=size=640x360:rate=30 -f lavfi -i sine=sample_rate=48000 -t 4 \
			-c:v libx264 -preset ultrafast -c:a aac -ac 2 -movflags +faststart "$tmp" ;;
	black-start.mp4) # two seconds of black, then a picture
		ff -f lavfi -i color=black:size=320x180:rate=25:duration=2 -f lavfi -i testsrc2=size=320x180:rate=25:duration=4 \
			-filter_complex "[0][1]concat=n=2:v=1:a=0" -c:v libx264 -preset ultrafast "$tmp" ;;
	long.mp4) # long enough to kill an encode halfway
		ff -f lavfi -i testsrc2=size=640x360:rate=30 -f lavfi -i sine -t 40 -c:v libx264 -preset ultrafast -c:a aac "$tmp" ;;
	corrupt-middle.mp4) # index and ends intact, the middle third overwritten
		cp "$(fixture hd.mp4)" "$tmp" &&
			size=$(stat -c %s "$tmp") &&
			random_bytes vs-corrupt $((size / 3)) |
			dd of="$tmp" bs=64K iflag=fullblock seek=$((size / 3)) oflag=seek_bytes conv=notrunc status=none ;;
	*)
		echo "fixture: unknown fixture '$name'" >&2; return 1 ;;
	esac || return 1
	mv "$tmp" "$out"
}

# png_width FILE: a picture's width in pixels, as ffprobe reads it
png_width() {
	ffprobe -v error -select_streams v:0 -show_entries stream=width -of csv=p=0 "$1"
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on now, below
# the range the kernel hands out to outgoing connections (32768 and up by
# default), so that no client of another test holds it when a server binds.
free_port() {
	local p low=32768
	read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
	[ "$low" -gt 11000 ] 2>/dev/null || low=32768
	for _ in $(seq 50); do
		p=$((10000 + RANDOM % (low - 10000)))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# wait_port PORT [PID]: waits (up to 10 s) until something listens on
# PORT; with PID, until that process does (another test's server that took
# the port first is no answer: the test fails, saying so, as soon as PID
# has exited)
wait_port() {
	local port=$1 pid=${2:-}
	for _ in $(seq 100); do
		if [ -n "$pid" ]; then
			kill -0 "$pid" 2>/dev/null || { echo "the server for port $port (pid $pid) has exited" >&2; return 1; }
			[[ $(ss -Hltnp "( sport = :$port )") == *"pid=$pid,"* ]] && return 0
		else
			(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		fi
		sleep 0.1
	done
	echo "nothing listens on port $port${pid:+ as pid $pid}" >&2
	return 1
}

# A failing test must fail, not hang: bats waits for every process that
# holds its output (descriptor 3), so a server left running by a test that
# failed before it stopped the server would hold the whole run. Servers and
# helpers a test starts in the background go through bg, which starts them
# without bats' descriptors, in a process group of their own, and notes
# them; stop_bg (in every file's teardown, and the default teardown below)
# ends each group. BATS_TEST_TIMEOUT bounds every test besides.
export BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-600}

# bg LOG CMD... [<INPUT]: CMD in the background, stdout and stderr to LOG,
# in a session of its own; its pid in $BG_PID (the group's id too)
bg() {
	local log=$1
	shift
	# (<&0: the caller's input; bash gives a background job /dev/null otherwise)
	setsid "$@" <&0 >"$log" 2>&1 3>&- &
	BG_PID=$!
	BG_PIDS+=("$BG_PID")
}

# stop_bg: ends every group bg started in this test: TERM, then KILL what
# is still there a second later
stop_bg() {
	local pid left=()
	for pid in "${BG_PIDS[@]}"; do
		kill -TERM -- "-$pid" 2>/dev/null && left+=("$pid")
	done
	for _ in $(seq 10); do
		[ ${#left[@]} -gt 0 ] || break
		local still=()
		for pid in "${left[@]}"; do kill -0 -- "-$pid" 2>/dev/null && still+=("$pid"); done
		left=("${still[@]}")
		[ ${#left[@]} -eq 0 ] || sleep 0.1
	done
	for pid in "${left[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || :; done
	for pid in "${BG_PIDS[@]}"; do wait "$pid" 2>/dev/null || :; done
	BG_PIDS=()
	return 0
}
BG_PIDS=()

teardown() { stop_bg; }

# stop_pid PID...: ends servers a test started in the background (teardown):
# each is killed, and waited for when it is this shell's child, so that none
# outlives its test; an empty or finished PID is no error.
stop_pid() {
	local pid
	for pid in "$@"; do
		[ -n "$pid" ] || continue
		kill "$pid" 2>/dev/null || continue
		wait "$pid" 2>/dev/null || :
	done
}

# full_disk BYTES CMD...: CMD on a "disk" that fills after BYTES (an
# LD_PRELOAD shim makes writes to files fail with ENOSPC past them)
full_disk() {
	local bytes=$1
	shift
	env LD_PRELOAD="${VS_UNIT_DIR:-$VS_TOP/build/default/tests}/enospc.so" VS_ENOSPC_AFTER="$bytes" \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" "$@"
}

# own_cluster: a PostgreSQL cluster of this test's own holding a copy of
# the file's database (the suite's cluster serves other files at the same
# time), so that the test may stop and start it; VS_DATABASE_URL points at
# it. own_cluster_stop / own_cluster_start; own_cluster_destroy in teardown.
own_cluster() {
	OWN_PG_DIR=$(mktemp -d /tmp/vs-test-pg-own.XXXXXX)
	chmod 0755 "$OWN_PG_DIR"
	local url
	url=$(VS_PG_DIR=$OWN_PG_DIR VS_PG_FSYNC=off "$VS_TOP/scripts/pg" start)
	pg_dump --no-owner "$VS_DATABASE_URL" >"$BATS_TEST_TMPDIR/own-cluster.sql"
	psql -X -q -v ON_ERROR_STOP=1 "$url" -f "$BATS_TEST_TMPDIR/own-cluster.sql" >/dev/null
	export VS_DATABASE_URL=$url
}
own_cluster_stop() { VS_PG_DIR=$OWN_PG_DIR "$VS_TOP/scripts/pg" stop; }
own_cluster_start() { VS_PG_DIR=$OWN_PG_DIR VS_PG_FSYNC=off "$VS_TOP/scripts/pg" start >/dev/null; }
own_cluster_destroy() {
	[ -z "${OWN_PG_DIR:-}" ] || VS_PG_DIR=$OWN_PG_DIR "$VS_TOP/scripts/pg" destroy
}

# b64url: base64url without padding, of stdin
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }

# hs256 HEADER_JSON PAYLOAD_JSON SECRET: an HS256 token made with openssl
hs256() {
	local h p s
	h=$(printf '%s' "$1" | b64url)
	p=$(printf '%s' "$2" | b64url)
	s=$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -hmac "$3" -binary | b64url)
	printf '%s.%s.%s' "$h" "$p" "$s"
}

# start_upload_lighttpd: stock lighttpd on a free $PORT running vs-cgi as
# CGI under /api/v1, with the test's database, JWT secret and media root
# (what uploads need); started with bg (stop_bg ends it), its pid in $LIGHTTPD
start_upload_lighttpd() {
	PORT=$(free_port)
	mkdir -p run www
	cat >lighttpd.conf <<CONF
server.modules += ("mod_alias", "mod_cgi", "mod_setenv")
server.bind = "127.0.0.1"
server.port = $PORT
server.document-root = "$PWD/www"
server.errorlog = "$PWD/run/error.log"
server.upload-dirs = ("$PWD/run")
alias.url = ("/api/v1" => "$VS_TOP/bin/vs-cgi")
\$HTTP["url"] =~ "^/api/v1(/|$)" { cgi.assign = ("" => "") }
setenv.add-environment = ("VS_DATABASE_URL" => "$VS_DATABASE_URL", "VS_JWT_SECRET_FILE" => "$VS_JWT_SECRET_FILE",
                          "VS_MEDIA_ROOT" => "$VS_MEDIA_ROOT")
CONF
	chmod o+rx "$BATS_TEST_TMPDIR"
	bg run/lighttpd.out lighttpd -D -f lighttpd.conf
	LIGHTTPD=$BG_PID
	wait_port "$PORT" "$BG_PID"
}

# serve_players DIR PORT: stock lighttpd serving DIR on PORT with the
# players' test page (tests/play.html) and hls.js, Shaka Player and dash.js
# beside it; started with bg (stop_bg ends it), its pid in $HTTP_PID
serve_players() {
	mkdir -p "$1" log
	cp "$VS_TOP/tests/play.html" "$VS_TOP/node_modules/hls.js/dist/hls.min.js" \
		"$VS_TOP/node_modules/shaka-player/dist/shaka-player.compiled.js" \
		"$VS_TOP/node_modules/dashjs/dist/modern/umd/dash.all.min.js" "$1/"
	cat >lighttpd.conf <<CONF
server.document-root = "$(cd "$1" && pwd)"
server.bind = "127.0.0.1"
server.port = $2
server.errorlog = "$PWD/log/error.log"
mimetype.assign = (".m3u8" => "application/vnd.apple.mpegurl", ".m4s" => "video/iso.segment",
	".mp4" => "video/mp4", ".ts" => "video/mp2t", ".js" => "text/javascript", ".html" => "text/html",
	".mpd" => "application/dash+xml", ".vtt" => "text/vtt")
CONF
	bg log/lighttpd.out lighttpd -D -f lighttpd.conf
	HTTP_PID=$BG_PID
	wait_port "$2" "$BG_PID"
}

# play PLAYER PATH…: each stream (a path under the served directory) played
# 2 s by PLAYER (hls.js, shaka, dashjs) in Chromium → played.json, a line
# each; every one reached 2 s without a fatal error
play() {
	local player=$1 urls=() m
	shift
	for m in "$@"; do
		urls+=("http://127.0.0.1:$port/play.html?player=$player&src=/$m")
	done
	run -0 --separate-stderr node "$VS_TOP/tests/play.js" 2 "${urls[@]}"
	echo "$output" >played.json
	cat played.json
	[ "$(wc -l <played.json)" -eq $# ]
	[ "$(jq -r .engine played.json | sort -u)" = "$player" ]
	[ "$(jq -r '.fatal // "none"' played.json | sort -u)" = "none" ]
	[ "$(jq -r 'select(.t >= 2) | .src' played.json | wc -l)" -eq $# ]
}
