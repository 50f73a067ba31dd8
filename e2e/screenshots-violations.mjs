// Screenshot of a violation's confirmation page (R-VIO-2): the demo's violation recorded by
// centre_staff and awaiting centre_admin, who sees exactly what confirming would do. Reads the
// demo only (nothing is confirmed).
// Usage: PEIXUN_URL=http://127.0.0.1:18390 node screenshots-violations.mjs ../docs/screenshots
import { base, out, expect, session, finish } from './common.mjs';

const centre = await session('centre_admin');
const p = centre.page;
await p.goto(`${base}/violations?state=recorded`);
const link = p.locator('table a[href^="/violations/"]').first();
const href = await link.getAttribute('href');
await p.goto(`${base}${href}`);
const html = await p.content();
expect(html.includes('确认后将立即发生'), 'violation: the consequences are listed');
expect(html.includes('确认违规') && html.includes('不予认定'), 'violation: both decisions offered');
expect(html.includes('中止委托培训协议 1 份'), 'violation: one agreement to terminate');
await p.screenshot({ path: `${out}/violation-confirm.png`, fullPage: true });
await finish();
