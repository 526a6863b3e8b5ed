#!/usr/bin/env bats
# The reference player in Debian's firefox-esr (headless, driven by
# puppeteer-core over WebDriver BiDi): the checks e2e.bats runs in
# Chromium (tests/site.bash). Firefox has no HLS of its own: hls.js plays.

load helper
load site

setup_file() { start_site; }
teardown_file() { stop_site; }
setup() { site_viewer; }

@test "Firefox plays the lesson with hls.js, its light build" {
	check_play firefox hls.js
	[ "$(jqr out.json .hlsBuild)" = light ]
}

@test "Firefox: choosing a quality switches the rendition and keeps the position" {
	check_quality firefox
}

@test "Firefox: a reload resumes near the saved position, and the database has it" {
	check_resume firefox
}

@test "Firefox: the database holds the viewing session the player reported" {
	check_session firefox "Firefox"
}

@test "Firefox: startup at 5 Mbit/s, 40 ms: it plays, and the player's own figure is the one measured outside" {
	check_startup firefox 5 40
}

@test "Firefox: startup at 1.6 Mbit/s, 150 ms, fresh and resuming: it plays, the player's figure matches" {
	check_startup firefox 1.6 150
	check_startup firefox 1.6 150 30
}

@test "Firefox: the data saver caps the rung at 360p, and the choice is remembered" {
	check_saver firefox
}

@test "Firefox: the link cut for 20 s mid-lesson: said, and played on within 3 s of its return, no reload" {
	check_cut firefox
}

@test "Firefox without MSE or HLS plays the lesson's progressive MP4" {
	check_fallback firefox
}

@test "Firefox: the first origin killed mid-lesson: the second goes on within 5 s, where it was" {
	check_failover firefox
}

@test "Firefox: the stream's signature expires mid-lesson: signed anew, it plays on" {
	check_expire firefox
}

@test "Firefox: an encrypted lesson plays, its key from vs-cgi for the stream's token" {
	check_encrypted firefox
}

@test "Firefox: a network that drops to 0.5 Mbit/s for 10 s lowers the rung, then it climbs back" {
	check_netchange firefox
}

@test "Firefox: the captions control shows the default track, keeps the viewer's choice, and c toggles it" {
	check_captions firefox
}

@test "Firefox: axe-core finds no WCAG 2.1 A or AA violation loading, playing, paused, failing, captioned, 360 px wide" {
	check_a11y firefox
}

@test "Firefox: an expired signed URL, and one for another video, do not play" {
	check_refused firefox
}

@test "Firefox: the player at 1280 and 360 px: screenshots, keys, labels, focus order" {
	check_screens firefox
}
