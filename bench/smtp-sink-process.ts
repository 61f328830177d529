import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';

/**
 * A minimal SMTP sink, run as a child process of the benchmark so its CPU is not charged to the engine's event
 * loop: accepts every message on loopback, counts messages and bytes, discards the data. Speaks to the parent over
 * IPC: {type:'stats'} answers {type:'stats', messages, bytes, cpuMicros}; {type:'stop'} closes and exits.
 */
let messages = 0;
let bytes = 0;

const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  // Connections stay open across thousands of messages; no per-connection limits that would cut the pool.
  maxClients: 1000,
  onData(stream, _session, cb) {
    stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    stream.on('end', () => {
      messages++;
      cb();
    });
  },
});
server.on('error', (err) => process.stderr.write(`sink error: ${err.message}\n`));

server.listen(0, '127.0.0.1', () => {
  const { port } = server.server.address() as AddressInfo;
  process.send!({ type: 'ready', port });
});

process.on('message', (msg: { type: string }) => {
  if (msg.type === 'stats') {
    const cpu = process.cpuUsage();
    process.send!({ type: 'stats', messages, bytes, cpuMicros: cpu.user + cpu.system });
  } else if (msg.type === 'stop') {
    server.close(() => process.exit(0));
    // Pooled clients may hold connections open; do not wait for them.
    setTimeout(() => process.exit(0), 500).unref();
  }
});
// The benchmark is gone: nothing to serve.
process.on('disconnect', () => process.exit(0));
