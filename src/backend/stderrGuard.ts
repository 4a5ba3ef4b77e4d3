/**
 * TensorFlow >= 2.16 writes a line to stderr while its library loads ("oneDNN custom operations are on"), before
 * TF_CPP_MIN_LOG_LEVEL applies. setup-backend compiles this tiny N-API module (`stderr-guard.node`, beside the
 * native backend) so that the load can run with file descriptor 2 pointed at /dev/null and then restored.
 * Failures to load still surface: they are thrown as errors, and setup-backend's load test runs unguarded.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { hereRequire } from './resolvePackage';

export const STDERR_GUARD_FILE = 'stderr-guard.node';

const SOURCE = `#include <node_api.h>
#include <fcntl.h>
#include <unistd.h>
static int saved = -1;
static napi_value Silence(napi_env env, napi_callback_info info) {
  if (saved < 0) {
    saved = dup(2);
    int n = open("/dev/null", O_WRONLY);
    if (n >= 0) { dup2(n, 2); close(n); }
  }
  return NULL;
}
static napi_value Restore(napi_env env, napi_callback_info info) {
  if (saved >= 0) { dup2(saved, 2); close(saved); saved = -1; }
  return NULL;
}
NAPI_MODULE_INIT() {
  napi_value f;
  napi_create_function(env, "silence", NAPI_AUTO_LENGTH, Silence, NULL, &f);
  napi_set_named_property(env, exports, "silence", f);
  napi_create_function(env, "restore", NAPI_AUTO_LENGTH, Restore, NULL, &f);
  napi_set_named_property(env, exports, "restore", f);
  return exports;
}
`;

/** Compiles the guard into `dir` with the C compiler `cc` against Node's headers; returns an error text or null. */
export function buildStderrGuard(dir: string, nodeHeaders: string, cc: string): string | null {
  const src = path.join(dir, 'stderr-guard.c');
  fs.writeFileSync(src, SOURCE);
  const r = spawnSync(cc, ['-shared', '-fPIC', '-O2', `-I${path.join(nodeHeaders, 'include', 'node')}`, src, '-o', path.join(dir, STDERR_GUARD_FILE)], { encoding: 'utf8' });
  return r.status === 0 ? null : `${r.error ?? ''}${r.stderr ?? ''}`.trim() || `exit ${r.status}`;
}

/** Runs `f` with stderr silenced when `dir` holds a working guard; otherwise just runs it. */
export function withStderrSilenced<T>(dir: string, f: () => T): T {
  let guard: { silence(): void; restore(): void } | null = null;
  const file = path.join(dir, STDERR_GUARD_FILE);
  if (fs.existsSync(file)) {
    try {
      guard = hereRequire()(file);
    } catch {
      guard = null;
    }
  }
  guard?.silence();
  try {
    return f();
  } finally {
    guard?.restore();
  }
}
