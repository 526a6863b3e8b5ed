// End-to-end checks of the reference player in Debian's Chromium and
// Debian's firefox-esr (both headless), driven with puppeteer-core
// (tests/browser.js). Each scenario prints one JSON line of what it saw;
// the e2e*.bats files judge it.
//
// Usage: node tests/e2e.js [--browser chromium|firefox] SCENARIO PLAYER-URL [ARGS…]
//   play URL [nomse]           plays 3 s: engine, times, errors, what is on
//                              screen; nomse: in a page without Media Source
//                              Extensions and without the browser's HLS
//   quality URL                switches to another rung by the menu
//   resume URL                 plays, pauses, reloads: where it resumes
//   refused URL STREAM-URL…    whether hls.js can play each (signed) URL
//   screenshots URL DIR        the page at 1280 px and at 360 px wide
//   watch URL SECONDS          plays for a while (the demo's viewing)
//   saver URL CONTROL [auto]   the data saver: turned on by the viewer (or,
//                              with auto, by the browser's Save-Data), kept
//                              across a reload, the rung capped; through
//                              tests/shaper.js (its control URL) at 5 Mbit/s
//   netchange URL CONTROL      through tests/shaper.js (its control URL):
//                              5 Mbit/s, then 0.5 for 10 s, then 5 again;
//                              the rungs loaded meanwhile
//   cut URL CONTROL SECONDS    through tests/shaper.js at 0.4 Mbit/s (a shallow
//                              buffer), the link cut for SECONDS mid-lesson
//                              (connections stall, new ones are refused),
//                              then whole: when playback went on, from where,
//                              and whether the page was loaded again
//   failover URL CONTROL       a site whose first origin is tests/shaper.js
//                              (its control URL) at 0.4 Mbit/s, killed
//                              mid-lesson (connections reset, new ones
//                              refused): when the player moved to the next
//                              origin, the longest stall, whether it played
//                              past what was loaded before the kill
//   expire URL SEEK            plays until the stream's signature has
//                              expired (a site with a short VS_STREAM_TTL),
//                              then seeks to SEEK s, past what is buffered:
//                              whether it plays on
//   keyrefused URL             the key endpoint answering 403 to every request
//                              (Chromium's request interception): what the
//                              viewer is told and sees
//   captions URL               the captions control: what it offers, what
//                              shows, a choice kept across reloads, the c key
//   a11y URL BAD-URL CONTROL   axe-core (WCAG 2.1 A and AA) on the page
//                              loading (a slow link, tests/shaper.js's
//                              CONTROL), playing, paused, failing (BAD-URL),
//                              with captions on, and 360 px wide
//   axtree URL                 the names Chromium's accessibility tree gives
//                              the controls (Chromium only)
//   media URL DIR              prefers-reduced-motion, prefers-contrast and
//                              forced-colors emulated: computed styles, and
//                              screenshots in DIR (Chromium only)
// The browser is chromium unless --browser says otherwise (or VS_BROWSER).
'use strict';
const { launch, collectErrors } = require('./browser');

const argv = process.argv.slice(2);
let browserName = process.env.VS_BROWSER || 'chromium';
if (argv[0] === '--browser') {
	browserName = argv[1];
	argv.splice(0, 2);
}
const [scenario, url, ...args] = argv;
const TIMEOUT_MS = 30000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

// axe-core's violations on the page now: [{id, impact, nodes: [selector]}]
async function axe(page) {
	if (!(await page.evaluate(() => !!window.axe))) await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
	return page.evaluate(async (tags) => {
		const r = await window.axe.run(document, { runOnly: { type: 'tag', values: tags } });
		return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')) }));
	}, AXE_TAGS);
}

// the text tracks of the video: which show, and the cues showing now
function tracks(page) {
	return page.evaluate(() => [...window.vsPlayer.video.textTracks].map((t) => ({
		language: t.language, label: t.label, kind: t.kind, mode: t.mode, ours: !!t.vsCaption,
		active: t.activeCues ? [...t.activeCues].map((c) => c.text) : [],
	})));
}

// the player's state, as window.vsPlayer keeps it
async function snapshot(page) {
	return page.evaluate(() => {
		const p = window.vsPlayer, s = p.state, v = p.video;
		return {
			engine: s.engine, hlsBuild: s.hlsBuild || null, currentTime: v.currentTime, paused: v.paused,
			fatal: s.fatal, errors: s.errors, level: s.level, levels: s.levelLabels,
			height: v.videoHeight, firstFrameAt: s.firstFrameAt, resumeFrom: s.resumeFrom, resumed: s.resumed,
			progressSaved: s.progressSaved, session: s.session, title: document.title, saver: !!s.saver, trouble: s.trouble || null,
			status: document.getElementById('status').textContent,
			chapters: document.querySelectorAll('#chapters button').length, storyboard: s.storyboard.length,
		};
	});
}

// marks the page (a page loaded anew has none) and records each
// timeupdate, [performance.now(), currentTime], in window.vsMoves
function watchMoves(page) {
	return page.evaluate(() => {
		window.vsMark = true;
		window.vsMoves = [];
		window.vsPlayer.video.addEventListener('timeupdate', () => window.vsMoves.push([performance.now(),
			window.vsPlayer.video.currentTime]));
	});
}

async function playUntil(page, seconds) {
	await page.waitForFunction((t) => window.vsPlayer && (window.vsPlayer.video.currentTime >= t ||
		window.vsPlayer.state.fatal), { timeout: TIMEOUT_MS }, seconds);
}

// What the viewer sees of the picture against what the video decoded: the
// page's pixels over the middle half of the frame (a screenshot) and the
// frame itself drawn to a canvas, both at 64x36, compared channel by
// channel. A layer over the picture (the 70 % black overlay that covered
// every lesson once) makes them differ by far more than the frame's own
// motion between the two shots.
async function picture(page) {
	const box = await page.evaluate(() => {
		const v = window.vsPlayer.video, r = v.getBoundingClientRect();
		if (!v.videoWidth || !r.width) return null; // no frame to compare
		// the frame inside the element (object-fit: contain)
		const s = Math.min(r.width / v.videoWidth, r.height / v.videoHeight);
		const w = v.videoWidth * s, h = v.videoHeight * s;
		const x = r.left + (r.width - w) / 2, y = r.top + (r.height - h) / 2;
		return { x: x + w / 4, y: y + h / 4, width: w / 2, height: h / 2 };
	});
	if (!box) return null;
	const shot = await page.screenshot({ clip: box, encoding: 'base64' });
	return page.evaluate(async (png) => {
		const W = 64, H = 36, v = window.vsPlayer.video;
		const pixels = (draw) => {
			const c = document.createElement('canvas');
			c.width = W;
			c.height = H;
			const g = c.getContext('2d');
			draw(g);
			return g.getImageData(0, 0, W, H).data;
		};
		const frame = pixels((g) => g.drawImage(v, v.videoWidth / 4, v.videoHeight / 4, v.videoWidth / 2,
			v.videoHeight / 2, 0, 0, W, H));
		const img = new Image();
		img.src = `data:image/png;base64,${png}`;
		await img.decode();
		const seen = pixels((g) => g.drawImage(img, 0, 0, W, H));
		let diff = 0, light = 0;
		for (let i = 0; i < frame.length; i += 4) {
			for (let c = 0; c < 3; c++) diff += Math.abs(frame[i + c] - seen[i + c]);
			light += frame[i] + frame[i + 1] + frame[i + 2];
		}
		const n = (frame.length / 4) * 3;
		return { meanDiff: Math.round((diff / n) * 10) / 10, frameLight: Math.round((light / n) * 10) / 10 };
	}, shot);
}

// the heights of the rungs offered and not disabled in the menu
// What a finger meets (the visible controls under `within`, the seek bar
// with the bar's): each one's box, and what is wrong with them together:
// a target under 44 x 44 px, two closer than 8 px or overlapping, one past
// the screen's edge (WCAG 2.5.5's size, the issue's spacing).
async function targets(page, within = '.seek, .controls') {
	const boxes = await page.evaluate((sel) => [...document.querySelectorAll(sel)]
		.flatMap((c) => [...c.querySelectorAll('button, input, select')])
		.filter((e) => (sel === '.sheet' || !e.closest('.sheet')) && e.getClientRects().length &&
			getComputedStyle(e).visibility !== 'hidden')
		.map((e) => {
			const r = e.getBoundingClientRect();
			return { id: e.id, left: r.left, top: r.top, right: r.right, bottom: r.bottom };
		}).concat([{ id: 'screen', width: window.innerWidth }]), within);
	const width = boxes.pop().width, wrong = [], E = 0.5;
	for (const b of boxes) {
		if (b.right - b.left < 44 - E || b.bottom - b.top < 44 - E) wrong.push(`${b.id} ${Math.round(b.right - b.left)}x${Math.round(b.bottom - b.top)}`);
		if (b.left < -E || b.right > width + E) wrong.push(`${b.id} past the edge`);
	}
	boxes.forEach((a, i) => boxes.slice(i + 1).forEach((b) => {
		const gap = Math.max(b.left - a.right, a.left - b.right, b.top - a.bottom, a.top - b.bottom);
		if (gap < 8 - E) wrong.push(`${a.id} and ${b.id} ${Math.round(gap)} px apart`);
	}));
	const rows = new Set(boxes.filter((b) => b.id !== 'seek').map((b) => Math.round(b.top))).size;
	return { ids: boxes.map((b) => b.id), wrong, rows };
}

function menuHeights(page) {
	return page.evaluate(() => [...document.querySelectorAll('#quality option')]
		.filter((o) => o.value !== '-1' && !o.disabled).map((o) => Number(o.dataset.height)));
}

async function shape(control, mbits) {
	const r = await fetch(`${control}/set?mbits=${mbits}&rtt=40`);
	if (!r.ok) throw new Error(`the shaper refused /set: ${r.status}`);
}

const scenarios = {
	async play(page) {
		if (args[0] === 'nomse') {
			await page.evaluateOnNewDocument(() => {
				for (const k of ['MediaSource', 'ManagedMediaSource', 'WebKitMediaSource']) {
					Object.defineProperty(window, k, { value: undefined, configurable: true, writable: true });
				}
				const can = HTMLMediaElement.prototype.canPlayType;
				HTMLMediaElement.prototype.canPlayType = function canPlayType(t) { return /mpegurl/i.test(t) ? '' : can.call(this, t); };
			});
		}
		await page.goto(url);
		let stuck = null;
		await playUntil(page, 3).catch((e) => { stuck = String(e.message); });
		if (stuck) return { ...(await snapshot(page)), stuck };
		// what the viewer's pointer meets over the picture: the video itself,
		// at its centre and near each corner (nothing may cover it)
		const onTop = await page.evaluate(() => {
			const r = window.vsPlayer.video.getBoundingClientRect();
			return [[0.5, 0.5], [0.1, 0.1], [0.9, 0.1], [0.1, 0.9], [0.9, 0.9]].map(([x, y]) => {
				const e = document.elementFromPoint(r.left + r.width * x, r.top + r.height * y);
				return e ? e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') : null;
			});
		});
		return { ...(await snapshot(page)), onTop, picture: await picture(page) };
	},

	async quality(page) {
		await page.goto(url);
		await playUntil(page, 1);
		const before = await snapshot(page);
		// the rung not playing now, chosen from the menu as a viewer would
		const target = await page.evaluate(() => {
			const s = window.vsPlayer.state;
			return s.levelLabels.findIndex((l, i) => i !== s.level);
		});
		const at = before.currentTime;
		await page.select('#quality', String(target));
		await page.waitForFunction((t) => window.vsPlayer.state.level === t, { timeout: TIMEOUT_MS }, target);
		// two segments on: what was buffered of the old rung (hls.js keeps a
		// little past the next boundary, for a switch without a stall) is played
		await page.waitForFunction((t) => window.vsPlayer.video.currentTime > t + 4, { timeout: TIMEOUT_MS }, at);
		return { before, after: await snapshot(page), target, switchedAt: at };
	},

	async resume(page) {
		await page.goto(url);
		await playUntil(page, 4);
		await page.click('#play'); // pause: a heartbeat
		await page.waitForFunction(() => window.vsPlayer.state.progressSaved > 0, { timeout: TIMEOUT_MS });
		const paused = await snapshot(page);
		await page.reload();
		await page.waitForFunction(() => window.vsPlayer && window.vsPlayer.state.resumed &&
			window.vsPlayer.video.readyState >= 1 && window.vsPlayer.video.currentTime > 0, { timeout: TIMEOUT_MS });
		await sleep(500);
		return { paused, reloaded: await snapshot(page) };
	},

	async refused(page) {
		await page.goto(url);
		await page.waitForFunction(() => window.Hls, { timeout: TIMEOUT_MS });
		const results = [];
		for (const src of args) {
			results.push(await page.evaluate((s) => new Promise((resolve) => {
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
		return { results };
	},

	async screenshots(page) {
		const dir = args[0];
		await page.goto(url);
		await playUntil(page, 1.5);
		await page.screenshot({ path: `${dir}/player-desktop-${browserName}.png`, fullPage: true });
		// the phones' widths: what a finger meets, the settings closed and open
		const phones = {};
		for (const width of [320, 360, 390, 430]) {
			await page.setViewport({ width, height: 740 });
			await sleep(300);
			const bar = await targets(page);
			await page.click('#more');
			await sleep(100);
			phones[width] = { bar, sheet: await targets(page, '.sheet'), fits: await page.evaluate(() =>
				document.documentElement.scrollWidth <= window.innerWidth) };
			await page.keyboard.press('Escape');
			phones[width].closed = await page.$eval('#sheet', (x) => x.hidden);
		}
		await page.setViewport({ width: 1280, height: 800 });
		await sleep(300);
		const desktop = await targets(page);
		// speed: chosen, stepped by key, kept for the next visit
		await page.click('#more');
		await page.select('#speed', '1.5');
		const chosenRate = await page.evaluate(() => window.vsPlayer.video.playbackRate);
		await page.keyboard.press('Escape');
		await page.focus('#player');
		await page.keyboard.press('<');
		const steppedRate = await page.evaluate(() => window.vsPlayer.video.playbackRate);
		const speedSaid = await page.$eval('#status', (x) => x.textContent);
		await page.reload();
		await playUntil(page, 0.5);
		const keptRate = await page.evaluate(() => [window.vsPlayer.video.playbackRate, document.getElementById('speed').value]);
		await page.focus('#player');
		await page.keyboard.press('>');
		await page.keyboard.press('>');
		await page.keyboard.press('>');
		await page.keyboard.press('>');
		await page.keyboard.press('>');
		const topRate = await page.evaluate(() => window.vsPlayer.video.playbackRate);
		await page.select('#speed', '1');
		await page.setViewport({ width: 360, height: 740 });
		await sleep(300);
		const fits360 = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
		await page.screenshot({ path: `${dir}/player-360-${browserName}.png`, fullPage: true });
		await page.setViewport({ width: 320, height: 640 });
		await sleep(300);
		const fits320 = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
		// keyboard: space pauses, f and m do their work, focus reaches every control
		await page.focus('#player');
		await page.keyboard.press('m');
		const muted = await page.evaluate(() => window.vsPlayer.video.muted);
		await page.keyboard.press(' ');
		await page.waitForFunction(() => window.vsPlayer.video.paused, { timeout: 5000 }).catch(() => {});
		const pausedByKey = await page.evaluate(() => window.vsPlayer.video.paused);
		const t0 = await page.evaluate(() => window.vsPlayer.video.currentTime);
		await page.keyboard.press('ArrowRight');
		const t1 = await page.evaluate(() => window.vsPlayer.video.currentTime);
		// each control's name: its aria-label, or the element it is labelled by
		const labels = await page.evaluate(() => [...document.querySelectorAll('.controls button, #seek, #volume')]
			.map((e) => e.getAttribute('aria-label') || (e.getAttribute('aria-labelledby') &&
				document.getElementById(e.getAttribute('aria-labelledby')).textContent) || null));
		// the order Tab takes, and that each control shows it has the focus
		const order = [], outlined = [];
		await page.focus('#player');
		await page.keyboard.press('Tab'); // the seek bar
		for (let i = 0; i < 9; i++) {
			await page.keyboard.press('Tab');
			const f = await page.evaluate(() => {
				const e = document.activeElement, cs = getComputedStyle(e);
				return { id: e.id, outline: cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2 };
			});
			order.push(f.id);
			outlined.push(f.outline);
		}
		return { fits360, fits320, muted, pausedByKey, seekedBy: t1 - t0, labels, order, outlined, phones, desktop,
			chosenRate, steppedRate, speedSaid, keptRate, topRate, ...(await snapshot(page)) };
	},

	// a phone's touch: a double tap on either side seeks, a tap pauses, a
	// long press opens the settings
	async touch(page) {
		await page.setViewport({ width: 390, height: 844, hasTouch: true, isMobile: true });
		await page.goto(url);
		await playUntil(page, 1);
		const box = await page.$eval('#video', (v) => {
			const r = v.getBoundingClientRect();
			return { x: r.left, y: r.top, w: r.width, h: r.height, touchAction: getComputedStyle(v).touchAction };
		});
		const at = (fx) => [box.x + box.w * fx, box.y + box.h / 2];
		const time = () => page.evaluate(() => window.vsPlayer.video.currentTime);
		const twice = async (fx) => {
			const [x, y] = at(fx);
			await page.touchscreen.tap(x, y);
			await page.touchscreen.tap(x, y);
		};
		const seen = () => page.evaluate(() => ({ said: document.getElementById('status').textContent,
			ripple: document.getElementById('ripple').hidden ? null : document.getElementById('ripple').dataset.side }));
		const t0 = await time();
		await twice(0.85);
		await sleep(100);
		const forward = { by: (await time()) - t0, ...(await seen()) };
		await sleep(800);
		const t1 = await time();
		await twice(0.15);
		await sleep(100);
		const back = { by: (await time()) - t1, ...(await seen()), paused: await page.evaluate(() => window.vsPlayer.video.paused) };
		await sleep(500);
		const [cx, cy] = at(0.5);
		await page.touchscreen.tap(cx, cy);
		await sleep(700);
		const tapped = await page.evaluate(() => window.vsPlayer.video.paused);
		await page.touchscreen.touchStart(cx, cy);
		await sleep(900);
		await page.touchscreen.touchEnd();
		await sleep(100);
		const pressed = await page.evaluate(() => ({ sheet: !document.getElementById('sheet').hidden,
			paused: window.vsPlayer.video.paused }));
		return { touchAction: box.touchAction, forward, back, tapped, pressed };
	},

	async watch(page) {
		await page.goto(url);
		await playUntil(page, Math.min(Number(args[0]) || 5, 3600));
		await page.click('#play');
		await sleep(500);
		const out = await snapshot(page);
		await page.close({ runBeforeUnload: true }); // pagehide: the last beacons
		await sleep(500);
		return out;
	},

	// the viewer's data saver, or the browser's Save-Data (navigator.connection,
	// which Chromium has and Firefox has not), through a 5 Mbit/s link (an
	// unlimited one would have the whole lesson buffered at once): what is
	// loaded stays at 360p or under
	async saver(page) {
		const [control, auto] = [args[0], args[1] === 'auto'];
		if (auto) {
			await page.evaluateOnNewDocument(() => {
				const c = navigator.connection || {};
				Object.defineProperty(c, 'saveData', { get: () => true });
				if (!navigator.connection) Object.defineProperty(navigator, 'connection', { get: () => c });
			});
		}
		const loaded = () => page.evaluate(() => {
			const h = window.vsPlayer.state.hls;
			return h ? h.levels[h.loadLevel].height : window.vsPlayer.video.videoHeight;
		});
		await shape(control, 5);
		try {
			await page.goto(url);
			await playUntil(page, 0.5);
			if (!auto) {
				await page.click('#more');
				await page.click('#saver');
				await page.waitForFunction(() => window.vsPlayer.state.saver, { timeout: TIMEOUT_MS });
			}
			const on = await snapshot(page);
			const offered = await menuHeights(page);
			const pressed = await page.$eval('#saver', (b) => b.getAttribute('aria-pressed'));
			// played on a while: what the player loads now is under the cap
			await playUntil(page, on.currentTime + 6);
			const later = { ...(await snapshot(page)), loaded: await loaded() };
			await page.reload();
			// it resumes near later.currentTime: played past it, a frame is shown
			await playUntil(page, later.currentTime + 1);
			const reloaded = { ...(await snapshot(page)), loaded: await loaded(), offered: await menuHeights(page) };
			return { on, offered, pressed, later, reloaded };
		} finally {
			await shape(control, 0);
		}
	},

	async captions(page) {
		const snap = async () => ({
			offered: await page.$$eval('#captions option', (o) => o.map((x) => x.textContent)),
			value: await page.$eval('#captions', (x) => x.value),
			hidden: await page.$eval('label.captions', (x) => x.hidden),
			tracks: await tracks(page),
			status: await page.$eval('#status', (x) => x.textContent),
		});
		// until a track in lang shows a cue; the tracks as they were at that
		// moment (read later, on a loaded machine, the cue may be over)
		const waitCue = async (lang) => (await page.waitForFunction((l) => {
			const all = [...window.vsPlayer.video.textTracks];
			if (!all.some((t) => t.vsCaption && t.language === l && t.mode === 'showing' && t.activeCues && t.activeCues.length))
				return false;
			return all.map((t) => ({
				language: t.language, label: t.label, kind: t.kind, mode: t.mode, ours: !!t.vsCaption,
				active: t.activeCues ? [...t.activeCues].map((c) => c.text) : [],
			}));
		}, { timeout: TIMEOUT_MS }, lang)).jsonValue();
		await page.goto(url);
		await playUntil(page, 0.3);
		// the lesson's default track, showing its first cue (0.2 s to 2.8 s)
		const shown = await waitCue('en');
		const first = { ...(await snap()), tracks: shown };
		await page.select('#captions', '1');
		const chosen = await snap();
		await page.reload();
		await playUntil(page, 0.3);
		await waitCue('fr');
		const kept = await snap();
		await page.focus('#player');
		await page.keyboard.press('c'); // off
		await sleep(200);
		const off = await snap();
		await page.keyboard.press('c'); // the last one again
		await sleep(200);
		const back = await snap();
		await page.keyboard.press('c');
		await page.reload();
		await playUntil(page, 0.5);
		const offKept = await snap();
		return { first, chosen, kept, off, back, offKept, ...(await snapshot(page)) };
	},

	// axe-core in each state the page goes through
	async a11y(page) {
		const states = {}, control = args[1];
		// loading: a link slow enough that the lesson is still on its way
		await fetch(`${control}/set?mbits=0&rtt=1500`);
		try {
			await page.goto(url, { waitUntil: 'domcontentloaded', timeout: TIMEOUT_MS });
			states.loadingTitle = await page.$eval('#title', (x) => x.textContent);
			states.loading = await axe(page);
		} finally {
			await fetch(`${control}/set?mbits=0&rtt=0`);
		}
		await playUntil(page, 1);
		states.playing = await axe(page);
		await page.click('#play');
		states.paused = await axe(page);
		await page.select('#captions', '0');
		states.captions = await axe(page);
		await page.click('#more');
		states.settings = await axe(page);
		await page.keyboard.press('Escape');
		await page.setViewport({ width: 360, height: 740 });
		await sleep(300);
		states.narrow = await axe(page);
		await page.setViewport({ width: 1280, height: 800 });
		await page.goto(args[0]);
		await page.waitForFunction(() => window.vsPlayer && window.vsPlayer.state.fatal, { timeout: TIMEOUT_MS });
		states.error = await axe(page);
		states.errorStatus = await page.$eval('#status', (x) => x.textContent);
		return { states };
	},

	// what a screen reader hears: the accessibility tree's roles, names and values
	async axtree(page) {
		await page.goto(url);
		await playUntil(page, 1);
		const cdp = await page.createCDPSession();
		const prop = (n, name) => ((n.properties || []).find((p) => p.name === name) || {}).value;
		const tree = async () => (await cdp.send('Accessibility.getFullAXTree')).nodes
			.filter((n) => !n.ignored && ['button', 'slider', 'combobox', 'status', 'region', 'list']
				.includes(n.role && n.role.value)).map((n) => ({
				role: n.role.value, name: n.name ? n.name.value : '', value: n.value ? n.value.value : null,
				valuetext: prop(n, 'valuetext') ? prop(n, 'valuetext').value : null,
				pressed: prop(n, 'pressed') ? prop(n, 'pressed').value : null,
				expanded: prop(n, 'expanded') !== undefined ? String(prop(n, 'expanded').value) : null,
				live: prop(n, 'live') ? prop(n, 'live').value : null,
			}));
		const controls = await tree();
		// the slider's value in words (Chromium's tree shows the number)
		const seekText = await page.$eval('#seek', (x) => x.getAttribute('aria-valuetext'));
		await page.click('#more');
		const settings = await tree();
		return { controls, seekText, settings };
	},

	// the media features a viewer's system sets, emulated one at a time
	async media(page) {
		const dir = args[0], out = {};
		const style = () => page.evaluate(() => {
			const cs = (sel) => getComputedStyle(document.querySelector(sel));
			return {
				overlayTransition: cs('#overlay').transitionDuration, playBorder: cs('#play').borderTopStyle,
				playBorderWidth: cs('#play').borderTopWidth, statusColor: cs('#status').color,
				iconFill: getComputedStyle(document.querySelector('#play svg')).fill, barColor: cs('#player').backgroundColor,
			};
		});
		await page.goto(url);
		await playUntil(page, 1);
		await page.click('#play');
		out.plain = await style();
		const cdp = await page.createCDPSession(); // puppeteer's own call knows no prefers-contrast
		for (const [name, value] of [['prefers-reduced-motion', 'reduce'], ['prefers-contrast', 'more'],
			['forced-colors', 'active']]) {
			await cdp.send('Emulation.setEmulatedMedia', { features: [{ name, value }] });
			await sleep(100);
			out[name] = await style();
			await page.screenshot({ path: `${dir}/player-${name}.png` });
			await cdp.send('Emulation.setEmulatedMedia', { features: [] });
		}
		return out;
	},

	// the link cut mid-lesson and whole again: the time from its return to
	// the picture moving on, from where, and what the viewer was told
	async cut(page) {
		const [control, seconds] = [args[0], Number(args[1] || 20)];
		await shape(control, 0.4);
		try {
			await page.goto(url);
			await playUntil(page, 2);
			await watchMoves(page);
			await fetch(`${control}/set?cut=1`);
			const cutAt = await page.evaluate(() => window.vsPlayer.video.currentTime);
			const said = new Set();
			for (const end = Date.now() + seconds * 1000; Date.now() < end; await sleep(250)) {
				said.add(await page.evaluate(() => document.getElementById('status').textContent));
			}
			const during = await snapshot(page);
			const retryShown = await page.evaluate(() => !document.getElementById('retry').hidden);
			const back = await page.evaluate(() => [performance.now(), window.vsPlayer.video.currentTime]);
			await fetch(`${control}/set?cut=0&mbits=0&rtt=0`);
			// playing again: the picture moves on from where it stopped
			await page.waitForFunction((at) => window.vsPlayer.video.currentTime > at + 0.5 || window.vsPlayer.state.fatal,
				{ timeout: TIMEOUT_MS }, back[1]);
			const moved = await page.evaluate((t0) => {
				const m = window.vsMoves.find(([t, ct], i, all) => t > t0 && i > 0 && ct > all[i - 1][1] + 0.01);
				return m ? m[0] - t0 : null;
			}, back[0]);
			await sleep(1000);
			const after = await snapshot(page);
			return { cutAt, stoppedAt: back[1], resumedAfterMs: moved, said: [...said], retryShown, during,
				samePage: await page.evaluate(() => window.vsMark === true), ...after,
				navigations: await page.evaluate(() => performance.getEntriesByType('navigation').length) };
		} finally {
			await fetch(`${control}/set?cut=0&mbits=0&rtt=0`);
		}
	},

	// a key refused whatever the token: said, over the picture
	async keyrefused(page) {
		let keys = 0;
		await page.setRequestInterception(true);
		page.on('request', (r) => {
			if (/\/key(\?|$)/.test(r.url())) {
				keys++;
				r.respond({ status: 403, contentType: 'application/problem+json', body: '{"title":"Forbidden"}' });
			} else {
				r.continue();
			}
		});
		await page.goto(url);
		await page.waitForFunction(() => window.vsPlayer && window.vsPlayer.state.fatal, { timeout: TIMEOUT_MS });
		const shown = await page.evaluate(() => {
			const o = document.getElementById('overlay'), v = window.vsPlayer.video.getBoundingClientRect();
			const e = document.elementFromPoint(v.left + v.width / 2, v.top + v.height / 2);
			return { overlay: o.hidden ? null : o.textContent, onTop: e && e.id, status: document.getElementById('status').textContent };
		});
		return { keys, ...shown, ...(await snapshot(page)) };
	},

	// the first origin killed mid-lesson: the player goes on from the next
	async failover(page) {
		const control = args[0];
		await shape(control, 0.4);
		try {
			await page.goto(url);
			await playUntil(page, 2);
			await watchMoves(page);
			const before = await page.evaluate(() => {
				const v = window.vsPlayer.video, b = v.buffered;
				return { origin: window.vsPlayer.state.session.origin, level: window.vsPlayer.state.level,
					bufferedEnd: b.length ? b.end(b.length - 1) : 0, at: v.currentTime, t: performance.now() };
			});
			const r = await fetch(`${control}/set?kill=1`);
			if (!r.ok) throw new Error(`the shaper refused kill: ${r.status}`);
			const killedAt = await page.evaluate(() => performance.now());
			let stuck = null;
			await page.waitForFunction(() => window.vsPlayer.state.session.failovers >= 1 || window.vsPlayer.state.fatal,
				{ timeout: TIMEOUT_MS, polling: 100 }).catch((e) => { stuck = String(e.message); });
			const failedOverAt = await page.evaluate(() => performance.now());
			// played past what the first origin had delivered: the second serves
			await playUntil(page, before.bufferedEnd + 2).catch((e) => { stuck = stuck || String(e.message); });
			const moves = await page.evaluate((t0) => {
				const m = window.vsMoves.filter(([t]) => t >= t0);
				let stall = 0, back = 0;
				for (let i = 1; i < m.length; i++) {
					stall = Math.max(stall, m[i][0] - m[i - 1][0]);
					back = Math.max(back, m[i - 1][1] - m[i][1]);
				}
				// and before the first move, and since the last
				const now = performance.now();
				stall = m.length ? Math.max(stall, m[0][0] - t0, now - m[m.length - 1][0]) : now - t0;
				return { longestStallMs: Math.round(stall), wentBackS: back };
			}, killedAt);
			const after = await snapshot(page);
			return { before, failoverMs: stuck ? null : Math.round(failedOverAt - killedAt), ...moves, stuck,
				samePage: await page.evaluate(() => window.vsMark === true), ...after };
		} finally {
			await fetch(`${control}/set?cut=0&mbits=0&rtt=0`);
		}
	},
	// the signature runs out mid-lesson: the player signs anew and plays on
	async expire(page) {
		const seekTo = Number(args[0] || 45);
		// the data saver: no more than 30 s loaded ahead (else hls.js has the
		// whole short lesson before the signature runs out)
		await page.evaluateOnNewDocument(() => localStorage.setItem('vs-data-saver', '1'));
		await page.goto(url);
		await playUntil(page, 1);
		await page.evaluate(() => { window.vsMark = true; });
		const first = await page.evaluate(() => window.vsPlayer.state.stream);
		const expires = Date.parse(first.expires_at);
		await page.waitForFunction((e) => Date.now() > e + 1000, { timeout: 120000, polling: 500 }, expires);
		const status = await page.evaluate(async (u) => (await fetch(u, { cache: 'no-store' })).status, first.stream_url);
		await page.evaluate((t) => { window.vsPlayer.video.currentTime = t; }, seekTo);
		let stuck = null;
		await playUntil(page, seekTo + 2).catch((e) => { stuck = String(e.message); });
		const after = { ...(await snapshot(page)), stuck };
		const stream = await page.evaluate(() => window.vsPlayer.state.stream);
		return { oldStatus: status, oldExpires: first.expires_at, newExpires: stream.expires_at, seekTo,
			samePage: await page.evaluate(() => window.vsMark === true), ...after };
	},

	// a network that drops mid-playback and comes back: the rungs hls.js
	// loads (polled every 200 ms) before, during and after the drop
	async netchange(page) {
		const control = args[0];
		await shape(control, 5);
		try {
			await page.goto(url);
			await playUntil(page, 1);
			const track = () => page.evaluate(() => {
				const s = window.vsPlayer.state;
				return { t: window.vsPlayer.video.currentTime, load: s.hls ? s.hls.loadLevel : s.level, play: s.level,
					fatal: s.fatal };
			});
			const phase = async (ms) => {
				const seen = [];
				for (const end = Date.now() + ms; Date.now() < end; await sleep(200)) seen.push(await track());
				return seen;
			};
			// up to the top rung the link carries first
			const top = await page.evaluate(() => window.vsPlayer.state.levelLabels.length - 1);
			await page.waitForFunction((t) => window.vsPlayer.state.hls.loadLevel === t || window.vsPlayer.state.fatal,
				{ timeout: TIMEOUT_MS }, top);
			const before = await phase(1000);
			await shape(control, 0.5);
			const during = await phase(10000);
			await shape(control, 5);
			const after = await phase(15000);
			const out = await snapshot(page);
			return { top, before, during, after, ...out };
		} finally {
			await shape(control, 0);
		}
	},
};

async function main() {
	if (!scenarios[scenario]) throw new Error(`unknown scenario '${scenario}'`);
	const browser = await launch(browserName);
	let out = {};
	try {
		const page = await browser.newPage();
		const errors = collectErrors(page);
		await page.setViewport({ width: 1280, height: 800 });
		try {
			out = await scenarios[scenario](page);
		} finally {
			out.browser = browserName;
			out.pageErrors = errors.pageErrors;
			out.httpErrors = errors.httpErrors;
			console.log(JSON.stringify(out));
		}
	} finally {
		await browser.close();
	}
}

main().catch((e) => { console.error(String(e && e.stack || e)); process.exit(1); });
