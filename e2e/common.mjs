// Shared set-up of the browser scripts: Debian's Chromium headless, one signed-in context per
// demo account, and a list of failed expectations that ends the script non-zero.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

export const base = process.env.PEIXUN_URL ?? 'http://127.0.0.1:18383';
export const out = process.argv[2] ?? '../docs/screenshots';
const password = process.env.PEIXUN_DEMO_PASSWORD ?? 'Peixun#Demo2026';
mkdirSync(out, { recursive: true });

export const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
    '--no-first-run', '--disable-component-update', '--disable-sync'],
});

const failures = [];
export function expect(cond, what) { if (!cond) failures.push(what); }

export async function session(username) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'zh-CN' });
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  return { context, page };
}

/// Close the browser; exit 1 listing every failed expectation.
export async function finish() {
  await browser.close();
  if (failures.length) {
    console.error('FAILED:\n- ' + failures.join('\n- '));
    process.exit(1);
  }
  console.log(`screenshots written to ${out}`);
}
