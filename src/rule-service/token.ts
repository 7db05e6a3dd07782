/**
 * Who a rest-server bearer token belongs to. OpenPAI tokens are JWTs whose payload names the user
 * (`username`, or `sub`); reading it needs no key because rest-server itself verifies the token when
 * the request reaches it, so a forged token gets nothing done.
 */

export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

export function tokenUser(token: string): string | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { username?: unknown; sub?: unknown };
    const user = claims.username ?? claims.sub;
    return typeof user === 'string' && user !== '' ? user : undefined;
  } catch {
    return undefined;
  }
}
