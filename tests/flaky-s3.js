// A deliberately unreliable object store for the retry tests: it keeps
// objects in memory, answers the first FAILS PUTs of every key with 503
// (or, for keys containing "forbidden", always 400), and counts requests.
// Signatures are not checked here (s3rver's tests do that). With ALLOW, the
// store stores ALLOW objects and then answers every PUT 503 for good,
// until a file COUNTS_FILE.heal appears. ETags are the objects' MD5s.
// A file COUNTS_FILE.on-master holds a shell command run when the master
// playlist arrives, before the store answers (a fault at that moment).
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

http.createServer((req, res) => {
	const key = decodeURIComponent(req.url.split('?')[0]);
	const body = [];
	req.on('data', (c) => body.push(c));
	req.on('end', () => {
		const id = `${req.method} ${key}`;
		counts[id] = (counts[id] || 0) + 1;
		fs.writeFileSync(countsFile, JSON.stringify(counts));
		if (req.method === 'PUT') {
			if (key.includes('forbidden')) { res.writeHead(400); res.end('<Error><Code>InvalidRequest</Code></Error>'); return; }
			const down = allow !== undefined && stored >= Number(allow) && !fs.existsSync(`${countsFile}.heal`);
			if (down || counts[id] <= Number(fails)) { res.writeHead(503); res.end('<Error><Code>SlowDown</Code></Error>'); return; }
			if (key.endsWith('/master.m3u8') && fs.existsSync(`${countsFile}.on-master`)) {
				execSync(fs.readFileSync(`${countsFile}.on-master`, 'utf8'), { stdio: 'ignore' });
			}
			const data = Buffer.concat(body);
			const etag = `"${crypto.createHash('md5').update(data).digest('hex')}"`;
			objects.set(key, { data, type: req.headers['content-type'], etag });
			stored++;
			res.writeHead(200, { ETag: etag });
			res.end();
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
