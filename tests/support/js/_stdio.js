'use strict';
// Shared by the interop scripts: read one JSON request on stdin, write one JSON answer on stdout.
// A thrown error becomes {"error": message} on stdout and exit status 1.

function run(handler) {
  const chunks = [];
  process.stdin.on('data', (chunk) => chunks.push(chunk));
  process.stdin.on('end', async () => {
    try {
      const request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const answer = await handler(request);
      process.stdout.write(JSON.stringify(answer));
    } catch (err) {
      process.stdout.write(JSON.stringify({ error: String((err && err.message) || err) }));
      process.exitCode = 1;
    }
  });
}

module.exports = { run };
