// Screenshots of policy versions (R-POL-1): the sysadmin proposes a new version (filing lead 10 →
// 12 working days, effective 2027-01-01), the centre admin confirms it, and the two versions are
// compared side by side. Use a throw-away demo database.
// Usage: start `peixun serve --demo --addr 127.0.0.1:18383 --data-dir /tmp/peixun-demo`, then
//   PEIXUN_URL=http://127.0.0.1:18383 node screenshots-policies.mjs [outdir]
import { base, out, expect, session, finish } from './common.mjs';

let id;
{
  const { context, page } = await session('sysadmin');
  await page.goto(`${base}/policies/new`);
  await page.fill('input[name=version]', 'haizhu-2027-v2');
  await page.fill('input[name=effective_from]', '2027-01-01');
  await page.fill('input[name=document_title]', '海珠区职业技能培训合格证书培训工作指引（修订，演示）');
  await page.fill('input[name=document_number]', '演示〔2026〕1号');
  await page.fill('input[name=filing_lead_working_days]', '12');
  await page.screenshot({ path: `${out}/policy-propose.png`, fullPage: true });
  await Promise.all([page.waitForNavigation(), page.click('form button[type=submit]:not(.link-button)')]);
  id = page.url().match(/\/policies\/(\d+)/)?.[1];
  expect(id, `proposal saved (at ${page.url()})`);
  await context.close();
}
if (id) {
  const { context, page } = await session('centre_admin');
  await page.goto(`${base}/policies/${id}`);
  const confirm = page.locator('form[action$="/confirm"] button');
  expect(await confirm.count() > 0, 'the centre admin sees the confirm button');
  if (await confirm.count()) {
    await Promise.all([page.waitForNavigation(), confirm.first().click()]);
  }
  await page.goto(`${base}/policies/compare?a=1&b=${id}`);
  const html = await page.content();
  expect(html.includes('class="differs"'), 'the compare page marks the differing value');
  await page.screenshot({ path: `${out}/policy-compare.png`, fullPage: true });
  await context.close();
}

await finish();
