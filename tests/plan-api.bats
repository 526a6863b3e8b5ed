#!/usr/bin/env bats
# The platform plan's API (tests/plan-api.txt) holds in vs-cgi's answers:
# GET /videos/:id, /videos/:id/stream[?quality=], GET and POST
# /videos/:id/progress answer the plan's interfaces, with the plan's JSON
# types; analytics beacons and `vs-report import` take the plan's names into
# the plan's columns; `vs-progress export` imports again. vs-cgi is run as a
# CGI program, without a server (tests/vs-cgi.bats runs it behind servers).

load helper

setup_file() {
	use_db
	export VS_MEDIA_ROOT="$BATS_FILE_TMPDIR/media"
	export VS_DATABASE_URL=$VS_TEST_DB_URL
	# 4 s, renditions 180p and 360p, published with a poster
	vs-ingest "$(fixture hd.mp4)" --slug lesson-one --title "Lesson one" | vs-encode --preset ultrafast --ladder 180p,360p |
		vs-package --segment-seconds 2 | vs-publish --to "file://$BATS_FILE_TMPDIR/www/vod" --base-url http://127.0.0.1/vod \
		>"$BATS_FILE_TMPDIR/pub.json"
	printf 'jwt secret for tests' >"$BATS_FILE_TMPDIR/jwt.key"
	printf 'signing secret for tests' >"$BATS_FILE_TMPDIR/sign.key"
}

setup() {
	export VS_DATABASE_URL=$VS_TEST_DB_URL
	export VS_JWT_SECRET_FILE="$BATS_FILE_TMPDIR/jwt.key" VS_SIGNING_KEY_FILE="$BATS_FILE_TMPDIR/sign.key"
	export VS_SIGN_SCHEME=nginx VS_PUBLIC_BASE_URL=http://127.0.0.1/vod
	cd "$BATS_TEST_TMPDIR"
	ID=$(jqr "$BATS_FILE_TMPDIR/pub.json" .id)
	USER1=a91a0000-0000-4000-8000-$(printf '%012d' "$BATS_TEST_NUMBER")
	AUTH=
}

# The facts; a test of has_interface itself points this at a copy.
PLAN_API=$BATS_TEST_DIRNAME/plan-api.txt

# token_for USER: an HS256 bearer token for USER, made with openssl
token_for() {
	hs256 '{"alg":"HS256","typ":"JWT"}' "$(printf '{"sub":"%s","exp":%d}' "$1" $(($(date +%s) + 600)))" \
		"jwt secret for tests"
}

# api METHOD PATH[?QUERY] [BODY]: one request to vs-cgi as a CGI program,
# from the viewer whose bearer token is in $AUTH (anonymous when empty).
# The status code goes to $code, the Content-Type to $ctype, the headers to
# headers.txt, the body to body.json and vs-cgi's log to cgi.err. Fails
# when vs-cgi itself does not exit 0 or answers no status.
api() {
	local path=${2%%\?*} qs='' rc=0
	local -a env=(REQUEST_METHOD="$1" GATEWAY_INTERFACE=CGI/1.1 REMOTE_ADDR=203.0.113.9)
	if [[ $2 == *\?* ]]; then
		qs=${2#*\?}
	fi
	env+=(PATH_INFO="$path" QUERY_STRING="$qs")
	printf '%s' "${3:-}" >request.body
	if [ -s request.body ]; then
		# bytes, not characters
		env+=(CONTENT_LENGTH="$(wc -c <request.body)" CONTENT_TYPE=application/json)
	fi
	if [ -n "$AUTH" ]; then
		env+=(HTTP_AUTHORIZATION="Bearer $AUTH")
	fi
	env "${env[@]}" vs-cgi <request.body >answer.raw 2>cgi.err || rc=$?
	tr -d '\r' <answer.raw | sed '/^$/q' >headers.txt
	sed '1,/^\r$/d' answer.raw >body.json
	code=$(sed -n '1s/^Status: \([0-9][0-9][0-9]\) .*/\1/p' headers.txt)
	ctype=$(sed -n 's/^Content-Type: //p' headers.txt)
	if [ "$rc" -ne 0 ] || [ -z "$code" ]; then
		printf 'vs-cgi %s %s: exit %d, answer:\n%s\nlog:\n%s\n' "$1" "$2" "$rc" "$(cat answer.raw)" "$(cat cgi.err)" >&2
		return 1
	fi
}

# plan_api_check: fails, saying which, when a fact line of plan-api.txt is
# not INTERFACE<TAB>FIELD<TAB>TYPE<TAB>required|optional, or a #null line
# not #null<TAB>INTERFACE<TAB>FIELD<TAB>CONDITION of a field it has.
plan_api_check() {
	local bad
	bad=$(grep -v -e '^#' -e '^$' "$PLAN_API" |
		awk -F'\t' 'NF != 4 || $1 == "" || $2 == "" || $3 !~ /^(string|number|boolean|array|object)$/ || $4 !~ /^(required|optional)$/')
	if [ -n "$bad" ]; then
		printf 'plan-api.txt: not INTERFACE<TAB>FIELD<TAB>TYPE<TAB>required|optional:\n%s\n' "$bad" >&2
		return 1
	fi
	bad=$(awk -F'\t' '!/^#/ { f[$1 "\t" $2] = 1 }
		/^#null\t/ { n[NR] = $0; k[NR] = $2 "\t" $3; c[NR] = (NF == 4 && $4 != "") }
		END { for (i in n) if (!(k[i] in f) || !c[i]) print n[i] }' "$PLAN_API")
	if [ -n "$bad" ]; then
		printf 'plan-api.txt: a #null line not of a field of the plan, or without a condition:\n%s\n' "$bad" >&2
		return 1
	fi
}

# has_interface INTERFACE FILE: whether the JSON object in FILE has every
# required field of INTERFACE (plan-api.txt) with its JSON type, and its
# optional ones, when present, too; null only where a #null line's
# condition holds for FILE. Lists every missing or mistyped field before
# failing.
has_interface() {
	local iface=$1 file=$2 fields nullable='' f cond wrong
	plan_api_check || return 1
	fields=$(awk -F'\t' -v i="$iface" '!/^#/ && $1 == i { print $2 "\t" $3 "\t" $4 }' "$PLAN_API")
	if [ -z "$fields" ]; then
		echo "has_interface: plan-api.txt has no interface '$iface'" >&2
		return 1
	fi
	if ! jq -e 'type == "object"' "$file" >/dev/null 2>&1; then
		printf '%s: not a JSON object, so no %s:\n%s\n' "$file" "$iface" "$(head -c 2000 "$file")" >&2
		return 1
	fi
	while IFS=$'\t' read -r f cond; do
		[ -n "$f" ] || continue
		if jq -e "$cond" "$file" >/dev/null; then
			nullable+=$f$'\n'
		fi
	done < <(awk -F'\t' -v i="$iface" '/^#null\t/ && $2 == i { print $3 "\t" $4 }' "$PLAN_API")
	wrong=$(jq -r --arg fields "$fields" --arg nullable "$nullable" '
		. as $o
		| ($nullable | split("\n") | map(select(. != ""))) as $n
		| $fields | split("\n")[] | select(. != "") | split("\t") as [$f, $t, $r]
		| if ($o | has($f) | not) then
			if $r == "required" then "  \($f): missing (the plan: \($t), \($r))" else empty end
		elif $o[$f] == null and any($n[]; . == $f) then empty
		elif ($o[$f] | type) != $t then
			"  \($f): \($o[$f] | type) \($o[$f] | tojson | .[0:80]) (the plan: \($t), \($r))"
		else empty end' "$file")
	if [ -n "$wrong" ]; then
		printf '%s in %s: fields not as the plan has them:\n%s\nthe answer: %s\n' "$iface" "$file" "$wrong" \
			"$(head -c 2000 "$file")" >&2
		return 1
	fi
}

# ---- the facts and the checker ----

@test "plan-api.txt holds the plan's three interfaces, every line well-formed" {
	plan_api_check
	[ "$(grep -v -e '^#' -e '^$' "$PLAN_API" | cut -f1 | sort -u | tr '\n' ' ')" = \
		"VideoDetailResponse VideoProgressResponse VideoStreamResponse " ]
	[ "$(grep -c $'^VideoDetailResponse\t.*\trequired$' "$PLAN_API")" -eq 6 ]
	[ "$(grep -c $'^VideoStreamResponse\t.*\trequired$' "$PLAN_API")" -eq 4 ]
	[ "$(grep -c $'^VideoProgressResponse\t.*\trequired$' "$PLAN_API")" -eq 5 ]
	[ "$(grep -c $'^#null\t' "$PLAN_API")" -eq 2 ]
}

@test "has_interface lists every missing, mistyped and null field, and fails" {
	printf '{"current_time":"12","completed_percentage":5,"is_completed":null,"last_watched_at":null,"watch_count":1}\n' >bad.json
	run -1 has_interface VideoProgressResponse bad.json
	[[ $output == *"current_time: string \"12\" (the plan: number, required)"* ]]
	[[ $output == *"is_completed: null null (the plan: boolean, required)"* ]]
	# null last_watched_at is for a viewer who never watched, not one with watch_count 1
	[[ $output == *"last_watched_at: null null (the plan: string, required)"* ]]
	[[ $output != *completed_percentage:* ]]
	[[ $output != *watch_count:* ]]
	printf '{"current_time":0,"completed_percentage":0,"is_completed":false,"last_watched_at":null,"watch_count":0}\n' >never.json
	run -0 has_interface VideoProgressResponse never.json
	printf '{"id":"x","title":"t","description":"","duration":4,"thumbnail_url":"u","qualities":[],"progress":null}\n' >detail.json
	run -1 has_interface VideoDetailResponse detail.json
	[[ $output == *"progress: null null (the plan: object, optional)"* ]]
	printf '[1]\n' >array.json
	run -1 has_interface VideoStreamResponse array.json
	[[ $output == *"not a JSON object"* ]]
	run -1 has_interface NoSuchResponse never.json
	# a field the plan asks for and no answer has: every answer fails
	cp "$PLAN_API" plan.txt
	printf 'VideoProgressResponse\tresume_token\tstring\trequired\n' >>plan.txt
	PLAN_API=$PWD/plan.txt
	run -1 has_interface VideoProgressResponse never.json
	[[ $output == *"resume_token: missing (the plan: string, required)"* ]]
	# and a malformed line is refused
	printf 'VideoProgressResponse\tx\tinteger\trequired\n' >>plan.txt
	run -1 has_interface VideoProgressResponse never.json
	[[ $output == *"not INTERFACE<TAB>FIELD<TAB>TYPE"* ]]
}

# ---- GET /videos/:id ----

@test "GET /videos/:id answers a VideoDetailResponse, anonymously and to a viewer without progress" {
	api GET "/videos/$ID"
	[ "$code" = 200 ]
	[ "$ctype" = application/json ]
	has_interface VideoDetailResponse body.json
	[ "$(jqr body.json .id)" = "$ID" ]
	[ "$(jqr body.json .duration)" = 4 ]
	[ "$(jqr body.json '[.qualities[].quality_label] | join(",")')" = 180p,360p ]
	# a poster a browser can load, not the encoder's file
	[ "$(jqr body.json .thumbnail_url)" = "http://127.0.0.1/vod/$ID/poster.jpg" ]
	# no progress to show: the optional field left out (the plan has no null)
	AUTH=$(token_for "$USER1")
	api GET "/videos/$ID"
	[ "$code" = 200 ]
	has_interface VideoDetailResponse body.json
}

@test "GET /videos/:id answers a VideoDetailResponse, by its slug, to a viewer with progress" {
	AUTH=$(token_for "$USER1")
	api POST "/videos/$ID/progress" '{"current_time": 2}'
	[ "$code" = 200 ]
	api GET /videos/lesson-one
	[ "$code" = 200 ]
	has_interface VideoDetailResponse body.json
	[ "$(jqr body.json .progress.current_time)" = 2 ]
	jq .progress body.json >progress.json
	has_interface VideoProgressResponse progress.json
}

# ---- GET /videos/:id/stream ----

# signed_ok URL: vs-sign, with vs-cgi's scheme and key, finds URL valid and unexpired
signed_ok() {
	run -0 --separate-stderr vs-sign --scheme "$VS_SIGN_SCHEME" --verify "$1"
}

@test "GET /videos/:id/stream answers a VideoStreamResponse with a signed master playlist" {
	api GET "/videos/$ID/stream"
	[ "$code" = 200 ]
	[ "$ctype" = application/json ]
	has_interface VideoStreamResponse body.json
	url=$(jqr body.json .stream_url)
	token=$(jqr body.json .token)
	[[ $token =~ ^([0-9]+)/[A-Za-z0-9_-]+$ ]]
	exp=${BASH_REMATCH[1]}
	[ "$url" = "http://127.0.0.1/t/$token/vod/$ID/master.m3u8" ]
	[ "$(jqr body.json .expires_at)" = "$(date -u -d "@$exp" +%Y-%m-%dT%H:%M:%SZ)" ]
	[ "$exp" -gt $(($(date +%s) + 3600)) ]
	signed_ok "$url"
	[ "$(jqr body.json '[.qualities[].quality_label] | join(",")')" = 180p,360p ]
}

@test "GET /videos/:id/stream?quality=LABEL: that rendition's playlist, signed the same way" {
	for scheme in hmac nginx; do
	export VS_SIGN_SCHEME=$scheme
	for label in 180p 360p; do
		api GET "/videos/$ID/stream?quality=$label"
		[ "$code" = 200 ]
		has_interface VideoStreamResponse body.json
		url=$(jqr body.json .stream_url)
		token=$(jqr body.json .token)
		[[ $token =~ ^([0-9]+)/[A-Za-z0-9_-]+$ ]]
		exp=${BASH_REMATCH[1]}
		[[ $url == */$label/index.m3u8 ]]
		[ "$url" = "http://127.0.0.1/t/$token/vod/$ID/$label/index.m3u8" ]
		[ "$(jqr body.json .expires_at)" = "$(date -u -d "@$exp" +%Y-%m-%dT%H:%M:%SZ)" ]
		[ "$(jq -r --arg l "$label" '.qualities[] | select(.quality_label == $l) | .url' body.json)" = "$url" ]
		signed_ok "$url"
		# the token opens the master playlist beside it too, and a forged one nothing
		signed_ok "${url%"$label/index.m3u8"}master.m3u8"
		run -1 --separate-stderr vs-sign --scheme "$VS_SIGN_SCHEME" --verify "${url/\/t\/$exp\//\/t\/$((exp + 300))\/}"
	done
	done
	# the token is one the key endpoint takes: this video has no key (404), a forged token 403
	api GET "/videos/$ID/key?token=$token"
	[ "$code" = 404 ]
	sig=${token#*/}
	if [ "${sig:0:1}" = A ]; then other=B; else other=A; fi
	api GET "/videos/$ID/key?token=$exp/$other${sig:1}"
	[ "$code" = 403 ]
	# by the slug too
	api GET "/videos/lesson-one/stream?quality=360p"
	[ "$code" = 200 ]
	[[ $(jqr body.json .stream_url) == "http://127.0.0.1/t/"*"/vod/$ID/360p/index.m3u8" ]]
}

@test "GET /videos/:id/stream?quality=LABEL for CloudFront: that rendition's playlist under a signed policy" {
	openssl genrsa -out cf.pem 2048 2>/dev/null
	export VS_SIGN_SCHEME=cloudfront VS_CLOUDFRONT_KEY_PAIR_ID=K2JCJMDEHXQW5F VS_CLOUDFRONT_PRIVATE_KEY_FILE=$PWD/cf.pem
	export VS_PUBLIC_BASE_URL=https://d111111abcdef8.cloudfront.net/vod
	api GET "/videos/$ID/stream?quality=360p"
	[ "$code" = 200 ]
	has_interface VideoStreamResponse body.json
	url=$(jqr body.json .stream_url)
	[[ $url == "https://d111111abcdef8.cloudfront.net/vod/$ID/360p/index.m3u8?"*Key-Pair-Id=K2JCJMDEHXQW5F* ]]
	[ "$(jqr body.json '.qualities[] | select(.quality_label == "360p") | .url')" = "$url" ]
	run -0 --separate-stderr vs-sign --scheme cloudfront --private-key cf.pem --verify "$url"
	api GET "/videos/$ID/stream?quality=4k"
	[ "$code" = 400 ]
	[ "$ctype" = application/problem+json ]
}

# problem_400: the last answer was 400 application/problem+json, a JSON
# problem whose status says so too
problem_400() {
	[ "$code" = 400 ]
	[ "$ctype" = application/problem+json ]
	[ "$(jqr body.json .status)" = 400 ]
}

@test "GET /videos/:id/stream?quality= of a quality the video lacks is 400 problem+json" {
	for q in 4k 720p 1080p 360 p; do
		api GET "/videos/$ID/stream?quality=$q"
		problem_400
		[[ $(jqr body.json .detail) == *quality* ]]
	done
}

@test "GET /videos/:id/stream?quality= with hostile text is 400, never 500" {
	long=$(head -c 5000 /dev/zero | tr '\0' a)
	longpct=$(for _ in $(seq 2000); do printf '%%41'; done)
	# shellcheck disable=SC2016 # '$(id)' is text for vs-cgi, not for this shell
	for q in '' "'" '"' "360p'" '360p"' "%27%22" "360p%27%3B%20DROP%20TABLE%20videos%3B--" "360p'; DROP TABLE videos;--" \
		%00 360p%00 %00360p 360p%00x % %3 %ZZ %G0 360p% '../360p' '360p/../../../etc/passwd' \
		%2e%2e%2f360p 360p%2F..%2F.. '360p/index.m3u8' '<script>' %3Cscript%3E %C3%A9 %FF%FE %0A360p 360p%0D%0A \
		'360p ' +360p '%20360p' 360p%09 '$(id)' '%s%s%s%n' "$long" "360p$long" "$longpct"; do
		api GET "/videos/$ID/stream?quality=$q"
		if [ "$code" != 400 ] || [ "$ctype" != application/problem+json ]; then
			printf 'quality=%.80s: %s %s\n' "$q" "$code" "$(head -c 300 body.json)" >&2
		fi
		problem_400
	done
	# among other parameters
	api GET "/videos/$ID/stream?x=1&quality=%00&y=2"
	problem_400
	[ "$(sql "SELECT count(*) FROM videos")" -ge 1 ]
}

# ---- GET and POST /videos/:id/progress ----

@test "GET /videos/:id/progress before any position answers a VideoProgressResponse of nothing watched" {
	AUTH=$(token_for "$USER1")
	api GET "/videos/$ID/progress"
	[ "$code" = 200 ]
	[ "$ctype" = application/json ]
	has_interface VideoProgressResponse body.json
	[ "$(jq -c '[.current_time, .is_completed, .last_watched_at, .watch_count]' body.json)" = '[0,false,null,0]' ]
	[ "$(sql "SELECT count(*) FROM video_progress WHERE user_id = '$USER1'")" = 0 ]
}

@test "POST /videos/:id/progress answers a VideoProgressResponse, and GET after it the same" {
	AUTH=$(token_for "$USER1")
	api POST "/videos/$ID/progress" '{"current_time": 1.5}'
	[ "$code" = 200 ]
	[ "$ctype" = application/json ]
	has_interface VideoProgressResponse body.json
	cp body.json post.json
	# watched now: last_watched_at is a time, now (the #null exception no longer applies)
	at=$(date -u -d "$(jqr post.json .last_watched_at)" +%s)
	[ $(($(date +%s) - at)) -le 60 ]
	[ "$(jq -c '[.current_time, .completed_percentage, .is_completed, .watch_count]' post.json)" = '[1.5,37.5,false,1]' ]
	# the plan's body may carry completed_percentage
	api POST "/videos/$ID/progress" '{"current_time": 2, "completed_percentage": 50}'
	[ "$code" = 200 ]
	has_interface VideoProgressResponse body.json
	cp body.json post2.json
	api GET "/videos/$ID/progress"
	[ "$code" = 200 ]
	has_interface VideoProgressResponse body.json
	[ "$(jq -c '[.current_time, .completed_percentage, .is_completed, .last_watched_at, .watch_count]' body.json)" = \
		"$(jq -c '[.current_time, .completed_percentage, .is_completed, .last_watched_at, .watch_count]' post2.json)" ]
	[ "$(sql "SELECT round(current_time_seconds::numeric, 1), is_completed, watch_count FROM video_progress WHERE user_id = '$USER1'")" = "2.0|f|1" ]
}

@test "POST /videos/:id/progress to the end answers a completed VideoProgressResponse" {
	AUTH=$(token_for "$USER1")
	api POST "/videos/$ID/progress" '{"current_time": 4}'
	[ "$code" = 200 ]
	has_interface VideoProgressResponse body.json
	[ "$(jq -c '[.completed_percentage, .is_completed, .watch_count]' body.json)" = '[100,true,1]' ]
}

# ---- POST /videos/:id/analytics ----

# beacon BODY: a beacon from a browser, as the plan's player sends it
beacon() {
	api POST "/videos/$ID/analytics" "$1"
}

@test "a beacon with the plan's names lands in the plan's columns" {
	sid="plan-$BATS_TEST_NUMBER"
	beacon "{\"session_id\":\"$sid\",\"watch_time_seconds\":12.5,\"buffer_events\":3,\"seek_events\":4,\"quality_switches\":2,\"quality_selected\":\"360p\",\"bandwidth_kbps\":2400,\"country_code\":\"de\",\"device_type\":\"desktop\",\"browser\":\"Firefox\",\"os\":\"Linux\"}"
	[ "$code" = 204 ]
	[ "$(sql "SELECT buffer_events, seek_events, quality_switches, quality_selected, bandwidth_kbps, country_code, device_type, browser, os, watch_time_seconds FROM video_analytics WHERE session_id = '$sid'")" = \
		"3|4|2|360p|2400|DE|desktop|Firefox|Linux|12.5" ]
	[ "$(sql "SELECT session_start IS NOT NULL AND session_end >= session_start FROM video_analytics WHERE session_id = '$sid'")" = t ]
	# the session's next beacon: running totals, the same row
	beacon "{\"session_id\":\"$sid\",\"watch_time_seconds\":20,\"buffer_events\":5,\"seek_events\":4,\"quality_switches\":3,\"quality_selected\":\"180p\",\"bandwidth_kbps\":900,\"country_code\":\"DE\"}"
	[ "$code" = 204 ]
	[ "$(sql "SELECT count(*), max(buffer_events), max(quality_switches), max(quality_selected), max(bandwidth_kbps), max(country_code) FROM video_analytics WHERE session_id = '$sid'")" = \
		"1|5|3|180p|900|DE" ]
}

@test "a beacon with the older names still lands in the plan's columns" {
	sid="old-$BATS_TEST_NUMBER"
	beacon "{\"session_id\":\"$sid\",\"buffering_events\":2,\"seeks\":6,\"quality_changes\":1,\"quality\":\"180p\"}"
	[ "$code" = 204 ]
	[ "$(sql "SELECT buffer_events, seek_events, quality_switches, quality_selected FROM video_analytics WHERE session_id = '$sid'")" = "2|6|1|180p" ]
}

@test "a beacon with a bad country_code is 422, naming country_code, and stores nothing" {
	n=0
	for cc in '"DEU"' '"1x"' '"d"' '"d1"' '" d"' '"é"' '"\u00e9x"' '42' 'true' '["DE"]' '{"code":"DE"}'; do
		n=$((n + 1))
		beacon "{\"session_id\":\"cc-$BATS_TEST_NUMBER-$n\",\"watch_time_seconds\":1,\"country_code\":$cc}"
		if [ "$code" != 422 ]; then
			printf 'country_code %s: %s %s\n' "$cc" "$code" "$(cat body.json)" >&2
		fi
		[ "$code" = 422 ]
		[ "$ctype" = application/problem+json ]
		[ "$(jqr body.json .status)" = 422 ]
		[[ $(jqr body.json .detail) == *country_code* ]]
	done
	# a NUL in it: vs-cgi's JSON reader refuses any body with one (400), before the fields
	beacon "{\"session_id\":\"cc-$BATS_TEST_NUMBER-nul\",\"watch_time_seconds\":1,\"country_code\":\"D\\u0000\"}"
	[[ $code == 400 || $code == 422 ]]
	[ "$ctype" = application/problem+json ]
	[ "$(sql "SELECT count(*) FROM video_analytics WHERE session_id LIKE 'cc-$BATS_TEST_NUMBER-%'")" = 0 ]
	# as vs-cgi answers other bad fields
	beacon "{\"session_id\":\"cc-$BATS_TEST_NUMBER-x\",\"buffer_events\":-1}"
	[ "$code" = 422 ]
	[[ $(jqr body.json .detail) == *buffer_events* ]]
}

# ---- vs-report import ----

@test "vs-report import takes a session by the plan's names into the plan's columns" {
	sid="imp-$BATS_TEST_NUMBER"
	printf '{"video_id":"%s","session_id":"%s","user_id":"%s","session_start":"2026-11-20T10:00:00Z","session_end":"2026-11-20T10:05:30.5Z","buffer_events":3,"seek_events":2,"quality_switches":1,"quality_selected":"360p","bandwidth_kbps":1800,"country_code":"fr","watch_time_seconds":3}\n' \
		"$ID" "$sid" "$USER1" >sessions.ndjson
	run -0 --separate-stderr vs-report import <sessions.ndjson
	[ "$(printf '%s\n' "$output" | jq -c 'select(.import) | .import')" = '{"imported":1,"rejected":0}' ]
	[ "$(sql "SELECT video_id, user_id, buffer_events, seek_events, quality_switches, quality_selected, bandwidth_kbps, country_code,
		to_char(session_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS'), to_char(session_end AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS')
		FROM video_analytics WHERE session_id = '$sid'")" = \
		"$ID|$USER1|3|2|1|360p|1800|FR|2026-11-20T10:00:00.000|2026-11-20T10:05:30.500" ]
	# by the video's slug, and epoch seconds, too
	printf '{"video_id":"lesson-one","session_id":"%s-2","session_start":1790000000,"session_end":1790000060,"seek_events":7}\n' "$sid" >slug.ndjson
	run -0 --separate-stderr vs-report import <slug.ndjson
	[ "$(sql "SELECT video_id, seek_events, extract(epoch FROM session_end - session_start)::int FROM video_analytics WHERE session_id = '$sid-2'")" = "$ID|7|60" ]
}

# ---- vs-progress ----

@test "vs-progress export | vs-progress import: every exported row imports again, none rejected" {
	U2=a91a0000-0000-4000-8000-00000000aa$(printf '%02d' "$BATS_TEST_NUMBER")
	run -0 --separate-stderr vs-progress set --user "$USER1" --video lesson-one --position 1.25 --at 2026-11-20T10:00:00Z
	run -0 --separate-stderr vs-progress set --user "$U2" --video lesson-one --position 4 --at 2026-11-20T11:00:00.25Z
	run -0 --separate-stderr vs-progress export
	printf '%s\n' "$output" >export.ndjson
	[ "$(wc -l <export.ndjson)" -ge 2 ]
	run -0 --separate-stderr vs-progress import <export.ndjson
	[ "$output" = "{\"import\":{\"imported\":$(wc -l <export.ndjson),\"rejected\":0}}" ]
	# importing changed nothing
	run -0 --separate-stderr vs-progress export
	[ "$(printf '%s\n' "$output" | jq -c 'del(.updated_at)')" = "$(jq -c 'del(.updated_at)' export.ndjson)" ]
	# into a database without them: the resume points and times come back
	jq -c --arg u "$USER1" --arg u2 "$U2" 'select(.user_id == $u or .user_id == $u2)' export.ndjson >two.ndjson
	[ "$(wc -l <two.ndjson)" -eq 2 ]
	sql "DELETE FROM video_progress WHERE user_id IN ('$USER1', '$U2')"
	run -0 --separate-stderr vs-progress import <two.ndjson
	[ "$output" = '{"import":{"imported":2,"rejected":0}}' ]
	run -0 --separate-stderr vs-progress get --user "$USER1"
	[ "$(printf '%s\n' "$output" | jq -c '[.video_id, .current_time, .last_watched_at]')" = "[\"$ID\",1.25,\"2026-11-20T10:00:00.000Z\"]" ]
	run -0 --separate-stderr vs-progress get --user "$U2"
	[ "$(printf '%s\n' "$output" | jq -c '[.current_time, .last_watched_at]')" = '[0,"2026-11-20T11:00:00.250Z"]' ]
}

@test "vs-progress get answers VideoProgressResponse rows" {
	run -0 --separate-stderr vs-progress set --user "$USER1" --video lesson-one --position 3 --at 2026-11-20T10:00:00Z
	run -0 --separate-stderr vs-progress set --user "$USER1" --video "$ID" --position 3.7 --at 2026-11-20T10:00:10Z
	run -0 --separate-stderr vs-progress get --user "$USER1"
	printf '%s\n' "$output" >rows.ndjson
	[ "$(wc -l <rows.ndjson)" -eq 1 ]
	has_interface VideoProgressResponse rows.ndjson
	[ "$(jq -c '[.user_id, .video_id, .current_time, .is_completed, .watch_count, .last_watched_at]' rows.ndjson)" = \
		"[\"$USER1\",\"$ID\",0,true,1,\"2026-11-20T10:00:10.000Z\"]" ]
	run -0 --separate-stderr vs-progress get --user "$USER1" --video lesson-one
	printf '%s\n' "$output" >one.json
	has_interface VideoProgressResponse one.json
}
