// Screenshot of an evaluation with one adjusted component (R-EVA-1): the demo's confirmed
// evaluation (archives adjusted with a reason beside the computed value), and the next period's
// application whose cap preview cites it (R-CAP-3). Reads the demo; changes nothing.
// Usage: PEIXUN_URL=http://127.0.0.1:18383 node screenshots-evaluations.mjs ../docs/screenshots
import { base, out, expect, session, finish } from './common.mjs';

const centre = await session('centre_admin');
const p = centre.page;
await p.goto(`${base}/evaluations`);
const link = p.locator('a[href^="/evaluations/"]').first();
expect(await link.count() > 0, 'evaluations: the list has the demo evaluation');
const href = await link.getAttribute('href');
await p.goto(`${base}${href}`);
const html = await p.content();
expect(html.includes('调整理由') && html.includes('现场逐项核查'), 'evaluation: the adjustment and its reason');
expect(html.includes('计算过程'), 'evaluation: the trail');
await p.screenshot({ path: `${out}/evaluation-adjusted.png`, fullPage: true });
await finish();
