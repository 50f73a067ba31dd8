// Screenshots of the holiday calendar (R-CAL-1): the missing-year warning on the home pages, the
// sysadmin's import page with every problem beside its line, the preview of a good file as month
// calendars, and the loaded year. The 2027 table loaded here is a test fixture, not the State
// Council's notice: use a throw-away demo database.
// Usage: start `peixun serve --demo --addr 127.0.0.1:18383 --data-dir /tmp/peixun-demo`, then
//   PEIXUN_URL=http://127.0.0.1:18383 node screenshots-calendar.mjs [outdir]
// Exits non-zero when a page does not show what a user needs to see.
import { base, out, expect, session, finish } from './common.mjs';

const BAD = `[[year]]
year = 2027
source = "测试用表（非国务院办公厅通知）"
working_days = ["2027-02-17", "2027-02-20"]

[[year.off]]
name = "春节"
from = 2027-02-06
to = "2027-02-32"
`;
const GOOD = `[[year]]
year = 2027
source = "测试用表（非国务院办公厅通知）"
working_days = ["2027-02-20"]

[[year.off]]
name = "元旦"
from = 2027-01-01
to = 2027-01-03

[[year.off]]
name = "春节"
from = 2027-02-06
to = 2027-02-12
`;

{
  const { context, page } = await session('centre_admin');
  const html = await page.content();
  expect(html.includes('2027年的节假日安排尚未载入'), 'centre_admin home warns that 2027 is missing');
  await page.screenshot({ path: `${out}/calendar-missing-year-warning.png` });
  await context.close();
}
{
  const { context, page } = await session('sysadmin');
  expect((await page.content()).includes('载入2027年的安排'), 'sysadmin home links to loading 2027');
  await page.goto(`${base}/calendar`);
  expect((await page.content()).includes('2026年12月'), 'calendar page shows 2026 month by month');
  await page.screenshot({ path: `${out}/calendar-2026.png`, fullPage: true });

  await page.goto(`${base}/calendar/import`);
  await page.fill('textarea[name=toml]', BAD);
  await Promise.all([page.waitForNavigation(), page.click('button[value=preview]')]);
  const bad = await page.content();
  expect(bad.includes('第4行'), 'a problem is shown beside line 4');
  expect(bad.includes('第9行'), 'the bad date is shown beside line 9');
  await page.screenshot({ path: `${out}/calendar-import-errors.png`, fullPage: true });

  await page.fill('textarea[name=toml]', GOOD);
  await Promise.all([page.waitForNavigation(), page.click('button[value=preview]')]);
  const good = await page.content();
  expect(good.includes('2027年 · 新载入'), 'the preview says 2027 is new');
  await page.screenshot({ path: `${out}/calendar-import-preview.png`, fullPage: true });
  await Promise.all([page.waitForNavigation(), page.click('button[value=save]')]);
  const saved = await page.content();
  expect(saved.includes('节假日安排已载入'), 'saved, with a confirmation');
  expect(!saved.includes('尚未载入'), 'the warning is gone once 2027 is loaded');
  await page.screenshot({ path: `${out}/calendar-2027-loaded.png` });
  await context.close();
}

await finish();
