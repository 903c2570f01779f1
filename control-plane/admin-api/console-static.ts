/**
 * The web console's static files at `/console/` (built by `npm run build` into `dist/console`).
 * The files need no token; every API call the console makes carries the one the user signs in
 * with. The content security policy keeps the page to this origin: the console loads nothing from
 * any other host.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';
import { GantryError } from '../../common/errors.js';

const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** `dist/console` of the package, whether running from source or from dist/. */
export function defaultConsoleDir(moduleUrl: string): string | undefined {
  let dir = path.dirname(fileURLToPath(moduleUrl));
  for (let i = 0; i < 8; i++) {
    if (existsSync(path.join(dir, 'package.json'))) {
      const built = path.join(dir, 'dist', 'console');
      return existsSync(path.join(built, 'index.html')) ? built : undefined;
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

export function consoleRouter(dir: string | undefined): Router {
  const r = Router();
  // Express's routes ignore a trailing slash, so `/console/` reaches this too and goes on to the files.
  r.get('/console', (req, res, next) => {
    if (req.path !== '/console') {
      next();
      return;
    }
    res.redirect(301, '/console/');
  });
  if (dir === undefined) {
    r.use('/console', () => {
      throw new GantryError('ResourceNotFound', 'The console is not built here (npm run build builds it).', { component: 'admin-api' });
    });
    return r;
  }
  r.use(
    '/console',
    express.static(dir, {
      index: 'index.html',
      redirect: false,
      fallthrough: true,
      setHeaders: (res, file) => {
        res.setHeader('Content-Security-Policy', CSP);
        res.setHeader('X-Content-Type-Options', 'nosniff');
        res.setHeader('Referrer-Policy', 'no-referrer');
        // Vite names assets by content hash, so they never change; the page itself always revalidates.
        res.setHeader('Cache-Control', file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    }),
  );
  return r;
}
