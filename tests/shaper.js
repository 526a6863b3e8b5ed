// A network link between a browser and a server, for startup and
// adaptation tests in every browser (Firefox has no network emulation of
// its own): a TCP proxy that gives each direction a one-way delay of half
// the round-trip time and a rate shared by every connection, as one
// access link does. A new connection costs one round trip before its
// first byte leaves, as TCP's handshake does. Bytes wait in one queue per
// direction and leave it at the link's current rate, so a rate change
// mid-transfer takes effect at once.
//
// The link can be cut, as a tunnel cuts a phone's: no byte moves on the
// connections it carries (they stall, they do not fail) and new ones are
// refused, until it is whole again. Or the server behind it killed: its
// connections reset at once and new ones refused, until it is whole again.
// And it can follow a throughput trace:
// lines "SECONDS MBITS [RTT-MS]", from SECONDS after the trace is given
// the link runs at MBITS (> 0), or "SECONDS cut" / "SECONDS up".
//
// Usage: node tests/shaper.js --to HOST:PORT [--listen PORT] [--control PORT]
//                             [--mbits N] [--up-mbits N] [--rtt MS] [--trace FILE]
//   prints "shaper PORT CONTROL-PORT" once listening; runs until killed.
//   The control port takes GET /set?mbits=N&rtt=MS (either or both;
//   mbits=0 is no limit), GET /set?cut=1 and /set?cut=0, GET /set?kill=1
//   (the server gone: every connection reset, new ones refused; cut=0 ends it), GET
//   /set?trace=FILE (a trace from now; an empty FILE ends one), and GET
//   /stats (bytes carried, the link now).
//
// As a module: require('./shaper').start({ to, mbits, upMbits, rtt })
// resolves to { port, set({ mbits, upMbits, rtt, cut }), trace(lines),
// stats(), close() }.
'use strict';
const net = require('net');
const http = require('http');

const PIECE = 4096; // bytes leave the queue in pieces this size

// One direction of the link: each connection's bytes wait in its own
// queue, and the link takes a piece from each in turn (as TCP flows share
// a bottleneck), at `bps` (0: no limit); a piece arrives half the round
// trip after it leaves.
class Direction {
	constructor(link) {
		this.link = link;
		this.queues = new Map(); // conn -> [{socket, buf, conn}]
		this.turn = [];          // connections with bytes waiting, in turn
		this.nextFree = 0;
		this.timer = null;
		this.bytes = 0;
	}

	push(socket, buf, conn) {
		let q = this.queues.get(conn);
		if (!q) {
			q = [];
			this.queues.set(conn, q);
			this.turn.push(conn);
		}
		for (let i = 0; i < buf.length; i += PIECE) q.push({ socket, buf: buf.subarray(i, i + PIECE), conn });
		conn.queued += buf.length;
		this.pump();
	}

	// the next piece, from the next connection in turn
	take() {
		const conn = this.turn.shift(), q = this.queues.get(conn), piece = q.shift();
		if (q.length) this.turn.push(conn);
		else this.queues.delete(conn);
		return piece;
	}

	pump() {
		if (this.timer || this.link.cut) return;
		const now = performance.now();
		while (this.turn.length) {
			const bps = this.bps();
			if (bps > 0 && this.nextFree > now + 1) {
				this.timer = setTimeout(() => { this.timer = null; this.pump(); }, this.nextFree - now);
				return;
			}
			const head = this.take();
			const start = bps > 0 ? Math.max(this.nextFree, now) : now;
			this.nextFree = bps > 0 ? start + (head.buf.length * 8 * 1000) / bps : now;
			this.bytes += head.buf.length;
			// in order within a connection, even when the delay shrinks
			const at = Math.max(Math.max(head.conn.readyAt, start) + this.link.rtt / 2, head.conn.last.get(this) || 0);
			head.conn.last.set(this, at);
			// each timer delivers the connection's oldest piece, not its
			// own: two timers due in the same millisecond may fire in
			// either order, and bytes out of order are a corrupt response
			let arriving = head.conn.arriving.get(this);
			if (!arriving) head.conn.arriving.set(this, (arriving = []));
			arriving.push(head);
			setTimeout(() => this.deliver(arriving.shift()), at - now);
		}
	}

	deliver(p) {
		p.conn.queued -= p.buf.length;
		if (!p.socket.destroyed) p.socket.write(p.buf);
		p.conn.drained();
	}
}

class Link {
	constructor(opts) {
		this.set(opts);
		this.down = new Direction(this);
		this.down.bps = () => this.downBps;
		this.up = new Direction(this);
		this.up.bps = () => this.upBps;
		this.connections = 0;
		this.open = new Set(); // each connection's kill()
	}

	set({ mbits, upMbits, rtt, cut, kill }) {
		if (kill) {
			cut = true;
			for (const k of this.open) k(true);
		}
		if (cut !== undefined) {
			const was = this.cut;
			this.cut = !!cut;
			// whole again: what waited moves on
			if (was && !this.cut && this.down) { this.down.pump(); this.up.pump(); }
		}
		if (mbits !== undefined) {
			this.downBps = Number(mbits) * 1e6;
			if (upMbits === undefined) this.upBps = this.downBps;
		}
		if (upMbits !== undefined) this.upBps = Number(upMbits) * 1e6;
		if (rtt !== undefined) this.rtt = Number(rtt);
		this.downBps = this.downBps || 0;
		this.upBps = this.upBps || 0;
		this.rtt = this.rtt || 0;
	}

	stats() {
		return { mbits: this.downBps / 1e6, upMbits: this.upBps / 1e6, rtt: this.rtt, cut: !!this.cut,
			downBytes: this.down.bytes, upBytes: this.up.bytes, connections: this.connections, refused: this.refused || 0 };
	}

	// a trace from now: [[seconds, {mbits, rtt} | {cut}], ...]; the one
	// before it ends
	trace(steps) {
		for (const t of this.traceTimers || []) clearTimeout(t);
		this.traceTimers = steps.map(([at, o]) => setTimeout(() => this.set(o), at * 1000));
	}
}

// "SECONDS MBITS [RTT]", "SECONDS cut", "SECONDS up" lines (# comments)
function parseTrace(text) {
	const steps = [];
	for (const raw of text.split('\n')) {
		const line = raw.replace(/#.*/, '').trim();
		if (!line) continue;
		const [at, what, rtt] = line.split(/\s+/);
		if (!(Number(at) >= 0)) throw new Error(`trace: '${line}': no time`);
		if (what === 'cut' || what === 'up') steps.push([Number(at), { cut: what === 'cut' }]);
		else if (Number(what) > 0) steps.push([Number(at), { mbits: Number(what), ...(rtt ? { rtt: Number(rtt) } : {}) }]);
		else throw new Error(`trace: '${line}': the rate must be above 0 (or cut, up)`);
	}
	return steps;
}

// One client connection and its upstream; `queued` counts bytes of either
// direction still on the link, to end each side only once they are out.
function carry(link, client, to) {
	const [host, port] = to.split(':');
	const upstream = net.connect(Number(port), host);
	const conn = {
		queued: 0,
		readyAt: performance.now() + link.rtt, // the handshake's round trip
		last: new Map(), // per direction: when its last piece arrives
		arriving: new Map(), // per direction: its pieces on their way, in order
		ended: { client: false, upstream: false },
		drained() {
			if (this.queued < 1 << 20 && upstream.isPaused()) upstream.resume();
			if (this.queued > 0) return;
			if (this.ended.upstream && !client.destroyed) client.end();
			if (this.ended.client && !upstream.destroyed) upstream.end();
		},
	};
	link.connections++;
	client.setNoDelay(true);
	upstream.setNoDelay(true);
	client.on('data', (b) => link.up.push(upstream, b, conn));
	upstream.on('data', (b) => {
		link.down.push(client, b, conn);
		// no more than a few seconds of a slow link buffered here
		if (conn.queued > 4 << 20) upstream.pause();
	});
	client.on('end', () => { conn.ended.client = true; conn.drained(); });
	upstream.on('end', () => { conn.ended.upstream = true; conn.drained(); });
	// reset: the client sees its connection reset, as from a server gone
	const kill = (reset) => {
		if (reset && client.resetAndDestroy) client.resetAndDestroy();
		else client.destroy();
		upstream.destroy();
	};
	link.open.add(kill);
	client.on('error', () => kill());
	upstream.on('error', () => kill());
	client.on('close', () => { link.open.delete(kill); upstream.destroy(); });
}

function start({ to, listen = 0, mbits = 0, upMbits, rtt = 0 }) {
	const link = new Link({ mbits, upMbits, rtt });
	const server = net.createServer((c) => {
		// cut: a new connection fails at once, as with no route
		if (link.cut) {
			link.refused = (link.refused || 0) + 1;
			c.resetAndDestroy ? c.resetAndDestroy() : c.destroy();
			return;
		}
		carry(link, c, to);
	});
	return new Promise((resolve, reject) => {
		server.on('error', reject);
		server.listen(listen, '127.0.0.1', () => resolve({
			port: server.address().port,
			set: (o) => link.set(o),
			trace: (text) => link.trace(parseTrace(text)),
			stats: () => link.stats(),
			close: () => new Promise((r) => server.close(r)),
			server,
		}));
	});
}

async function main() {
	const args = process.argv.slice(2), opt = {};
	for (let i = 0; i < args.length; i += 2) opt[args[i].replace(/^--/, '')] = args[i + 1];
	if (!opt.to) {
		console.error('usage: node tests/shaper.js --to HOST:PORT [--listen PORT] [--control PORT] [--mbits N] [--up-mbits N] [--rtt MS]');
		process.exit(2);
	}
	const s = await start({ to: opt.to, listen: Number(opt.listen || 0), mbits: opt.mbits,
		upMbits: opt['up-mbits'], rtt: opt.rtt });
	if (opt.trace) s.trace(require('fs').readFileSync(opt.trace, 'utf8'));
	const control = http.createServer((req, res) => {
		const u = new URL(req.url, 'http://x');
		if (u.pathname === '/set') {
			const o = {};
			for (const k of ['mbits', 'rtt']) if (u.searchParams.has(k)) o[k] = Number(u.searchParams.get(k));
			if (u.searchParams.has('up_mbits')) o.upMbits = Number(u.searchParams.get('up_mbits'));
			if (u.searchParams.has('cut')) o.cut = u.searchParams.get('cut') === '1';
			if (u.searchParams.get('kill') === '1') o.kill = true;
			s.set(o);
			if (u.searchParams.has('trace')) {
				try {
					const f = u.searchParams.get('trace');
					s.trace(f ? require('fs').readFileSync(f, 'utf8') : '');
				} catch (e) {
					res.writeHead(400, { 'Content-Type': 'text/plain' }).end(String(e.message) + '\n');
					return;
				}
			}
		} else if (u.pathname !== '/stats') {
			res.writeHead(404).end();
			return;
		}
		res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(s.stats()) + '\n');
	});
	control.listen(Number(opt.control || 0), '127.0.0.1', () => {
		console.log(`shaper ${s.port} ${control.address().port}`);
	});
	process.on('SIGTERM', () => process.exit(0));
}

module.exports = { start };
if (require.main === module) main().catch((e) => { console.error(String(e)); process.exit(1); });
