#ifndef VS_CHAPTERS_H
#define VS_CHAPTERS_H

#include <jansson.h>

#include "vs.h"

/*
 * Chapter lists from files people already have: WebVTT (a cue per
 * chapter, its first line the title, as chapters.vtt is), JSON (an array,
 * or one record a line, of {"title", "start"|"start_time_seconds",
 * "end"|"end_time_seconds"}) and FFmpeg's metadata files (;FFMETADATA1
 * with [CHAPTER] sections, what ffmpeg -f ffmetadata writes). The format is
 * told from the text.
 */

#define VS_CHAPTERS_FILE_MAX (4 << 20) /* bytes of a chapters file */

/* The chapters of the len bytes at text, not yet checked (vs_meta_chapters
 * does that), as a new array of {"title", "start", "end"}; an error names
 * the line. */
int vs_chapters_parse(const char *text, size_t len, json_t **out);

/* The same, of the file at path (at most VS_CHAPTERS_FILE_MAX bytes); an
 * error names the file and the line. */
int vs_chapters_read_file(const char *path, json_t **out);

#endif
