// Drives Debian's headless Chromium through peixun as a person would and saves screenshots.
// Usage: start `peixun serve --demo --addr 127.0.0.1:18080`, then
//   PEIXUN_URL=http://127.0.0.1:18080 node screenshots.mjs [outdir]
// Exits non-zero when a page does not show what a user needs to see.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const base = process.env.PEIXUN_URL ?? 'http://127.0.0.1:18080';
const out = process.argv[2] ?? '../docs/screenshots';
const password = process.env.PEIXUN_DEMO_PASSWORD ?? 'Peixun#Demo2026';
mkdirSync(out, { recursive: true });

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
    '--no-first-run', '--disable-component-update', '--disable-sync'],
});
const failures = [];
function expect(cond, what) { if (!cond) failures.push(what); }

async function session(username) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'zh-CN' });
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  return { context, page };
}

// 1. The login page, with a failed attempt.
{
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'zh-CN' });
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await page.screenshot({ path: `${out}/login.png`, fullPage: true });
  await page.fill('input[name=username]', 'nobody');
  await page.fill('input[name=password]', 'wrong-password-123');
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  expect((await page.content()).includes('用户名或密码错误'), 'bad login shows 用户名或密码错误');
  await page.screenshot({ path: `${out}/login-failed.png`, fullPage: true });
  await context.close();
}

// 2. The centre's home page and the institution directory.
{
  const { context, page } = await session(process.env.PEIXUN_CENTRE_USER ?? 'centre_admin');
  expect((await page.content()).includes('演示环境'), 'demo banner on the home page');
  await page.screenshot({ path: `${out}/home-centre-admin.png`, fullPage: true });
  await page.goto(`${base}/institutions`);
  expect((await page.locator('table tbody tr').count()) > 5, 'institution list has rows');
  await page.screenshot({ path: `${out}/institutions.png`, fullPage: true });
  // 3. The institution form with a validation error.
  await page.goto(`${base}/institutions/new`);
  await page.fill('input[name=name]', '广州市海珠区测试职业培训学校');
  await page.fill('input[name=credit_code]', '91440105MA5ABCDEI1');
  await Promise.all([page.waitForNavigation(), page.click('form button[type=submit]')]);
  const html = await page.content();
  expect(html.includes('统一社会信用代码'), 'form error names the credit code field');
  await page.screenshot({ path: `${out}/institution-form-error.png`, fullPage: true });
  await context.close();
}

await browser.close();
if (failures.length) {
  console.error('FAILED:\n- ' + failures.join('\n- '));
  process.exit(1);
}
console.log(`screenshots written to ${out}`);
