// Screenshots of the TOTP second factor (SECURITY S4): the auditor sets up an authenticator
// (QR code and secret), confirms it with a code (the recovery codes, shown once), then signs in
// again with the second step. The code is computed here from the secret the page shows
// (RFC 6238: HMAC-SHA1 over the 30-second step, node's crypto), as an authenticator app would.
// Enables TOTP for the demo's auditor: run on a throw-away --data-dir.
// Usage: PEIXUN_URL=http://127.0.0.1:18390 node screenshots-totp.mjs ../docs/screenshots
import { createHmac } from 'node:crypto';
import { base, out, expect, session, finish, browser } from './common.mjs';

function base32(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of s.replace(/=+$/, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

function totp(secret, at = Date.now()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const h = createHmac('sha1', base32(secret)).update(counter).digest();
  const o = h[h.length - 1] & 15;
  const n = (h.readUInt32BE(o) & 0x7fffffff) % 1000000;
  return String(n).padStart(6, '0');
}

const password = process.env.PEIXUN_DEMO_PASSWORD ?? 'Peixun#Demo2026';
const { page: p } = await session('auditor');
await p.goto(`${base}/account/totp`);
expect((await p.content()).includes('演示账号'), 'totp: the demo exemption is stated');
await p.fill('input[name=password]', password);
await Promise.all([p.waitForNavigation(), p.click('button[type=submit]')]);
const secret = (await p.locator('code.totp-secret').textContent()).trim();
expect(/^[A-Z2-7]{32}$/.test(secret), `totp: a base32 secret is shown (${secret})`);
expect(await p.locator('img[src^="data:image/svg+xml"]').count() === 1, 'totp: the QR code is shown');
await p.screenshot({ path: `${out}/totp-enrol.png`, fullPage: true });

await p.fill('input[name=code]', totp(secret));
await Promise.all([p.waitForNavigation(), p.click('button[type=submit]')]);
expect(await p.locator('ol.recovery-codes li').count() === 10, 'totp: ten recovery codes');
await p.screenshot({ path: `${out}/totp-recovery-codes.png`, fullPage: true });

// Sign in again: password, then the second step (in the next 30-second step: a code is used once).
const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'zh-CN' });
const q = await context.newPage();
await q.goto(`${base}/login`);
await q.fill('input[name=username]', 'auditor');
await q.fill('input[name=password]', password);
await Promise.all([q.waitForNavigation(), q.click('button[type=submit]')]);
expect(q.url().includes('/login/totp'), `totp: the second step follows the password (${q.url()})`);
await q.screenshot({ path: `${out}/totp-login.png`, fullPage: true });
await q.fill('input[name=code]', totp(secret, Date.now() + 30000));
await Promise.all([q.waitForNavigation(), q.click('button[type=submit]')]);
expect(!q.url().includes('/login'), `totp: signed in with the next code (${q.url()})`);
await finish();
