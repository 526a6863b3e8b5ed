// Plays HLS URLs with hls.js in Debian's Chromium (headless) and prints, per
// URL, one JSON line: the engine that played, the media time reached, and the
// player's errors. Usage: node tests/play-hls.js SECONDS URL...
'use strict';
const { chromium } = require('playwright-core');

(async () => {
	const seconds = Number(process.argv[2]);
	const urls = process.argv.slice(3);
	const browser = await chromium.launch({
		executablePath: process.env.VS_CHROMIUM || '/usr/bin/chromium',
		args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
			'--disable-background-networking', '--disable-component-update', '--disable-sync',
			'--autoplay-policy=no-user-gesture-required'],
	});
	for (const url of urls) {
		const page = await browser.newPage();
		await page.goto(url);
		await page.waitForFunction((s) => window.result && (window.result.t >= s || window.result.fatal),
			seconds, { timeout: 20000 }).catch(() => {});
		console.log(JSON.stringify(await page.evaluate(() => window.result)));
		await page.close();
	}
	await browser.close();
})().catch((e) => { console.error(e); process.exit(1); });
