// An S3-compatible server for the tests: @20minutes/s3rver, which checks
// Signature V4, on 127.0.0.1. Usage: node tests/s3-server.js PORT DIR BUCKET[,BUCKET…] KEY SECRET
// Prints "ready" when it listens; stops on SIGTERM.
'use strict';
// s3rver escapes listed keys twice (he.escape, then fast-xml-parser's own
// entity processing): S3 lists "a&b" as <Key>a&amp;b</Key>, s3rver as
// a&amp;amp;b. Its XML builders are made here to escape once, as S3 does.
const fxp = require(require.resolve('fast-xml-parser', { paths: [require.resolve('@20minutes/s3rver')] }));
const build = fxp.XMLBuilder.prototype.build;
fxp.XMLBuilder.prototype.build = function (obj) {
	this.options.processEntities = false;
	return build.call(this, obj);
};
const S3rver = require('@20minutes/s3rver');
const { DUMMY_ACCOUNT } = require('@20minutes/s3rver/lib/models/account');

const [port, dir, bucket, key, secret] = process.argv.slice(2);
DUMMY_ACCOUNT.createKeyPair(key, secret);
const server = new S3rver({
	address: '127.0.0.1', port: Number(port), directory: dir, silent: true,
	configureBuckets: bucket.split(',').map((name) => ({ name })),
});
server.run((err) => {
	if (err) { console.error(err); process.exit(1); }
	console.log('ready');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
