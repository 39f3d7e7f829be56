// nodeclient: a node TCP client for the real-program tests (libuv makes a
// non-blocking connect from its event loop).
//
//   node nodeclient.js HOST PORT [N]
//
// N sequential connections (default 1); for each, after reading the server's
// answer to EOF, prints "local ADDR PORT" (as the kernel reports it) or
// "error ERRNAME". Each connection gives up after 5 s.
'use strict';
const net = require('net');
const [host, port, n] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4] || 1)];

function one() {
	return new Promise((resolve) => {
		const s = net.connect({ host, port });
		let local = null;
		const timer = setTimeout(() => { s.destroy(); resolve('error timeout'); }, 5000);
		s.on('connect', () => { local = `local ${s.localAddress} ${s.localPort}`; });
		s.on('data', () => {});
		s.on('end', () => { clearTimeout(timer); s.destroy(); resolve(local); });
		s.on('error', (e) => { clearTimeout(timer); resolve(local || `error ${e.code}`); });
	});
}

(async () => {
	for (let i = 0; i < n; i++) console.log(await one());
})();
