#!/usr/bin/env bats
# vs-video: the catalog from the shell, checked in the database with psql.

load helper

setup_file() {
	use_db
}

setup() {
	export VS_DATABASE_URL=$VS_TEST_DB_URL
	cd "$BATS_TEST_TMPDIR"
	export VS_MEDIA_ROOT="$BATS_TEST_TMPDIR/media"
	sql "DELETE FROM videos" >/dev/null
	run -0 --separate-stderr vs-ingest --title "Limits" --slug limits --tags "calculus, math" --category math \
		"$(fixture lecture.mp4)"
	ID=$(jq -r .id <<<"$output")
}

@test "vs-video list writes records; --format table aligns columns for a person" {
	run -0 --separate-stderr vs-ingest --title "Derivatives" --slug derivatives "$(fixture other.mp4)"
	run -0 --separate-stderr vs-video list
	[ "${#lines[@]}" -eq 2 ]
	[ "$(jq -r .slug <<<"${lines[0]}")" = derivatives ] # newest first
	[ "$(jq -r .upload_status <<<"${lines[1]}")" = processing ]
	run -0 --separate-stderr vs-video list --format table
	[[ ${lines[0]} == "ID "*"SLUG "*"UPLOAD_STATUS "*"IS_PUBLISHED "*"TITLE" ]]
	# every row's TITLE starts in the header's column
	col=$(awk 'NR == 1 { print index($0, "TITLE") }' <<<"$output")
	[ "$(awk 'NR > 1 { print index($0, $NF) }' <<<"$output" | sort -u)" = "$col" ]
	run -2 --separate-stderr vs-video list --format yaml
	[[ $stderr == *"'yaml' is not json or table"* ]]
}

@test "vs-video list filters by status, publication, category, tag, date and text" {
	run -0 --separate-stderr vs-ingest --title "Derivatives of sums" --slug derivatives --category physics "$(fixture other.mp4)"
	sql "UPDATE videos SET upload_status = 'failed' WHERE slug = 'derivatives'" >/dev/null
	run -0 --separate-stderr vs-video list --status failed
	[ "${#lines[@]}" -eq 1 ]
	[ "$(jq -r .slug <<<"$output")" = derivatives ]
	run -0 --separate-stderr vs-video list --category math
	[ "$(jq -r .slug <<<"$output")" = limits ]
	run -0 --separate-stderr vs-video list --tag calculus
	[ "$(jq -r .slug <<<"$output")" = limits ]
	run -0 --separate-stderr vs-video list --search "OF SUMS"
	[ "$(jq -r .slug <<<"$output")" = derivatives ]
	# hostile text is text: no wildcard, no SQL
	run -0 --separate-stderr vs-video list --search "%' OR 1=1; --"
	[ -z "$output" ]
	run -0 --separate-stderr vs-video list --search "_"
	[ -z "$output" ]
	run -0 --separate-stderr vs-video list --unpublished --limit 1
	[ "${#lines[@]}" -eq 1 ]
	run -0 --separate-stderr vs-video list --published
	[ -z "$output" ]
	run -0 --separate-stderr vs-video list --since 2000-01-01T00:00:00Z
	[ "${#lines[@]}" -eq 2 ]
	run -0 --separate-stderr vs-video list --since "$(($(date +%s) + 3600))"
	[ -z "$output" ]
	run -2 --separate-stderr vs-video list --published --unpublished
	run -2 --separate-stderr vs-video list --since yesterday-ish
}

@test "vs-video show writes the whole video, by id or by slug" {
	run -0 --separate-stderr vs-video show limits
	[ "$(jq -r .id <<<"$output")" = "$ID" ]
	[ "$(jq -r '.tags | join(",")' <<<"$output")" = calculus,math ]
	[ "$(jq -r '.chapters | length' <<<"$output")" = 2 ]
	[ "$(jq -r '.chapters[1].title' <<<"$output")" = Limits ]
	[ "$(jq -r .is_public <<<"$output")" = true ]
	[ "$(jq -r 'has("renditions") and has("job") and has("last_error") and (has("error") | not)' <<<"$output")" = true ]
	run -0 --separate-stderr vs-video show "$ID"
	[ "$(jq -r .slug <<<"$output")" = limits ]
	run -1 --separate-stderr vs-video show no-such-video
	[[ $stderr == *"no video 'no-such-video'"* ]]
	run -1 --separate-stderr vs-video show "x'; DROP TABLE videos; --"
	[ "$(sql "SELECT count(*) FROM videos")" = 1 ]
	run -2 --separate-stderr vs-video show
	[[ $stderr == *"show needs a video id or slug"* ]]
}

@test "vs-video set changes what it is told, checks it as ingest does, and moves updated_at" {
	before=$(sql "SELECT updated_at FROM videos WHERE id = '$ID'")
	run -0 --separate-stderr vs-video set limits --title "Limits, part 1 — 'épsilon'" --tags "limits, ,limits, calculus" --private
	[ "$(jq -r .title <<<"$output")" = "Limits, part 1 — 'épsilon'" ]
	[ "$(sql "SELECT title FROM videos WHERE id = '$ID'")" = "Limits, part 1 — 'épsilon'" ]
	[ "$(sql "SELECT array_to_string(tags, ',') FROM videos WHERE id = '$ID'")" = limits,calculus ]
	[ "$(sql "SELECT is_public FROM videos WHERE id = '$ID'")" = f ]
	[ "$(sql "SELECT category FROM videos WHERE id = '$ID'")" = math ] # untouched
	[ "$(sql "SELECT updated_at > '$before' FROM videos WHERE id = '$ID'")" = t ]
	run -0 --separate-stderr vs-video set limits --public --category ""
	[ "$(sql "SELECT is_public, category IS NULL FROM videos WHERE id = '$ID'")" = "t|t" ]
	run -1 --separate-stderr vs-video set limits --title ""
	[[ $stderr == *"title"* ]]
	run -1 --separate-stderr vs-video set limits --title "$(printf 'a%.0s' {1..501})"
	[[ $stderr == *"longer than 500 characters"* ]]
	run -1 --separate-stderr vs-video set limits --slug "Not A Slug"
	[[ $stderr == *"slug 'Not A Slug' is not valid"* ]]
	run -2 --separate-stderr vs-video set limits --public --private
	run -2 --separate-stderr vs-video set limits
	[[ $stderr == *"nothing to change"* ]]
	[ "$(sql "SELECT title FROM videos WHERE id = '$ID'")" = "Limits, part 1 — 'épsilon'" ]
}

@test "vs-video set --slug renames; another video's slug is a conflict and changes nothing" {
	run -0 --separate-stderr vs-ingest --title "Other" --slug other "$(fixture other.mp4)"
	run -0 --separate-stderr vs-video set limits --slug limits-1
	[ "$(sql "SELECT slug FROM videos WHERE id = '$ID'")" = limits-1 ]
	run -1 --separate-stderr vs-video set limits-1 --slug other --title "Changed"
	[[ $stderr == *"slug 'other' is another video's"* ]]
	[ "$(sql "SELECT slug, title FROM videos WHERE id = '$ID'")" = "limits-1|Limits" ]
}

@test "vs-video chapters replaces them from WebVTT, JSON and FFmpeg metadata, or clears them" {
	printf 'WEBVTT\n\nNOTE made by hand\n\n1\n00:00:00.000 --> 00:00:01.500\nWelcome\n\n00:01.500 --> 00:04.000\nThe limit\n' >ch.vtt
	run -0 --separate-stderr vs-video chapters limits --from ch.vtt
	[ "$(sql "SELECT string_agg(title || '@' || start_time_seconds, ',' ORDER BY chapter_order) FROM video_chapters")" = "Welcome@0,The limit@1.5" ]
	printf '[{"title":"A","start_time_seconds":0},{"title":"B","start":2,"end":3.5}]' >ch.json
	run -0 --separate-stderr vs-video chapters limits --from ch.json
	[ "$(sql "SELECT string_agg(title || '@' || start_time_seconds || '-' || coalesce(end_time_seconds::text, ''), ',' ORDER BY chapter_order) FROM video_chapters")" = "A@0-,B@2-3.5" ]
	ffmpeg -nostdin -loglevel error -i "$(fixture lecture.mp4)" -f ffmetadata meta.txt
	run -0 --separate-stderr vs-video chapters limits --from meta.txt
	[ "$(sql "SELECT string_agg(title, ',' ORDER BY chapter_order) FROM video_chapters")" = "Introduction,Limits" ]
	# GET /videos/:id/chapters reads the same rows
	run -0 --separate-stderr vs-video show limits
	[ "$(jq -r '.chapters[0].title' <<<"$output")" = Introduction ]
	run -0 --separate-stderr vs-video chapters limits --clear
	[ "$(sql "SELECT count(*) FROM video_chapters")" = 0 ]
}

@test "vs-video chapters refuses a broken file, naming the line, and keeps the old ones" {
	printf 'WEBVTT\n\n00:00.000 --> 00:01.000\nOne\n\n00:0x.000 --> 00:02.000\nTwo\n' >bad.vtt
	run -1 --separate-stderr vs-video chapters limits --from bad.vtt
	[[ $stderr == *"'bad.vtt': line 6: not a cue timing"* ]]
	printf '[{"title":"A","start":5},{"title":"B","start":2}]' >back.json
	run -1 --separate-stderr vs-video chapters limits --from back.json
	[[ $stderr == *"chapter 2: start_time_seconds must be a number after the previous"* ]]
	printf 'garbage\n' >garbage.txt
	run -1 --separate-stderr vs-video chapters limits --from garbage.txt
	[[ $stderr == *"not WebVTT, JSON or an FFmpeg metadata file"* ]]
	: >empty.vtt
	run -1 --separate-stderr vs-video chapters limits --from empty.vtt
	run -1 --separate-stderr vs-video chapters limits --from no-such-file
	[[ $stderr == *"no-such-file"* ]]
	[ "$(sql "SELECT string_agg(title, ',' ORDER BY chapter_order) FROM video_chapters")" = "Introduction,Limits" ]
	run -2 --separate-stderr vs-video chapters limits
	run -2 --separate-stderr vs-video chapters limits --clear --from bad.vtt
}

@test "vs-video publish needs a ready video; unpublish hides; delete marks it deleted and removes its objects" {
	run -1 --separate-stderr vs-video publish limits
	[[ $stderr == *"is not ready"* ]]
	[ "$(sql "SELECT is_published FROM videos WHERE id = '$ID'")" = f ]
	sql "UPDATE videos SET upload_status = 'ready' WHERE id = '$ID'" >/dev/null
	run -0 --separate-stderr vs-video publish limits
	[ "$(sql "SELECT is_published, published_at IS NOT NULL FROM videos WHERE id = '$ID'")" = "t|t" ]
	run -0 --separate-stderr vs-video unpublish "$ID"
	[ "$(sql "SELECT is_published FROM videos WHERE id = '$ID'")" = f ]
	mkdir -p "origin/$ID" && touch "origin/$ID/master.m3u8"
	run -0 --separate-stderr vs-video delete limits --to "file://$PWD/origin"
	[ "$(sql "SELECT upload_status FROM videos WHERE id = '$ID'")" = deleted ]
	[ ! -e "origin/$ID" ]
	run -1 --separate-stderr vs-video set limits --title "Gone"
	[[ $stderr == *"no video 'limits'"* ]]
	run -0 --separate-stderr vs-video list
	[ -z "$output" ]
	run -0 --separate-stderr vs-video list --status deleted
	[ "$(jq -r .id <<<"$output")" = "$ID" ]
}

@test "vs-video list --status failed | vs-queue retry gives each failed video its attempts again" {
	sql "UPDATE videos SET upload_status = 'failed' WHERE id = '$ID'" >/dev/null
	sql "INSERT INTO video_jobs (video_id, state, attempts, last_error) VALUES ('$ID', 'failed', 3, 'boom')" >/dev/null
	vs-video list --status failed >failed.ndjson
	run -0 --separate-stderr vs-queue retry <failed.ndjson
	[ "$(sql "SELECT state, attempts FROM video_jobs WHERE video_id = '$ID'")" = "pending|0" ]
	# a record without a failed job: an error record, exit 1
	run -1 --separate-stderr vs-queue retry <failed.ndjson
	[ "$(jq -r .error.code <<<"$output")" = not_found ]
}

@test "vs-video needs a database and says so" {
	run -2 --separate-stderr env -u VS_DATABASE_URL vs-video list
	[[ $stderr == *"list needs a database"* ]]
	run -2 --separate-stderr vs-video frobnicate
	[[ $stderr == *"unknown command 'frobnicate': use list, show, set, chapters, captions, publish, unpublish, delete or gc"* ]]
}
