#!/usr/bin/env node
// Follows a Sluice job over the WebSocket API: prints its log lines and status changes until it ends.
// Resumes after a dropped connection from the last line it printed, so no line is lost or repeated.
//   node examples/ws-tail.mjs <jobId>        (reads SLUICE_URL and SLUICE_TOKEN)
import WebSocket from 'ws';

const [jobId] = process.argv.slice(2);
const url = (process.env.SLUICE_URL ?? 'http://127.0.0.1:9001').replace(/^http/, 'ws');
const token = process.env.SLUICE_TOKEN;
if (!jobId || !token) {
  console.error('usage: SLUICE_TOKEN=... node examples/ws-tail.mjs <jobId>');
  process.exit(2);
}
const FINAL = new Set(['Succeed', 'Failed', 'Cancelled', 'Timeout']);
let nextLine = 1;

function connect() {
  const ws = new WebSocket(`${url}/api/v1/ws`, { headers: { authorization: `Bearer ${token}` } });
  ws.on('open', () => ws.send(JSON.stringify({ v: 1, type: 'subscribe', jobId, fromLine: nextLine })));
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString());
    if (m.type === 'log') {
      for (const [i, text] of m.lines.entries()) console.log(`${String(m.fromLine + i).padStart(5)} | ${text}`);
      nextLine = m.fromLine + m.lines.length;
    } else if (m.type === 'status' || m.type === 'subscribed') {
      const state = m.type === 'status' ? m.state : m.job.state;
      console.error(`[${state}]`);
      if (FINAL.has(state) && (m.type === 'status' || m.job.logLines < nextLine)) finish(ws, state);
    } else if (m.type === 'result') {
      console.error(`[result set ${m.index}: ${m.rows} rows]`);
    } else if (m.type === 'error') {
      console.error(`${m.error.code}: ${m.error.message}`);
      process.exit(1);
    }
  });
  ws.on('close', (code) => {
    if (code === 4008) setTimeout(connect, 500); // slow consumer: resume from the last line
  });
}

function finish(ws, state) {
  ws.close();
  process.exit(state === 'Succeed' ? 0 : 1);
}

connect();
