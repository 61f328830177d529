import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { jsonError } from './errors';

/** Bearer-token guard. Both sides are hashed first so the comparison takes the same time whatever the length. */
export function requireAdmin(adminToken: string) {
  const expected = createHash('sha256').update(adminToken).digest();
  return (req: Request, res: Response, next: NextFunction) => {
    const m = /^Bearer (.+)$/.exec(req.get('authorization') ?? '');
    const given = createHash('sha256')
      .update(m?.[1] ?? '')
      .digest();
    if (!m || !timingSafeEqual(given, expected)) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="admin"');
      return jsonError(
        res,
        401,
        'unauthorized',
        'A valid admin token is required (Authorization: Bearer <ADMIN_TOKEN>).',
      );
    }
    next();
  };
}
