/** JWT bearer tokens as OpenPAI rest-server issues them (HS256, payload {username, admin, application}). */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface TokenClaims {
  username: string;
  admin: boolean;
  application: boolean;
}

export class TokenSigner {
  private readonly secret = randomBytes(32);

  sign(claims: TokenClaims): string {
    const header = base64url({ alg: 'HS256', typ: 'JWT' });
    const payload = base64url({ ...claims, iat: Math.floor(Date.now() / 1000) });
    return `${header}.${payload}.${this.signature(`${header}.${payload}`)}`;
  }

  /** The claims of a token this signer issued, or undefined for anything else. */
  verify(token: string): TokenClaims | undefined {
    const [header, payload, signature] = token.split('.');
    if (!header || !payload || !signature) return undefined;
    const expected = Buffer.from(this.signature(`${header}.${payload}`));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as TokenClaims;
  }

  private signature(data: string): string {
    return createHmac('sha256', this.secret).update(data).digest('base64url');
  }
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
