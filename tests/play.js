// Plays URLs of tests/play.html (each naming a player and a stream) in
// Debian's Chromium, headless, and prints per URL one JSON line: the engine
// that played, the media time reached, the player's errors and the text
// tracks it lists.
//
// Usage: node tests/play.js [--browser chromium|firefox] SECONDS URL...
'use strict';
const { launch } = require('./browser');

// One page: played until SECONDS of media (or a fatal error), then what
// it found.
async function play(browser, url, seconds) {
	const page = await browser.newPage();
	await page.goto(url);
	await page.waitForFunction((s) => window.result && (window.result.t >= s || window.result.fatal),
		{ timeout: 20000 }, seconds).catch(() => {});
	// a text track's cues may come after the media: up to 15 s more for them
	await page.waitForFunction(() => window.result.fatal || !(window.result.textTracks || []).length ||
		(window.result.cues || []).some((c) => c.first), { timeout: 15000 }).catch(() => {});
	const result = await page.evaluate(() => window.result);
	await page.close();
	return result;
}

(async () => {
	const a = process.argv.slice(2);
	let name = 'chromium';
	if (a[0] === '--browser') name = a.splice(0, 2)[1];
	const seconds = Number(a[0]);
	const browser = await launch(name);
	try {
		for (const url of a.slice(1)) {
			console.log(JSON.stringify(await play(browser, url, seconds)));
		}
	} finally {
		await browser.close();
	}
})().catch((e) => { console.error(e); process.exit(1); });
