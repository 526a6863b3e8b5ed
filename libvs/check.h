#ifndef VS_CHECK_H
#define VS_CHECK_H

#include "vs.h"

/*
 * The package validator behind vs-package --check: any HLS package, ours or
 * anyone's, against RFC 8216 and the "must fix" rules of Apple's HLS
 * Authoring Specification.
 *
 * Checks: playlist syntax (#EXTM3U first, known tag forms, a URI after each
 * EXTINF and EXT-X-STREAM-INF); EXT-X-VERSION high enough for the features
 * used; every referenced file present; each EXTINF, rounded, at most
 * EXT-X-TARGETDURATION; EXT-X-ENDLIST; each segment starting with a
 * keyframe; segment boundaries aligned across variants; BANDWIDTH at least
 * the measured peak segment bit rate and at most 10% above it;
 * AVERAGE-BANDWIDTH within 10% of the measured average; RESOLUTION, CODECS
 * and FRAME-RATE present and matching the streams; subtitle renditions
 * (checksubs.c): the groups variants name exist, NAME and URI present,
 * names unique and one default at most in a group, DEFAULT=YES with
 * AUTOSELECT=YES, every WebVTT segment reads, carries an X-TIMESTAMP-MAP
 * that puts its cues within 0.1 s of the video's first frame, and holds no
 * cue outside its own time.
 */

/* Tolerances. */
#define VS_CHECK_BANDWIDTH_SLACK 0.10   /* BANDWIDTH ≤ peak × 1.10 */
#define VS_CHECK_AVERAGE_SLACK 0.10     /* |AVERAGE-BANDWIDTH − average| ≤ 10% */
#define VS_CHECK_ALIGN_TOLERANCE_S 0.010
#define VS_CHECK_FRAME_RATE_TOLERANCE 0.01 /* relative */

/*
 * Validates the package at path (a directory holding master.m3u8 or
 * index.m3u8, or a playlist file) and writes each finding to out as a JSON
 * record {"severity": "error"|"warning", "rule", "file", "message"}, then a
 * summary record {"summary": {"errors", "warnings", "variants",
 * "segments"}}. Returns the number of errors (0: valid).
 */
int vs_check_package(const char *path, FILE *out);

#endif
