// Screenshots of issue 4's pages: the public bulletin, a round page and an agreement with its cap
// trail. Usage: start `peixun serve --demo --addr 127.0.0.1:18181`, then
//   PEIXUN_URL=http://127.0.0.1:18181 node screenshots-rounds.mjs [outdir]
// Exits non-zero when a page does not show what a user needs to see.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const base = process.env.PEIXUN_URL ?? 'http://127.0.0.1:18181';
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

// 1. The public bulletin of the published round, no login.
const rounds = await (await fetch(`${base}/api/v1/bulletin`)).json();
const open = rounds.find((r) => r.status_label === '已发布') ?? rounds[0];
{
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'zh-CN' });
  const page = await context.newPage();
  await page.goto(`${base}/bulletin/rounds/${open.id}`);
  const html = await page.content();
  expect(html.includes('已批出名额') && html.includes('候补'), 'bulletin shows quota and the queue');
  await page.screenshot({ path: `${out}/bulletin.png`, fullPage: true });
  await context.close();
}

// 2. The round page (centre admin) and 3. an agreement with its cap trail.
{
  const { context, page } = await session('centre_admin');
  await page.goto(`${base}/rounds/${open.id}`);
  expect((await page.content()).includes('调整记录'), 'round page shows the history');
  await page.screenshot({ path: `${out}/round.png`, fullPage: true });
  const agreements = await page.evaluate(async (id) => (await fetch(`/api/v1/rounds/${id}/agreements`)).json(), open.id);
  // An agreement whose override changed the cap (both values in the trail), else a computed one.
  const ag = agreements.find((a) => a.decision.overrides.some((o) => o.from !== o.to))
    ?? agreements.find((a) => a.decision.input.basis.kind === 'later') ?? agreements[0];
  await page.goto(`${base}/agreements/${ag.id}`);
  expect((await page.content()).includes('签约班次上限计算过程'), 'agreement shows the cap trail');
  await page.screenshot({ path: `${out}/agreement-cap-trail.png`, fullPage: true });
  await context.close();
}

await browser.close();
if (failures.length) {
  console.error('FAILED:\n' + failures.join('\n'));
  process.exit(1);
}
console.log('screenshots saved to', out);
