#include <arpa/inet.h>
#include <ctype.h>
#include <math.h>

#include "analytics.h"
#include "batch.h"
#include "clock.h"
#include "db.h"
#include "error.h"
#include "hash.h"
#include "progress.h"
#include "slug.h"
#include "useragent.h"

/* Counters and times above this are not a viewing session. */
#define NUMBER_MAX 1e9

int vs_analytics_ip_parse(const char *s, enum vs_analytics_ip *out)
{
	if (!s || !*s || !strcmp(s, "truncate"))
		*out = VS_ANALYTICS_IP_TRUNCATE;
	else if (!strcmp(s, "full"))
		*out = VS_ANALYTICS_IP_FULL;
	else if (!strcmp(s, "none"))
		*out = VS_ANALYTICS_IP_NONE;
	else
		return vs_fail(VS_ERR, VS_E_USAGE, "'%s' is not an address policy: use truncate, full or none", s);
	return 0;
}

void vs_analytics_ip_keep(const char *addr, enum vs_analytics_ip policy, char *out, size_t n)
{
	unsigned char b[16];
	int af = 0;

	out[0] = '\0';
	if (!addr || policy == VS_ANALYTICS_IP_NONE)
		return;
	if (inet_pton(AF_INET, addr, b) == 1) {
		af = AF_INET;
		if (policy == VS_ANALYTICS_IP_TRUNCATE)
			b[3] = 0;
	} else if (inet_pton(AF_INET6, addr, b) == 1) {
		af = AF_INET6;
		if (policy == VS_ANALYTICS_IP_TRUNCATE)
			memset(b + 6, 0, 10);
	}
	if (af && !inet_ntop(af, b, out, (socklen_t)n))
		out[0] = '\0';
}

/* ---- reading a session ---- */

struct session {
	char num[12][32];      /* the numbers, as parameters */
	const char *num_param[12];
	char *quality_seconds; /* compact JSON, malloced, or NULL */
	char *last_error;      /* cut to VS_ANALYTICS_ERROR_MAX, malloced */
	char *user_agent;      /* cut to VS_ANALYTICS_UA_MAX, malloced */
	char ip[64];
	char started_at[32], ended_at[32];
};

static void session_release(struct session *s)
{
	free(s->quality_seconds);
	free(s->last_error);
	free(s->user_agent);
}

/* The member key of o, or else the one under its older name alias (may be
 * NULL); *key becomes the name found, for messages. */
static json_t *member(const json_t *o, const char **key, const char *alias)
{
	json_t *v = json_object_get(o, *key);

	if ((!v || json_is_null(v)) && alias && (v = json_object_get(o, alias)))
		*key = alias;
	return v;
}

/* A member that must be a number from 0 to max, if present. */
static int number(const json_t *o, const char *key, const char *alias, bool integer, double max, char out[32],
                  const char **param)
{
	json_t *v = member(o, &key, alias);
	double d;

	*param = NULL;
	if (!v || json_is_null(v))
		return 0;
	d = json_number_value(v);
	if (!json_is_number(v) || !isfinite(d) || d < 0)
		return vs_fail(VS_ERR, VS_E_INVALID, "'%s' must be a number, at least 0", key);
	if (d > max)
		return vs_fail(VS_ERR, VS_E_INVALID, "'%s' is too large (at most %.0f)", key, max);
	snprintf(out, 32, integer ? "%.0f" : "%.3f", integer ? round(d) : d);
	*param = out;
	return 0;
}

/* A member that must be a string (without NUL) of at most max bytes, if
 * present; with cut, longer ones are cut at a character boundary. */
static int string(const json_t *o, const char *key, const char *alias, size_t max, bool cut, const char **out)
{
	json_t *v = member(o, &key, alias);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return vs_fail(VS_ERR, VS_E_INVALID, "'%s' must be a string", key);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return vs_fail(VS_ERR, VS_E_INVALID, "'%s' must not contain NUL characters", key);
	if (json_string_length(v) == 0)
		return 0;
	if (json_string_length(v) > max && !cut)
		return vs_fail(VS_ERR, VS_E_INVALID, "'%s' is longer than %zu bytes", key, max);
	*out = json_string_value(v);
	return 0;
}

/* s cut to at most max bytes, never inside a UTF-8 sequence (malloced). */
static char *cut_utf8(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	return strndup(s, n);
}

static int quality_seconds(const json_t *o, char **out)
{
	json_t *q = json_object_get(o, "quality_seconds"), *v;
	const char *k;

	*out = NULL;
	if (!q || json_is_null(q))
		return 0;
	if (!json_is_object(q) || json_object_size(q) > VS_ANALYTICS_QUALITIES_MAX)
		return vs_fail(VS_ERR, VS_E_INVALID, "'quality_seconds' must be an object of at most %d renditions",
		               VS_ANALYTICS_QUALITIES_MAX);
	json_object_foreach(q, k, v) {
		if (!*k || strlen(k) > VS_ANALYTICS_STRING_MAX)
			return vs_fail(VS_ERR, VS_E_INVALID, "'quality_seconds' has a bad rendition name");
		if (!json_is_number(v) || !isfinite(json_number_value(v)) || json_number_value(v) < 0 ||
		    json_number_value(v) > NUMBER_MAX)
			return vs_fail(VS_ERR, VS_E_INVALID, "'quality_seconds' must map renditions to seconds, at least 0");
	}
	*out = json_dumps(q, JSON_COMPACT | JSON_SORT_KEYS);
	return *out ? 0 : vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
}

/* The rendition with the most seconds in quality_seconds, or NULL. */
static const char *most_watched(const json_t *q)
{
	const char *k, *best = NULL;
	double most = -1;
	json_t *v;

	json_object_foreach((json_t *)q, k, v)
		if (json_number_value(v) > most) {
			most = json_number_value(v);
			best = k;
		}
	return best;
}

static int when(const json_t *o, const char *key, const char *alias, char out[32])
{
	json_t *v = member(o, &key, alias);
	double t;

	out[0] = '\0';
	if (!v || json_is_null(v))
		return 0;
	if (json_is_number(v))
		t = json_number_value(v);
	else if (!json_is_string(v) || vs_clock_parse_time(json_string_value(v), false, 0, &t) < 0)
		return vs_fail(VS_ERR, VS_E_INVALID, "'%s' must be a time: seconds since the epoch or ISO 8601", key);
	if (!isfinite(t) || t < 0 || t > 1e11)
		return vs_fail(VS_ERR, VS_E_INVALID, "'%s' is not a plausible time", key);
	snprintf(out, 32, "%.6f", t);
	return 0;
}

/* Columns, in parameter order after $1 (the video). */
#define COLUMNS \
	"user_id, viewer_id, session_id, watch_time_seconds, load_time_ms, buffer_events," \
	" buffering_time_ms, seek_events, quality_switches, error_count, max_position_seconds, bandwidth_kbps," \
	" started, quality_selected, quality_seconds, last_error, device_type, browser, os, user_agent, ip_address," \
	" country_code, session_start, session_end, watched_percent, completed"
/* What a session can have watched: the wall time since it started (the
 * stored start of a session seen before), and for the time before its
 * first beacon the video once more (an hour when the duration is unknown)
 * and a minute of heartbeats. */
#define WATCH_BOUND \
	"(greatest(0, extract(epoch FROM coalesce(to_timestamp($25::float8), now()) - coalesce(" \
	"(SELECT x.session_start FROM video_analytics x WHERE x.session_id = $4), to_timestamp($24::float8), now())))" \
	" + coalesce(v.duration_exact_seconds, 3600) + 60)"
/* the furthest point is inside the video */
#define POSITION "least($12::float8, coalesce(v.duration_exact_seconds, $12::float8))"
#define VALUES \
	"$2::uuid, $3, $4, least(coalesce($5::float8, 0), " WATCH_BOUND "), $6::int, coalesce($7::int, 0)," \
	" least(coalesce($8::bigint, 0), 1000 * " WATCH_BOUND ")," \
	" coalesce($9::int, 0), coalesce($10::int, 0), coalesce($11::int, 0), " POSITION ", $13::int," \
	" coalesce($14::boolean, $6::int IS NOT NULL), $15," \
	" $16::jsonb, $17, $18, $19, $20, $21, $22::inet, $23, coalesce(to_timestamp($24::float8), now())," \
	" coalesce(to_timestamp($25::float8), now())," \
	" coalesce(CASE WHEN v.duration_exact_seconds > 0 THEN least(100, 100 * $12::float8 / v.duration_exact_seconds) END, 0)," \
	" coalesce(" POSITION " >= " VS_PROGRESS_THRESHOLD_SQL("v.duration_exact_seconds", "$26::float8", "$27::float8") ", false)"
/* beacons carry running totals: the highest counters, the first startup
 * time, the earliest start and the latest end */
#define MERGE \
	" ON CONFLICT (session_id) DO UPDATE SET" \
	" watch_time_seconds = GREATEST(a.watch_time_seconds, EXCLUDED.watch_time_seconds)," \
	" load_time_ms = COALESCE(a.load_time_ms, EXCLUDED.load_time_ms)," \
	" buffer_events = GREATEST(a.buffer_events, EXCLUDED.buffer_events)," \
	" buffering_time_ms = GREATEST(a.buffering_time_ms, EXCLUDED.buffering_time_ms)," \
	" seek_events = GREATEST(a.seek_events, EXCLUDED.seek_events)," \
	" quality_switches = GREATEST(a.quality_switches, EXCLUDED.quality_switches)," \
	" error_count = GREATEST(a.error_count, EXCLUDED.error_count)," \
	" max_position_seconds = GREATEST(a.max_position_seconds, EXCLUDED.max_position_seconds)," \
	" bandwidth_kbps = COALESCE(EXCLUDED.bandwidth_kbps, a.bandwidth_kbps)," \
	" started = a.started OR EXCLUDED.started," \
	" watched_percent = GREATEST(a.watched_percent, EXCLUDED.watched_percent)," \
	" completed = a.completed OR EXCLUDED.completed," \
	" quality_selected = COALESCE(EXCLUDED.quality_selected, a.quality_selected)," \
	" quality_seconds = COALESCE(EXCLUDED.quality_seconds, a.quality_seconds)," \
	" last_error = COALESCE(EXCLUDED.last_error, a.last_error)," \
	" viewer_id = COALESCE(a.viewer_id, EXCLUDED.viewer_id)," \
	" device_type = COALESCE(a.device_type, EXCLUDED.device_type), browser = COALESCE(a.browser, EXCLUDED.browser)," \
	" os = COALESCE(a.os, EXCLUDED.os), user_agent = COALESCE(a.user_agent, EXCLUDED.user_agent)," \
	" ip_address = COALESCE(a.ip_address, EXCLUDED.ip_address)," \
	" country_code = COALESCE(a.country_code, EXCLUDED.country_code)," \
	" session_start = LEAST(a.session_start, EXCLUDED.session_start)," \
	" session_end = GREATEST(a.session_end, EXCLUDED.session_end)," \
	" updated_at = now()" \
	" WHERE a.video_id = EXCLUDED.video_id AND a.user_id IS NOT DISTINCT FROM EXCLUDED.user_id" \
	" AND (a.user_id IS NOT NULL OR a.viewer_id IS NULL OR a.viewer_id = EXCLUDED.viewer_id)" \
	" RETURNING a.id"

static const char q_by_id[] = "INSERT INTO video_analytics AS a (video_id, " COLUMNS ") SELECT v.id, " VALUES
                              " FROM videos v WHERE v.id = $1::uuid" MERGE;
static const char q_by_slug[] = "INSERT INTO video_analytics AS a (video_id, " COLUMNS ") SELECT v.id, " VALUES
                                " FROM videos v WHERE v.slug = $1" MERGE;

int vs_analytics_record(PGconn *db, const char *video, const json_t *o, const struct vs_analytics_source *src)
{
	/* the plan's names, and the older ones still taken */
	/* the plan's names, the older ones still taken, and each figure's
	 * ceiling (watch time and positions are bounded by the video and the
	 * clock in SQL) */
	static const struct {
		const char *key, *alias;
		bool integer;
		double max;
	} nums[] = {
		{"watch_time_seconds", NULL, false, NUMBER_MAX},
		{"load_time_ms", NULL, true, VS_ANALYTICS_LOAD_TIME_MAX_MS},
		{"buffer_events", "buffering_events", true, VS_ANALYTICS_COUNT_MAX},
		{"buffering_time_ms", NULL, true, NUMBER_MAX},
		{"seek_events", "seeks", true, VS_ANALYTICS_COUNT_MAX},
		{"quality_switches", "quality_changes", true, VS_ANALYTICS_COUNT_MAX},
		{"errors", NULL, true, VS_ANALYTICS_COUNT_MAX},
		{"max_position_seconds", NULL, false, NUMBER_MAX},
		{"bandwidth_kbps", NULL, true, VS_ANALYTICS_BANDWIDTH_MAX_KBPS},
	};
	struct session s = {0};
	const char *sid, *viewer, *quality, *device, *browser, *os, *err, *ua, *user, *ip, *country;
	char cc[3] = "";
	json_t *started = json_object_get(o, "started");
	struct vs_useragent parsed;
	struct vs_progress_rules rules = VS_PROGRESS_RULES_INIT;
	char share[32], tail[32];
	PGresult *r = NULL;
	int ret = 0;

	if (!json_is_object(o))
		return vs_fail(VS_ERR, VS_E_INVALID, "a session is a JSON object");
	if (!video && src->import && (ret = string(o, "video_id", "video", VS_SLUG_MAX, false, &video)) < 0)
		return ret;
	if (!video || (!vs_hash_is_uuid(video) && !vs_slug_valid(video)))
		return vs_fail(VS_ERR, VS_E_INVALID, "'video_id' must be a video's id or slug");
	if ((ret = string(o, "session_id", NULL, VS_ANALYTICS_STRING_MAX, false, &sid)) < 0)
		return ret;
	if (!sid)
		return vs_fail(VS_ERR, VS_E_INVALID, "'session_id' must be a string of 1 to %d bytes",
		               VS_ANALYTICS_STRING_MAX);
	for (size_t i = 0; i < VS_ARRAY_SIZE(nums); i++)
		if ((ret = number(o, nums[i].key, nums[i].alias, nums[i].integer, nums[i].max, s.num[i], &s.num_param[i])) < 0)
			return ret;
	if (started && !json_is_null(started) && !json_is_boolean(started))
		return vs_fail(VS_ERR, VS_E_INVALID, "'started' must be true or false");
	if ((ret = string(o, "viewer_id", NULL, VS_ANALYTICS_STRING_MAX, false, &viewer)) < 0 ||
	    (ret = string(o, "quality_selected", "quality", VS_ANALYTICS_STRING_MAX, false, &quality)) < 0 ||
	    (ret = string(o, "device_type", NULL, VS_ANALYTICS_STRING_MAX, false, &device)) < 0 ||
	    (ret = string(o, "browser", NULL, VS_ANALYTICS_STRING_MAX, false, &browser)) < 0 ||
	    (ret = string(o, "os", NULL, VS_ANALYTICS_STRING_MAX, false, &os)) < 0 ||
	    (ret = string(o, "country_code", NULL, 2, false, &country)) < 0 ||
	    (ret = string(o, "last_error", NULL, VS_ANALYTICS_ERROR_MAX, true, &err)) < 0)
		return ret;
	if (country) {
		/* ISO 3166-1 alpha-2, stored in capitals */
		if (strlen(country) != 2 || !isalpha((unsigned char)country[0]) || !isalpha((unsigned char)country[1]))
			return vs_fail(VS_ERR, VS_E_INVALID, "'country_code' must be two letters (ISO 3166-1)");
		cc[0] = (char)toupper((unsigned char)country[0]);
		cc[1] = (char)toupper((unsigned char)country[1]);
	}
	user = src->user;
	ua = src->user_agent;
	ip = src->ip;
	if (src->import) {
		if ((ret = string(o, "user_id", "user", VS_UUID_LEN, true, &user)) < 0 ||
		    (ret = string(o, "user_agent", NULL, VS_ANALYTICS_UA_MAX, true, &ua)) < 0 ||
		    (ret = string(o, "ip_address", "ip", 64, false, &ip)) < 0 ||
		    (ret = when(o, "session_start", "started_at", s.started_at)) < 0 ||
		    (ret = when(o, "session_end", "ended_at", s.ended_at)) < 0)
			return ret;
		if (user && !vs_hash_is_uuid(user))
			return vs_fail(VS_ERR, VS_E_INVALID, "'user_id' must be a UUID");
	}
	if (user && !vs_hash_is_uuid(user))
		user = NULL;
	vs_analytics_ip_keep(ip, src->ip_policy, s.ip, sizeof(s.ip));
	if (src->import && ip && !s.ip[0] && src->ip_policy != VS_ANALYTICS_IP_NONE)
		return vs_fail(VS_ERR, VS_E_INVALID, "'ip_address' is not an IP address");
	if ((ret = quality_seconds(o, &s.quality_seconds)) < 0)
		goto out;
	if (!quality)
		quality = most_watched(json_object_get(o, "quality_seconds"));
	if ((err && !(s.last_error = cut_utf8(err, VS_ANALYTICS_ERROR_MAX))) ||
	    (ua && !(s.user_agent = cut_utf8(ua, VS_ANALYTICS_UA_MAX)))) {
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}
	vs_useragent_parse(ua, &parsed);
	/* completion by the progress rules every tool applies */
	snprintf(share, sizeof(share), "%.6f", rules.complete_share);
	snprintf(tail, sizeof(tail), "%.6f", rules.complete_tail_s);
	{
		const char *p[] = {
			video, user, viewer, sid, s.num_param[0], s.num_param[1], s.num_param[2], s.num_param[3],
			s.num_param[4], s.num_param[5], s.num_param[6], s.num_param[7], s.num_param[8],
			json_is_boolean(started) ? (json_is_true(started) ? "t" : "f") : NULL, quality, s.quality_seconds,
			s.last_error, device ? device : *parsed.device ? parsed.device : NULL,
			browser ? browser : *parsed.browser ? parsed.browser : NULL, os ? os : *parsed.os ? parsed.os : NULL,
			s.user_agent, s.ip[0] ? s.ip : NULL, cc[0] ? cc : NULL, s.started_at[0] ? s.started_at : NULL,
			s.ended_at[0] ? s.ended_at : NULL, share, tail,
		};

		ret = vs_db_exec(db, &r, vs_hash_is_uuid(video) ? q_by_id : q_by_slug, (int)VS_ARRAY_SIZE(p), p);
	}
	if (ret == 0 && PQntuples(r) != 1)
		ret = vs_fail(VS_ERR, VS_E_NOT_FOUND, "no video '%s', or session '%s' belongs to another video or viewer",
		              video, sid);
	PQclear(r);
out:
	session_release(&s);
	return ret;
}

static int import_one(PGconn *db, json_t *s, void *ctx)
{
	return vs_analytics_record(db, NULL, s, ctx);
}

int vs_analytics_import(PGconn *db, FILE *in, const char *name, enum vs_analytics_ip policy, int *status)
{
	struct vs_analytics_source src = {.import = true, .ip_policy = policy};
	/* nothing of an import stays unless all of it does */
	struct vs_batch b = {.size = 0, .store = import_one, .ctx = &src};

	return vs_batch_import(db, in, name, &b, status);
}
