// Screenshots of the satisfaction survey (R-EVA-3): the public questionnaire on a 390 px phone
// (no sign-in), the same page after a submission with missing answers, and the class page's
// 满意度调查 section (link, QR code, closing date, response rate, mean ratings) of a demo class
// that ran. The centre first moves the running class's closing date a week ahead (the demo's
// running class is past its planned end); the error submission changes nothing.
// Usage: PEIXUN_URL=http://127.0.0.1:18383 node screenshots-survey.mjs ../docs/screenshots
import { base, out, browser, expect, session, finish } from './common.mjs';

const RUNNING = process.env.CLASS_RUNNING ?? '34';
const RAN = process.env.CLASS_RAN ?? '35';

const centre = await session('centre_admin');
await centre.page.goto(`${base}/classes/${RUNNING}`);
const ahead = new Date(Date.now() + 7 * 86400e3).toISOString().slice(0, 10);
await centre.page.fill('#closes_on', ahead);
await Promise.all([centre.page.waitForLoadState('load'), centre.page.locator('button:has-text("保存截止日期")').click()]);
expect((await centre.page.content()).includes('问卷截止日期已保存'), 'centre: closing date saved');

const inst = await session('inst_a_admin');
let p = inst.page;
await p.goto(`${base}/classes/${RUNNING}`);
const href = await p.locator('#survey a[href*="/s/"]').first().getAttribute('href');
expect(href && /\/s\/[0-9a-f]{32}$/.test(href), 'class page: the survey link');
const link = href.startsWith('http') ? href : `${base}${href}`;

await p.goto(`${base}/classes/${RAN}`);
const section = p.locator('#survey');
expect(await section.count() === 1, 'class page: the survey section');
const text = await section.innerText();
expect(/回收率 \d+(\.\d)?%/.test(text), 'class page: response rate');
expect(text.includes('总体满意度'), 'class page: mean of the overall rating');
expect(await p.locator('#survey img[src$="/survey/qr.svg"]').count() === 1, 'class page: QR code');
await section.screenshot({ path: `${out}/survey-class.png` });

const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN', isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
const s = await phone.newPage();
await s.goto(link);
expect((await s.content()).includes('学员满意度调查'), 'survey: title');
expect(await s.locator('input[type=radio]').count() === 25, 'survey: 5 × 5 radio buttons');
const width = await s.evaluate(() => document.documentElement.scrollWidth);
expect(width <= 390, `survey: no horizontal scrolling at 390 px (scrollWidth ${width})`);
await s.screenshot({ path: `${out}/survey-phone.png`, fullPage: true });
// A submission without a name and with one rating missing: the summary names the fields.
await s.fill('#id_last4', '12');
for (const k of ['teaching', 'teacher', 'organisation', 'overall']) {
  await s.locator(`input[name=${k}][value="5"]`).check();
}
await Promise.all([s.waitForLoadState('load'), s.locator('button:has-text("提交问卷")').click()]);
const errs = await s.locator('.error-summary').innerText();
expect(errs.includes('请填写姓名') && errs.includes('场地设施'), 'survey: errors name the fields');
await s.screenshot({ path: `${out}/survey-phone-errors.png`, fullPage: true });
await finish();
