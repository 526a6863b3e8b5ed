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
	const char *col[28];   /* the columns (SESSION_COLUMNS) as text, or NULL */
	char failovers[32];
	char num[9][32];       /* the numbers */
	char *quality_seconds; /* compact JSON, malloced, or NULL */
	char *last_error;      /* cut to VS_ANALYTICS_ERROR_MAX, malloced */
	char *user_agent;      /* cut to VS_ANALYTICS_UA_MAX, malloced */
	char ip[64];
	char country[3];
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

/*
 * Sessions into video_analytics, in one statement over a set of them,
 * ev(line, SESSION_COLUMNS): a beacon is one, an import's chunk many.
 * Parameters: $1 complete_share, $2 complete_tail_s.
 *
 * A session belongs to its stored row's video and viewer, or else to its
 * first line's; a line of another video or viewer (the same user, or for
 * an anonymous session the same viewer_id) is refused. Each line is
 * bounded as a beacon is (watch and stalled time by the clock and the
 * video, the furthest point by the video), the lines of one session
 * merged, and the merge stored: beacons carry running totals, so the
 * highest counters, the first startup time, the earliest start and the
 * latest end are kept; the player's latest say (quality, bandwidth, last
 * error) wins; what describes the viewer (device, address) is the first.
 * Rows (line, message, code): the lines refused.
 */
#define SESSION_COLUMNS \
	"video, video_id, user_id, viewer_id, session_id, watch, load_ms, buffer_events, buffering_ms, seeks," \
	" switches, errors, max_position, bandwidth, started, quality, quality_seconds, last_error, device_type," \
	" browser, os, user_agent, ip, country_code, t_start, t_end, failovers, origin"

/* the last value by line that is not NULL; the first */
#define LAST(x) "(array_agg(" x " ORDER BY line DESC) FILTER (WHERE " x " IS NOT NULL))[1]"
#define FIRST(x) "(array_agg(" x " ORDER BY line) FILTER (WHERE " x " IS NOT NULL))[1]"

#define ANALYTICS_APPLY(source) \
	"WITH ev AS (" source ")," \
	" res AS (SELECT e.*, coalesce(vi.id, vs.id) AS vid," \
	"   coalesce(vi.duration_exact_seconds, vs.duration_exact_seconds) AS dur" \
	"   FROM ev e LEFT JOIN videos vi ON vi.id = e.video_id" \
	"   LEFT JOIN videos vs ON e.video_id IS NULL AND vs.slug = e.video)," \
	" old AS (SELECT a.session_id, a.video_id, a.user_id, a.viewer_id, a.session_start FROM video_analytics a" \
	"   WHERE a.session_id IN (SELECT session_id FROM res WHERE vid IS NOT NULL))," \
	" own AS (SELECT DISTINCT ON (r.session_id) r.session_id, o.session_id IS NOT NULL AS stored," \
	"   coalesce(o.video_id, r.vid) AS video_id, CASE WHEN o.session_id IS NULL THEN r.user_id ELSE o.user_id END AS user_id," \
	"   CASE WHEN o.session_id IS NULL THEN r.viewer_id ELSE o.viewer_id END AS viewer_id, o.session_start" \
	"   FROM res r LEFT JOIN old o USING (session_id) WHERE r.vid IS NOT NULL ORDER BY r.session_id, r.line)," \
	" m AS (SELECT r.*, w.session_start AS old_start FROM res r JOIN own w USING (session_id)" \
	"   WHERE r.vid = w.video_id AND r.user_id IS NOT DISTINCT FROM w.user_id" \
	"   AND (w.user_id IS NOT NULL OR w.viewer_id IS NULL OR w.viewer_id = r.viewer_id))," \
	/* what a session can have watched: the wall time since it started, \
	 * and for the time before its first beacon the video once more (an \
	 * hour when the duration is unknown) and a minute of heartbeats */ \
	" b AS (SELECT m.*, greatest(0, extract(epoch FROM coalesce(to_timestamp(t_end), now())" \
	"   - coalesce(old_start, to_timestamp(min(t_start) OVER (PARTITION BY session_id)), now())))::float8" \
	"   + coalesce(dur, 3600) + 60 AS bound," \
	"   least(max_position, coalesce(dur, max_position)) AS pos FROM m)," \
	" l AS (SELECT b.*, least(coalesce(watch, 0), bound) AS watch_b," \
	"   least(coalesce(buffering_ms, 0), 1000 * bound)::bigint AS buffering_b," \
	"   coalesce(started, load_ms IS NOT NULL) AS started_b," \
	"   coalesce(CASE WHEN dur > 0 THEN least(100, 100 * max_position / dur) END, 0) AS percent," \
	"   coalesce(pos >= " VS_PROGRESS_THRESHOLD_SQL("dur", "$1::float8", "$2::float8") ", false) AS done FROM b)," \
	" s AS (SELECT session_id, min(vid::text)::uuid AS video_id, min(user_id::text)::uuid AS user_id," \
	"   " FIRST("viewer_id") " AS viewer_id, max(watch_b) AS watch, " FIRST("load_ms") " AS load_ms," \
	"   max(coalesce(buffer_events, 0)) AS buffer_events, max(buffering_b) AS buffering_ms," \
	"   max(coalesce(seeks, 0)) AS seeks, max(coalesce(switches, 0)) AS switches, max(coalesce(errors, 0)) AS errors," \
	"   max(pos) AS pos, " LAST("bandwidth") " AS bandwidth, bool_or(started_b) AS started," \
	"   " LAST("quality") " AS quality, " LAST("quality_seconds") " AS quality_seconds," \
	"   " LAST("last_error") " AS last_error, " FIRST("device_type") " AS device_type," \
	"   " FIRST("browser") " AS browser, " FIRST("os") " AS os, " FIRST("user_agent") " AS user_agent," \
	"   " FIRST("ip") " AS ip, " FIRST("country_code") " AS country_code," \
	"   min(coalesce(to_timestamp(t_start), now())) AS t_start, max(coalesce(to_timestamp(t_end), now())) AS t_end," \
	"   max(percent) AS percent, bool_or(done) AS done, max(coalesce(failovers, 0)) AS failovers," \
	"   " LAST("origin") " AS origin" \
	"   FROM l GROUP BY session_id)," \
	" ins AS (INSERT INTO video_analytics AS a (video_id, user_id, viewer_id, session_id, watch_time_seconds," \
	"   load_time_ms, buffer_events, buffering_time_ms, seek_events, quality_switches, error_count," \
	"   max_position_seconds, bandwidth_kbps, started, quality_selected, quality_seconds, last_error, device_type," \
	"   browser, os, user_agent, ip_address, country_code, session_start, session_end, watched_percent, completed," \
	"   failovers, origin)" \
	"   SELECT video_id, user_id, viewer_id, session_id, watch, load_ms, buffer_events, buffering_ms, seeks, switches," \
	"   errors, pos, bandwidth, started, quality, quality_seconds, last_error, device_type, browser, os, user_agent," \
	"   ip, country_code, t_start, t_end, percent, done, failovers, origin FROM s ORDER BY session_id" \
	"   ON CONFLICT (session_id) DO UPDATE SET" \
	"   watch_time_seconds = greatest(a.watch_time_seconds, EXCLUDED.watch_time_seconds)," \
	"   load_time_ms = coalesce(a.load_time_ms, EXCLUDED.load_time_ms)," \
	"   buffer_events = greatest(a.buffer_events, EXCLUDED.buffer_events)," \
	"   buffering_time_ms = greatest(a.buffering_time_ms, EXCLUDED.buffering_time_ms)," \
	"   seek_events = greatest(a.seek_events, EXCLUDED.seek_events)," \
	"   quality_switches = greatest(a.quality_switches, EXCLUDED.quality_switches)," \
	"   error_count = greatest(a.error_count, EXCLUDED.error_count)," \
	"   max_position_seconds = greatest(a.max_position_seconds, EXCLUDED.max_position_seconds)," \
	"   bandwidth_kbps = coalesce(EXCLUDED.bandwidth_kbps, a.bandwidth_kbps)," \
	"   started = a.started OR EXCLUDED.started," \
	"   watched_percent = greatest(a.watched_percent, EXCLUDED.watched_percent)," \
	"   completed = a.completed OR EXCLUDED.completed," \
	"   quality_selected = coalesce(EXCLUDED.quality_selected, a.quality_selected)," \
	"   failovers = greatest(a.failovers, EXCLUDED.failovers), origin = coalesce(EXCLUDED.origin, a.origin)," \
	"   quality_seconds = coalesce(EXCLUDED.quality_seconds, a.quality_seconds)," \
	"   last_error = coalesce(EXCLUDED.last_error, a.last_error)," \
	"   viewer_id = coalesce(a.viewer_id, EXCLUDED.viewer_id)," \
	"   device_type = coalesce(a.device_type, EXCLUDED.device_type), browser = coalesce(a.browser, EXCLUDED.browser)," \
	"   os = coalesce(a.os, EXCLUDED.os), user_agent = coalesce(a.user_agent, EXCLUDED.user_agent)," \
	"   ip_address = coalesce(a.ip_address, EXCLUDED.ip_address)," \
	"   country_code = coalesce(a.country_code, EXCLUDED.country_code)," \
	"   session_start = least(a.session_start, EXCLUDED.session_start)," \
	"   session_end = greatest(a.session_end, EXCLUDED.session_end)," \
	"   updated_at = now()" \
	"   WHERE a.video_id = EXCLUDED.video_id AND a.user_id IS NOT DISTINCT FROM EXCLUDED.user_id" \
	"   AND (a.user_id IS NOT NULL OR a.viewer_id IS NULL OR a.viewer_id = EXCLUDED.viewer_id)" \
	"   RETURNING a.session_id)" \
	" SELECT line, format('no video ''%s''', video), '" VS_E_NOT_FOUND "' FROM res WHERE vid IS NULL" \
	" UNION ALL SELECT r.line, format('session ''%s'' belongs to another video or viewer', r.session_id)," \
	"   '" VS_E_CONFLICT "' FROM res r WHERE r.vid IS NOT NULL" \
	"   AND (NOT EXISTS (SELECT 1 FROM m WHERE m.line = r.line)" \
	"   OR NOT EXISTS (SELECT 1 FROM ins WHERE ins.session_id = r.session_id))"

/* One session, from parameters $3.. */
static const char q_record[] = ANALYTICS_APPLY(
	"SELECT 1::bigint AS line, $3::text AS video, $4::uuid AS video_id, $5::uuid AS user_id, $6::text AS viewer_id,"
	" $7::text AS session_id, $8::float8 AS watch, $9::int AS load_ms, $10::int AS buffer_events,"
	" $11::bigint AS buffering_ms, $12::int AS seeks, $13::int AS switches, $14::int AS errors,"
	" $15::float8 AS max_position, $16::int AS bandwidth, $17::boolean AS started, $18::text AS quality,"
	" $19::jsonb AS quality_seconds, $20::text AS last_error, $21::text AS device_type, $22::text AS browser,"
	" $23::text AS os, $24::text AS user_agent, $25::inet AS ip, $26::text AS country_code,"
	" $27::float8 AS t_start, $28::float8 AS t_end, $29::int AS failovers, $30::text AS origin");

/* An import's sessions, from its staging table. */
#define STAGE "vs_analytics_stage"
/* in SESSION_COLUMNS' order, after the line */
#define STAGE_COLUMNS \
	"line bigint, video text, video_id uuid, user_id uuid, viewer_id text, session_id text, watch float8," \
	" load_ms int, buffer_events int, buffering_ms bigint, seeks int, switches int, errors int," \
	" max_position float8, bandwidth int, started boolean, quality text, quality_seconds jsonb, last_error text," \
	" device_type text, browser text, os text, user_agent text, ip inet, country_code text, t_start float8," \
	" t_end float8, failovers int, origin text"
static const char q_import[] = ANALYTICS_APPLY("SELECT * FROM " STAGE);

/* The columns of a session as SESSION_COLUMNS orders them. */
enum {
	C_VIDEO, C_VIDEO_ID, C_USER, C_VIEWER, C_SESSION, C_NUMBERS, /* the nine numbers of nums[] */
	C_STARTED = C_NUMBERS + 9, C_QUALITY, C_QUALITY_SECONDS, C_LAST_ERROR, C_DEVICE, C_BROWSER, C_OS,
	C_USER_AGENT, C_IP, C_COUNTRY, C_START, C_END, C_FAILOVERS, C_ORIGIN, C_COUNT
};
_Static_assert(C_COUNT == VS_ARRAY_SIZE(((struct session *)0)->col), "a column each");

/*
 * Reads session o of video (id or slug; NULL for an import: its own) from
 * src into s: s->col[] its columns as text (NULL for SQL NULL), borrowed
 * from o and s. Returns 0 or VS_ERR (a bad session, message set); s is to
 * be released either way.
 */
static int session_read(const json_t *o, const char *video, const struct vs_analytics_source *src, struct session *s)
{
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
	_Static_assert(VS_ARRAY_SIZE(nums) == C_STARTED - C_NUMBERS, "a column a number");
	const char *sid, *viewer, *quality, *device, *browser, *os, *err, *ua, *user, *ip, *country, *origin;
	json_t *started = json_object_get(o, "started");
	struct vs_useragent parsed;
	const char **col = s->col;
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
		if ((ret = number(o, nums[i].key, nums[i].alias, nums[i].integer, nums[i].max, s->num[i],
		                  &col[C_NUMBERS + i])) < 0)
			return ret;
	if (started && !json_is_null(started) && !json_is_boolean(started))
		return vs_fail(VS_ERR, VS_E_INVALID, "'started' must be true or false");
	if ((ret = string(o, "viewer_id", NULL, VS_ANALYTICS_STRING_MAX, false, &viewer)) < 0 ||
	    (ret = string(o, "quality_selected", "quality", VS_ANALYTICS_STRING_MAX, false, &quality)) < 0 ||
	    (ret = string(o, "device_type", NULL, VS_ANALYTICS_STRING_MAX, false, &device)) < 0 ||
	    (ret = string(o, "browser", NULL, VS_ANALYTICS_STRING_MAX, false, &browser)) < 0 ||
	    (ret = string(o, "os", NULL, VS_ANALYTICS_STRING_MAX, false, &os)) < 0 ||
	    (ret = string(o, "country_code", NULL, 2, false, &country)) < 0 ||
	    (ret = string(o, "origin", NULL, VS_ANALYTICS_STRING_MAX, false, &origin)) < 0 ||
	    (ret = number(o, "failovers", NULL, true, VS_ANALYTICS_COUNT_MAX, s->failovers, &col[C_FAILOVERS])) < 0 ||
	    (ret = string(o, "last_error", NULL, VS_ANALYTICS_ERROR_MAX, true, &err)) < 0)
		return ret;
	if (country) {
		/* ISO 3166-1 alpha-2, stored in capitals */
		if (strlen(country) != 2 || !isalpha((unsigned char)country[0]) || !isalpha((unsigned char)country[1]))
			return vs_fail(VS_ERR, VS_E_INVALID, "'country_code' must be two letters (ISO 3166-1)");
		s->country[0] = (char)toupper((unsigned char)country[0]);
		s->country[1] = (char)toupper((unsigned char)country[1]);
	}
	user = src->user;
	ua = src->user_agent;
	ip = src->ip;
	if (src->import) {
		if ((ret = string(o, "user_id", "user", VS_UUID_LEN, true, &user)) < 0 ||
		    (ret = string(o, "user_agent", NULL, VS_ANALYTICS_UA_MAX, true, &ua)) < 0 ||
		    (ret = string(o, "ip_address", "ip", 64, false, &ip)) < 0 ||
		    (ret = when(o, "session_start", "started_at", s->started_at)) < 0 ||
		    (ret = when(o, "session_end", "ended_at", s->ended_at)) < 0)
			return ret;
		if (user && !vs_hash_is_uuid(user))
			return vs_fail(VS_ERR, VS_E_INVALID, "'user_id' must be a UUID");
	}
	if (user && !vs_hash_is_uuid(user))
		user = NULL;
	vs_analytics_ip_keep(ip, src->ip_policy, s->ip, sizeof(s->ip));
	if (src->import && ip && !s->ip[0] && src->ip_policy != VS_ANALYTICS_IP_NONE)
		return vs_fail(VS_ERR, VS_E_INVALID, "'ip_address' is not an IP address");
	if ((ret = quality_seconds(o, &s->quality_seconds)) < 0)
		return ret;
	if (!quality)
		quality = most_watched(json_object_get(o, "quality_seconds"));
	if ((err && !(s->last_error = cut_utf8(err, VS_ANALYTICS_ERROR_MAX))) ||
	    (ua && !(s->user_agent = cut_utf8(ua, VS_ANALYTICS_UA_MAX))))
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	vs_useragent_parse(ua, &parsed);
	col[C_VIDEO] = video;
	col[C_VIDEO_ID] = vs_hash_is_uuid(video) ? video : NULL;
	col[C_USER] = user;
	col[C_VIEWER] = viewer;
	col[C_SESSION] = sid;
	col[C_STARTED] = json_is_boolean(started) ? (json_is_true(started) ? "t" : "f") : NULL;
	col[C_QUALITY] = quality;
	col[C_QUALITY_SECONDS] = s->quality_seconds;
	col[C_LAST_ERROR] = s->last_error;
	col[C_DEVICE] = device ? device : *parsed.device ? parsed.device : NULL;
	col[C_BROWSER] = browser ? browser : *parsed.browser ? parsed.browser : NULL;
	col[C_OS] = os ? os : *parsed.os ? parsed.os : NULL;
	col[C_USER_AGENT] = s->user_agent;
	col[C_IP] = s->ip[0] ? s->ip : NULL;
	col[C_COUNTRY] = s->country[0] ? s->country : NULL;
	col[C_START] = s->started_at[0] ? s->started_at : NULL;
	col[C_END] = s->ended_at[0] ? s->ended_at : NULL;
	col[C_ORIGIN] = origin;
	return 0;
}

/* The completion rules every tool applies, as parameters $1 and $2. */
struct rule_params {
	char share[32], tail[32];
};

static void rule_params(struct rule_params *p)
{
	struct vs_progress_rules rules = VS_PROGRESS_RULES_INIT;

	snprintf(p->share, sizeof(p->share), "%.17g", rules.complete_share);
	snprintf(p->tail, sizeof(p->tail), "%.17g", rules.complete_tail_s);
}

int vs_analytics_record(PGconn *db, const char *video, const json_t *o, const struct vs_analytics_source *src)
{
	struct session s = {0};
	struct rule_params rp;
	const char *p[2 + C_COUNT] = {rp.share, rp.tail};
	PGresult *r = NULL;
	int ret = session_read(o, video, src, &s);

	if (ret == 0) {
		rule_params(&rp);
		memcpy(p + 2, s.col, sizeof(s.col));
		ret = vs_db_exec(db, &r, q_record, (int)VS_ARRAY_SIZE(p), p);
	}
	if (ret == 0 && PQntuples(r) > 0)
		ret = vs_fail(VS_ERR, PQgetvalue(r, 0, 2), "%s", PQgetvalue(r, 0, 1));
	PQclear(r);
	session_release(&s);
	return ret;
}

struct import {
	struct vs_analytics_source src;
};

static int import_row(json_t *o, struct vs_batch_row *row, void *ctx)
{
	struct import *im = ctx;
	struct session s = {0};
	int ret = session_read(o, NULL, &im->src, &s);

	for (int i = 0; ret == 0 && i < C_COUNT; i++)
		vs_batch_text(row, s.col[i]);
	session_release(&s);
	return ret;
}

int vs_analytics_import(PGconn *db, FILE *in, const char *name, enum vs_analytics_ip policy, int *status)
{
	struct import im = {.src = {.import = true, .ip_policy = policy}};
	struct rule_params rp;
	const char *p[] = {rp.share, rp.tail};
	/* nothing of an import stays unless all of it does */
	struct vs_batch b = {.size = 0, .table = STAGE, .columns = STAGE_COLUMNS, .apply = q_import};

	rule_params(&rp);
	b.nparams = VS_ARRAY_SIZE(p);
	b.params = p;
	b.row = import_row;
	b.ctx = &im;
	return vs_batch_import(db, in, name, &b, status);
}
