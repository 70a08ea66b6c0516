// dashboard.test.js - the dashboard in a real browser (Debian's chromium via playwright-core):
// log in, see the dashboard, watch an active call appear live (SSE), search a transcript, open
// a call and play its audio, change a setting as admin, run the Diagnostics buttons, see and
// dismiss the first-run checklist, be refused as viewer; hostile values stay inert; no CSP
// violations. Screenshots go to $ARTIFACTS.
'use strict';
const { chromium } = require('playwright-core');
const { execFileSync, spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const env = (k) => { const v = process.env[k]; if (!v) throw new Error(`${k} is not set`); return v; };
const URL = env('URL');
const DB = env('DB');
const ART = env('ARTIFACTS');
const ADMIN = [env('ADMIN_USER'), env('ADMIN_PASS')];
const VIEWER = [env('VIEWER_USER'), env('VIEWER_PASS')];

let step = 0;
function ok(msg) { console.log(`ok ${++step} - ${msg}`); }
function check(cond, msg) { if (!cond) throw new Error(`FAIL: ${msg}`); ok(msg); }
function sql(q) { return execFileSync('sqlite3', ['-cmd', '.timeout 5000', DB, q]).toString().trim(); }

async function shot(page, name) {
  await page.screenshot({ path: path.join(ART, `${String(step).padStart(2, '0')}-${name}.png`), fullPage: true });
}

async function login(page, [user, pass]) {
  await page.goto(`${URL}/login`);
  await page.fill('#username', user);
  await page.fill('#password', pass);
  await Promise.all([page.waitForURL(`${URL}/`), page.click('button[type=submit]')]);
}

async function main() {
  fs.mkdirSync(ART, { recursive: true });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'callbot-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run',
      '--autoplay-policy=no-user-gesture-required'],
    viewport: { width: 1280, height: 860 },
  });
  const problems = [];
  const page = ctx.pages()[0] || await ctx.newPage();
  page.setDefaultTimeout(15000);
  page.on('dialog', (d) => { problems.push(`dialog: ${d.message()}`); d.dismiss(); });
  page.on('console', (m) => { if (/Content.Security.Policy|Refused to/i.test(m.text())) problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => { if (!r.url().includes('/api/events') && !r.url().includes('/api/audio/')) problems.push(`request failed: ${r.url()}`); });
  try {
    // Anonymous visitors land on the login page.
    await page.goto(`${URL}/`);
    check(page.url().startsWith(`${URL}/login`), 'anonymous visitor is sent to /login');
    await shot(page, 'login');
    await page.fill('#username', ADMIN[0]);
    await page.fill('#password', 'wrong-password-here');
    await page.click('button[type=submit]');
    await page.waitForSelector('.error:not([hidden])');
    check((await page.textContent('.error')).includes('Invalid'), 'wrong password shows an error');

    await login(page, ADMIN);
    check(page.url() === `${URL}/`, 'admin logs in and sees the dashboard');
    await page.waitForFunction(() => document.getElementById('sip-state').textContent !== '…');
    await page.waitForFunction(() => document.querySelectorAll('#recent-table tbody tr').length > 0);
    check(await page.isVisible('text=Recent calls'), 'dashboard shows recent calls');
    await page.waitForSelector('#live.on');
    ok('event stream connected');
    // First login of a fresh site: the checklist (GET /api/checklist, the facts of `callbot check`).
    await page.waitForSelector('#checklist:not([hidden])');
    const items = await page.$$eval('#checklist-items li', (lis) => lis.map((li) => [li.dataset.item, li.className]));
    check(JSON.stringify(items) === JSON.stringify([['admin_password', 'todo'], ['sip_account', 'todo'], ['backends', 'todo'], ['https', 'todo']]),
      `first-run checklist shows the four items to do (${JSON.stringify(items)})`);
    check((await page.textContent('#checklist')).includes('Change the admin password'), 'checklist items are titled');
    await shot(page, 'dashboard');

    // A call starts: it must appear without a reload (SSE "state" event).
    sql("INSERT INTO calls(sip_call_id, caller, callee, started_at, answered_at, status) VALUES " +
        "('live-1', '+15550009999', '100', strftime('%Y-%m-%dT%H:%M:%fZ','now'), strftime('%Y-%m-%dT%H:%M:%fZ','now'), 'active')");
    await page.waitForSelector('#active-table tbody >> text=+15550009999', { timeout: 10000 });
    check((await page.textContent('#active-count')).trim() === '1', 'active call appears live');
    await shot(page, 'active-call');
    sql("UPDATE calls SET status='completed', ended_at=strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE sip_call_id='live-1'");
    await page.waitForFunction(() => document.getElementById('active-count').textContent === '0', null, { timeout: 10000 });
    ok('ended call leaves the active list live');

    // A real SIP call (sipp against serve's SIP endpoint) shows up live too.
    if (process.env.CALL_CMD) {
      const sipp = spawn('bash', ['-c', process.env.CALL_CMD], { stdio: 'ignore' });
      const done = new Promise((res) => sipp.on('exit', (code) => res(code)));
      await page.waitForFunction(() => Array.from(document.querySelectorAll('#active-table tbody tr'))
        .some((tr) => !tr.textContent.includes('+15550009999')), null, { timeout: 15000 });
      const who = await page.textContent('#active-table tbody tr td:first-child');
      check(who.length > 0, `SIP call from sipp appears live (caller ${who})`);
      await shot(page, 'sip-call');
      check(await done === 0, 'sipp completed the call');
      await page.waitForFunction(() => document.getElementById('active-count').textContent === '0', null, { timeout: 15000 });
      ok('SIP call leaves the active list when it ends');
    }

    // Search a transcript.
    await page.click('nav >> text=Calls');
    await page.waitForSelector('#calls-table tbody tr');
    await page.fill('#q', 'invoice');
    await page.click('#filters button[type=submit]');
    await page.waitForFunction(() => /^3 calls$/.test(document.getElementById('count').textContent));
    check((await page.$$('#calls-table tbody tr')).length === 3, 'transcript search finds 3 calls');
    await shot(page, 'search');

    // Hostile values are shown as text.
    await page.fill('#q', '');
    await page.fill('#caller', '<img src=x onerror=alert(1)>');
    await page.click('#filters button[type=submit]');
    await page.waitForFunction(() => /^1 call$/.test(document.getElementById('count').textContent));
    const cell = await page.textContent('#calls-table tbody tr td:nth-child(2)');
    check(cell === '<img src=x onerror=alert(1)>', 'hostile caller id shown as text');
    check((await page.$$('#calls-table img')).length === 0, 'no element injected');
    await shot(page, 'hostile');

    // Open a call and play its recording.
    await page.goto(`${URL}/calls/${env('AUDIO_CALL_ID')}`);
    await page.waitForSelector('#turns li');
    check((await page.$$('#turns li')).length === 2, 'call page shows the turns');
    check((await page.textContent('#turns')).includes('response 640 ms'), 'turn timings shown');
    await page.waitForSelector('#audio-box:not([hidden])');
    const played = await page.evaluate(async () => {
      const a = document.getElementById('player');
      a.muted = true;
      await a.play();
      await new Promise((r) => setTimeout(r, 700));
      return { t: a.currentTime, err: a.error && a.error.code, dur: a.duration };
    });
    check(played.t > 0 && !played.err, `audio plays (t=${played.t.toFixed(2)}s of ${played.dur}s)`);
    await shot(page, 'call');

    // Change a setting as admin.
    await page.goto(`${URL}/settings`);
    await page.waitForSelector('#set-GREETING');
    await page.fill('#set-GREETING', 'Hi from the browser test');
    await page.click('#save');
    await page.waitForSelector('#notice.good');
    check(sql("SELECT value FROM settings WHERE key='GREETING'") === 'Hi from the browser test', 'admin changes a setting');
    check(sql("SELECT count(*) FROM audit_log WHERE action='settings_change' AND details LIKE '%browser test%'") === '1', 'the change is audited');
    await shot(page, 'settings');

    // Diagnostics: each button runs its test and shows PASS/FAIL with the details.
    await page.click('#diag-speech');
    await page.waitForSelector('#diag-speech-out[data-result]', { timeout: 30000 });
    const speech = await page.textContent('#diag-speech-out');
    check(speech.startsWith('PASS: ') && speech.includes('heard "what time is it"'), `Test STT/TTS passes (${speech})`);
    await page.click('#diag-llm');
    await page.waitForSelector('#diag-llm-out[data-result]', { timeout: 30000 });
    const llm = await page.textContent('#diag-llm-out');
    check(llm.startsWith('PASS: answered "'), `Test LLM passes (${llm})`);
    await page.click('#diag-sip');
    await page.waitForSelector('#diag-sip-out[data-result]', { timeout: 30000 });
    const sip = await page.textContent('#diag-sip-out');
    check(sip.startsWith('FAIL: ') && sip.includes('SIP_SERVER is empty'), `Test SIP registration explains a missing account (${sip})`);
    await page.fill('#diag-call-to', '201');
    await page.click('#diag-call');
    await page.waitForSelector('#diag-call-out[data-result]', { timeout: 30000 });
    const call = await page.textContent('#diag-call-out');
    check(call.startsWith('FAIL: ') && call.includes('OUTBOUND_ALLOW'), `Place a test call respects OUTBOUND_ALLOW (${call})`);
    check(sql("SELECT count(*) FROM audit_log WHERE action IN ('test_speech','test_sip','test_call')") === '3', 'each diagnostic is audited');
    await shot(page, 'diagnostics');

    // The checklist can be dismissed and stays away.
    await page.goto(`${URL}/`);
    await page.waitForSelector('#checklist:not([hidden])');
    await page.click('#checklist-dismiss');
    await page.waitForSelector('#checklist', { state: 'hidden' });
    await page.reload();
    await page.waitForSelector('#checklist[data-loaded]', { state: 'attached' });
    check(await page.getAttribute('#checklist', 'data-loaded') === 'hidden' && !(await page.isVisible('#checklist')),
      'dismissed checklist stays hidden after a reload');
    check(sql("SELECT count(*) FROM audit_log WHERE action='checklist_dismiss'") === '1', 'dismissal audited');

    await page.goto(`${URL}/audit`);
    await page.waitForSelector('#audit-table tbody tr');
    check((await page.textContent('#audit-table')).includes('settings_change'), 'audit page lists the change');
    await shot(page, 'audit');

    // Log out, log in as viewer: admin pages are refused.
    await Promise.all([page.waitForURL(`${URL}/login`), page.click('text=Log out')]);
    ok('logout');
    await login(page, VIEWER);
    check(!(await page.isVisible('nav >> text=Settings')), 'viewer has no Settings link');
    check(!(await page.isVisible('#checklist')), 'viewer sees no checklist');
    const resp = await page.goto(`${URL}/settings`);
    check(resp.status() === 403, 'viewer gets 403 on /settings');
    check((await page.textContent('main')).includes('needs the admin role'), 'refusal explained');
    await shot(page, 'viewer-refused');
    const api = await page.evaluate(async () => {
      const csrf = document.querySelector('meta[name="csrf-token"]').content;
      const r = await fetch('/api/settings', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf }, body: '{"GREETING":"x"}' });
      return r.status;
    });
    check(api === 403, 'viewer cannot change settings through the API');

    check(problems.length === 0, `no CSP violations, dialogs or script errors${problems.length ? ': ' + problems.join('; ') : ''}`);
  } catch (e) {
    await shot(page, 'failure').catch(() => {});
    throw e;
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  console.log(`${step} checks passed`);
}

main().catch((e) => { console.error(e.message || e); process.exit(1); });
