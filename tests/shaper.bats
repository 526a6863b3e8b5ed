#!/usr/bin/env bats
# The test network (tests/shaper.js) that the browser tests and the
# benchmarks play through: what it carries arrives whole and in order, and
# it follows a throughput trace.

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	[ -f "$VS_TOP/node_modules/puppeteer-core/package.json" ] || skip "node modules missing: run scripts/install-deps"
}

# node PROGRAM: runs a script with the shaper as a module, a small HTTP
# server serving 1 MiB of random bytes behind it ($shaper, $want: its hash)
shaper_script() {
	cat >check.js <<JS
const http = require('http'), crypto = require('crypto');
const body = crypto.randomBytes(1 << 20), want = crypto.createHash('sha256').update(body).digest('hex');
const hash = (b) => crypto.createHash('sha256').update(Buffer.from(b)).digest('hex');
(async () => {
	const srv = http.createServer((q, r) => r.end(body)).listen(0, '127.0.0.1');
	await new Promise((r) => srv.on('listening', r));
	const shaper = await require('$VS_TOP/tests/shaper.js').start({ to: '127.0.0.1:' + srv.address().port, mbits: 20, rtt: 100 });
	$1
	process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
JS
	timeout -k 5 60 node check.js
}

@test "the shaper keeps each response's bytes in order while the round trip changes under it" {
	# a trace's round trip changes mid-response; a shorter one must not
	# let later pieces overtake earlier ones (it did: every response corrupt)
	run -0 shaper_script "
	let flip = 0;
	const iv = setInterval(() => shaper.set({ rtt: flip++ % 2 ? 300 : 20 }), 37);
	for (let i = 0; i < 4; i++) {
		const got = hash(await (await fetch('http://127.0.0.1:' + shaper.port + '/')).arrayBuffer());
		console.log(got === want ? 'whole' : 'corrupt');
	}
	clearInterval(iv);"
	echo "$output"
	[ "$output" = "$(printf 'whole\nwhole\nwhole\nwhole')" ]
}

@test "the shaper follows a trace: a slow step takes the time its rate gives" {
	# 1 MiB at 20 Mbit/s is 0.4 s; the trace's 2 Mbit/s from 0 s makes it 4.2 s
	run -0 shaper_script "
	shaper.trace('0 2 20\n30 20 20\n');
	const t0 = performance.now();
	const got = hash(await (await fetch('http://127.0.0.1:' + shaper.port + '/')).arrayBuffer());
	console.log(got === want ? 'whole' : 'corrupt', Math.round((performance.now() - t0) / 100) / 10);"
	echo "$output"
	read -r whole secs <<<"$output"
	[ "$whole" = whole ]
	# a floor only: a loaded machine is slower, never faster
	awk -v s="$secs" 'BEGIN { exit !(s >= 4.0 && s < 30) }'
}

@test "the shaper refuses a trace line without a time or with a rate of 0" {
	run -1 shaper_script "shaper.trace('x 2\n');"
	[[ $output == *"trace: 'x 2': no time"* ]]
	run -1 shaper_script "shaper.trace('0 0\n');"
	[[ $output == *"the rate must be above 0"* ]]
}
