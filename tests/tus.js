// A stock tus client (tus-js-client, npm) uploading one file to vs-cgi:
//   node tests/tus.js ENDPOINT FILE TOKEN [CHUNK_BYTES]
// Prints {"url": the upload's URL, "video": the Vs-Video-Id vs-cgi answered}.
const tus = require('tus-js-client');
const fs = require('fs');
const path = require('path');

const [endpoint, file, token, chunk] = process.argv.slice(2);
let video = null;
const upload = new tus.Upload(fs.readFileSync(file), {
  endpoint,
  chunkSize: chunk ? Number(chunk) : Infinity,
  metadata: { filename: path.basename(file), title: 'Through tus', tags: 'tus, upload' },
  headers: { Authorization: `Bearer ${token}` },
  retryDelays: [],
  onAfterResponse(req, res) {
    if (res.getHeader('Vs-Video-Id')) video = res.getHeader('Vs-Video-Id');
  },
  onError(e) {
    console.error(`tus.js: ${e.message}`);
    process.exit(1);
  },
  onSuccess() {
    console.log(JSON.stringify({ url: upload.url, video }));
  },
});
upload.start();
