// Screenshots after the exam (R-CRT-1/2, R-ARC-2): results entry with errors, the certificate
// list with QR codes, /verify with a valid, a revoked and an unknown code, the archive matrix.
// Reads the demo; the results form is submitted with a bad score and changes nothing.
// Usage: PEIXUN_URL=http://127.0.0.1:18383 node screenshots-outcomes.mjs ../docs/screenshots
import { base, out, browser, expect, session, finish } from './common.mjs';

const CERTIFIED = process.env.CLASS_CERTIFIED ?? '35';
const AWAITING = process.env.CLASS_AWAITING ?? '36';
const ARCHIVE = process.env.CLASS_ARCHIVE ?? '37';

const inst = await session('inst_a_admin');
let p = inst.page;
await p.goto(`${base}/classes/${AWAITING}/results`);
const score = p.locator('input[name^=score_]').first();
await score.fill('105');
await Promise.all([p.waitForLoadState('load'), p.locator('button:has-text("保存考试结果")').click()]);
expect(await p.locator('.error-summary').count() > 0, 'results: error summary after a bad score');
await p.screenshot({ path: `${out}/results-entry-errors.png`, fullPage: true });

const centre = await session('centre_admin');
p = centre.page;
await p.goto(`${base}/classes/${CERTIFIED}/certificates`);
expect(await p.locator('img[src^="data:image/svg"], svg').count() > 0, 'certificates: QR codes');
expect((await p.content()).includes('已撤销'), 'certificates: the revoked code is listed');
await p.screenshot({ path: `${out}/certificates-list.png`, fullPage: true });
await p.goto(`${base}/classes/${ARCHIVE}/archive`);
expect((await p.content()).includes('%'), 'archive: completeness shown');
await p.screenshot({ path: `${out}/archive-matrix.png`, fullPage: true });

const anon = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
const v = await anon.newPage();
for (const [file, code, name, want] of [
  ['verify-valid', '44010520260001001', '司马伟', '有效'],
  ['verify-revoked', '44010520260001005', '陈建伟', '已撤销'],
  ['verify-unknown', '44010520269999001', '张三', '未找到'],
]) {
  await v.goto(`${base}/verify?code=${code}&name=${encodeURIComponent(name)}`);
  expect((await v.content()).includes(want), `${file}: shows ${want}`);
  await v.screenshot({ path: `${out}/${file}.png`, fullPage: true });
}
await finish();
