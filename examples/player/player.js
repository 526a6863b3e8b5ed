// The reference player of vs, in plain JavaScript: it reads the lesson and
// a signed stream from vs-cgi, plays it with hls.js (or the browser's own
// HLS), resumes where the viewer stopped, saves progress, and reports the
// viewing session's quality of experience. window.vsPlayer exposes its
// state for tests and for integrators' own code.
'use strict';

(() => {
  // the page's boot script read the address, sent the first request and
  // loads this file, which may arrive before the page is parsed
  const main = () => {
    const root = document.documentElement;
    const boot = window.vsBoot;
    const { api, videoKey, token, params } = boot;
    const authHeaders = boot.headers;

    const HEARTBEAT_MS = 10000;  // progress and analytics while playing
    const BUFFERING_NOTE_MS = 1000; // a stall this long is said in the live region
    const SEEK_STEP_S = 5;       // arrow keys
    const JUMP_S = 10;           // the back and forward buttons
    const SAVER_BUFFER_S = 30;    // and how far ahead it loads

    const $ = (id) => document.getElementById(id);
    const video = $('video');
    const ui = {
      title: $('title'), description: $('description'), player: $('player'), overlay: $('overlay'),
      seek: $('seek'), preview: $('preview'), previewImage: $('preview-image'), previewTime: $('preview-time'),
      play: $('play'), back: $('back'), forward: $('forward'), time: $('time'), mute: $('mute'),
      quality: $('quality'), fullscreen: $('fullscreen'), status: $('status'), chapters: $('chapters'),
      saver: $('saver'), captions: $('captions'), retry: $('retry'),
      volume: $('volume'), more: $('more'), sheet: $('sheet'), speed: $('speed'), ripple: $('ripple'),
    };

    // an anonymous viewer's lasting id, for unique viewers
    let viewerId = localStorage.getItem('vs-viewer');
    if (!viewerId) {
      viewerId = uuid();
      localStorage.setItem('vs-viewer', viewerId);
    }

    const state = {
      engine: null,           // 'hls.js', 'native' (the browser's HLS) or 'mp4' (the fallback)
      hls: null,
      meta: null,             // GET /videos/:id
      stream: null,           // GET /videos/:id/stream (of the origin playing)
      origins: null,          // its origins, when it lists several
      originIndex: 0,         // the one playing
      originFailures: 0,      // its network errors in a row
      resumeFrom: 0,
      resumed: false,
      firstFrameAt: null,     // performance.now() of the first frame
      playRequestedAt: null,
      errors: [],
      fatal: null,
      progressSaved: 0,       // heartbeats answered 200
      lastProgress: null,
      level: -1,              // the rendition playing (hls.js index)
      levelLabels: [],
      storyboard: [],         // [{start, end, x, y, w, h}]
      captions: [],           // stream.captions: {language, label, kind, default, url}
      caption: -1,            // the one showing
      lastCaption: null,      // the last one shown, for the c key
      storyboardImage: null,
      // the analytics session: running totals
      session: {
        session_id: uuid(), viewer_id: viewerId, watch_time_seconds: 0, buffer_events: 0,
        buffering_time_ms: 0, seek_events: 0, quality_switches: 0, errors: 0, max_position_seconds: 0,
        started: false, quality_seconds: {}, origin: null, failovers: 0,
      },
    };
    window.vsPlayer = { state, video };

    function uuid() {
      if (crypto.randomUUID) return crypto.randomUUID();
      const b = crypto.getRandomValues(new Uint8Array(16));
      b[6] = (b[6] & 0x0f) | 0x40;
      b[8] = (b[8] & 0x3f) | 0x80;
      const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    }

    function clock(s) {
      if (!isFinite(s) || s < 0) s = 0;
      s = Math.floor(s);
      const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = String(s % 60).padStart(2, '0');
      return h ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
    }

    function say(text) { ui.status.textContent = text || ''; }

    function overlay(text) {
      ui.overlay.textContent = text || '';
      ui.overlay.hidden = !text;
    }

    // ---- progress and analytics ----

    function progressURL(withToken) {
      const u = `${api}/videos/${encodeURIComponent(state.meta.id)}/progress`;
      // sendBeacon cannot send headers: the token goes in the query (RFC 6750 2.3)
      return withToken && token ? `${u}?access_token=${encodeURIComponent(token)}` : u;
    }

    function saveProgress(leaving) {
      if (!token || !state.meta || !state.session.started) return;
      const body = JSON.stringify({ current_time: Math.min(video.currentTime || 0, state.meta.duration || Infinity) });
      if (leaving && navigator.sendBeacon) {
        navigator.sendBeacon(progressURL(true), new Blob([body], { type: 'text/plain' }));
        return;
      }
      fetch(progressURL(false), {
        method: 'POST', keepalive: !!leaving, headers: { ...authHeaders, 'Content-Type': 'application/json' }, body,
      }).then(async (r) => {
        if (r.ok) {
          state.progressSaved++;
          state.lastProgress = await r.json();
        }
      }).catch(() => { /* the next heartbeat tries again */ });
    }

    function sendSession() {
      if (!state.meta) return;
      const s = state.session;
      s.max_position_seconds = Math.max(s.max_position_seconds, video.currentTime || 0);
      const label = state.levelLabels[state.level];
      if (label) s.quality_selected = label;
      if (state.hls && Number.isFinite(state.hls.bandwidthEstimate)) s.bandwidth_kbps = Math.round(state.hls.bandwidthEstimate / 1000);
      const body = JSON.stringify(s);
      // the viewer's token in the query: beacons cannot send headers (RFC 6750 2.3)
      const url = `${api}/videos/${encodeURIComponent(state.meta.id)}/analytics` +
        (token ? `?access_token=${encodeURIComponent(token)}` : '');
      // text/plain: a simple request, which sendBeacon may send anywhere
      if (!(navigator.sendBeacon && navigator.sendBeacon(url, new Blob([body], { type: 'text/plain' })))) {
        fetch(url, { method: 'POST', keepalive: true, headers: { 'Content-Type': 'application/json' }, body })
          .catch(() => {});
      }
    }

    function heartbeat(leaving) {
      saveProgress(leaving);
      sendSession();
    }

    let heartbeatTimer = null;
    function startHeartbeat() {
      if (!heartbeatTimer) heartbeatTimer = setInterval(() => heartbeat(false), HEARTBEAT_MS);
    }
    function stopHeartbeat() {
      clearInterval(heartbeatTimer);
      heartbeatTimer = null;
    }

    // ---- watch time, buffering, quality time ----

    let lastTick = null, bufferingSince = null, lastQualityTick = null;

    function tick() {
      const now = performance.now();
      if (lastTick !== null && !video.paused && !video.seeking && bufferingSince === null) {
        const dt = Math.min((now - lastTick) / 1000, 1);
        state.session.watch_time_seconds = round(state.session.watch_time_seconds + dt * video.playbackRate);
        const label = state.levelLabels[state.level];
        if (label) state.session.quality_seconds[label] = round((state.session.quality_seconds[label] || 0) + dt);
      }
      lastTick = now;
      state.session.max_position_seconds = Math.max(state.session.max_position_seconds, video.currentTime || 0);
    }

    function round(x) { return Math.round(x * 1000) / 1000; }

    // ---- the first segments, asked for before hls.js arrived ----

    const { prefetched, prefetch, text, startRung, SAVER_MAX_HEIGHT } = boot;

    // hls.js's own loader, first looking among the responses the page's
    // boot script fetched ahead (window.vsBoot)
    function prefetchingLoader(Base) {
      return class extends Base {
        loadInternal() {
          const ctx = this.context, hit = ctx && !ctx.rangeEnd && prefetched.get(ctx.url);
          if (!hit) {
            super.loadInternal();
            watchBytes(this.loader);
            return;
          }
          prefetched.delete(ctx.url);
          this.prefetch = hit;
          const stats = this.stats;
          stats.aborted = false;
          hit.then((r) => {
            if (this.prefetch !== hit || stats.aborted || !this.callbacks) return;
            this.prefetch = null;
            if (!r) return super.loadInternal(); // failed: ask again, hls.js's way
            const data = ctx.responseType === 'arraybuffer' ? r.data : new TextDecoder().decode(r.data);
            stats.loading.start = Math.min(stats.loading.start, r.start);
            stats.loading.first = Math.max(r.first, stats.loading.start);
            stats.loading.end = Math.max(r.end, stats.loading.first);
            stats.loaded = stats.total = r.data.byteLength;
            stats.bwEstimate = (stats.total * 8000) / Math.max(1, stats.loading.end - stats.loading.first);
            this.callbacks.onSuccess({ url: r.url, data, code: 200 }, stats, ctx, null);
          });
        }

        abortInternal() {
          this.prefetch = null;
          super.abortInternal();
        }
      };
    }

    // ---- a dead link: loads in flight, and no byte for a while ----
    //
    // A link that goes away mid-transfer (a tunnel) fails nothing: the
    // requests just stop receiving, and hls.js would wait out its whole load
    // time-out. Every request's progress is watched; none for DEAD_LINK_MS
    // while some are in flight is the network gone (below: offline).

    const DEAD_LINK_MS = 5000;
    const DEAD_LINK_FAILOVER_MS = 3000; // sooner when another origin may serve
    const inFlight = new Set();
    let lastByteAt = performance.now();

    function watchBytes(xhr) {
      if (!xhr || !xhr.addEventListener) return;
      if (!inFlight.size) lastByteAt = performance.now();
      inFlight.add(xhr);
      const seen = () => { lastByteAt = performance.now(); };
      xhr.addEventListener('progress', seen);
      xhr.addEventListener('loadend', () => { inFlight.delete(xhr); seen(); });
    }

    setInterval(() => {
      const limit = state.origins ? DEAD_LINK_FAILOVER_MS : DEAD_LINK_MS;
      if (inFlight.size && !state.trouble && performance.now() - lastByteAt > limit) waitForNetwork('dead link');
    }, 1000);

    // ---- the bandwidth for the next visit's start, and the data saver ----

    function rememberBandwidth() {
      const bps = state.hls && state.hls.bandwidthEstimate;
      if (Number.isFinite(bps) && bps > 0 && state.firstFrameAt !== null) {
        localStorage.setItem('vs-bandwidth', JSON.stringify({ bps: Math.round(bps), at: Date.now() }));
      }
    }

    // ---- adaptation on a phone's link ----
    //
    // A learner on a train loses the link for tens of seconds (a tunnel, a
    // crowded cell) and gets it back. What carries the lesson through is
    // what is buffered, so hls.js keeps BUFFER_S ahead: twice the longest
    // fade. Not more: hls.js's own defaults (30 s, but up to 600 s of a low
    // rung) fill minutes ahead with the rung of the moment, which is never
    // replaced, and which a viewer who leaves never sees (bench-abr: a
    // 180 s cap kept a lesson at 360p on a link that carried 720p). The
    // share of the bandwidth estimate a rung may take follows the buffer:
    // a deep one covers a wrong guess, so the player climbs sooner; a thin
    // one keeps a margin. hls.js reads the factors at each choice (its
    // defaults: 0.95, and 0.7 to climb).

    const BUFFER_S = 60;
    const ABR_EWMA_FAST_S = 2;
    const ABR_EWMA_SLOW_S = 4;
    const ABR_MARGINS = [ // [buffered ahead, s, at least; share a rung may take; share to climb to it]
      [40, 1.0, 1.0], [15, 0.95, 0.8], [0, 0.85, 0.65],
    ];

    function bufferedAhead() {
      const b = video.buffered, t = video.currentTime;
      for (let i = 0; i < b.length; i++) if (b.start(i) <= t + 0.5 && t < b.end(i)) return b.end(i) - t;
      return 0;
    }

    function tuneAbr() {
      if (!state.hls) return;
      const ahead = bufferedAhead();
      const [, down, up] = ABR_MARGINS.find(([s]) => ahead >= s);
      state.hls.config.abrBandWidthFactor = down;
      state.hls.config.abrBandWidthUpFactor = up;
    }

    // ---- playback ----

    function playbackError(text, detail) {
      state.fatal = detail || text;
      state.session.errors++;
      state.session.last_error = String(detail || text).slice(0, 500);
      overlay(text);
      say(text);
      sendSession();
    }

    // ---- when something goes wrong: each kind, and what the player does ----
    //
    //  kind     what it is                            what the player does
    //  network  a playlist, segment or key that does  hls.js asks again (loadPolicy: NET_RETRIES
    //           not come: no answer, a refused        times, 0.5 s doubling to 2 s); the live
    //           connection, 408, 429, 5xx, time-out   region says "Reconnecting…"
    //  offline  the browser's offline event, or       loading stops, "Offline — waiting for the
    //           hls.js gave up on the network         network."; the master playlist is asked for
    //                                                 every PROBE_MS (with jitter), and at once on
    //                                                 the online event: loading starts again where
    //                                                 it was, without a reload; a Retry button
    //                                                 after RETRY_BUTTON_MS
    //  expired  401 or 403 on a playlist, segment or  /stream asked for again (a learner paused
    //           key: the signature ran out            for hours, a lesson longer than the URLs
    //                                                 live): the new URLs at the same position
    //                                                 and rung, nothing said; more than RESIGN_MAX
    //                                                 in a minute is the lesson error below
    //  media    a fatal decoding error                recoverMediaError, then swapAudioCodec, then
    //                                                 the source anew at the position; a rung that
    //                                                 fails twice is dropped
    //  origin   with several origins (/stream's       the next origin that answers its master
    //           origins: VS_PUBLIC_BASE_URL lists     playlist, at the same position and rung, at
    //           them), ORIGIN_FAILURES network        once; none answering: offline, above, every
    //           errors in a row on the one playing,   probe asking each origin; the beacon says
    //           or its link dead DEAD_LINK_FAILOVER_MS origin and failovers
    //  lesson   404 lesson, 401 from the API, no way  a message that says what to do
    //           to play HLS here, keys refused

    const NET_RETRIES = 6;           // hls.js's own attempts at one load, 0.5 s doubling to 2 s apart
    const PLAYLIST_LOAD_MS = 15000;  // the longest a playlist or key may take to load
    const SEGMENT_LOAD_MS = 30000;   // and a segment (a 2 s segment at 0.1 Mbit/s takes ~10 s)
    const FIRST_BYTE_MS = 8000;      // no answer this long: a time-out
    const PROBE_MS = 1500;           // offline: how often the network is looked at
    const PROBE_TIMEOUT_MS = 4000;
    const RETRY_BUTTON_MS = 20000;   // offline this long: a Retry button too
    const RESIGN_MAX = 3;            // new signatures in a minute, at most
    const MEDIA_ERRORS_WINDOW_MS = 30000;
    const ORIGIN_FAILURES = 2;       // network errors in a row on one origin before the next is asked

    // hls.js retries timeouts and 5xx itself; refused connections (status
    // 0) only when the browser says it is offline: here those too, and 408
    // and 429, never another 4xx (a 401 or 403 is a signature to renew)
    const retryable = (r) => { const c = r && r.code; return !c || c === 408 || c === 429 || c >= 500; };
    const netRetry = {
      maxNumRetry: NET_RETRIES, retryDelayMs: 500, maxRetryDelayMs: 2000, backoff: 'exponential',
      shouldRetry: (cfg, n, timeout, response) => n < cfg.maxNumRetry && (timeout || retryable(response)),
    };
    function loadPolicy(maxLoadTimeMs) {
      return { default: { maxTimeToFirstByteMs: FIRST_BYTE_MS, maxLoadTimeMs, timeoutRetry: netRetry, errorRetry: netRetry } };
    }

    // a content key is given for the stream's token only (vs-cgi's key endpoint)
    function keyWithToken(url) {
      if (!state.stream || !state.stream.token || !/\/videos\/[^/?#]+\/key(\?|$)/.test(url)) return url;
      const u = new URL(url, location.href);
      u.searchParams.set('token', state.stream.token);
      return u.href;
    }

    // where to come back to: the position, the rung playing, the viewer's rung
    function here() {
      const h = state.hls;
      return { at: video.currentTime || state.resumeFrom || 0, level: h ? h.currentLevel : state.level,
        manual: h && !h.autoLevelEnabled ? h.loadLevel : (state.engine === 'native' ? state.level : -1),
        playing: !video.paused || (state.firstFrameAt === null && params.get('autoplay') !== '0') };
    }

    function onHlsError(data) {
      const Hls = window.Hls, status = data.response && data.response.code;
      const what = `${data.type}:${data.details}${status ? ':' + status : ''}`;
      state.errors.push(what + (data.error && data.error.message ? ` (${data.error.message})` : ''));
      if (data.type === Hls.ErrorTypes.NETWORK_ERROR) {
        if (status === 401 || status === 403) {
          // a request of the signature already replaced: not news
          const failed = (data.context && data.context.url) || (data.frag && data.frag.url) || '';
          const base = streamBase();
          const key = /\/key(\?|$)/.test(failed) || data.details === Hls.ErrorDetails.KEY_LOAD_ERROR;
          if (failed && !failed.startsWith(base) && !key) return;
          // a key refused for a token just renewed: not an expiry
          if (key && (state.keyRefusals = (state.keyRefusals || 0) + 1) > 1) {
            playbackError('The key to this protected lesson was refused: reload the page, or sign in again.', what);
            state.hls.destroy();
            return;
          }
          return resign(what);
        }
        // a failure of the origin playing (not of the API's key endpoint,
        // nor a late one of an origin left)
        const failed = (data.context && data.context.url) || (data.frag && data.frag.url) || '';
        if (state.origins && failed.startsWith(streamBase()) && ++state.originFailures >= ORIGIN_FAILURES) {
          return failover(what);
        }
        if (!data.fatal) {
          if (!state.trouble) {
            state.trouble = 'network';
            say('Reconnecting…');
          }
          return;
        }
        return waitForNetwork(what);
      }
      if (!data.fatal) return; // hls.js deals with gaps, stalls and the like itself
      if (data.type === Hls.ErrorTypes.MEDIA_ERROR) return recoverMedia(data, what);
      playbackError('The video cannot be played.', what);
      state.hls.destroy();
    }

    // a trouble over: loading goes on
    function settled() {
      if (!state.trouble) return;
      state.trouble = null;
      clearTimeout(state.probeTimer);
      clearTimeout(state.retryTimer);
      ui.retry.hidden = true;
      if (/^(Reconnecting|Offline)/.test(ui.status.textContent)) say('Reconnected.');
    }

    function waitForNetwork(what, noFailover) {
      if (state.trouble === 'offline') return;
      if (state.origins && !noFailover && what !== 'offline' && navigator.onLine !== false) return failover(what);
      if (state.trouble !== 'network' || !state.back) state.back = here();
      state.trouble = 'offline';
      state.session.reconnects = (state.session.reconnects || 0) + 1;
      if (state.hls) state.hls.stopLoad();
      say('Offline — waiting for the network.');
      clearTimeout(state.retryTimer);
      state.retryTimer = setTimeout(() => { if (state.trouble === 'offline') ui.retry.hidden = false; }, RETRY_BUTTON_MS);
      scheduleProbe();
      if (what !== 'offline' && navigator.onLine !== false) probe();
    }

    function scheduleProbe() {
      clearTimeout(state.probeTimer);
      state.probeTimer = setTimeout(probe, PROBE_MS * (0.75 + Math.random() * 0.5));
    }

    // is the network back? the master playlist tells (and whether the
    // signature still holds)
    async function probe() {
      if (state.trouble !== 'offline' || state.probing) return;
      state.probing = true;
      let status = 0;
      const ctl = new AbortController(), timer = setTimeout(() => ctl.abort(), PROBE_TIMEOUT_MS);
      try {
        status = (await fetch(state.stream.stream_url, { cache: 'no-store', signal: ctl.signal })).status;
      } catch (e) { status = 0; }
      clearTimeout(timer);
      state.probing = false;
      if (state.trouble !== 'offline') return;
      if (status >= 200 && status < 300) return resumeLoading();
      if (status === 401 || status === 403) {
        state.trouble = null;
        ui.retry.hidden = true;
        return resign(`probe:${status}`);
      }
      // the origin playing is down: another may not be
      if (state.origins && navigator.onLine !== false) {
        state.probing = true;
        const i = await answering(otherOrigins());
        state.probing = false;
        if (state.trouble !== 'offline') return;
        if (i >= 0) return switchOrigin(i, state.back || here());
      }
      scheduleProbe();
    }

    // ---- several origins (VS_PUBLIC_BASE_URL names them, /stream signs each) ----

    // the master playlists' directory of the stream playing
    function streamBase() { return state.stream.stream_url.replace(/master\.m3u8(\?.*)?$/, ''); }

    // an answer of /stream taken: the origin playing kept when it lists several
    function useStream(s) {
      const list = s.origins && s.origins.length > 1 ? s.origins : null;
      state.origins = list;
      state.originIndex = list ? Math.min(state.originIndex, list.length - 1) : 0;
      state.stream = list ? { ...list[state.originIndex], origins: list } : s;
      state.originFailures = 0;
      try {
        state.session.origin = new URL(state.stream.stream_url, location.href).origin;
      } catch (e) { state.session.origin = null; }
    }

    function otherOrigins() {
      return state.origins ? state.origins.map((o, i) => i).filter((i) => i !== state.originIndex) : [];
    }

    // the first of the origins (indexes) whose master playlist answers 2xx
    // within PROBE_TIMEOUT_MS, or -1
    async function answering(indexes) {
      const ask = async (i) => {
        const ctl = new AbortController(), timer = setTimeout(() => ctl.abort(), PROBE_TIMEOUT_MS);
        try {
          const r = await fetch(state.origins[i].stream_url, { cache: 'no-store', signal: ctl.signal });
          if (!r.ok) throw new Error(String(r.status));
          return i;
        } finally {
          clearTimeout(timer);
        }
      };
      try {
        return await Promise.any(indexes.map(ask));
      } catch (e) {
        return -1;
      }
    }

    // the origin playing fails: the next that answers, at once; none: offline
    async function failover(what) {
      if (state.failingOver) return;
      state.failingOver = true;
      const back = state.back || here();
      if (state.hls) state.hls.stopLoad();
      if (!state.trouble) {
        state.trouble = 'network';
        say('Reconnecting…');
      }
      const i = await answering(otherOrigins());
      state.failingOver = false;
      if (i < 0) {
        state.back = back;
        state.originFailures = 0;
        return waitForNetwork(what, true);
      }
      switchOrigin(i, back);
    }

    function switchOrigin(i, back) {
      state.originIndex = i;
      useStream({ origins: state.origins });
      state.session.failovers = (state.session.failovers || 0) + 1;
      state.back = null;
      state.trouble = 'network'; // until a segment comes
      settled();
      reload(back);
      sendSession();
    }

    function resumeLoading() {
      const back = state.back || here();
      state.back = null;
      state.trouble = 'network'; // until a segment comes
      settled();
      const h = state.hls;
      if (h && h.levels && h.levels.length) {
        h.startLoad(back.at);
      } else {
        reload(back);
      }
      if (video.paused && state.firstFrameAt === null) video.play().catch(() => {});
    }

    // the stream signed anew (the old signature expired), loaded where it was
    async function resign(what) {
      const now = Date.now();
      state.resigns = (state.resigns || []).filter((t) => now - t < 60000);
      if (state.resigns.length >= RESIGN_MAX) {
        playbackError('This lesson cannot be loaded now: reload the page.', `expired:${what}`);
        if (state.hls) state.hls.destroy();
        return;
      }
      if (state.resigning) return;
      state.resigns.push(now);
      state.resigning = true;
      const back = state.back || here();
      state.back = null;
      let r = null;
      try {
        r = await fetch(`${api}/videos/${encodeURIComponent(state.meta.id)}/stream`,
          { headers: authHeaders, credentials: 'same-origin', cache: 'no-store' });
      } catch (e) { r = null; }
      state.resigning = false;
      if (!r) {
        state.back = back;
        return waitForNetwork(`resign:${what}`);
      }
      if (r.status === 401 || r.status === 403) {
        playbackError('Sign in again to go on watching.', `resign:${r.status}`);
        if (state.hls) state.hls.destroy();
        return;
      }
      if (!r.ok) {
        playbackError(r.status === 404 ? 'This lesson is no longer available.' : 'The lesson cannot be loaded now. Try again later.',
          `resign:${r.status}`);
        if (state.hls) state.hls.destroy();
        return;
      }
      useStream(await r.json());
      state.session.resigned = (state.session.resigned || 0) + 1;
      reload(back);
    }

    // the current stream's source anew, at back's position and rung
    function reload(back) {
      if (state.engine === 'hls.js' && state.hls) {
        state.restart = back;
        state.hls.stopLoad();
        state.hls.loadSource(state.stream.stream_url);
      } else if (state.engine === 'native' || state.engine === 'mp4') {
        const playing = !video.paused || state.firstFrameAt === null;
        const q = back.manual >= 0 && state.stream.qualities ? state.stream.qualities[back.manual] : null;
        if (state.engine === 'mp4') video.src = state.stream.fallback ? state.stream.fallback.url : video.src;
        else video.src = q ? q.url : state.stream.stream_url;
        video.addEventListener('loadedmetadata', () => {
          video.currentTime = back.at;
          if (playing) video.play().catch(() => {});
        }, { once: true });
      }
    }

    function recoverMedia(data, what) {
      const hls = state.hls, now = performance.now();
      state.mediaErrors = (state.mediaErrors || []).filter((t) => now - t < MEDIA_ERRORS_WINDOW_MS);
      state.mediaErrors.push(now);
      // a rung that fails to decode twice is dropped, while others remain
      const level = data.frag && data.frag.level >= 0 ? data.frag.level : hls.currentLevel;
      state.badRungs = state.badRungs || {};
      if (level >= 0 && hls.levels.length > 1 && (state.badRungs[level] = (state.badRungs[level] || 0) + 1) >= 2) {
        state.badRungs = {};
        state.mediaErrors = [];
        const back = here();
        hls.removeLevel(level);
        say(`The ${state.levelLabels[level] || 'rung'} picture cannot be decoded here: skipped.`);
        state.levelLabels.splice(level, 1);
        fillQualityMenu(hls.levels.map((l, i) => ({ value: i, label: state.levelLabels[i], height: l.height })));
        hls.startLoad(back.at);
        return;
      }
      switch (state.mediaErrors.length) {
        case 1: hls.recoverMediaError(); break;
        case 2: hls.swapAudioCodec(); hls.recoverMediaError(); break;
        case 3: reload(here()); break;
        default:
          playbackError('The video cannot be played.', what);
          hls.destroy();
      }
    }

    // hls.js where the browser has MSE (unless ?engine=native), else the
    // browser's own HLS (Safari's path)
    function useHlsJs() {
      return params.get('engine') !== 'native' && !!window.Hls && window.Hls.isSupported();
    }

    function attach(url) {
      const Hls = window.Hls;
      if (useHlsJs()) {
        state.engine = 'hls.js';
        const hls = new Hls({
          autoStartLoad: false, testBandwidth: false, capLevelToPlayerSize: false,
          // the captions are the page's own <track>s (the full build would add its own)
          enableWebVTT: false, enableCEA708Captions: false, subtitleDisplay: false,
          loader: prefetchingLoader(Hls.DefaultConfig.loader),
          // a content key is the viewer's only with the stream's token (the
          // request opened here, so that hls.js keeps the key's own URI)
          xhrSetup: (xhr, u) => { const t = keyWithToken(u); if (t !== u) xhr.open('GET', t, true); },
          manifestLoadPolicy: loadPolicy(PLAYLIST_LOAD_MS), playlistLoadPolicy: loadPolicy(PLAYLIST_LOAD_MS),
          fragLoadPolicy: loadPolicy(SEGMENT_LOAD_MS), keyLoadPolicy: loadPolicy(PLAYLIST_LOAD_MS),
          maxBufferLength: BUFFER_S, maxMaxBufferLength: BUFFER_S,
          // shorter memories of the bandwidth (its defaults: 3 s and 9 s of
          // loading): a segment that crawled through a fade weighs its whole
          // load time, and held the estimate down for a minute after it
          abrEwmaFastVoD: ABR_EWMA_FAST_S, abrEwmaSlowVoD: ABR_EWMA_SLOW_S,
          // before its first measure, the last session's (the start rung is chosen from it too)
          abrEwmaDefaultEstimate: boot.rememberedBandwidth() || Hls.DefaultConfig.abrEwmaDefaultEstimate,
        });
        state.hls = hls;
        hls.on(Hls.Events.MANIFEST_PARSED, (e, data) => {
          const again = state.restart; // a source loaded anew (a new signature): where it was
          state.restart = null;
          state.levelLabels = data.levels.map((l) => (l.height ? `${l.height}p` : `${Math.round(l.bitrate / 1000)}k`));
          fillQualityMenu(data.levels.map((l, i) => ({ value: i, label: state.levelLabels[i], height: l.height })));
          if (again) {
            if (again.level >= 0 && again.level < data.levels.length) hls.startLevel = again.level;
            if (again.manual >= 0) ui.quality.value = String(again.manual);
            applySaver();
            hls.startLoad(again.at);
            if (again.manual >= 0) hls.nextLevel = again.manual;
            // a source anew starts paused: as it was
            if (again.playing) video.play().catch(() => {});
            return;
          }
          // the rung prefetched for the start, and the data saver's cap
          const start = data.levels.findIndex((l) => l.url.includes(state.startURL));
          if (start >= 0) hls.startLevel = start;
          applySaver();
          hls.startLoad(state.resumed ? state.resumeFrom : -1);
        });
        hls.on(Hls.Events.FRAG_BUFFERED, tuneAbr);
        hls.on(Hls.Events.FRAG_LOADED, () => {
          state.originFailures = 0;
          if (state.trouble === 'network') settled();
        });
        hls.on(Hls.Events.KEY_LOADED, () => { state.keyRefusals = 0; });
        hls.on(Hls.Events.LEVEL_SWITCHED, (e, data) => {
          if (state.level !== -1 && data.level !== state.level) state.session.quality_switches++;
          state.level = data.level;
        });
        hls.on(Hls.Events.ERROR, (e, data) => onHlsError(data));
        hls.loadSource(url);
        hls.attachMedia(video);
      } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
        state.engine = 'native';
        const qualities = state.stream.qualities || [];
        state.levelLabels = qualities.map((q) => q.label);
        fillQualityMenu(qualities.map((q, i) => ({ value: i, label: q.label, height: q.height })));
        // the data saver plays the capped rung's own playlist
        const capped = state.saver ? startRung(qualities, state.saver) : null;
        if (capped) {
          state.level = qualities.indexOf(capped);
          ui.quality.value = String(state.level);
        }
        video.src = capped ? capped.url : url;
      } else if (state.stream.fallback && video.canPlayType('video/mp4')) {
        // neither MSE nor HLS (an old phone, a locked-down browser): the
        // lowest rung whole, a progressive MP4, signed as the rest
        state.engine = 'mp4';
        const f = state.stream.fallback;
        state.levelLabels = [f.quality_label || 'MP4'];
        state.level = 0;
        fillQualityMenu([{ value: 0, label: state.levelLabels[0], height: f.resolution_height }]);
        ui.quality.value = '0';
        ui.quality.disabled = true;
        video.src = f.url;
      } else {
        playbackError('This browser cannot play this video: it has neither Media Source Extensions nor HLS.', 'no HLS');
      }
    }

    // the highest rung index the data saver allows (-1: no cap)
    function saverCap() {
      if (!state.saver || !state.hls) return -1;
      let cap = 0;
      state.hls.levels.forEach((l, i) => { if (!l.height || l.height <= SAVER_MAX_HEIGHT) cap = i; });
      return cap;
    }

    function applySaver() {
      ui.saver.setAttribute('aria-pressed', String(state.saver));
      ui.quality.querySelectorAll('option').forEach((o) => {
        o.disabled = state.saver && Number(o.dataset.height) > SAVER_MAX_HEIGHT;
      });
      const hls = state.hls, cap = saverCap();
      if (!hls) return;
      hls.autoLevelCapping = cap;
      // no more than half a minute ahead: what a viewer who leaves never sees
      // is data spent for nothing (hls.js would buffer minutes of a low rung)
      hls.config.maxMaxBufferLength = state.saver ? SAVER_BUFFER_S : BUFFER_S;
      hls.config.maxBufferLength = state.saver ? SAVER_BUFFER_S : BUFFER_S;
      if (!state.saver || hls.loadLevel <= cap) return;
      // what is buffered plays on (it is paid for); what is loaded next is
      // under the cap
      if (hls.manualLevel > cap) {
        hls.loadLevel = cap;
        ui.quality.value = String(cap);
      } else if (hls.autoLevelEnabled) {
        // hls.js 1.7 keeps its last pick past a new cap for a while: force it
        hls.nextAutoLevel = cap;
      }
    }

    function toggleSaver() {
      state.saver = !state.saver;
      localStorage.setItem('vs-data-saver', state.saver ? '1' : '0');
      applySaver();
      if (state.engine === 'native') {
        const qualities = state.stream.qualities || [];
        const q = state.saver ? startRung(qualities, state.saver) : null;
        chooseQuality(q ? qualities.indexOf(q) : -1);
        ui.quality.value = q ? String(qualities.indexOf(q)) : '-1';
      }
      say(state.saver ? `Data saver on: up to ${SAVER_MAX_HEIGHT}p.` : 'Data saver off.');
    }

    function fillQualityMenu(levels) {
      ui.quality.replaceChildren(new Option('Auto', '-1'));
      // highest first, as people read a quality menu
      [...levels].sort((a, b) => parseInt(b.label, 10) - parseInt(a.label, 10))
        .forEach((l) => {
          const o = new Option(l.label, String(l.value));
          o.dataset.height = l.height || 0;
          ui.quality.add(o);
        });
      ui.quality.value = '-1';
    }

    function chooseQuality(value) {
      const i = Number(value);
      if (state.engine === 'hls.js' && state.hls) {
        // a rung: from the first segment boundary its segments can reach in
        // time, what is buffered before it playing on (hls.js's nextLevel:
        // no stall, where currentLevel empties the buffer and waits);
        // automatic: the next segments by the bandwidth
        if (i === -1) state.hls.loadLevel = -1;
        else state.hls.nextLevel = i;
        say(i === -1 ? 'Quality: automatic' : `Quality: ${state.levelLabels[i]}`);
      } else if (state.engine === 'native') {
        const q = i === -1 ? null : state.stream.qualities[i];
        const at = video.currentTime, playing = !video.paused;
        video.src = q ? q.url : state.stream.stream_url;
        video.addEventListener('loadedmetadata', () => {
          video.currentTime = at;
          if (playing) video.play().catch(() => {});
        }, { once: true });
        if (i !== -1) {
          state.level = i;
          state.session.quality_switches++;
        }
      }
    }

    // ---- the storyboard over the seek bar ----

    async function loadStoryboard(base) {
      try {
        const r = await fetch(base + 'storyboard.vtt');
        if (!r.ok) return;
        const text = await r.text();
        const time = (t) => t.split(':').reduce((acc, x) => acc * 60 + parseFloat(x), 0);
        for (const block of text.split(/\r?\n\r?\n/)) {
          const m = block.match(/([\d:.]+)\s+-->\s+([\d:.]+)[^\n]*\n([^\n#]+)#xywh=(\d+),(\d+),(\d+),(\d+)/);
          if (!m) continue;
          state.storyboard.push({ start: time(m[1]), end: time(m[2]), image: new URL(m[3].trim(), base + 'x').href,
            x: +m[4], y: +m[5], w: +m[6], h: +m[7] });
        }
      } catch (e) { /* no thumbnails: the seek bar still works */ }
    }

    function showPreview(t, clientX) {
      const cue = state.storyboard.find((c) => t >= c.start && t < c.end) || state.storyboard[state.storyboard.length - 1];
      const rect = ui.seek.getBoundingClientRect();
      ui.previewTime.textContent = clock(t);
      if (cue) {
        ui.previewImage.style.width = cue.w + 'px';
        ui.previewImage.style.height = cue.h + 'px';
        ui.previewImage.style.backgroundImage = `url("${cue.image}")`;
        ui.previewImage.style.backgroundPosition = `-${cue.x}px -${cue.y}px`;
      }
      const half = (cue ? cue.w : 60) / 2 + 4;
      const x = Math.min(Math.max(clientX - rect.left, half), rect.width - half) + (rect.left - ui.seek.parentElement.getBoundingClientRect().left);
      ui.preview.style.left = x + 'px';
      ui.preview.hidden = false;
    }

    ui.seek.addEventListener('pointermove', (e) => {
      const rect = ui.seek.getBoundingClientRect();
      const t = ((e.clientX - rect.left) / rect.width) * (Number(ui.seek.max) || 0);
      showPreview(Math.max(0, t), e.clientX);
    });
    ui.seek.addEventListener('pointerleave', () => { ui.preview.hidden = true; });
    ui.seek.addEventListener('blur', () => { ui.preview.hidden = true; });
    ui.seek.addEventListener('input', () => {
      const rect = ui.seek.getBoundingClientRect();
      const t = Number(ui.seek.value);
      showPreview(t, rect.left + (t / (Number(ui.seek.max) || 1)) * rect.width);
      video.currentTime = t;
    });
    ui.seek.addEventListener('change', () => { ui.preview.hidden = true; });

    // ---- captions ----
    //
    // Each of the lesson's tracks (stream.captions: signed URLs of whole
    // WebVTT files) is a <track> of the video, so that the browser draws
    // the cues with the viewer's own caption settings, whatever plays the
    // video (hls.js or the browser's own HLS, whose in-band tracks are
    // kept off). Off by default, unless the viewer chose before (kept), a
    // track is the lesson's default, or a subtitles track is in the
    // viewer's language (a translation is why one reads).

    const CAPTIONS_KEY = 'vs-captions'; // "off" or "kind:language"

    function showCaptions(i, tell) {
      const list = state.captions;
      state.caption = i >= 0 && i < list.length ? i : -1;
      ui.captions.value = String(state.caption);
      for (const t of video.textTracks) {
        t.mode = t.vsCaption && t.vsIndex === state.caption ? 'showing' : 'disabled';
      }
      if (state.caption >= 0) state.lastCaption = state.caption;
      if (tell) {
        const c = list[state.caption];
        localStorage.setItem(CAPTIONS_KEY, c ? `${c.kind}:${c.language}` : 'off');
        say(c ? `Captions: ${c.label}.` : 'Captions off.');
      }
    }

    function firstCaptions(list) {
      const kept = localStorage.getItem(CAPTIONS_KEY);
      if (kept === 'off') return -1;
      if (kept) {
        const [kind, lang] = kept.split(':');
        const i = list.findIndex((c) => c.kind === kind && c.language === lang);
        const same = i >= 0 ? i : list.findIndex((c) => c.language === lang);
        if (same >= 0) return same;
      }
      const def = list.findIndex((c) => c.default);
      if (def >= 0) return def;
      const primary = (tag) => String(tag || '').toLowerCase().split('-')[0];
      for (const lang of navigator.languages || [navigator.language]) {
        const i = list.findIndex((c) => c.kind === 'subtitles' && primary(c.language) === primary(lang));
        if (i >= 0) return i;
      }
      return -1;
    }

    function setupCaptions(list) {
      state.captions = list.filter((c) => c.url);
      ui.captions.replaceChildren(new Option('Off', '-1'));
      ui.captions.closest('label').hidden = !state.captions.length;
      state.captions.forEach((c, i) => {
        const t = Object.assign(document.createElement('track'), {
          kind: c.kind === 'subtitles' ? 'subtitles' : 'captions', label: c.label, srclang: c.language, src: c.url,
        });
        video.append(t);
        t.track.vsCaption = true;
        t.track.vsIndex = i;
        ui.captions.add(new Option(c.label, String(i)));
      });
      // a track from another origin (a CDN) needs the video to ask with CORS
      if (state.captions.some((c) => new URL(c.url, location.href).origin !== location.origin)) {
        video.crossOrigin = 'anonymous';
      }
      showCaptions(firstCaptions(state.captions), false);
      // the browser's own HLS adds the package's subtitle renditions: kept off
      video.textTracks.addEventListener('addtrack', () => showCaptions(state.caption, false));
    }

    function toggleCaptions() {
      if (!state.captions.length) return;
      showCaptions(state.caption >= 0 ? -1 : Math.max(0, state.lastCaption ?? firstCaptions(state.captions)), true);
    }

    // ---- chapters ----

    function showChapters(chapters) {
      ui.chapters.replaceChildren();
      ui.chapters.parentElement.hidden = !chapters.length;
      chapters.forEach((c) => {
        const li = document.createElement('li');
        const b = document.createElement('button');
        b.type = 'button';
        b.dataset.start = c.start;
        const at = document.createElement('span');
        at.className = 'at';
        at.textContent = clock(c.start);
        const title = document.createElement('span');
        title.textContent = c.title;
        // its name: "Go to 1:05 Limits", what it does and all it shows
        const go = document.createElement('span');
        go.className = 'visually-hidden';
        go.textContent = 'Go to ';
        b.append(go, at, title);
        b.addEventListener('click', () => {
          video.currentTime = c.start;
          video.play().catch(() => {});
        });
        li.append(b);
        ui.chapters.append(li);
      });
    }

    function markChapter() {
      let current = null;
      ui.chapters.querySelectorAll('button').forEach((b) => {
        if (video.currentTime + 0.05 >= Number(b.dataset.start)) current = b;
        b.removeAttribute('aria-current');
      });
      if (current) current.setAttribute('aria-current', 'true');
    }

    // ---- controls ----

    function togglePlay() {
      if (video.paused || video.ended) {
        state.playRequestedAt = state.playRequestedAt ?? performance.now();
        video.play().catch((e) => say(e.name === 'NotAllowedError' ? 'Press play to start.' : e.message));
      } else {
        video.pause();
      }
    }

    function seekBy(s) {
      video.currentTime = Math.max(0, Math.min((video.duration || 0) - 0.1, video.currentTime + s));
    }

    function toggleFullscreen() {
      if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
      else if (ui.player.requestFullscreen) ui.player.requestFullscreen().catch(() => {});
      else if (video.webkitEnterFullscreen) video.webkitEnterFullscreen(); // iPhone: the video alone
    }
    if (!ui.player.requestFullscreen && !video.webkitEnterFullscreen) ui.fullscreen.hidden = true;

    // ---- speed, volume and the settings ----

    const SPEEDS = [0.5, 0.75, 1, 1.25, 1.5, 1.75, 2];
    const SPEED_KEY = 'vs-speed';

    // the rate, kept across sources (a new source starts at the default
    // rate) and visits; captions follow the media clock, so they keep up
    function setSpeed(rate, announce) {
      const r = SPEEDS.includes(rate) ? rate : 1;
      video.defaultPlaybackRate = r;
      video.playbackRate = r;
      ui.speed.value = String(r);
      localStorage.setItem(SPEED_KEY, String(r));
      if (announce) say(`Speed ${r}×.`);
    }

    function stepSpeed(by) {
      const i = SPEEDS.indexOf(video.playbackRate);
      setSpeed(SPEEDS[Math.max(0, Math.min(SPEEDS.length - 1, (i < 0 ? SPEEDS.indexOf(1) : i) + by))], true);
    }

    // a page may set the volume, except where the platform keeps it (iOS:
    // the phone's buttons only); there the slider is not shown
    const volumeSettable = (() => {
      const v = document.createElement('video');
      v.volume = 0.5;
      return v.volume === 0.5;
    })();
    ui.volume.hidden = !volumeSettable;

    function showVolume() {
      const v = video.muted ? 0 : video.volume;
      ui.volume.value = String(v);
      ui.volume.setAttribute('aria-valuetext', video.muted ? 'muted' : `${Math.round(v * 100)} %`);
    }

    function openSheet(open) {
      ui.sheet.hidden = !open;
      ui.more.setAttribute('aria-expanded', String(open));
      if (open) ui.speed.focus();
    }

    ui.play.addEventListener('click', togglePlay);
    ui.back.addEventListener('click', () => seekBy(-JUMP_S));
    ui.forward.addEventListener('click', () => seekBy(JUMP_S));
    ui.mute.addEventListener('click', () => { video.muted = !video.muted; });
    ui.volume.addEventListener('input', () => {
      video.volume = Number(ui.volume.value);
      video.muted = video.volume === 0;
    });
    ui.speed.addEventListener('change', () => setSpeed(Number(ui.speed.value), true));
    ui.more.addEventListener('click', () => openSheet(ui.sheet.hidden));
    // a press outside the settings closes them
    document.addEventListener('pointerdown', (e) => {
      if (!ui.sheet.hidden && !ui.sheet.contains(e.target) && !ui.more.contains(e.target)) openSheet(false);
    });
    setSpeed(Number(localStorage.getItem(SPEED_KEY)) || 1, false);
    showVolume();
    ui.fullscreen.addEventListener('click', toggleFullscreen);
    ui.quality.addEventListener('change', () => chooseQuality(ui.quality.value));
    ui.saver.addEventListener('click', toggleSaver);
    ui.captions.addEventListener('change', () => showCaptions(Number(ui.captions.value), true));
    // a mouse's click plays or pauses; a finger's or a pen's taps are below
    let pointerType = 'mouse';
    video.addEventListener('click', () => { if (pointerType === 'mouse') togglePlay(); });
    // a long press is the settings', not the browser's menu
    video.addEventListener('contextmenu', (e) => { if (pointerType !== 'mouse') e.preventDefault(); });

    // ---- touch: a double tap on the left or right third seeks ∓10 s, a
    // single tap plays or pauses, a long press opens the settings ----

    const DOUBLE_TAP_MS = 300;
    const LONG_PRESS_MS = 500;
    const TAP_SLOP_PX = 10;      // a finger moving further is a scroll, not a tap
    let lastTap = null, tapTimer = null, press = null;

    function ripple(side) {
      const r = ui.ripple;
      r.textContent = side < 0 ? `−${JUMP_S} s` : `+${JUMP_S} s`;
      r.dataset.side = side < 0 ? 'back' : 'forward';
      r.hidden = false;
      r.classList.remove('go');
      void r.offsetWidth; // the animation again from its start
      r.classList.add('go');
      clearTimeout(r.timer);
      r.timer = setTimeout(() => { r.hidden = true; }, 700);
    }

    video.addEventListener('pointerdown', (e) => {
      pointerType = e.pointerType;
      if (e.pointerType === 'mouse') return;
      press = { x: e.clientX, y: e.clientY, long: false };
      press.timer = setTimeout(() => {
        press.long = true;
        openSheet(true);
      }, LONG_PRESS_MS);
    });
    video.addEventListener('pointermove', (e) => {
      if (press && Math.hypot(e.clientX - press.x, e.clientY - press.y) > TAP_SLOP_PX) {
        clearTimeout(press.timer);
        press = null;
      }
    });
    video.addEventListener('pointercancel', () => { if (press) clearTimeout(press.timer); press = null; });
    video.addEventListener('pointerup', (e) => {
      if (e.pointerType === 'mouse' || !press) return;
      clearTimeout(press.timer);
      const long = press.long;
      press = null;
      if (long) return;
      const box = video.getBoundingClientRect(), x = (e.clientX - box.left) / box.width;
      const side = x < 1 / 3 ? -1 : x > 2 / 3 ? 1 : 0, now = performance.now();
      if (lastTap && side && side === lastTap.side && now - lastTap.at < DOUBLE_TAP_MS) {
        clearTimeout(tapTimer);
        lastTap = null;
        seekBy(side * JUMP_S);
        ripple(side);
        say(`${side < 0 ? 'Back' : 'Forward'} ${JUMP_S} seconds: ${clock(video.currentTime)}.`);
        if (navigator.vibrate) navigator.vibrate(15);
        return;
      }
      // a single tap waits to see whether a second follows
      lastTap = { at: now, side };
      clearTimeout(tapTimer);
      tapTimer = setTimeout(() => { lastTap = null; togglePlay(); }, DOUBLE_TAP_MS);
    });
    document.addEventListener('fullscreenchange', () => {
      ui.fullscreen.setAttribute('aria-pressed', String(!!document.fullscreenElement));
      ui.fullscreen.setAttribute('aria-label', document.fullscreenElement ? 'Exit full screen' : 'Full screen');
    });

    document.addEventListener('keydown', (e) => {
      if (e.altKey || e.ctrlKey || e.metaKey) return;
      const t = e.target;
      if (e.key === 'Escape' && !ui.sheet.hidden) {
        e.preventDefault();
        openSheet(false);
        ui.more.focus();
        return;
      }
      const typing = t instanceof HTMLSelectElement || (t instanceof HTMLInputElement && t.type !== 'range');
      const onButton = t instanceof HTMLButtonElement;
      if (typing) return;
      switch (e.key) {
        case ' ': case 'k':
          if (onButton && e.key === ' ') return; // the button's own activation
          e.preventDefault(); togglePlay(); break;
        case 'ArrowLeft':
          if (t === ui.seek) return; // the range moves itself
          e.preventDefault(); seekBy(-SEEK_STEP_S); break;
        case 'ArrowRight':
          if (t === ui.seek) return;
          e.preventDefault(); seekBy(SEEK_STEP_S); break;
        case 'ArrowUp':
          if (t === ui.seek) return;
          e.preventDefault(); video.volume = Math.min(1, video.volume + 0.1); video.muted = false; break;
        case 'ArrowDown':
          if (t === ui.seek) return;
          e.preventDefault(); video.volume = Math.max(0, video.volume - 0.1); break;
        case 'f': e.preventDefault(); toggleFullscreen(); break;
        case 'm': e.preventDefault(); video.muted = !video.muted; break;
        case 'c': e.preventDefault(); toggleCaptions(); break;
        case '<': e.preventDefault(); stepSpeed(-1); break;
        case '>': e.preventDefault(); stepSpeed(1); break;
        default: break;
      }
    });

    // ---- what the video element says ----

    video.addEventListener('loadedmetadata', () => {
      ui.seek.max = String(video.duration || state.meta.duration || 0);
      updateTime();
      // hls.js starts at the saved position itself (startLoad); the
      // browser's own HLS is sent there once it knows the duration
      if ((state.engine === 'native' || state.engine === 'mp4') && state.resumed && !state.resumeDone) {
        state.resumeDone = true;
        video.currentTime = state.resumeFrom;
      }
    });

    function updateTime() {
      const d = video.duration || (state.meta && state.meta.duration) || 0;
      ui.time.textContent = `${clock(video.currentTime)} / ${clock(d)}`;
      if (document.activeElement !== ui.seek) ui.seek.value = String(video.currentTime);
      ui.seek.setAttribute('aria-valuetext', `${clock(video.currentTime)} of ${clock(d)}`);
    }

    video.addEventListener('timeupdate', () => { tick(); updateTime(); markChapter(); tuneAbr(); });
    video.addEventListener('playing', () => {
      if (state.firstFrameAt === null) {
        state.firstFrameAt = performance.now();
        const from = state.playRequestedAt ?? 0;
        state.session.load_time_ms = Math.round(state.firstFrameAt - from);
        state.session.started = true;
        state.resuming = false;
        overlay('');
        sendSession();
      }
      if (bufferingSince !== null) {
        state.session.buffering_time_ms += Math.round(performance.now() - bufferingSince);
        bufferingSince = null;
        clearTimeout(state.bufferingNote);
        if (ui.status.textContent === 'Buffering…') say('');
      }
      lastTick = performance.now();
      startHeartbeat();
    });
    video.addEventListener('waiting', () => {
      // a stall after the start, not the wait for the first frame or a seek
      if (state.firstFrameAt !== null && !video.seeking && bufferingSince === null) {
        bufferingSince = performance.now();
        state.session.buffer_events++;
        // said when it lasts: a blink of a stall is not news
        clearTimeout(state.bufferingNote);
        state.bufferingNote = setTimeout(() => { if (bufferingSince !== null) say('Buffering…'); }, BUFFERING_NOTE_MS);
      }
    });
    video.addEventListener('seeking', () => {
      if (state.resuming) state.resuming = false;
      else if (state.firstFrameAt !== null) state.session.seek_events++;
      if (bufferingSince !== null) bufferingSince = null; // time spent seeking is not a stall
    });
    video.addEventListener('play', () => {
      ui.play.setAttribute('aria-pressed', 'true');
      ui.play.setAttribute('aria-label', 'Pause');
    });
    video.addEventListener('pause', () => {
      ui.play.setAttribute('aria-pressed', 'false');
      ui.play.setAttribute('aria-label', 'Play');
      tick();
      stopHeartbeat();
      heartbeat(false);
    });
    video.addEventListener('ended', () => { tick(); heartbeat(false); });
    video.addEventListener('volumechange', () => {
      ui.mute.setAttribute('aria-pressed', String(video.muted));
      ui.mute.setAttribute('aria-label', video.muted ? 'Unmute' : 'Mute');
      showVolume();
    });
    video.addEventListener('error', () => {
      if ((state.engine !== 'native' && state.engine !== 'mp4') || !video.error) return;
      // the browser's own HLS says little: a network error (2), or a
      // source it could not read (4), which is what a 403 playlist looks
      // like to it; the master playlist, asked for, tells which
      const code = video.error.code;
      if (code === MediaError.MEDIA_ERR_NETWORK || code === MediaError.MEDIA_ERR_SRC_NOT_SUPPORTED) {
        waitForNetwork(`video:${code}`);
      } else {
        playbackError('The video cannot be played.', `video:${code}`);
      }
    });
    addEventListener('offline', () => { if (state.meta && state.stream) waitForNetwork('offline'); });
    addEventListener('online', () => { if (state.trouble === 'offline') probe(); });
    ui.retry.addEventListener('click', () => { clearTimeout(state.probeTimer); probe(); });

    // leaving: the last word, by beacon
    addEventListener('pagehide', () => { tick(); heartbeat(true); rememberBandwidth(); });
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'hidden') { tick(); heartbeat(true); }
    });

    // ---- start ----

    // hls.js, where the browser has MSE and the page did not ask for the
    // browser's own HLS: the light build the page preloads, or the full one
    // when the master playlist has a separate audio rendition, which only
    // the full build plays
    async function loadHls(masterURL) {
      if (window.Hls || !boot.hlsjs) return;
      const master = text(await prefetch(masterURL));
      const full = /^#EXT-X-MEDIA:(?=.*TYPE=AUDIO)(?=.*URI=)/m.test(master);
      const light = root.dataset.hls || '/lib/hls.js/hls.light.min.js';
      state.hlsBuild = full ? 'full' : 'light';
      await new Promise((resolve) => {
        const s = document.createElement('script');
        s.src = full ? root.dataset.hlsFull || light.replace(/hls\.light\.min\.js$/, 'hls.min.js') : light;
        s.onload = resolve;
        s.onerror = resolve; // then the browser's own HLS, if it has one
        document.head.append(s);
      });
    }

    async function start() {
      if (!videoKey) {
        ui.title.textContent = 'No lesson chosen';
        overlay('Open this page with ?v= and a video id.');
        return;
      }
      // an autoplaying start counts from the navigation, as a viewer waits
      state.playRequestedAt = 0;
      state.saver = boot.dataSaver();
      applySaver();
      let begin;
      try {
        begin = await boot.start;
      } catch (e) {
        ui.title.textContent = e.status === 404 ? 'Lesson not found' : 'Lesson unavailable';
        playbackError(e.status === 404 ? 'There is no such lesson.' : 'The lesson cannot be loaded now. Try again later.',
          `api:${e.status || 'network'}`);
        return;
      }
      const m = begin.lesson;
      state.meta = m;
      useStream(m.stream);
      state.resumeFrom = begin.at || (m.progress && Number(m.progress.current_time)) || 0;
      state.resumed = begin.at > 0;
      state.startURL = begin.rung ? begin.rung.url : null;
      const hlsReady = loadHls(state.stream.stream_url);
      document.title = m.title;
      ui.title.textContent = m.title;
      ui.description.textContent = m.description || '';
      showChapters(m.chapters || []);
      setupCaptions(state.stream.captions || []);
      const base = state.stream.stream_url.replace(/master\.m3u8(\?.*)?$/, '');
      // the poster beside the package, under the same signature; not while
      // autoplay fetches the first segments, which need the bandwidth more
      const poster = m.thumbnail_url && /\/poster\.jpg$/.test(m.thumbnail_url) ? base + 'poster.jpg' : m.thumbnail_url;
      if (poster && params.get('autoplay') === '0') video.poster = poster;
      state.poster = poster;
      await hlsReady;
      const news = [];
      if (state.resumed) {
        state.resuming = true; // the seek to the saved position is not the viewer's
        news.push(`Resumed at ${clock(state.resumeFrom)}.`);
      }
      if (state.saver) news.push(`Data saver on: up to ${SAVER_MAX_HEIGHT}p.`);
      say(news.join(' '));
      attach(state.stream.stream_url);
      // the storyboard once the start is under way: it is not needed sooner
      video.addEventListener('playing', () => loadStoryboard(base), { once: true });
      if (params.get('autoplay') !== '0') {
        video.muted = params.get('muted') === '1' || video.muted;
        const refused = () => {
          // autoplay with sound is often refused: wait for the viewer, and
          // count the startup time from their press
          state.playRequestedAt = null;
          if (state.poster) video.poster = state.poster;
          say('Press play to start.');
        };
        video.play().catch((e) => {
          if (e.name === 'NotAllowedError') return refused();
          // interrupted (AbortError: the resume's seek or a new source came
          // first): ask again once the media can play
          const again = () => { if (video.paused) video.play().catch(refused); };
          if (video.readyState >= HTMLMediaElement.HAVE_FUTURE_DATA) again();
          else video.addEventListener('canplay', again, { once: true });
        });
      } else {
        state.playRequestedAt = null;
      }
    }

    start();
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', main, { once: true });
  else main();
})();
