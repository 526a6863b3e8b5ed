#ifndef VS_ANALYTICS_H
#define VS_ANALYTICS_H

#include <jansson.h>
#include <libpq-fe.h>

#include "vs.h"

/*
 * Viewing sessions: the one way a session reaches video_analytics, for
 * vs-cgi's POST /videos/:id/analytics and vs-report import.
 *
 * A session is a JSON object of running totals, keyed by session_id, by
 * the names of the plan's video_analytics columns (the older names in
 * brackets are still taken):
 *
 *   session_id            1 to 128 characters (required)
 *   watch_time_seconds    time spent playing
 *   load_time_ms          startup time: play requested to first frame
 *   buffer_events         stalls after the start [buffering_events]
 *   buffering_time_ms     time spent stalled
 *   seek_events           seeks made [seeks]
 *   quality_switches      rendition switches [quality_changes]
 *   bandwidth_kbps        the player's bandwidth estimate
 *   errors                playback errors
 *   max_position_seconds  the furthest point of the video played
 *   started               true once the first frame was shown
 *   quality_selected      the rendition watched most, "720p" [quality]
 *   quality_seconds       {"720p": 300, "360p": 20}: seconds per rendition
 *   last_error            the last error's description
 *   viewer_id             an anonymous viewer's lasting id
 *   country_code          ISO 3166-1 alpha-2 (stored in capitals)
 *   device_type, browser, os   else parsed from the User-Agent
 *
 * and, for imports, video_id (id or slug) [video], user_id (UUID) [user],
 * user_agent, ip_address [ip], session_start [started_at] and session_end
 * [ended_at] (seconds since the epoch or ISO 8601).
 * Numbers must be finite and not negative, and below their ceilings
 * (counters VS_ANALYTICS_COUNT_MAX, load_time_ms ten minutes); watch time
 * and stalled time are clamped to what the clock allows (the wall time
 * since the session started, plus the video's duration and a minute for
 * what came before its first beacon), the furthest point to the duration. Strings
 * have length limits; unknown members are ignored.
 *
 * A repeated beacon of a session updates it, never makes a second one, and
 * only when it comes from the same viewer (the same user, or for an
 * anonymous session the same viewer_id): knowing a session_id is not enough
 * to write another viewer's session or to sign an anonymous one in.
 * counters and the furthest point keep their highest value, the startup
 * time its first, the start and end their earliest and latest.
 */

#define VS_ANALYTICS_STRING_MAX 128   /* session_id, viewer_id, quality, … */
#define VS_ANALYTICS_COUNT_MAX 100000 /* buffer_events, seek_events, quality_switches, errors */
#define VS_ANALYTICS_LOAD_TIME_MAX_MS 600000       /* load_time_ms: ten minutes */
#define VS_ANALYTICS_BANDWIDTH_MAX_KBPS 100000000  /* bandwidth_kbps: 100 Gbit/s */
#define VS_ANALYTICS_ERROR_MAX 500    /* last_error (longer is cut) */
#define VS_ANALYTICS_UA_MAX 512       /* user_agent (longer is cut) */
#define VS_ANALYTICS_QUALITIES_MAX 16 /* entries of quality_seconds */

/* How client addresses are kept (VS_ANALYTICS_IP). */
enum vs_analytics_ip {
	VS_ANALYTICS_IP_TRUNCATE, /* "truncate" (default): the /24 or /48 network */
	VS_ANALYTICS_IP_FULL,     /* "full" */
	VS_ANALYTICS_IP_NONE,     /* "none": not kept */
};

/* Parses "truncate", "full" or "none" (NULL or "" is truncate). */
int vs_analytics_ip_parse(const char *s, enum vs_analytics_ip *out);

/* addr (IPv4 or IPv6 text) kept under policy into out, or "" (not kept,
 * or not an address). */
void vs_analytics_ip_keep(const char *addr, enum vs_analytics_ip policy, char *out, size_t n);

/* Where a session comes from. */
struct vs_analytics_source {
	bool import;              /* the session itself carries user, user_agent,
	                           * ip, started_at and ended_at (vs-report import);
	                           * otherwise the request below, at the time now */
	const char *user;         /* request: the viewer's UUID, or NULL (anonymous) */
	const char *user_agent;   /* request: its User-Agent, or NULL */
	const char *ip;           /* request: the client's address, or NULL */
	enum vs_analytics_ip ip_policy;
};

/*
 * Stores session s (borrowed) of video (id or slug; NULL for an import:
 * the session's video_id): inserts it, or
 * updates the session with that id. Returns 0; VS_ERR with a message
 * naming the member for a bad session, an unknown video, or a session_id
 * that belongs to another video; VS_ETEMP when the database is
 * unreachable. Runs in the caller's transaction if one is open, and a bad
 * session never aborts it (nothing is sent for it).
 */
int vs_analytics_record(PGconn *db, const char *video, const json_t *s, const struct vs_analytics_source *src);

/*
 * vs-report import: the sessions of in (NDJSON; name is used in messages,
 * "stdin") recorded as imports, addresses kept under policy, every valid
 * line in one transaction (libvs/batch, size 0): bad lines reported with
 * their numbers and skipped, a summary record last. Raises *status for
 * each bad line. Returns 0, or VS_ERR/VS_ETEMP when the import ended
 * early (nothing of it stays) or stdout failed, message set.
 */
int vs_analytics_import(PGconn *db, FILE *in, const char *name, enum vs_analytics_ip policy, int *status);

#endif
