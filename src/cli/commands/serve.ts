import * as fs from 'node:fs';
import * as path from 'node:path';
import { createStaticServer } from '../../server/staticServer';
import { UsageError, parseArgs, str } from '../args';
import { packageRoot } from './parity';
import type { Command } from './command';

export const serve: Command = {
  summary: 'serve the browser bundle, the demo and parity pages, and a data folder (COOP/COEP headers)',
  help:
    'Usage: maai-encoder serve [--port N] [--host H] [--data DIR] [--root DIR] [--quiet]\n\n' +
    'Serves the browser build (dist/browser: maai-encoder.js, the wasm binaries, the demo at /, /parity.html,\n' +
    '/bench.html) and the files of DIR under /data/ (weights, WAV files, golden cases). Every response carries\n' +
    'Cross-Origin-Opener-Policy / Cross-Origin-Embedder-Policy, so pages are cross-origin isolated and wasm runs\n' +
    'with threads. Binds 127.0.0.1 by default (--host 0.0.0.0 to expose it); --port 0 picks a free port.\n' +
    'Prints the URL, then one line per request unless --quiet. Stop with Ctrl-C.',
  async run(argv) {
    const p = parseArgs(argv, { port: { type: 'string' }, host: { type: 'string' }, data: { type: 'string' }, root: { type: 'string' }, quiet: { type: 'boolean' } });
    if (p.positionals.length > 0) throw new UsageError(`unexpected argument "${p.positionals[0]}"`);
    const portText = str(p, 'port') ?? '8080';
    const port = Number(portText);
    if (!/^\d+$/.test(portText) || port > 65535) throw new UsageError(`--port must be an integer in 0..65535, got "${portText}"`);
    const host = str(p, 'host') ?? '127.0.0.1';
    const root = path.resolve(str(p, 'root') ?? path.join(packageRoot(), 'dist', 'browser'));
    if (!fs.existsSync(path.join(root, 'maai-encoder.js'))) throw new UsageError(`no browser build in ${root}: run \`npm run build\` first`);
    const dataFlag = str(p, 'data');
    const dataDir = dataFlag === undefined ? undefined : path.resolve(dataFlag);
    if (dataDir !== undefined && !(fs.existsSync(dataDir) && fs.statSync(dataDir).isDirectory())) throw new UsageError(`--data: not a folder: ${dataFlag}`);
    const server = createStaticServer({ root, dataDir, log: p.flags.quiet ? undefined : (l) => process.stdout.write(l + '\n') });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(e.code === 'EADDRINUSE' ? new UsageError(`port ${port} is in use: choose another with --port`) : e.code === 'EACCES' ? new UsageError(`no permission to listen on port ${port}`) : e),
      );
      server.listen(port, host, () => resolve());
    });
    const addr = server.address();
    const actual = typeof addr === 'object' && addr ? addr.port : port;
    const shown = host.includes(':') ? `[${host}]` : host;
    process.stdout.write(`maai-encoder serve: http://${shown}:${actual}/ (bundle ${root}${dataDir ? `, /data/ = ${dataDir}` : ''})\n`);
    await new Promise<void>((resolve) => {
      const stop = () => {
        server.close(() => resolve());
        server.closeAllConnections(); // keep-alive sockets would hold the exit for seconds
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return 0;
  },
};
