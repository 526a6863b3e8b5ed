// End-to-end checks of the reference player in Debian's Chromium (headless),
// driven with playwright-core. Each scenario prints one JSON line of what
// it saw; tests/e2e.bats judges it.
//
// Usage: node tests/e2e.js SCENARIO PLAYER-URL [ARGS…]
//   play URL                   plays 3 s: engine, times, errors
//   quality URL                switches to another rung by the menu
//   resume URL                 plays, pauses, reloads: where it resumes
//   startup URL MBITS          navigation to first frame, network throttled
//   refused URL STREAM-URL…    whether hls.js can play each (signed) URL
//   screenshots URL DIR        the page at 1280 px and at 360 px wide
//   watch URL SECONDS          plays for a while (the demo's viewing)
'use strict';
const { chromium } = require('playwright-core');

const [scenario, url, ...args] = process.argv.slice(2);
const TIMEOUT_MS = 30000;

async function launch() {
	return chromium.launch({
		executablePath: process.env.VS_CHROMIUM || '/usr/bin/chromium',
		args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
			'--disable-background-networking', '--disable-component-update', '--disable-sync',
			'--autoplay-policy=no-user-gesture-required'],
	});
}

// the player's state, as window.vsPlayer keeps it
async function snapshot(page) {
	return page.evaluate(() => {
		const p = window.vsPlayer, s = p.state, v = p.video;
		return {
			engine: s.engine, currentTime: v.currentTime, paused: v.paused, fatal: s.fatal, errors: s.errors,
			level: s.level, levels: s.levelLabels, firstFrameAt: s.firstFrameAt, resumeFrom: s.resumeFrom,
			resumed: s.resumed, progressSaved: s.progressSaved, session: s.session, title: document.title,
			chapters: document.querySelectorAll('#chapters button').length, storyboard: s.storyboard.length,
		};
	});
}

async function playUntil(page, seconds) {
	await page.waitForFunction((t) => window.vsPlayer && (window.vsPlayer.video.currentTime >= t ||
		window.vsPlayer.state.fatal), seconds, { timeout: TIMEOUT_MS });
}

async function main() {
	const browser = await launch();
	const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
	const page = await context.newPage();
	const consoleErrors = [], httpErrors = [];
	page.on('pageerror', (e) => consoleErrors.push(String(e)));
	page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
	// what the server refused, for the test's diagnostics
	page.on('response', (r) => { if (r.status() >= 400) httpErrors.push(`${r.status()} ${r.request().method()} ${r.url().replace(/access_token=[^&]*/, 'access_token=…')}`); });
	page.on('requestfailed', (r) => httpErrors.push(`failed ${r.request ? '' : ''}${r.method()} ${r.url()}: ${r.failure() && r.failure().errorText}`));
	let out = {};
	try {
		if (scenario === 'play') {
			await page.goto(url);
			await playUntil(page, 3);
			out = await snapshot(page);
		} else if (scenario === 'quality') {
			await page.goto(url);
			await playUntil(page, 1);
			const before = await snapshot(page);
			// the rung not playing now, chosen from the menu as a viewer would
			const target = await page.evaluate(() => {
				const s = window.vsPlayer.state;
				return s.levelLabels.findIndex((l, i) => i !== s.level);
			});
			const at = before.currentTime;
			await page.selectOption('#quality', String(target));
			await page.waitForFunction((t) => window.vsPlayer.state.level === t, target, { timeout: TIMEOUT_MS });
			await page.waitForFunction((t) => window.vsPlayer.video.currentTime > t + 1, at, { timeout: TIMEOUT_MS });
			out = { before, after: await snapshot(page), target, switchedAt: at };
		} else if (scenario === 'resume') {
			await page.goto(url);
			await playUntil(page, 4);
			await page.click('#play'); // pause: a heartbeat
			await page.waitForFunction(() => window.vsPlayer.state.progressSaved > 0, null, { timeout: TIMEOUT_MS });
			const paused = await snapshot(page);
			await page.reload();
			await page.waitForFunction(() => window.vsPlayer && window.vsPlayer.state.resumed &&
				window.vsPlayer.video.readyState >= 1, null, { timeout: TIMEOUT_MS });
			await page.waitForTimeout(500);
			out = { paused, reloaded: await snapshot(page) };
		} else if (scenario === 'startup') {
			// three fresh visits (empty caches), each throttled; the median
			// is the figure, so that one slow start of the machine is not
			const mbits = Number(args[0]), runs = [];
			let fatal = null, engine = null;
			for (let i = 0; i < 3; i++) {
				const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
				const pg = await ctx.newPage();
				const cdp = await ctx.newCDPSession(pg);
				await cdp.send('Network.enable');
				await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
				await cdp.send('Network.emulateNetworkConditions', {
					offline: false, latency: 40, downloadThroughput: (mbits * 1e6) / 8, uploadThroughput: (mbits * 1e6) / 8,
				});
				await pg.goto(url);
				await pg.waitForFunction(() => window.vsPlayer && (window.vsPlayer.state.firstFrameAt !== null ||
					window.vsPlayer.state.fatal), null, { timeout: TIMEOUT_MS });
				const s = await snapshot(pg);
				// performance.now() counts from the navigation's start
				runs.push(Math.round(s.firstFrameAt));
				fatal = fatal || s.fatal;
				engine = s.engine;
				await ctx.close();
			}
			const sorted = [...runs].sort((a, b) => a - b);
			out = { mbits, runs, startupMs: sorted[1], engine, fatal };
		} else if (scenario === 'refused') {
			await page.goto(url);
			await page.waitForFunction(() => window.Hls, null, { timeout: TIMEOUT_MS });
			out.results = [];
			for (const src of args) {
				out.results.push(await page.evaluate((s) => new Promise((resolve) => {
					const v = document.createElement('video');
					v.muted = true;
					const hls = new window.Hls();
					const done = (r) => { hls.destroy(); resolve(r); };
					hls.on(window.Hls.Events.ERROR, (e, d) => {
						if (d.fatal) done({ src: s, played: false, error: d.details, status: d.response && d.response.code });
					});
					v.addEventListener('timeupdate', () => { if (v.currentTime > 0.5) done({ src: s, played: true }); });
					hls.loadSource(s);
					hls.attachMedia(v);
					v.play().catch(() => {});
					setTimeout(() => done({ src: s, played: false, error: 'timeout' }), 15000);
				}), src));
			}
		} else if (scenario === 'screenshots') {
			const dir = args[0];
			await page.goto(url);
			await playUntil(page, 1.5);
			await page.screenshot({ path: `${dir}/player-desktop.png`, fullPage: true });
			await page.setViewportSize({ width: 360, height: 740 });
			await page.waitForTimeout(300);
			const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
			await page.screenshot({ path: `${dir}/player-360.png`, fullPage: true });
			await page.setViewportSize({ width: 320, height: 640 });
			await page.waitForTimeout(300);
			const fits320 = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
			// keyboard: space pauses, f and m do their work, focus reaches every control
			await page.focus('#player');
			await page.keyboard.press('m');
			const muted = await page.evaluate(() => window.vsPlayer.video.muted);
			await page.keyboard.press(' ');
			const pausedByKey = await page.evaluate(() => window.vsPlayer.video.paused);
			const t0 = await page.evaluate(() => window.vsPlayer.video.currentTime);
			await page.keyboard.press('ArrowRight');
			const t1 = await page.evaluate(() => window.vsPlayer.video.currentTime);
			const labels = await page.evaluate(() => [...document.querySelectorAll('.controls button, #seek, #quality')]
				.map((e) => e.getAttribute('aria-label')));
			const order = [];
			await page.focus('#play');
			for (let i = 0; i < 7; i++) {
				order.push(await page.evaluate(() => document.activeElement.id));
				await page.keyboard.press('Tab');
			}
			out = { fits360: fits, fits320, muted, pausedByKey, seekedBy: t1 - t0, labels, order, ...(await snapshot(page)) };
		} else if (scenario === 'watch') {
			await page.goto(url);
			await playUntil(page, Math.min(Number(args[0]) || 5, 3600));
			await page.click('#play');
			await page.waitForTimeout(500);
			out = await snapshot(page);
			await page.close({ runBeforeUnload: true }); // pagehide: the last beacons
			await new Promise((r) => setTimeout(r, 500));
		} else {
			throw new Error(`unknown scenario '${scenario}'`);
		}
	} finally {
		out.pageErrors = consoleErrors;
		out.httpErrors = httpErrors;
		console.log(JSON.stringify(out));
		await browser.close();
	}
}

main().catch((e) => { console.error(String(e)); process.exit(1); });
