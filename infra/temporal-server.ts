import { Connection } from '@temporalio/client';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { STUDY_SEARCH_ATTRIBUTES } from '../common/search-attributes';
import { ensureBinary, TEMPORAL } from './binaries';
import { freePorts } from './ports';
import { startService, type ServiceProcess } from './service-process';

export interface TemporalDevServer {
  address: string;
  uiUrl: string | undefined;
  process: ServiceProcess;
  dbFile: string;
  stop(): Promise<void>;
}

/** Does a Temporal frontend answer at this address? */
export async function temporalHealthy(address: string): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 1_000 });
    await connection.workflowService.getSystemInfo({});
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

/**
 * `temporal server start-dev` with a SQLite file, so workflow state survives a restart of the server.
 * Ports default to free ones (tests); pass 7233/8233 for the user-facing default.
 */
export async function startTemporalDevServer(options: {
  dbFile: string;
  logDir: string;
  port?: number;
  uiPort?: number;
  headless?: boolean;
  detached?: boolean;
}): Promise<TemporalDevServer> {
  const bin = await ensureBinary(TEMPORAL);
  // picked together, so that no two of them are the same port
  const [freeGrpc, httpPort, metricsPort, freeUi] = await freePorts(4);
  const port = options.port ?? freeGrpc!;
  const uiPort = options.headless ? undefined : (options.uiPort ?? freeUi!);
  await mkdir(path.dirname(options.dbFile), { recursive: true });
  const args = [
    'server',
    'start-dev',
    '--db-filename',
    options.dbFile,
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--http-port',
    String(httpPort),
    '--metrics-port',
    String(metricsPort),
    '--log-level',
    'warn',
    // The study's custom search attributes (common/search-attributes.ts), so `temporal workflow list
    // --query 'BgStudy="quick"'` works on the dev server with nothing to register.
    ...STUDY_SEARCH_ATTRIBUTES.flatMap((k) => ['--search-attribute', `${k.name}=Keyword`]),
  ];
  if (uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(uiPort));
  const address = `127.0.0.1:${port}`;
  const proc = await startService({
    name: `temporal-${port}`,
    command: bin,
    args,
    logDir: options.logDir,
    healthy: () => temporalHealthy(address),
    timeoutMs: 90_000,
    detached: options.detached,
  });
  return {
    address,
    uiUrl: uiPort === undefined ? undefined : `http://localhost:${uiPort}`,
    process: proc,
    dbFile: options.dbFile,
    stop: () => proc.stop(),
  };
}
