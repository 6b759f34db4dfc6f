// The processes scripts/services.ts starts: each logs to dataDir/logs, is stopped with its own signal
// and grace period, and is killed if this process exits without stopping it.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const STOP_GRACE_MS = 10_000;

export interface Child {
  name: string;
  proc: ChildProcess;
  logFile: string;
  stopSignal: NodeJS.Signals;
  /** Signal sent from a synchronous process 'exit' handler (cannot wait there). */
  exitSignal: NodeJS.Signals;
  exited: Promise<void>;
}

// Every child started by any startServices call; killed if this process exits without stop().
const liveChildren = new Set<Child>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of liveChildren) {
      if (isRunning(c.proc)) {
        try {
          c.proc.kill(c.exitSignal);
        } catch {
          /* already gone */
        }
      }
    }
  });
}

function isRunning(p: ChildProcess): boolean {
  return p.exitCode === null && p.signalCode === null;
}

export function tail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function binDir(): string {
  return process.env.MEDIAFLOW_BIN_DIR || path.join(os.homedir(), '.cache', 'mediaflow', 'bin');
}

export function binary(envName: string, name: string): string {
  const p = process.env[envName] || path.join(binDir(), name);
  try {
    fs.accessSync(p, fs.constants.X_OK);
  } catch {
    throw new Error(`${name} binary not found at ${p}: run "source scripts/bootstrap.sh" (builds it once) or set ${envName}`);
  }
  return p;
}

export function startChild(
  dataDir: string,
  name: string,
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; uid?: number; gid?: number; stopSignal?: NodeJS.Signals; exitSignal?: NodeJS.Signals } = {},
): Child {
  const logDir = path.join(dataDir, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `${name}.log`);
  const fd = fs.openSync(logFile, 'a');
  fs.writeSync(fd, `\n=== ${new Date().toISOString()} ${cmd} ${args.join(' ')}\n`);
  let proc: ChildProcess;
  try {
    proc = spawn(cmd, args, {
      stdio: ['ignore', fd, fd],
      env: { ...process.env, ...opts.env },
      uid: opts.uid,
      gid: opts.gid,
    });
  } finally {
    fs.closeSync(fd);
  }
  const exited = new Promise<void>((resolve) => {
    if (!isRunning(proc)) return resolve();
    proc.once('exit', () => resolve());
    proc.once('error', () => resolve());
  });
  proc.on('error', (err) => fs.appendFileSync(logFile, `spawn error: ${err.message}\n`));
  const child: Child = {
    name,
    proc,
    logFile,
    stopSignal: opts.stopSignal ?? 'SIGTERM',
    exitSignal: opts.exitSignal ?? 'SIGKILL',
    exited,
  };
  liveChildren.add(child);
  void exited.then(() => liveChildren.delete(child));
  installExitHook();
  return child;
}

/** Whether `exited` settles within `ms` (without leaving a timer behind that keeps the process alive). */
async function exitsWithin(exited: Promise<void>, ms: number): Promise<boolean> {
  const timer = new AbortController();
  try {
    return await Promise.race([
      exited.then(() => true),
      sleep(ms, false, { signal: timer.signal }).catch(() => false),
    ]);
  } finally {
    timer.abort();
  }
}

export async function stopChild(c: Child): Promise<void> {
  if (isRunning(c.proc) && c.proc.pid !== undefined) {
    c.proc.kill(c.stopSignal);
    if (!(await exitsWithin(c.exited, STOP_GRACE_MS)) && isRunning(c.proc)) {
      c.proc.kill('SIGKILL');
      await c.exited;
    }
  }
  liveChildren.delete(c);
}

function diedError(c: Child): Error {
  const how = c.proc.signalCode ? `signal ${c.proc.signalCode}` : `exit code ${c.proc.exitCode}`;
  return new Error(`${c.name} exited during startup (${how}); last lines of ${c.logFile}:\n${tail(c.logFile)}`);
}

/** Polls `check` until it returns true; throws if the child dies or the timeout passes. */
export async function waitFor(c: Child, what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!isRunning(c.proc)) throw diedError(c);
    if (await check()) return;
    if (!isRunning(c.proc)) throw diedError(c);
    if (Date.now() > deadline) {
      throw new Error(`${c.name}: timed out after ${timeoutMs / 1000}s waiting for ${what}; last lines of ${c.logFile}:\n${tail(c.logFile)}`);
    }
    await sleep(300);
  }
}

export function runQuiet(cmd: string, args: string[], timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: 'ignore', timeout: timeoutMs });
    p.once('error', () => resolve(false));
    p.once('exit', (code) => resolve(code === 0));
  });
}
