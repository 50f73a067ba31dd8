// Screenshots of the work lists (issue 5 item 7) and the running-class pages.
// Usage: start `peixun serve --demo --addr 127.0.0.1:18383`, then
//   PEIXUN_URL=http://127.0.0.1:18383 node screenshots-running.mjs [outdir]
// Exits non-zero when a page does not show what a user needs to see.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const base = process.env.PEIXUN_URL ?? 'http://127.0.0.1:18383';
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
  const { context, page } = await session('centre_staff');
  const html = await page.content();
  expect(html.includes('待办事项'), 'centre_staff home shows the work list');
  expect(html.includes('临近最迟完成日期'), 'centre_staff home shows a class near day 30');
  expect(html.includes('整改未闭环的检查抽查'), 'centre_staff home shows the open inspection');
  await page.screenshot({ path: `${out}/home-centre-staff.png`, fullPage: true });
  await page.goto(`${base}/reports`);
  await page.screenshot({ path: `${out}/monthly-reports.png`, fullPage: true });
  await context.close();
}
{
  const { context, page } = await session('inst_a_staff');
  const html = await page.content();
  expect(html.includes('待办事项'), 'institution home shows the work list');
  expect(html.includes('检查抽查要求整改'), 'institution home shows the rectification');
  await page.screenshot({ path: `${out}/home-institution.png`, fullPage: true });
  const link = page.locator('a[href^="/classes/"]').first();
  if (await link.count()) {
    await Promise.all([page.waitForNavigation(), link.click()]);
    await page.screenshot({ path: `${out}/class-running.png`, fullPage: true });
  } else {
    failures.push('institution home links to its class');
  }
  await context.close();
}

await browser.close();
if (failures.length) {
  console.error('FAILED:\n- ' + failures.join('\n- '));
  process.exit(1);
}
console.log(`screenshots written to ${out}`);
