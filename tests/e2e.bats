#!/usr/bin/env bats
# The whole chain in Debian's Chromium: a lesson ingested, encoded,
# packaged and published to a local origin, lighttpd serving the reference
# player, vs-cgi and the origin (scripts/serve), the player playing it with
# hls.js, and with the browser's own HLS (Safari's path; Edge is Chromium),
# driven by puppeteer-core (tests/e2e.js, tests/site.bash). Firefox runs the
# same checks in e2e-firefox.bats.

load helper
load site

setup_file() { start_site; }
teardown_file() { stop_site; }
setup() { site_viewer; }

@test "Chromium plays the lesson with hls.js, its light build" {
	check_play chromium hls.js
	[ "$(jqr out.json .hlsBuild)" = light ]
}

@test "Chromium: choosing a quality switches the rendition and keeps the position" {
	check_quality chromium
}

@test "Chromium: a reload resumes near the saved position, and the database has it" {
	check_resume chromium
}

@test "Chromium: the database holds the viewing session the player reported" {
	check_session chromium "Chrome Headless"
}

@test "Chromium: startup at 5 Mbit/s, 40 ms: it plays, and the player's own figure is the one measured outside" {
	check_startup chromium 5 40
}

@test "Chromium: startup at 1.6 Mbit/s, 150 ms, fresh and resuming: it plays, the player's figure matches" {
	check_startup chromium 1.6 150
	check_startup chromium 1.6 150 30
}

@test "Chromium: the data saver caps the rung at 360p, and the choice is remembered" {
	check_saver chromium
}

@test "Chromium: the browser's Save-Data turns the data saver on" {
	check_saver chromium auto
}

@test "Chromium on a phone with touch: double taps seek 10 s either way, a tap pauses, a long press opens the settings" {
	check_touch
}

@test "Chromium: the link cut for 20 s mid-lesson: said, and played on within 3 s of its return, no reload" {
	check_cut chromium
}

@test "Chromium without MSE or HLS plays the lesson's progressive MP4" {
	check_fallback chromium
}

@test "Chromium: the first origin killed mid-lesson: the second goes on within 5 s, where it was" {
	check_failover chromium
}

@test "Chromium: the stream's signature expires mid-lesson: signed anew, it plays on" {
	check_expire chromium
}

@test "Chromium: an encrypted lesson plays, its key from vs-cgi for the stream's token" {
	check_encrypted chromium
}

@test "Chromium: a key refused whatever the token: a clear message over the picture, never a black screen" {
	check_key_refused
}

@test "Chromium: a network that drops to 0.5 Mbit/s for 10 s lowers the rung, then it climbs back" {
	check_netchange chromium
}

@test "Chromium: an expired signed URL, and one for another video, do not play" {
	check_refused chromium
}

@test "Chromium: the player at 1280 and 360 px: screenshots, keys, labels, focus order" {
	check_screens chromium
}

@test "Chromium: the captions control shows the default track, keeps the viewer's choice, and c toggles it" {
	check_captions chromium
}

@test "Chromium: axe-core finds no WCAG 2.1 A or AA violation loading, playing, paused, failing, captioned, 360 px wide" {
	check_a11y chromium
}

@test "Chromium's accessibility tree names every control as a screen reader announces it" {
	check_axtree
}

@test "Chromium: reduced motion, more contrast and forced colours change the page as they should" {
	check_media
}

@test "Chromium's own HLS (no hls.js) plays the lesson" {
	check_play chromium native "$SITE/?v=e2e-lesson&engine=native#token=$TOKEN"
	[ "$(jqr out.json .hlsBuild)" = null ]
}

@test "Chromium's own HLS: choosing a quality plays that rung's playlist and keeps the position" {
	check_quality chromium "$SITE/?v=e2e-lesson&engine=native#token=$TOKEN"
}

@test "Chromium's own HLS: a reload resumes near the saved position, and the database has it" {
	check_resume chromium "$SITE/?v=e2e-lesson&engine=native#token=$TOKEN"
}

@test "Chromium's own HLS: the captions are the page's tracks, the package's own kept off" {
	check_captions chromium "$SITE/?v=e2e-lesson&engine=native#token=$TOKEN"
}
