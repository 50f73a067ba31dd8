// Screenshots of the filing package (issue 5 items 1–4): a filing with validation errors, the
// centre's review page, and the returned-for-correction view the institution sees.
// Usage: start `peixun serve --demo --addr 127.0.0.1:18282`, then
//   PEIXUN_URL=http://127.0.0.1:18282 node screenshots-filing.mjs [outdir]
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const base = process.env.PEIXUN_URL ?? 'http://127.0.0.1:18282';
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

{
  const { context, page } = await session('inst_a_staff');
  await page.goto(`${base}/packages`);
  const links = await page.locator('table tbody a').evaluateAll(as => as.map(a => a.getAttribute('href')));
  expect(links.length >= 2, 'institution A has two demo packages');
  // The draft with problems: submit it and show every problem.
  let draft = null, returned = null;
  for (const href of links) {
    await page.goto(`${base}${href}`);
    const html = await page.content();
    if (html.includes('退回修改：请逐项修改')) returned = href;
    else if (html.includes('提交备案')) draft = href;
  }
  expect(draft, 'a draft package'); expect(returned, 'a returned package');
  if (draft) {
    await page.goto(`${base}${draft}`);
    await Promise.all([page.waitForNavigation(), page.click('#submit button')]);
    const html = await page.content();
    expect(html.includes('提交内容有误'), 'error summary at the top');
    expect(html.includes('须于') && html.includes('前提交备案'), 'lead time names the deadline');
    expect(html.includes('计划结束日期最迟为'), 'window names the last allowed day');
    await page.screenshot({ path: `${out}/filing-errors.png`, fullPage: true });
  }
  if (returned) {
    await page.goto(`${base}${returned}`);
    await page.screenshot({ path: `${out}/returned.png`, fullPage: true });
  }
  await context.close();
}
{
  const { context, page } = await session('centre_staff');
  await page.goto(`${base}/review`);
  expect((await page.locator('table.review tbody tr').count()) >= 1, 'review queue has rows');
  await page.screenshot({ path: `${out}/review.png`, fullPage: true });
  await context.close();
}
await browser.close();
if (failures.length) {
  console.error('FAILED:\n' + failures.join('\n'));
  process.exit(1);
}
console.log('ok');
