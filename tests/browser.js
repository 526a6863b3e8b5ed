// The browsers the tests and benchmarks drive, through puppeteer-core:
// Debian's Chromium (over CDP) and Debian's firefox-esr (over WebDriver
// BiDi), each headless, autoplay allowed, nothing downloaded.
//
//   const { launch, outsideTimer } = require('./browser');
//   const browser = await launch('firefox');
//
// VS_CHROMIUM and VS_FIREFOX name other executables.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const puppeteer = require('puppeteer-core');

const BROWSERS = ['chromium', 'firefox'];

async function launch(name) {
	if (name === 'firefox') {
		return puppeteer.launch({
			browser: 'firefox', headless: true, executablePath: process.env.VS_FIREFOX || '/usr/bin/firefox-esr',
			extraPrefsFirefox: { 'media.autoplay.default': 0, 'media.autoplay.blocking_policy': 0,
				'browser.cache.disk.enable': false, 'network.http.speculative-parallel-limit': 0 },
		});
	}
	if (name !== 'chromium') throw new Error(`unknown browser '${name}' (${BROWSERS.join(', ')})`);
	return puppeteer.launch({
		browser: 'chrome', headless: true, executablePath: process.env.VS_CHROMIUM || '/usr/bin/chromium',
		args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
			'--disable-background-networking', '--disable-component-update', '--disable-sync',
			'--autoplay-policy=no-user-gesture-required'],
	});
}

// Timing from outside the player: installed before any of the page's
// scripts, it notes (performance.now(), from the navigation's start) the
// first `playing` event of any video and the first frame presented.
function outsideTimer() {
	const o = { playing: null, frame: null, waiting: 0 };
	window.__vsOutside = o;
	const watch = (v) => {
		if (v.__vsWatched || !v.requestVideoFrameCallback) return;
		v.__vsWatched = true;
		v.requestVideoFrameCallback(() => { if (o.frame === null) o.frame = performance.now(); });
	};
	document.addEventListener('loadstart', (e) => watch(e.target), true);
	document.addEventListener('playing', (e) => {
		if (o.playing === null) o.playing = performance.now();
		watch(e.target);
	}, true);
	document.addEventListener('waiting', () => { if (o.playing !== null) o.waiting++; }, true);
}

// What went wrong on a page, for a test's diagnostics.
function collectErrors(page) {
	const out = { pageErrors: [], httpErrors: [] };
	page.on('pageerror', (e) => out.pageErrors.push(String(e && e.message ? e.message : e)));
	page.on('console', (m) => { if (m.type() === 'error') out.pageErrors.push(m.text()); });
	page.on('response', (r) => {
		if (r.status() >= 400) {
			out.httpErrors.push(`${r.status()} ${r.request().method()} ${r.url().replace(/access_token=[^&]*/, 'access_token=…')}`);
		}
	});
	page.on('requestfailed', (r) => out.httpErrors.push(`failed ${r.method()} ${r.url()}: ${r.failure() && r.failure().errorText}`));
	return out;
}

// A viewer's token (an HS256 JWT for `user`, an hour long) signed with the
// secret in secretFile, as vs-cgi checks them.
function token(secretFile, user) {
	const secret = fs.readFileSync(secretFile, 'utf8').replace(/\n+$/, '');
	const b64 = (x) => Buffer.from(JSON.stringify(x)).toString('base64url');
	const now = Math.floor(Date.now() / 1000);
	const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: user, iat: now, exp: now + 3600 })}`;
	return `${body}.${crypto.createHmac('sha256', secret).update(body).digest('base64url')}`;
}

module.exports = { BROWSERS, launch, outsideTimer, collectErrors, token };
