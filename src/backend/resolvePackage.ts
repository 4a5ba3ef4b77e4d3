/**
 * Package resolution that works from the CommonJS test build (jest) and from the ESM bundle alike: from the
 * working directory's project first, then from this package's own location.
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';

function cwdRequire(): NodeRequire {
  return createRequire(path.join(process.cwd(), 'noop.js'));
}

/**
 * The `require` of this module's context: jest's (which shares the test's module registry, so a package it
 * loads sees the same @tensorflow/tfjs-core instance as the test) or, in the ESM bundle, the banner's
 * createRequire(import.meta.url).
 */
export function hereRequire(): NodeRequire {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const g: any = globalThis as any;
  if (typeof g.__maaiRequire === 'function') return g.__maaiRequire;
  try {
    return typeof require === 'function' ? require : cwdRequire();
  } catch {
    return cwdRequire();
  }
}

/** The entry file of package `name` (or a file inside it, e.g. "pkg/package.json"), or null. */
export function resolvePackage(name: string): string | null {
  for (const req of [cwdRequire(), hereRequire()]) {
    try {
      return req.resolve(name);
    } catch {
      /* try the next */
    }
  }
  return null;
}
