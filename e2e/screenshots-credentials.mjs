// Screenshots of the two-person credential issue (S7): the sysadmin's reset form, the first
// half it gives, the institution admin's list with the demo's waiting request, and the second
// half after confirming. Changes the demo (one reset is requested and one confirmed).
// Usage: PEIXUN_URL=http://127.0.0.1:18390 node screenshots-credentials.mjs ../docs/screenshots
import { base, out, expect, session, finish } from './common.mjs';

const inst = await session('inst_a_admin');
await inst.page.goto(`${base}/credential-requests`);
let html = await inst.page.content();
expect(html.includes('inst_a_staff') && html.includes('确认并获取后半段'), 'inst admin: the demo request waits for them');
await inst.page.screenshot({ path: `${out}/credential-requests.png`, fullPage: true });

const sys = await session('sysadmin');
await sys.page.goto(`${base}/users?q=centre_staff`);
const reset = sys.page.locator('a[href$="/reset-password"]').first();
await sys.page.goto(`${base}${await reset.getAttribute('href')}`);
await Promise.all([sys.page.waitForNavigation(), sys.page.click('button[type=submit]')]);
html = await sys.page.content();
expect(html.includes('重置原因') && html.includes('error'), 'reset without a reason names the field');
await sys.page.fill('input[name=reason]', '经办人忘记密码，已电话核实身份');
await Promise.all([sys.page.waitForNavigation(), sys.page.click('button[type=submit]')]);
html = await sys.page.content();
expect(html.includes('前半段'), 'sysadmin gets the first half');
await sys.page.screenshot({ path: `${out}/credential-first-half.png`, fullPage: true });

const centre = await session('centre_admin');
await centre.page.goto(`${base}/credential-requests`);
const btn = centre.page.locator('form[action$="/confirm"] button').first();
await Promise.all([centre.page.waitForNavigation(), btn.click()]);
html = await centre.page.content();
expect(html.includes('后半段'), 'confirmer gets the second half');
await centre.page.screenshot({ path: `${out}/credential-second-half.png`, fullPage: true });
await finish();
