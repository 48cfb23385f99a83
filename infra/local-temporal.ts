import path from 'node:path';
import { startTemporalDevServer, temporalHealthy } from './temporal-server';

export interface TemporalEndpoint {
  address: string;
  uiUrl: string | undefined;
  /** True when this process started the server (and so stops it). */
  started: boolean;
  pid?: number;
  stop(): Promise<void>;
}

/**
 * The Temporal server for the embedded mode: the one at TEMPORAL_ADDRESS if set; else one already answering
 * on localhost:7233 (e.g. from an earlier `bgstudy services up`); else a dev server started here with its
 * SQLite file in the project home, so a study interrupted with Ctrl-C resumes on the next run.
 */
export async function ensureLocalTemporal(options: {
  homeDir: string;
  address?: string;
  log?: (line: string) => void;
  detached?: boolean;
}): Promise<TemporalEndpoint> {
  const log = options.log ?? ((l: string) => console.error(l));
  if (options.address) {
    if (!(await temporalHealthy(options.address))) {
      throw new Error(`no Temporal server answers at ${options.address} (TEMPORAL_ADDRESS)`);
    }
    return { address: options.address, uiUrl: undefined, started: false, stop: async () => {} };
  }
  const defaultAddress = '127.0.0.1:7233';
  if (await temporalHealthy(defaultAddress)) {
    log(`using the Temporal server already running at ${defaultAddress}`);
    return { address: defaultAddress, uiUrl: 'http://localhost:8233', started: false, stop: async () => {} };
  }
  const dbFile = path.join(options.homeDir, 'temporal.db');
  log(`starting a local Temporal dev server (state: ${dbFile})...`);
  const server = await startTemporalDevServer({
    dbFile,
    logDir: path.join(options.homeDir, 'logs'),
    port: 7233,
    uiPort: 8233,
    detached: options.detached,
  });
  return {
    address: server.address,
    uiUrl: server.uiUrl,
    started: true,
    pid: server.process.child.pid,
    stop: () => server.stop(),
  };
}
