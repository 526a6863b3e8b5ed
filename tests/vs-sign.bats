#!/usr/bin/env bats
# vs-sign: the hmac, nginx and cloudfront schemes; stock nginx checks ours.

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	printf 'correct horse battery staple\n' >key
	export VS_SIGNING_KEY_FILE="$PWD/key"
}

teardown() {
	if [ -f run/nginx.pid ]; then stop_pid "$(cat run/nginx.pid)"; fi
	stop_bg
}

@test "vs-sign --help prints usage and exits 0" {
	run -0 --separate-stderr vs-sign --help
	[[ $output == "usage: vs-sign "* ]]
}

@test "vs-sign reproduces the nginx documentation's secure_link example" {
	run -0 --separate-stderr vs-sign --scheme nginx --query --expires 2147483647 \
		--nginx-template '$secure_link_expires$uri$remote_addr secret' --remote-addr 127.0.0.1 \
		http://127.0.0.1/s/link
	[ "$output" = "http://127.0.0.1/s/link?md5=_e4Nc3iduzkWRm01TBBNYw&expires=2147483647" ]
}

@test "vs-sign puts an expiring token before the package and --verify accepts it" {
	run -0 --separate-stderr vs-sign --ttl 3600 https://cdn.example.com/vod/abc/master.m3u8
	url=$output
	[[ $url =~ ^https://cdn\.example\.com/t/([0-9]+)/[A-Za-z0-9_-]{43}/vod/abc/master\.m3u8$ ]]
	exp=${BASH_REMATCH[1]}
	now=$(date +%s)
	[ "$exp" -ge $((now + 3600)) ]
	[ "$exp" -le $((now + 3600 + 300)) ]
	[ $((exp % 300)) -eq 0 ]
	run -0 --separate-stderr vs-sign --verify "$url"
	# the same token opens every file of the package
	run -0 --separate-stderr vs-sign --verify "${url%master.m3u8}360p/seg-00001.m4s"
}

@test "the hmac token is vs-sign(1)'s formula, computed by openssl" {
	# HMAC-SHA256 of "EXPIRES:origin scope" under the key (its trailing
	# newline not part of it), unpadded base64url
	for url in https://cdn.example.com/vod/abc/master.m3u8 http://127.0.0.1:8080/deep/er/path/v/index.m3u8; do
		run -0 --separate-stderr vs-sign --expires 2030-01-01T00:00:00Z "$url"
		exp=$(date -u -d 2030-01-01T00:00:00Z +%s)
		origin=$(sed -E 's|^(https?://[^/]+)/.*|\1|' <<<"$url")
		path=${url#"$origin"}
		scope=${path%/*}/
		sig=$(printf '%s' "$exp:$origin$scope" | openssl dgst -sha256 -hmac 'correct horse battery staple' -binary | b64url)
		[ "$output" = "$origin/t/$exp/$sig$path" ] || { echo "vs-sign: $output"; echo "openssl: $origin/t/$exp/$sig$path"; return 1; }
	done
}

@test "vs-sign --verify refuses every single-character tampering of what is signed" {
	url=$(vs-sign --ttl 600 https://cdn.example.com/vod/abc/master.m3u8)
	signed=${url%master.m3u8} # origin, token and the package's path
	tried=0
	for ((pos = 0; pos < ${#signed}; pos++)); do
		ch=${signed:pos:1}
		[ "$ch" = "/" ] && continue
		new=x
		[ "$ch" = x ] && new=y
		bad="${signed:0:pos}$new${signed:pos+1}master.m3u8"
		if vs-sign --verify "$bad" 2>/dev/null; then
			echo "accepted: $bad"
			return 1
		fi
		tried=$((tried + 1))
	done
	[ "$tried" -gt 60 ]
}

@test "vs-sign --verify refuses an expired URL and another video's" {
	url=$(vs-sign --expires 1000000000 https://cdn.example.com/vod/abc/master.m3u8)
	run -1 --separate-stderr vs-sign --verify "$url"
	[[ $stderr == *"expired"* ]]
	url=$(vs-sign https://cdn.example.com/vod/abc/master.m3u8)
	run -1 --separate-stderr vs-sign --verify "${url/\/vod\/abc\//\/vod\/abd\/}"
	run -1 --separate-stderr vs-sign --verify https://cdn.example.com/vod/abc/master.m3u8
}

@test "vs-sign --verify refuses a path that climbs out of the signed directory" {
	for scheme in hmac nginx; do
		url=$(vs-sign --scheme "$scheme" https://cdn.example.com/vod/abc/master.m3u8)
		run -0 --separate-stderr vs-sign --scheme "$scheme" --verify "${url%master.m3u8}360p/index.m3u8"
		for tail in ../other/master.m3u8 ./x/../../other/master.m3u8 %2e%2e/other/master.m3u8 \
			.%2E/other/master.m3u8 x%2f..%2f..%2fother/master.m3u8; do
			run -1 --separate-stderr vs-sign --scheme "$scheme" --verify "${url%master.m3u8}$tail"
			[[ $stderr == *"segments or an escaped slash"* ]]
		done
	done
}

@test "vs-sign --verify with another key refuses" {
	url=$(vs-sign https://cdn.example.com/vod/abc/master.m3u8)
	echo other >key2
	run -1 --separate-stderr vs-sign --key-file key2 --verify "$url"
}

@test "vs-sign without a key exits 2 and says how to give one" {
	unset VS_SIGNING_KEY_FILE
	run -2 --separate-stderr vs-sign https://cdn.example.com/vod/abc/master.m3u8
	[[ $stderr == *"VS_SIGNING_KEY_FILE"* ]]
	run -1 --separate-stderr vs-sign --key-file nosuch https://cdn.example.com/vod/abc/master.m3u8
}

@test "vs-sign refuses bad options and URLs" {
	run -2 --separate-stderr vs-sign --scheme rot13 https://x/a
	run -2 --separate-stderr vs-sign --expires tomorrow https://x/a
	run -2 --separate-stderr vs-sign --cookies https://x/a
	run -1 --separate-stderr vs-sign 'not a url'
	run -1 --separate-stderr vs-sign "$(printf 'https://x/a\nb')"
}

@test "vs-sign signs published.master_url into the stream section of records" {
	printf '%s\n' '{"id":"abc","published":{"master_url":"https://cdn.example.com/vod/abc/master.m3u8"},"k":1}' \
		'{"id":"def"}' '{"id":"x","error":{"tool":"vs-publish","code":"c","message":"m"}}' >in.json
	run -1 --separate-stderr vs-sign --expires 2030-01-01T00:00:00Z <in.json
	echo "$output" >out.json
	[ "$(sed -n 1p out.json | jq -r .stream.expires_at)" = "2030-01-01T00:00:00Z" ]
	[[ $(sed -n 1p out.json | jq -r .stream.url) == https://cdn.example.com/t/1893456000/*/vod/abc/master.m3u8 ]]
	[ "$(sed -n 1p out.json | jq -r .k)" = "1" ]
	[ "$(sed -n 2p out.json | jq -r .error.code)" = "invalid_input" ]
	[ "$(sed -n 3p out.json | jq -r .error.tool)" = "vs-publish" ]
}

# ---- stock nginx checks the nginx scheme ----

start_nginx() {
	id=$1
	# nginx's workers run as www-data: let them reach the test's files
	chmod o+x "$BATS_RUN_TMPDIR" "$BATS_RUN_TMPDIR/test" "$BATS_TEST_TMPDIR"
	mkdir -p www/vod/$id/360p run
	printf '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\n360p/seg.ts\n#EXT-X-ENDLIST\n' >www/vod/$id/master.m3u8
	echo segment >www/vod/$id/360p/seg.ts
	mkdir -p www/vod/other
	echo secret-video >www/vod/other/master.m3u8
	PORT=$(free_port)
	sed -e "s|@ROOT@|$PWD/www|" -e "s|@LISTEN@|127.0.0.1:$PORT|" -e "s|@RUN@|$PWD/run|" \
		-e "s|@SECRET@|$(cat key)|" "$VS_TOP/examples/nginx-secure-link.conf" >nginx.conf
	nginx -c "$PWD/nginx.conf" -e "$PWD/run/error.log"
	wait_port "$PORT"
}

code() { curl -s -o /dev/null -w '%{http_code}' "$1"; }

@test "stock nginx serves a package to vs-sign's nginx-scheme URLs" {
	start_nginx lesson1
	url=$(vs-sign --scheme nginx "http://127.0.0.1:$PORT/vod/lesson1/master.m3u8")
	[ "$(code "$url")" = 200 ]
	[ "$(curl -s "${url%master.m3u8}360p/seg.ts")" = segment ]
	[ "$(curl -s -o /dev/null -w '%{content_type}' "$url")" = "application/vnd.apple.mpegurl" ]
	run -0 --separate-stderr vs-sign --scheme nginx --verify "$url"
}

@test "stock nginx refuses expired, tampered, other-video and unsigned requests" {
	start_nginx lesson1
	url=$(vs-sign --scheme nginx "http://127.0.0.1:$PORT/vod/lesson1/master.m3u8")
	[ "$(code "${url/\/vod\/lesson1\//\/vod\/other\/}")" = 403 ]
	sig=$(echo "$url" | cut -d/ -f6)
	other=A
	[ "${sig:0:1}" != A ] || other=B # a first character that differs
	[ "$(code "${url/$sig/$other${sig:1}}")" = 403 ]
	[ "$(code "http://127.0.0.1:$PORT/vod/lesson1/master.m3u8")" = 403 ]
	old=$(vs-sign --scheme nginx --expires 1000000000 "http://127.0.0.1:$PORT/vod/lesson1/master.m3u8")
	[ "$(code "$old")" = 410 ]
}

@test "ffprobe plays a real package through nginx and the signed URL" {
	VS_MEDIA_ROOT=$PWD/media vs-ingest "$(fixture noaudio.mp4)" | VS_MEDIA_ROOT=$PWD/media vs-encode --preset ultrafast >enc.json
	mkdir -p www/vod
	VS_MEDIA_ROOT=$PWD/media vs-package --out www/vod/lesson2 --segment-seconds 2 <enc.json >/dev/null
	start_nginx lesson1
	url=$(vs-sign --scheme nginx "http://127.0.0.1:$PORT/vod/lesson2/master.m3u8")
	run -0 ffprobe -v error -show_entries format=duration -of csv=p=0 "$url"
	[[ ${lines[0]} == 2* ]]
}

# ---- CloudFront ----

make_rsa() {
	openssl genrsa -out private.pem 2048 2>/dev/null
	openssl rsa -in private.pem -pubout -out public.pem 2>/dev/null
}

# cf_b64d: CloudFront's URL-safe base64 back to bytes
cf_b64d() { tr -- '-_~' '+=/' | base64 -d; }

@test "vs-sign makes CloudFront canned-policy URLs that openssl verifies" {
	make_rsa
	url=$(vs-sign --scheme cloudfront --key-pair-id K2JCJMDEHXQW5F --private-key private.pem \
		--expires 1767225600 "https://d111111abcdef8.cloudfront.net/vod/abc/master.m3u8")
	[[ $url == "https://d111111abcdef8.cloudfront.net/vod/abc/master.m3u8?Expires=1767225600&Signature="*"&Key-Pair-Id=K2JCJMDEHXQW5F" ]]
	printf '%s' '{"Statement":[{"Resource":"https://d111111abcdef8.cloudfront.net/vod/abc/master.m3u8","Condition":{"DateLessThan":{"AWS:EpochTime":1767225600}}}]}' >policy
	sig=$(echo "$url" | sed 's/.*Signature=\([^&]*\).*/\1/')
	printf '%s' "$sig" | cf_b64d >sig.bin
	run -0 openssl dgst -sha1 -verify public.pem -signature sig.bin policy
	[[ $output == *"Verified OK"* ]]
}

@test "vs-sign makes CloudFront custom-policy URLs, cookies and SHA-256 signatures" {
	make_rsa
	run -0 --separate-stderr vs-sign --scheme cloudfront --key-pair-id KID --private-key private.pem \
		--custom-policy --cookies --sha256 --json --expires 2000000000 "https://cdn.example.com/vod/abc/master.m3u8"
	echo "$output" >out.json
	url=$(jqr out.json .stream.url)
	[[ $url == *"Policy="*"&Signature="*"&Key-Pair-Id=KID&Hash-Algorithm=SHA256" ]]
	jqr out.json '.stream.cookies["CloudFront-Policy"]' | cf_b64d >policy
	[ "$(jq -c . policy)" = '{"Statement":[{"Resource":"https://cdn.example.com/vod/abc/*","Condition":{"DateLessThan":{"AWS:EpochTime":2000000000}}}]}' ]
	jqr out.json '.stream.cookies["CloudFront-Signature"]' | cf_b64d >sig.bin
	run -0 openssl dgst -sha256 -verify public.pem -signature sig.bin policy
	[ "$(jqr out.json '.stream.cookies["CloudFront-Key-Pair-Id"]')" = KID ]
	run -0 --separate-stderr vs-sign --scheme cloudfront --private-key public.pem --verify "$url"
	run -1 --separate-stderr vs-sign --scheme cloudfront --private-key public.pem --verify "${url/abc/abd}"
}

@test "vs-sign --verify refuses an expired CloudFront URL and another key's" {
	make_rsa
	url=$(vs-sign --scheme cloudfront --key-pair-id K --private-key private.pem --expires 1000000000 https://cdn.example.com/vod/a/m.m3u8)
	run -1 --separate-stderr vs-sign --scheme cloudfront --private-key public.pem --verify "$url"
	[[ $stderr == *expired* ]]
	url=$(vs-sign --scheme cloudfront --key-pair-id K --private-key private.pem https://cdn.example.com/vod/a/m.m3u8)
	openssl genrsa -out other.pem 2048 2>/dev/null
	run -1 --separate-stderr vs-sign --scheme cloudfront --private-key other.pem --verify "$url"
}
