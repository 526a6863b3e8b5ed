// Measures the reference player from outside, in a fresh browser each run
// (empty cache), behind tests/shaper.js: navigation → first `playing`
// event and first presented frame, the player's own startup figure, and
// the page's waterfall. scripts/bench-startup makes the table; the e2e
// tests use it with the plan's thresholds. Prints one JSON line.
//
// Usage: node tests/startup.js --browser chromium|firefox --url PLAYER-URL
//          --control SHAPER-CONTROL-URL --api DIRECT-API-URL --secret JWT-SECRET-FILE
//          [--mbits N] [--rtt MS] [--runs N] [--resume SECONDS] [--emulate proxy|cdp]
//          [--then steady|switch]
//   PLAYER-URL   the player through the shaper, without #token (a fresh
//                viewer's token is added each run)
//   --resume S   each run's viewer has saved progress at S seconds
//   --emulate    proxy (default): the shaper's link; cdp: Chromium's own
//                network emulation, the shaper left open
//   --then       steady: plays to the end, counting stalls; switch: after
//                the start, chooses from the menu the highest rung the
//                link carries (its bit rate under 80 % of it) and times
//                until its frames show
'use strict';
const crypto = require('crypto');
const { launch, outsideTimer, collectErrors, token } = require('./browser');

const TIMEOUT_MS = 60000;

function options() {
	const a = process.argv.slice(2), o = { runs: 1, mbits: 0, rtt: 0, emulate: 'proxy' };
	for (let i = 0; i < a.length; i += 2) o[a[i].replace(/^--/, '')] = a[i + 1];
	for (const k of ['browser', 'url', 'control', 'api', 'secret']) {
		if (!o[k]) throw new Error(`--${k} is required`);
	}
	o.runs = Number(o.runs);
	return o;
}

async function shaper(o, mbits, rtt) {
	const r = await fetch(`${o.control}/set?mbits=${mbits}&rtt=${rtt}`);
	if (!r.ok) throw new Error(`the shaper refused /set: ${r.status}`);
}

async function saveProgress(o, tok, at) {
	const video = new URL(o.url).searchParams.get('v');
	const r = await fetch(`${o.api}/videos/${encodeURIComponent(video)}/progress`, {
		method: 'POST', headers: { Authorization: `Bearer ${tok}`, 'Content-Type': 'application/json' },
		body: JSON.stringify({ current_time: at }),
	});
	if (!r.ok) throw new Error(`saving progress: ${r.status} ${await r.text()}`);
}

async function snapshot(page) {
	return page.evaluate(() => {
		const o = window.__vsOutside, p = window.vsPlayer, s = p && p.state, v = p && p.video;
		const short = (u) => { const x = new URL(u); return x.pathname.replace(/^\/t\/\d+\/[^/]+/, '') + (x.search.includes('include=') ? x.search : ''); };
		const res = performance.getEntriesByType('resource').map((e) => ({
			name: short(e.name), start: Math.round(e.startTime), end: Math.round(e.responseEnd),
			bytes: e.transferSize || e.encodedBodySize || 0,
		}));
		const nav = performance.getEntriesByType('navigation')[0];
		if (nav) res.unshift({ name: 'page', start: 0, end: Math.round(nav.responseEnd), bytes: nav.transferSize || 0 });
		return {
			playing: o.playing === null ? null : Math.round(o.playing), frame: o.frame === null ? null : Math.round(o.frame),
			waiting: o.waiting, player: s ? s.session.load_time_ms : null, engine: s && s.engine,
			fatal: s && s.fatal, level: s ? s.levelLabels[s.level] || null : null, resumed: s && s.resumed,
			currentTime: v ? v.currentTime : null, height: v ? v.videoHeight : null,
			bufferEvents: s ? s.session.buffer_events : null, bufferingMs: s ? s.session.buffering_time_ms : null,
			levels: s ? s.levelLabels : [], resources: res,
		};
	});
}

async function run(o) {
	const user = crypto.randomUUID(), tok = token(o.secret, user);
	if (o.resume) await saveProgress(o, tok, Number(o.resume));
	await shaper(o, o.emulate === 'cdp' ? 0 : o.mbits, o.emulate === 'cdp' ? 0 : o.rtt);
	const browser = await launch(o.browser);
	try {
		const page = await browser.newPage();
		const errors = collectErrors(page);
		await page.setViewport({ width: 1280, height: 800 });
		await page.evaluateOnNewDocument(outsideTimer);
		if (o.emulate === 'cdp') {
			const cdp = await page.createCDPSession();
			await cdp.send('Network.enable');
			await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
			const bytes = (Number(o.mbits) * 1e6) / 8;
			await cdp.send('Network.emulateNetworkConditions', {
				offline: false, latency: Number(o.rtt), downloadThroughput: bytes, uploadThroughput: bytes,
			});
		} else {
			await page.setCacheEnabled(false);
		}
		await page.goto(`${o.url}#token=${tok}`, { waitUntil: 'domcontentloaded', timeout: TIMEOUT_MS });
		await page.waitForFunction(() => (window.__vsOutside.playing !== null && window.__vsOutside.frame !== null) ||
			(window.vsPlayer && window.vsPlayer.state.fatal), { timeout: TIMEOUT_MS, polling: 20 });
		const out = await snapshot(page);
		if (o.then === 'steady') {
			await page.waitForFunction(() => window.vsPlayer.video.ended || window.vsPlayer.state.fatal,
				{ timeout: TIMEOUT_MS * 3, polling: 200 });
			out.steady = await snapshot(page);
		} else if (o.then === 'switch') {
			await page.waitForFunction(() => window.vsPlayer.video.currentTime > 1, { timeout: TIMEOUT_MS });
			// the highest rung the link carries with room to spare (a rung
			// above the link cannot show quickly whatever the player does)
			const target = await page.evaluate((mbits) => {
				const s = window.vsPlayer.state;
				const rates = s.hls ? s.hls.levels.map((l) => l.bitrate) : s.stream.qualities.map((q) => q.bitrate);
				let best = -1;
				s.levelLabels.forEach((l, i) => {
					if (i !== s.level && (!mbits || rates[i] <= mbits * 1e6 * 0.8) &&
						(best < 0 || parseInt(l, 10) > parseInt(s.levelLabels[best], 10))) best = i;
				});
				return { index: best, height: parseInt(s.levelLabels[best], 10) };
			}, Number(o.mbits));
			if (target.index < 0) throw new Error('no other rung fits the link');
			const [t0, waiting0] = await page.evaluate(() => [performance.now(), window.__vsOutside.waiting]);
			await page.select('#quality', String(target.index));
			await page.waitForFunction((h) => window.vsPlayer.video.videoHeight === h || window.vsPlayer.state.fatal,
				{ timeout: TIMEOUT_MS, polling: 20 }, target.height);
			const [t1, waiting1] = await page.evaluate(() => [performance.now(), window.__vsOutside.waiting]);
			out.switchMs = Math.round(t1 - t0);
			out.switchStalls = waiting1 - waiting0;
			out.switchedTo = target.height;
		}
		out.pageErrors = errors.pageErrors;
		out.httpErrors = errors.httpErrors;
		return out;
	} finally {
		await browser.close();
	}
}

async function main() {
	const o = options(), runs = [];
	for (let i = 0; i < o.runs; i++) runs.push(await run(o));
	console.log(JSON.stringify({ browser: o.browser, mbits: Number(o.mbits), rtt: Number(o.rtt), emulate: o.emulate,
		resume: o.resume ? Number(o.resume) : null, then: o.then || null, runs }));
}

main().catch((e) => { console.error(String(e && e.stack || e)); process.exit(1); });
