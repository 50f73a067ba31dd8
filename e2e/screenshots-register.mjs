// The certificate register (证书台账): the centre's page with a filter, the next page, a bad
// filter named, and an institution's own register at 390 px. Usage: node screenshots-register.mjs [out]
import { base, out, expect, session, finish } from './common.mjs';

const centre = await session('centre_admin');
let p = centre.page;
await p.goto(`${base}/certificates`);
expect(await p.locator('h1', { hasText: '证书台账' }).count() === 1, 'register heading');
expect(await p.locator('table tbody tr').count() > 0, 'register rows');
await p.screenshot({ path: `${out}/register-centre.png`, fullPage: false });
await p.fill('#year', '2026');
await Promise.all([p.waitForNavigation(), p.click('form.filters button[type=submit]')]);
const next = p.locator('a[rel=next]');
if (await next.count()) {
  await Promise.all([p.waitForNavigation(), next.click()]);
  expect(p.url().includes('after='), 'next page continues after a code');
}
await p.screenshot({ path: `${out}/register-centre-next.png`, fullPage: false });
await p.goto(`${base}/certificates?year=26&status=x`);
expect(await p.locator('.error-summary, [role=alert]').count() > 0, 'bad filter named');
await p.screenshot({ path: `${out}/register-bad-filter.png`, fullPage: false });

const inst = await session('inst_a_admin');
await inst.page.setViewportSize({ width: 390, height: 844 });
await inst.page.goto(`${base}/certificates`);
expect(await inst.page.locator('#institution_id').count() === 0, 'no institution filter for an institution');
await inst.page.screenshot({ path: `${out}/register-institution-390.png`, fullPage: false });
await finish();
