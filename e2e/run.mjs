// End-to-end tests: the bot in demo mode, used the way a person would, through the web page of
// Microsoft's Agents Playground (an offline Teams client) in headless Debian chromium.
//
//   make e2e          (installs chromium and the npm packages, then runs `node e2e/run.mjs`)
//
// It starts `app.py --demo` (in-process Redis stand-in, sandbox Odoo seeded with the scenarios)
// on a free port with PROCESS_PROFILE=e2e/fast-profile.yaml, starts the playground against it,
// types into the page and checks the page's text (never pixels). Screenshots of every step, the
// bot's log and the playground's log go to e2e/shots/. On a failure the page's visible text is
// printed. Everything started here is stopped at the end, also on failure or Ctrl-C.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const E2E = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(E2E);
const SHOTS = join(E2E, 'shots');
const CHROMIUM = '/usr/bin/chromium'; // Debian's (make e2e installs it); playwright-core downloads none
const SETPRIV = '/usr/bin/setpriv';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];
const REPLY_TIMEOUT = 15_000; // a command's answer (it takes well under a second)
const NAG_TIMEOUT = 90_000; // the Standard acknowledgment reminder is due 20s after logging (fast-profile.yaml)
const CUSTOMER = 'nguyen.van.a@mindx.edu.vn'; // a customer of the sandbox Odoo's seeds
const TIMEZONE = 'Asia/Ho_Chi_Minh'; // MindX's, for the bot, the playground and the page alike

const children = [];
let bot, playground, browser, page, me;

// ---------------------------------------------------------------------------------------------
// Processes

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => { const { port } = server.address(); server.close(() => resolve(port)); });
  });
}

/** Starts a process whose output goes to e2e/shots/<name>.log; `lines` sees each line of stdout. */
function start(name, command, args, { env = {}, cwd = ROOT, lines = () => {} } = {}) {
  const log = createWriteStream(join(SHOTS, `${name}.log`));
  // setpriv (util-linux): the child gets SIGTERM if this process dies without cleaning up.
  [command, args] = existsSync(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'TERM', '--', command, ...args]] : [command, args];
  const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.label = name;
  child.logPath = join(SHOTS, `${name}.log`);
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal || code)));
  let buffered = '';
  child.stdout.on('data', (chunk) => {
    log.write(chunk);
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop();
    parts.forEach(lines);
  });
  child.stderr.pipe(log);
  children.push(child);
  return child;
}

async function stop(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const late = setTimeout(() => child.kill('SIGKILL'), 5000);
  await child.exited;
  clearTimeout(late);
}

/** Polls `check` until it returns a value; fails naming `what` (and a dead process's log tail). */
async function poll(what, check, { timeout = 60_000, child } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    if (child && child.exitCode !== null) {
      throw new Error(`${child.label} exited (code ${child.exitCode}) before ${what}:\n${tail(child.logPath)}`);
    }
    const value = await check().catch(() => undefined);
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeout / 1000}s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function tail(path, count = 30) {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-count).join('\n');
  } catch {
    return '(no log)';
  }
}

// Ctrl-C or a kill must not leave the bot or the playground running.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => { children.forEach((child) => child.kill('SIGKILL')); process.exit(130); });
}
process.once('exit', () => children.forEach((child) => child.exitCode === null && child.kill('SIGKILL')));
process.stdout.on('error', () => {}); // a closed pipe (`make e2e | head`) must not end the run before clean-up

// ---------------------------------------------------------------------------------------------
// The page

let shotNumber = 0;
async function shot(name) {
  shotNumber += 1;
  await page.screenshot({ path: join(SHOTS, `${String(shotNumber).padStart(2, '0')}-${name}.png`) });
}

/** The text of the Adaptive Card (or message) that holds `line`, a locator of one of its lines. */
function cardOf(line) {
  return line.locator('xpath=ancestor::*[contains(concat(" ", @class, " "), " ac-adaptiveCard ")][1]');
}

/** Lines (<p>) of messages and cards in the conversation shown; the chat list and the log panel
 * use other elements, so they never match. */
function lines(text) {
  return page.locator('p').filter({ hasText: text });
}

async function openChat(name) {
  await page.getByRole('treeitem', { name }).click();
  await page.getByRole('textbox').last().waitFor();
}

/** Types `text` into the chat's composer, sends it, and waits for a new line matching `expected`. */
async function say(text, expected) {
  const answers = lines(expected);
  const before = await answers.count();
  const composer = page.getByRole('textbox').last();
  await composer.fill(text);
  await composer.press('Enter');
  const answer = answers.nth(before);
  await answer.waitFor({ timeout: REPLY_TIMEOUT }).catch(() => {
    throw new Error(`no answer matching ${expected} to: ${text}`);
  });
  await answer.scrollIntoViewIfNeeded();
  return answer;
}

/** The ticket a card is about: its number (HT00007) and id (7), from the card's title line. */
async function ticketOn(card) {
  const match = (await card.innerText()).match(/\bHT(\d{5})\b/);
  assert.ok(match, `no ticket number (HTxxxxx) on the card:\n${await card.innerText()}`);
  return { label: match[0], id: Number(match[1]) };
}

/** Runs a test's body; on failure saves a screenshot and adds the page's text and the bot's log. */
function scenario(name, body, timeout = 120_000) {
  test(name, { timeout }, async () => {
    try {
      await body();
    } catch (error) {
      const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 40);
      await page?.screenshot({ path: join(SHOTS, `FAILED-${slug}.png`) }).catch(() => {});
      const text = await page?.locator('body').innerText().catch(() => '(page not available)');
      error.message += `\n\n--- the page's visible text ---\n${text}\n--- last lines of the bot's log ---\n` +
        tail(bot?.logPath ?? '');
      throw error;
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Set-up and tear-down

before(async () => {
  rmSync(SHOTS, { recursive: true, force: true });
  mkdirSync(SHOTS, { recursive: true });

  const botPort = await freePort();
  bot = start('bot', join(ROOT, '.venv/bin/python'), ['app.py', '--demo'], {
    env: { PORT: String(botPort), HOST: '127.0.0.1', PROCESS_PROFILE: join(E2E, 'fast-profile.yaml'),
      TIMEZONE, PYTHONUNBUFFERED: '1' },
  });

  // The playground falls back to a random port when the one asked for is busy: read the real one.
  let listening;
  playground = start('playground', join(E2E, 'node_modules/.bin/agentsplayground'),
    ['-e', `http://127.0.0.1:${botPort}/api/messages`, '-c', 'msteams', '-p', String(await freePort()),
      '--disable-telemetry'],
    // TZ: the playground tells the bot its own time zone as the user's Teams time zone; the page
    // and the bot's team (TIMEZONE) are in the same one.
    { cwd: SHOTS, env: { TEAMSAPPTESTER_BROWSER: 'none', TZ: TIMEZONE },
      lines: (line) => { listening ??= Number(line.match(/Listening on (\d+)/)?.[1]) || undefined; } });

  await poll('the bot to be ready (GET /readyz)', async () =>
    (await fetch(`http://127.0.0.1:${botPort}/readyz`)).ok, { child: bot });
  const port = await poll('the playground\'s "Listening on" line', async () => listening, { child: playground });
  const base = `http://127.0.0.1:${port}`;
  await poll('the playground to answer /_debug/ping', async () =>
    (await (await fetch(`${base}/_debug/ping`)).text()) === 'pong', { child: playground });
  me = (await (await fetch(`${base}/_internal/v1/config`)).json()).config.currentUser.name; // Alex Wilber

  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 }, locale: 'en-US',
    timezoneId: TIMEZONE });
  // Offline run: the page's fonts on Microsoft's CDN fail at once instead of waiting for DNS.
  await context.route((url) => !['127.0.0.1', 'localhost'].includes(url.hostname), (route) => route.abort());
  page = await context.newPage();
  page.setDefaultTimeout(REPLY_TIMEOUT);
  await page.goto(base);
  await page.getByRole('textbox').last().waitFor({ timeout: 60_000 });
  await page.getByText(me, { exact: true }).first().waitFor(); // the page's header names the user
  await page.getByTitle('Hide log panel').click(); // more room for the conversation
  await lines('keep your support tickets in Odoo moving').first().waitFor(); // the bot's welcome
  await shot('personal-chat-opened');
});

after(async () => {
  await browser?.close().catch(() => {});
  await Promise.all(children.map(stop));
});

// ---------------------------------------------------------------------------------------------
// The tests

scenario('Scenario 1 in the personal chat: new, ack, diag, resolve, confirm closes the ticket', async () => {
  await openChat('Personal Chat');
  const logged = await say(`/ticket new Không thể đăng nhập vào LMS users:1 customer:${CUSTOMER} type:incident`,
    'Logged as Standard.');
  const card = cardOf(logged);
  const { label, id } = await ticketOn(card);
  assert.match(await card.innerText(), new RegExp(`${label} · Không thể đăng nhập vào LMS`));
  assert.match(await card.innerText(), /Standard · Medium priority · New/);
  // Past fixes: the demo's four weeks hold resolved login failures like this one (bot/insights/similar.py).
  assert.match(await card.innerText(), /Resolved tickets like this one/);
  assert.match(await card.innerText(), /Fix: /);
  await shot('scenario1-new');
  await card.getByText(/^Fix: /).last().scrollIntoViewIfNeeded(); // the section ends the card
  await shot('scenario1-similar');

  const steps = [
    [`/ticket ack ${id} Chào thầy, chúng tôi đã nhận được yêu cầu và đang kiểm tra.`,
      `Acknowledged; sent to Nguyễn Văn A.`, 'In Progress', 'ack'],
    [`/ticket diag ${id} Account active; 3 failed attempts in 10 min. Root cause: forgotten password.`,
      'Diagnosis recorded.', 'In Progress', 'diag'],
    [`/ticket resolve ${id} Reset the password and sent a temporary one.`,
      'Resolved; the customer was asked to confirm.', 'Solved', 'resolve'],
    [`/ticket confirm ${id} Logged in and changed the password`, 'Confirmed and closed.', 'Done', 'confirm'],
  ];
  for (const [command, status, stage, step] of steps) {
    const text = await cardOf(await say(command, status)).innerText();
    assert.match(text, new RegExp(`${label} · Không thể đăng nhập vào LMS`), `the answer to ${step} is about ${label}`);
    assert.match(text, new RegExp(`Standard · Medium priority · ${stage}`), `after ${step} the ticket is ${stage}`);
    await shot(`scenario1-${step}`);
  }
});

scenario('An escalation card in the dev channel, acknowledged from the channel view', async () => {
  // Register the team channel for dev, with a real @mention picked from the composer's menu.
  await openChat('My Team - General');
  const post = page.getByRole('textbox').first(); // "Start a new post"
  await post.click();
  await post.pressSequentially('@Test');
  await page.getByRole('menuitem', { name: 'Test Bot' }).click();
  await post.pressSequentially(' /ticket channel dev');
  await page.getByRole('button', { name: 'Post' }).click();
  await lines('This channel is now the dev channel').first().waitFor();
  await shot('channel-registered');

  // An open ticket, escalated to dev from the personal chat.
  await openChat('Personal Chat');
  const logged = await say(`/ticket new Quiz submissions fail for class 3A users:3 customer:${CUSTOMER} type:incident`,
    'Logged as Standard.');
  const { label, id } = await ticketOn(cardOf(logged));
  await say(`/ticket escalate ${id} dev Teachers blocked`, `${label} escalated`);
  await lines('Dev team: must acknowledge by').last().waitFor();
  await shot('escalation-sent');

  // The card in the channel: Acknowledge, and the card is redrawn with who acknowledged it.
  await openChat('My Team - General');
  const card = page.locator('.ac-adaptiveCard').filter({ hasText: 'Escalation to the Dev team' })
    .filter({ hasText: `${label} · Quiz submissions fail` });
  await card.waitFor();
  assert.match(await card.innerText(), /Teachers blocked/);
  assert.match(await card.innerText(), /waiting for the Dev team to acknowledge/);
  await card.scrollIntoViewIfNeeded();
  await shot('escalation-card');
  await card.getByRole('button', { name: 'Acknowledge', exact: true }).click();
  await card.locator('p').filter({ hasText: `Acknowledged by ${me}` }).waitFor().catch(() => {
    throw new Error(`the escalation card does not say "Acknowledged by ${me}" after the click`);
  });
  assert.doesNotMatch(await card.innerText(), /waiting for the Dev team to acknowledge/);
  await card.scrollIntoViewIfNeeded();
  await shot('escalation-acknowledged');

  // The owner (the same user here) is told in the personal chat.
  await openChat('Personal Chat');
  const told = lines(`${me} (Dev team) acknowledged the escalation of ${label}`).last();
  await told.waitFor();
  await told.scrollIntoViewIfNeeded();
  await shot('escalation-owner-told');
});

scenario('A month of trends: counts, breaches, patterns and the charts drawn by the client', async () => {
  await openChat('Personal Chat');
  // The demo's Odoo holds four weeks of closed tickets (bot/demo/history.py).
  const card = cardOf(await say('/ticket trend month', 'Trends: the last 30 days'));
  const text = await card.innerText();
  assert.match(text, /Breaches \(\d+\)/);
  assert.match(text, /Category “Login”: 6 tickets/);
  // The card carries Teams' Chart.* elements, which the playground draws itself (an SVG in the card), as Teams
  // does; a client that cannot would show their fallback tables. A screen reader reads each chart by its label
  // (role="alert": the title, the kind of chart, the axes) and each day's bars by theirs (role="img").
  const perDay = card.locator('[role="alert"][aria-label^="Tickets logged per day"]');
  await perDay.waitFor({ timeout: REPLY_TIMEOUT }).catch(() => {
    throw new Error(`the playground drew no "Tickets logged per day" chart; the card reads:\n${text}`);
  });
  assert.ok(await perDay.locator('svg').count() >= 1, 'the chart is drawn as an SVG');
  assert.equal(await perDay.locator('g[role="img"]').count(), 31, 'a group of bars for each day of the month');
  const acknowledge = card.locator('[role="alert"][aria-label^="Minutes to acknowledge"]');
  const acknowledged = (text.match(/acknowledge median/g) || []).length; // the classes with times, in the facts
  assert.ok(acknowledged > 0);
  assert.equal(await acknowledge.locator('g[role="img"]').count(), acknowledged, 'a group of bars per class');
  // Each chart is under a heading of its own (the chart's title is what a screen reader announces).
  assert.ok(await lines('Tickets logged per day').count() >= 1, 'the heading of the chart');
  await perDay.evaluate((chart) => chart.scrollIntoView({ block: 'center' })); // the whole chart in the shot
  await shot('trend-month');
});

scenario('A reminder arrives by itself when a new ticket is not acknowledged in time', async () => {
  await openChat('Personal Chat');
  const logged = await say(`/ticket new Máy chiếu phòng 204 không kết nối users:1 customer:${CUSTOMER} type:incident`,
    'Logged as Standard.');
  const { label } = await ticketOn(cardOf(logged));
  await shot('nag-ticket-logged');
  // Nothing is typed now: the bot's timer worker sends the reminder on its own (proactively).
  const reminder = lines(`${label} is not acknowledged yet`).first();
  await reminder.waitFor({ timeout: NAG_TIMEOUT }).catch(() => {
    throw new Error(`no reminder "${label} is not acknowledged yet" within ${NAG_TIMEOUT / 1000}s`);
  });
  await reminder.scrollIntoViewIfNeeded();
  const text = await cardOf(reminder).innerText();
  assert.match(text, /Snooze/, 'the reminder card offers Snooze');
  await shot('nag-reminder');
}, NAG_TIMEOUT + 60_000);
