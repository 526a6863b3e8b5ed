// Plays one lesson to its end in a fresh browser, behind tests/shaper.js
// following a throughput trace from the moment of navigation, and measures
// what the viewer lived through, the same way whatever the player: the
// page's first <video>, looked at every 100 ms from outside the player.
// scripts/bench-abr runs it for the reference player, Shaka Player and
// dash.js side by side. Prints one JSON line:
//
//   startup_ms    navigation → the first `playing` event
//   stalls        times the picture stood still for 300 ms or more after
//                 the start (not paused by the viewer: nobody pauses here)
//   stall_ms      how long it stood still in all
//   rebuffer      stall_ms / (stall_ms + the time it played)
//   kbps          mean bit rate of the rung on screen, over the time played
//                 (the rung known by the picture's height, its rate given)
//   switches      changes of the picture's height while playing
//   heights       seconds played at each height
//   ended         whether it reached the end before the time-out
//
// Usage: node tests/abr.js --browser chromium --url URL --control SHAPER-CONTROL-URL
//          --trace FILE --rates JSON [--timeout SECONDS] [--name NAME]
//   URL      the page, through the shaper
//   --rates  {"HEIGHT": bits/s, …}: each rung's rate, by its height
'use strict';
const { launch, collectErrors } = require('./browser');

function options() {
	const a = process.argv.slice(2), o = { browser: 'chromium', timeout: 900 };
	for (let i = 0; i < a.length; i += 2) o[a[i].replace(/^--/, '')] = a[i + 1];
	for (const k of ['url', 'control', 'trace', 'rates']) if (!o[k]) throw new Error(`--${k} is required`);
	o.rates = JSON.parse(o.rates);
	return o;
}

// Installed before the page's scripts: the watcher of the first video.
function watcher(rates) {
	const TICK_MS = 100, STILL_TICKS = 3;
	const a = { startup: null, played: 0, stalled: 0, stalls: 0, bits: 0, switches: 0, heights: {},
		ended: false, error: null };
	window.__abr = a;
	let v = null, lastT = 0, lastWall = 0, lastH = 0, still = 0, stillMs = 0;
	document.addEventListener('playing', (e) => {
		if (a.startup !== null) return;
		a.startup = performance.now();
		v = e.target;
		lastT = v.currentTime;
		lastWall = a.startup;
	}, true);
	document.addEventListener('error', (e) => {
		const v = e.target;
		if (v.tagName === 'VIDEO' && v.error) {
			a.error = `video error ${v.error.code} at ${v.currentTime.toFixed(1)} s: ${v.error.message || ''}`.trim();
		}
	}, true);
	setInterval(() => {
		if (!v || a.ended) return;
		const now = performance.now(), dt = now - lastWall;
		lastWall = now;
		if (v.ended) {
			a.ended = true;
			return;
		}
		const t = v.currentTime, h = v.videoHeight;
		// still within a segment of the end: the end, though some players
		// (dash.js) never say `ended` when the last segment ends a little
		// short of the duration, or its audio and video do not end together
		if (still >= STILL_TICKS && v.duration - t < 2.5) {
			a.ended = true;
			return;
		}
		if (t > lastT + 0.01) {
			// moving: a short stand-still was the clock's jitter, not a stall
			// a stall is counted once it is over: the stand-still at the
			// end is none
			if (still >= STILL_TICKS) {
				a.stalled += stillMs;
				a.stalls++;
			} else {
				a.played += stillMs;
			}
			still = 0;
			stillMs = 0;
			a.played += dt;
			a.bits += (rates[h] || 0) * dt;
			a.heights[h] = (a.heights[h] || 0) + dt;
			if (lastH && h && h !== lastH) a.switches++;
			if (h) lastH = h;
		} else {
			still++;
			stillMs += dt;
		}
		a.stillNow = still >= STILL_TICKS ? stillMs : 0; // a stall the time-out ends
		lastT = t;
	}, TICK_MS);
}

async function main() {
	const o = options();
	const browser = await launch(o.browser);
	try {
		const page = await browser.newPage();
		const errors = collectErrors(page);
		await page.setViewport({ width: 1280, height: 720 });
		await page.setCacheEnabled(false);
		await page.evaluateOnNewDocument(watcher, o.rates);
		const r = await fetch(`${o.control}/set?trace=${encodeURIComponent(o.trace)}`);
		if (!r.ok) throw new Error(`the shaper refused the trace: ${await r.text()}`);
		await page.goto(o.url, { waitUntil: 'domcontentloaded', timeout: 120000 });
		// looked at every second from here: one long waitForFunction
		// would outlast puppeteer's protocol time-out (180 s) and end early
		const until = Date.now() + Number(o.timeout) * 1000;
		let a = await page.evaluate(() => window.__abr);
		while (!a.ended && !a.error && Date.now() < until) {
			await new Promise((r) => setTimeout(r, 1000));
			a = await page.evaluate(() => window.__abr);
		}
		const played = a.played / 1000, stalled = (a.stalled + (a.ended ? 0 : a.stillNow || 0)) / 1000;
		console.log(JSON.stringify({
			name: o.name || null, startup_ms: a.startup === null ? null : Math.round(a.startup),
			stalls: a.stalls + (!a.ended && a.stillNow ? 1 : 0), stall_ms: Math.round(stalled * 1000), rebuffer: played + stalled ? stalled / (played + stalled) : null,
			kbps: played ? a.bits / a.played / 1000 : null, switches: a.switches,
			heights: Object.fromEntries(Object.entries(a.heights).map(([h, ms]) => [h, Math.round(ms / 1000)])),
			played_s: Math.round(played), ended: a.ended, error: a.error,
			pageErrors: errors.pageErrors.slice(0, 5), httpErrors: errors.httpErrors.slice(0, 5),
		}));
	} finally {
		await browser.close();
	}
}

main().catch((e) => { console.error(String(e && e.stack || e)); process.exit(1); });
