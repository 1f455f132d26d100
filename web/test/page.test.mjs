// End-to-end test of the house price page (`GET /`) in headless Chromium.
//
// Trains a model in a temporary folder with the `amesops` binary, serves it with
// `amesops serve` on a free port, then drives Debian's Chromium with playwright-core (no browser
// download). Environment:
//   AMESOPS_BIN        the amesops binary (default: $CARGO_TARGET_DIR or target, /debug/amesops)
//   CHROMIUM           the browser (default: /usr/bin/chromium)
//   SCREENSHOTS_DIR    where the screenshots go (default: screenshots/ at the project root)

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const targetDir = path.resolve(root, process.env.CARGO_TARGET_DIR || 'target');
const amesops = process.env.AMESOPS_BIN || path.join(targetDir, 'debug', 'amesops');
const browserPath = process.env.CHROMIUM || '/usr/bin/chromium';
const screenshots = path.resolve(root, process.env.SCREENSHOTS_DIR || 'screenshots');

const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage',
];
const KEY_FIELDS = ['Neighborhood', 'OverallQual', 'GrLivArea', 'YearBuilt', 'TotalBsmtSF',
  'GarageCars', 'FullBath', 'LotArea', 'KitchenQual'];
const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: 0 });

// The house the agent enters, as the page should send it.
const HOUSE = {
  Neighborhood: 'CollgCr', OverallQual: 7, GrLivArea: 1710, YearBuilt: 2003,
  TotalBsmtSF: 856, GarageCars: 2, FullBath: 2, KitchenQual: 'Gd',
};
const HOUSE_B = {
  Neighborhood: 'NridgHt', OverallQual: 9, GrLivArea: 2400, YearBuilt: 2008, GarageCars: 3,
  KitchenQual: 'Ex',
};

let work;
let server;
let serverLog;
let base;
let browser;

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function logTail() {
  try {
    return readFileSync(serverLog, 'utf8').slice(-4000);
  } catch {
    return '(no server log)';
  }
}

async function startServer() {
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const port = await freePort();
    const out = openSync(serverLog, 'a');
    const child = spawn(amesops, ['serve', '--addr', `127.0.0.1:${port}`,
      '--model', path.join(work, 'models', 'model.json'), '--store', path.join(work, 'store')],
    { cwd: work, stdio: ['ignore', out, out] });
    let exited = false;
    child.on('exit', () => { exited = true; });
    for (let i = 0; i < 300 && !exited; i += 1) {
      try {
        const reply = await fetch(`http://127.0.0.1:${port}/health`);
        if (reply.ok) return { child, base: `http://127.0.0.1:${port}` };
      } catch { /* not listening yet */ }
      await sleep(100);
    }
    if (!exited) child.kill('SIGKILL');
  }
  throw new Error(`amesops serve did not start; log:\n${logTail()}`);
}

async function apiPredict(house) {
  const reply = await fetch(`${base}/predict`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(house),
  });
  return { status: reply.status, body: await reply.json() };
}

// A page that records failed CSP checks, script errors and every host it talks to.
async function openPage(context) {
  const page = await context.newPage();
  const problems = [];
  const hosts = new Set();
  page.on('pageerror', (error) => problems.push(`script error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text())) {
      problems.push(`console: ${message.text()}`);
    }
  });
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.protocol.startsWith('http')) hosts.add(url.host);
  });
  await page.goto(`${base}/`);
  await page.locator('#estimate-form').waitFor({ state: 'visible' });
  return { page, problems, hosts };
}

// Types the house into the form the way an agent would.
async function enterHouse(page, house) {
  for (const [name, value] of Object.entries(house)) {
    const control = page.locator(`#f-${name}`);
    if (await control.evaluate((node) => node.tagName === 'SELECT')) {
      await control.selectOption(String(value));
    } else {
      await control.fill(String(value));
    }
  }
}

async function noHorizontalOverflow(page, width) {
  const sizes = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    body: document.body.scrollWidth,
  }));
  assert.ok(sizes.scroll <= width, `page scrolls sideways: scrollWidth ${sizes.scroll} > ${width}`);
  assert.ok(sizes.body <= width, `body scrolls sideways: ${sizes.body} > ${width}`);
}

before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'amesops-web-'));
  serverLog = path.join(work, 'serve.log');
  const run = (...args) => execFileSync(amesops, args, { cwd: work, stdio: 'pipe' });
  run('fetch', '--source', path.join(root, 'datasets', 'ames.csv'), '--out', 'data/ames.csv');
  run('split', '--data', 'data/ames.csv', '--train', 'data/train.csv', '--test', 'data/test.csv');
  run('train', '--data', 'data/train.csv', '--out', 'models/model.json',
    '--params', path.join(root, 'params.yaml'));
  ({ child: server, base } = await startServer());
  browser = await chromium.launch({ executablePath: browserPath, headless: true, args: CHROMIUM_ARGS });
  mkdirSync(screenshots, { recursive: true });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the house price page', { timeout: 120_000 }, () => {
  test('builds the form from GET /model: key fields first, levels in words, units and ranges', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const { page, problems, hosts } = await openPage(context);
    try {
      const keyOrder = await page.$$eval('#key-fields [data-field]', (nodes) => nodes.map((n) => n.dataset.field));
      assert.deepEqual(keyOrder.slice(0, KEY_FIELDS.length), KEY_FIELDS);
      const model = await (await fetch(`${base}/model`)).json();
      const formFields = await page.$$eval('[data-field]', (nodes) => nodes.map((n) => n.dataset.field));
      assert.deepEqual([...formFields].sort(), model.fields.map((f) => f.name).sort(), 'every field is on the form');
      assert.equal(await page.locator('#all-fields').evaluate((d) => d.open), false, 'the rest are folded away');

      // Levels are shown in words, with the code as the value.
      const kitchen = await page.$$eval('#f-KitchenQual option', (options) => options.map((o) => [o.value, o.textContent]));
      assert.ok(kitchen.some(([value, text]) => value === 'Ex' && text === 'Excellent'), JSON.stringify(kitchen));
      const neighborhood = await page.$$eval('#f-Neighborhood option', (options) => options.map((o) => [o.value, o.textContent]));
      assert.ok(neighborhood.some(([value, text]) => value === 'CollgCr' && text === 'College Creek'));
      assert.equal(neighborhood[0][0], '', 'a field can be left to the model');
      const quality = await page.$$eval('#f-OverallQual option', (options) => options.map((o) => [o.value, o.textContent]));
      assert.ok(quality.some(([value, text]) => value === '7' && text.includes('Good')), JSON.stringify(quality));

      // Numbers: ranges from the schema, whole numbers step by 1, units shown.
      const year = await page.locator('#f-YearBuilt').evaluate((n) => [n.type, n.min, n.max, n.step]);
      assert.deepEqual(year, ['number', '1800', '2100', '1']);
      const area = await page.locator('#f-GrLivArea').evaluate((n) => [n.type, n.min, n.closest('.field').textContent]);
      assert.equal(area[0], 'number');
      assert.equal(area[1], '0');
      assert.match(area[2], /sq ft/);

      // Every control has a label; nothing is fetched from another host; the CSP holds.
      const unlabelled = await page.$$eval('input, select, textarea', (nodes) => nodes
        .filter((n) => n.type !== 'hidden' && (!n.labels || n.labels.length === 0)).map((n) => n.id || n.name));
      assert.deepEqual(unlabelled, []);
      assert.deepEqual([...hosts], [new URL(base).host]);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  test('prices a house: the same price, interval and model as POST /predict', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const { page, problems } = await openPage(context);
    try {
      await enterHouse(page, HOUSE);
      const [request] = await Promise.all([
        page.waitForRequest((r) => r.url().endsWith('/predict') && r.method() === 'POST'),
        page.getByRole('button', { name: 'Estimate price' }).click(),
      ]);
      assert.deepEqual(JSON.parse(request.postData() || '{}'), HOUSE, 'the page sends what was entered');
      const price = page.locator('#price');
      await price.waitFor();

      const api = await apiPredict(HOUSE);
      assert.equal(api.status, 200);
      assert.equal(await price.textContent(), money.format(api.body.price));
      const interval = await page.locator('#interval').textContent();
      assert.ok(interval.includes(money.format(api.body.interval.low)), interval);
      assert.ok(interval.includes(money.format(api.body.interval.high)), interval);
      assert.match(interval, /80% likely/);
      assert.equal(await page.locator('#model-id').textContent(), api.body.model.id);
      assert.match(await page.locator('#trained-at').textContent(), /\d{4}/);
      assert.match(await page.locator('#imputed').textContent(), /filled in/);
      assert.equal(await page.locator('#result').getAttribute('aria-live'), 'polite');

      // The estimate is kept for comparison.
      await assert.doesNotReject(page.locator('#recent li').first().waitFor());
      assert.match(await page.locator('#recent li').first().textContent(), new RegExp(money.format(api.body.price).replace('$', '\\$')));
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: path.join(screenshots, 'web-page.png'), fullPage: true });
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  test("shows the API's field errors beside the fields they name", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const { page, problems } = await openPage(context);
    try {
      await enterHouse(page, { Neighborhood: 'CollgCr', OverallQual: 7 });
      // Skip the browser's own checks: the point is the API's answer.
      await page.evaluate(() => document.querySelectorAll('input').forEach((n) => { n.removeAttribute('min'); n.removeAttribute('max'); }));
      await page.locator('#f-GrLivArea').fill('-5');
      await page.locator('#f-YearBuilt').fill('1700');
      await page.getByRole('button', { name: 'Estimate price' }).click();

      const api = await apiPredict({ Neighborhood: 'CollgCr', OverallQual: 7, GrLivArea: -5, YearBuilt: 1700 });
      assert.equal(api.status, 400);
      for (const name of ['GrLivArea', 'YearBuilt']) {
        const error = page.locator(`#e-${name}`);
        await error.waitFor({ state: 'visible' });
        const problem = api.body.error.fields.find((f) => f.field === name).problem;
        assert.equal((await error.textContent()).toLowerCase(), problem.toLowerCase());
        const input = page.locator(`#f-${name}`);
        assert.equal(await input.getAttribute('aria-invalid'), 'true');
        assert.ok((await input.getAttribute('aria-describedby')).split(' ').includes(`e-${name}`));
        // Beside the field: in the same field box, just under the input.
        assert.ok(await error.evaluate((node, id) => node.closest('.field') === document.getElementById(id).closest('.field'), `f-${name}`));
        const [box, message] = [await input.boundingBox(), await error.boundingBox()];
        assert.ok(message.y >= box.y + box.height - 1 && message.y - (box.y + box.height) < 60, JSON.stringify({ box, message }));
      }
      assert.match(await page.locator('#result').textContent(), /Check these 2 fields/);
      assert.equal(await page.locator('#price').count(), 0);
      // The first field in error has the focus; fixing it clears its error.
      assert.equal(await page.evaluate(() => document.activeElement.id), 'f-GrLivArea');
      await page.locator('#f-GrLivArea').fill('1500');
      assert.equal(await page.locator('#f-GrLivArea').getAttribute('aria-invalid'), null);
      assert.equal(await page.locator('#e-GrLivArea').isVisible(), false);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  test('works from the keyboard alone, with a visible focus', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const { page } = await openPage(context);
    try {
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Skip to the form');
      await page.keyboard.press('Enter');
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement.id), 'f-Neighborhood');
      const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
      assert.notEqual(outline, 'none', 'the focused control shows a focus ring');
      // Pick a level with the keyboard, move on, type a number, submit with Enter.
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement.id), 'f-OverallQual');
      await page.keyboard.press('Tab');
      await page.keyboard.type('1800');
      await page.keyboard.press('Enter');
      await page.locator('#price').waitFor();
      const sent = await page.evaluate(() => document.getElementById('f-Neighborhood').value);
      assert.notEqual(sent, '');
      const api = await apiPredict({ Neighborhood: sent, GrLivArea: 1800 });
      assert.equal(await page.locator('#price').textContent(), money.format(api.body.price));
      // The "All fields" disclosure opens from the keyboard.
      await page.locator('#all-fields summary').focus();
      await page.keyboard.press('Enter');
      assert.equal(await page.locator('#all-fields').evaluate((d) => d.open), true);
    } finally {
      await context.close();
    }
  });

  test('text has at least 4.5:1 contrast against its background', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const { page } = await openPage(context);
    try {
      await enterHouse(page, HOUSE);
      await page.getByRole('button', { name: 'Estimate price' }).click();
      await page.locator('#price').waitFor();
      await page.locator('#all-fields summary').click();
      const failures = await page.evaluate(() => {
        const parse = (c) => (c.match(/[\d.]+/g) || []).map(Number);
        const luminance = ([r, g, b]) => {
          const lin = (v) => { const s = v / 255; return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; };
          return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
        };
        const background = (node) => {
          for (let n = node; n; n = n.parentElement) {
            const c = parse(getComputedStyle(n).backgroundColor);
            if (c.length >= 3 && (c.length === 3 || c[3] > 0)) return c;
          }
          return [255, 255, 255];
        };
        const out = [];
        for (const node of document.querySelectorAll('body *')) {
          const own = [...node.childNodes].some((c) => c.nodeType === 3 && c.textContent.trim());
          if (!own || !node.checkVisibility() || node.closest('.sr-only, option')) continue;
          const fg = luminance(parse(getComputedStyle(node).color));
          const bg = luminance(background(node));
          const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
          if (ratio < 4.5) out.push(`${node.tagName}.${node.className} "${node.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
        }
        return out;
      });
      assert.deepEqual(failures, []);
    } finally {
      await context.close();
    }
  });

  test('keeps the last five estimates in the browser, with a clear button', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const { page } = await openPage(context);
    try {
      for (let i = 0; i < 6; i += 1) {
        await page.locator('#f-GrLivArea').fill(String(1000 + 100 * i));
        await page.getByRole('button', { name: 'Estimate price' }).click();
        await page.locator('#recent li').nth(Math.min(i, 4)).waitFor();
        await page.locator('#estimate-button:not([disabled])').waitFor();
      }
      assert.equal(await page.locator('#recent li').count(), 5);
      assert.match(await page.locator('#recent li').first().textContent(), /1,500 sq ft/);
      await page.reload();
      await page.locator('#estimate-form').waitFor({ state: 'visible' });
      assert.equal(await page.locator('#recent li').count(), 5, 'kept across page loads');
      // Loading an earlier estimate fills the form again.
      await page.locator('#recent li').nth(2).getByRole('button').click();
      assert.equal(await page.locator('#f-GrLivArea').inputValue(), '1300');
      await page.getByRole('button', { name: 'Clear', exact: true }).click();
      assert.equal(await page.locator('#recent li').count(), 0);
      assert.equal(await page.evaluate(() => localStorage.getItem('amesops.recent.v1')), null);
    } finally {
      await context.close();
    }
  });

  test('explains the price, lists the comparable sales and answers what-if, keyboard only, at 1280 and 375 px', async () => {
    for (const width of [1280, 375]) {
      const context = await browser.newContext({ viewport: { width, height: 900 } });
      const { page, problems } = await openPage(context);
      try {
        // Enter a house and submit it from the keyboard alone.
        await page.keyboard.press('Tab');
        await page.keyboard.press('Enter');
        await page.keyboard.press('Tab');
        assert.equal(await page.evaluate(() => document.activeElement.id), 'f-Neighborhood');
        await page.keyboard.press('ArrowDown');
        await page.keyboard.press('Tab');
        await page.keyboard.press('Tab');
        await page.keyboard.type('1800');
        await page.keyboard.press('Enter');
        await page.locator('#comparables').waitFor();
        const neighborhood = await page.evaluate(() => document.getElementById('f-Neighborhood').value);
        const house = { Neighborhood: neighborhood, GrLivArea: 1800 };
        const api = (await apiPredict(house)).body;

        // The explanation: the sum rule holds, the largest effects are shown in words.
        const e = api.explanation;
        const total = e.base_log + e.contributions.reduce((sum, c) => sum + c.log, 0);
        assert.ok(Math.abs(total - Math.log(api.price)) < 1e-9, `${total} vs ln ${api.price}`);
        const effects = await page.locator('#explanation li').allTextContents();
        assert.equal(effects.length, Math.min(6, e.contributions.length));
        const first = e.contributions[0];
        assert.ok(effects[0].endsWith(`${first.percent >= 0 ? '+' : '−'}${Math.abs(first.percent).toFixed(Math.abs(first.percent) < 10 ? 1 : 0)} %`), effects[0]);
        assert.ok(effects.some((t) => /Living area 1,800 sq ft: [+−]/.test(t)), effects.join(' | '));

        // The comparables table: the reply's sales, in order, with their adjusted prices.
        const ids = await page.$$eval('#comparables tbody tr', (rows) => rows.map((r) => Number(r.dataset.id)));
        assert.deepEqual(ids, api.comparables.map((c) => c.id));
        const adjusted = await page.$$eval('#comparables tbody tr td:last-child', (cells) => cells.map((c) => c.textContent));
        assert.deepEqual(adjusted, api.comparables.map((c) => money.format(c.adjusted_price)));

        // What if: Tab to the living area, type a new one: one request after the pause.
        for (let i = 0; i < 120; i += 1) {
          if (await page.evaluate(() => document.activeElement.id) === 'wi-GrLivArea') break;
          await page.keyboard.press('Tab');
        }
        assert.equal(await page.evaluate(() => document.activeElement.id), 'wi-GrLivArea');
        const sent = [];
        page.on('request', (r) => { if (r.url().endsWith('/predict') && r.method() === 'POST') sent.push(r.postData()); });
        await page.keyboard.press('Control+A');
        await page.keyboard.type('2400');
        await page.locator('#what-if-price').waitFor();
        await page.waitForTimeout(700);
        assert.equal(sent.length, 1, `one request for the typed value: ${sent.join(' | ')}`);
        const changed = JSON.parse(sent[0]);
        assert.equal(changed.GrLivArea, 2400);
        assert.equal(changed.Neighborhood, neighborhood);
        const next = (await apiPredict(changed)).body;
        assert.equal(await page.locator('#what-if-price').textContent(), money.format(next.price));
        const line = await page.locator('#what-if-result').textContent();
        assert.ok(line.includes(money.format(Math.abs(next.price - api.price))), line);
        if (width === 375) await noHorizontalOverflow(page, 375);
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    }
  });

  test('fits a 375 px wide phone screen without sideways scrolling', async () => {
    const context = await browser.newContext({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true });
    const { page, problems } = await openPage(context);
    try {
      await noHorizontalOverflow(page, 375);
      const columns = await page.$eval('#key-fields', (n) => getComputedStyle(n).gridTemplateColumns.split(' ').length);
      assert.equal(columns, 1, 'one column of fields');
      await page.locator('#all-fields summary').click();
      await noHorizontalOverflow(page, 375);
      await page.locator('#all-fields summary').click();
      await enterHouse(page, HOUSE_B);
      await page.getByRole('button', { name: 'Estimate price' }).click();
      await page.locator('#price').waitFor();
      const api = await apiPredict(HOUSE_B);
      assert.equal(await page.locator('#price').textContent(), money.format(api.body.price));
      await noHorizontalOverflow(page, 375);
      // Every control is inside the screen and big enough to touch.
      const outside = await page.$$eval('#key-fields input, #key-fields select, #estimate-button', (nodes) => nodes
        .map((n) => [n.id, n.getBoundingClientRect()])
        .filter(([, r]) => r.left < 0 || r.right > 375 || r.height < 40).map(([id]) => id));
      assert.deepEqual(outside, []);
      await page.locator('#result-title').scrollIntoViewIfNeeded();
      await page.screenshot({ path: path.join(screenshots, 'web-page-mobile.png'), fullPage: true });
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
});
