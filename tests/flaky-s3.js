// A deliberately unreliable object store for the retry tests: it keeps
// objects in memory, answers the first FAILS PUTs of every key with 503
// (or, for keys containing "forbidden", always 400), and counts requests.
// Signatures are not checked here (s3rver's tests do that). With ALLOW, the
// store stores ALLOW objects and then answers every PUT 503 for good,
// until a file COUNTS_FILE.heal appears. ETags are the objects' MD5s.
// Files beside COUNTS_FILE change it while it runs:
//   COUNTS_FILE.on-master  a shell command run when the master playlist
//                          arrives, before the store answers (a fault at
//                          that moment)
//   COUNTS_FILE.delay      milliseconds each PUT waits before its answer
//   COUNTS_FILE.short      a key suffix: such objects are kept a byte short
//   COUNTS_FILE.retype     a key suffix: such objects are kept as
//                          application/octet-stream
// The counts are written whole each time (a new file renamed over the
// old), so a reader never sees half of them.
// Usage: node tests/flaky-s3.js PORT FAILS COUNTS_FILE [ALLOW]
'use strict';
const http = require('http');
const fs = require('fs');
const crypto = require('crypto');
const { execSync } = require('child_process');
const [port, fails, countsFile, allow] = process.argv.slice(2);
let stored = 0;
const objects = new Map();
const counts = {};

const setting = (name) => { try { return fs.readFileSync(`${countsFile}.${name}`, 'utf8').trim(); } catch { return null; } };

function count(id) {
	counts[id] = (counts[id] || 0) + 1;
	fs.writeFileSync(`${countsFile}.tmp`, JSON.stringify(counts));
	fs.renameSync(`${countsFile}.tmp`, countsFile);
}

function put(key, id, req, body, res) {
	if (key.includes('forbidden')) { res.writeHead(400); res.end('<Error><Code>InvalidRequest</Code></Error>'); return; }
	const down = allow !== undefined && stored >= Number(allow) && !fs.existsSync(`${countsFile}.heal`);
	if (down || counts[id] <= Number(fails)) { res.writeHead(503); res.end('<Error><Code>SlowDown</Code></Error>'); return; }
	if (key.endsWith('/master.m3u8') && setting('on-master') !== null) execSync(setting('on-master'), { stdio: 'ignore' });
	let data = Buffer.concat(body), type = req.headers['content-type'];
	// the ETag is the MD5 of what was sent: a store that lost a byte still says it has it
	const etag = `"${crypto.createHash('md5').update(data).digest('hex')}"`;
	const short = setting('short'), retype = setting('retype');
	if (short && key.endsWith(short)) data = data.subarray(0, Math.max(0, data.length - 1));
	if (retype && key.endsWith(retype)) type = 'application/octet-stream';
	objects.set(key, { data, type, etag });
	stored++;
	res.writeHead(200, { ETag: etag });
	res.end();
}

http.createServer((req, res) => {
	const key = decodeURIComponent(req.url.split('?')[0]);
	const body = [];
	req.on('data', (c) => body.push(c));
	req.on('end', () => {
		const id = `${req.method} ${key}`;
		count(id);
		if (req.method === 'PUT') {
			const delay = Number(setting('delay') || 0);
			if (delay > 0) setTimeout(() => put(key, id, req, body, res), delay);
			else put(key, id, req, body, res);
		} else if (req.method === 'HEAD') {
			const o = objects.get(key);
			if (!o) { res.writeHead(404); res.end(); return; }
			res.writeHead(200, { 'Content-Length': o.data.length, 'Content-Type': o.type, ETag: o.etag });
			res.end();
		} else {
			res.writeHead(405);
			res.end();
		}
	});
}).listen(Number(port), '127.0.0.1', () => console.log('ready'));
