/**
 * The operator's whole journey in a real browser: register → log in → authorize an account →
 * add a template message → create an activity (background upload, live preview, notices with a
 * template bound, server-side validation) → sandbox fans join and assist → the fan reads their
 * progress page → the list, messages, fans and stats pages show them → blacklist → CSV export,
 * plus promo codes, editing rules after start, deletion, phone layout and the 401 → login rule.
 * Every page is screenshotted into test-output/screenshots/ for review.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { type Browser, expect, type Page, test } from '@playwright/test';

const admin = process.env.E2E_ADMIN_URL!;
const sandboxUrl = process.env.E2E_SANDBOX_URL!;
const shots = join(process.cwd(), 'test-output/screenshots');
const background = join(process.cwd(), 'test/fixtures/poster-background.jpg');
const photo = join(process.cwd(), 'test/fixtures/photo-4000x3000.jpg');
const jsqrScript = createRequire(import.meta.url).resolve('jsqr/dist/jsQR.js');

/**
 * Collects what the browser reports as Content-Security-Policy violations on `page` (a blocked
 * script, style or image is a console error naming the policy): the console's and the fans' pages
 * must work within their policies, so the journey ends with none.
 */
function cspViolations(page: Page): string[] {
  const seen: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) seen.push(`${page.url()}: ${m.text()}`);
  });
  return seen;
}

const APPID = 'wxe2e0000000000001';
const ACCOUNT_NAME = '任务宝沙箱服务号';
const KEYWORD = '领礼品';
const FAN_A = { openid: 'o_e2e_fan_a', nickname: '小明同学😀' };
// Friends who only scan never open an OAuth link, so the product never learns their nicknames.
const FAN_B = { openid: 'o_e2e_fan_b' };
const FAN_C = { openid: 'o_e2e_fan_c' };
const FAN_D = { openid: 'o_e2e_fan_d' };
/** Friends who bring fan A to tiers two (兑换码) and three (线下核销). */
const MORE_FRIENDS = ['o_e2e_fan_e', 'o_e2e_fan_f', 'o_e2e_fan_g'];
/** A friend whose assist comes in a burst, once the burst rule is on. */
const FAN_H = { openid: 'o_e2e_fan_h' };
// Long enough to wrap over several lines of the poster's rule box, with a line break of its own.
const RULE = '活动规则：\n邀请 1 位好友扫码关注即得定制帆布袋一个，邀请 3 位好友得保温杯（限量 50 个，先到先得）。活动截止前都可以参与，奖品由客服联系发放。';

let shot = 0;
/** Full-page screenshot, numbered in journey order. */
async function snap(page: Page, name: string) {
  shot += 1;
  await page.screenshot({ path: join(shots, `${String(shot).padStart(2, '0')}-${name}.png`), fullPage: true });
}

async function sandbox<T = unknown>(path: string, body?: unknown): Promise<T> {
  const res = await fetch(
    `${sandboxUrl}${path}`,
    body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
  );
  const json = await res.json();
  if (!res.ok) throw new Error(`sandbox ${path} → ${res.status}: ${JSON.stringify(json)}`);
  return json as T;
}

/** A fan acting on their phone: the sandbox seals the event and pushes it to the worker, and shows the reply (a text or a news card). */
const push = (openid: string, type: 'text' | 'subscribe' | 'unsubscribe', extra: { content?: string; scene?: string } = {}) =>
  sandbox<{ reply: string; news: { title: string; description: string; url: string } | null }>('/__sandbox/phone/push', {
    appid: APPID,
    openid,
    type,
    ...extra,
  });

// Functions below run in the browser. This file is type-checked with the worker's libraries (no
// DOM), so they describe the few browser objects they touch themselves.

/** An <img>'s decoded width, 0 while it is still loading. */
function loadedWidth(img: unknown): number {
  const i = img as { complete: boolean; naturalWidth: number };
  return i.complete ? i.naturalWidth : 0;
}

/** Reads the QR code drawn on an <img> with jsQR (injected into the page beforehand). */
function decodeQr(img: unknown): string | null {
  type Pixels = { data: Uint8ClampedArray; width: number; height: number };
  type Canvas = {
    width: number;
    height: number;
    getContext(kind: '2d'): { drawImage(i: unknown, x: number, y: number): void; getImageData(x: number, y: number, w: number, h: number): Pixels };
  };
  const page = globalThis as unknown as {
    document: { createElement(tag: 'canvas'): Canvas };
    jsQR(d: Uint8ClampedArray, w: number, h: number): { data: string } | null;
  };
  const i = img as { naturalWidth: number; naturalHeight: number };
  const canvas = page.document.createElement('canvas');
  canvas.width = i.naturalWidth;
  canvas.height = i.naturalHeight;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height);
  return page.jsQR(pixels.data, pixels.width, pixels.height)?.data ?? null;
}

/** Opens a page and waits until the app is hydrated (its module scripts have settled). */
async function open(page: Page, path: string) {
  await page.goto(`${admin}${path}`);
  await page.waitForLoadState('networkidle');
}

/** A phone of `openid`'s: the sandbox's OAuth page reads the fan from a cookie. */
async function phoneOf(browser: Browser, openid: string) {
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true });
  await phone.addCookies([{ name: 'sandbox_fan', value: openid, url: sandboxUrl }]);
  return phone;
}

/** Opens the link as the fan (the sandbox's OAuth page reads the fan from a cookie) and reads the poster's QR. */
async function fanOpensPoster(browser: Browser, link: string, openid: string) {
  const phone = await phoneOf(browser, openid);
  const page = await phone.newPage();
  const violations = cspViolations(page);
  await page.goto(link);
  const poster = page.locator('img.poster');
  await expect(poster).toBeVisible();
  await expect.poll(() => poster.evaluate(loadedWidth)).toBeGreaterThan(0);
  await snap(page, 'fan-poster-phone');
  // A refresh re-sends the used OAuth code: the page's session shows the poster again.
  await page.reload();
  await expect(poster).toBeVisible();
  await expect.poll(() => poster.evaluate(loadedWidth)).toBeGreaterThan(0);
  // The page's policy lets no script in, as it should; the test's own code is evaluated from
  // outside the page (DevTools), which the policy does not govern.
  await page.evaluate(await readFile(jsqrScript, 'utf8'));
  const qr = await poster.evaluate(decodeQr);
  await phone.close();
  expect(violations, 'the poster page works within its Content-Security-Policy').toEqual([]);
  expect(qr, 'the poster carries a readable QR code').toBeTruthy();
  const { scene } = await sandbox<{ scene: string }>(`/__sandbox/qrcode-by-url?url=${encodeURIComponent(qr!)}`);
  return scene;
}

test('operator journey: account → activity → fans assist → lists, stats, blacklist, export', async ({ page, browser }) => {
  const username = `op${Date.now().toString(36)}`;
  const password = 'e2e-password-123';
  const violations = cspViolations(page);

  await test.step('every page is behind the session', async () => {
    await open(page, '/fans');
    await expect(page).toHaveURL(/\/login\?next=%2Ffans/);
    await expect(page.getByText('请先登录')).toBeVisible();
    await snap(page, 'login-required');
  });

  await test.step('register, log out, log in', async () => {
    await open(page, '/register');
    await page.locator('input[name=username]').fill(username);
    await page.locator('input[name=password]').fill(password);
    await page.locator('input[name=confirm]').fill('mismatch-123');
    await page.getByRole('button', { name: '注册并登录' }).click();
    await expect(page.getByRole('alert')).toContainText('两次输入的密码不一致');
    await page.locator('input[name=password]').fill(password);
    await page.locator('input[name=confirm]').fill(password);
    await snap(page, 'register');
    await page.getByRole('button', { name: '注册并登录' }).click();
    await expect(page).toHaveURL(/\/accounts\?welcome=1/);
    await page.waitForLoadState('networkidle');
    await expect(page.getByText('还没有授权的公众号')).toBeVisible();
    await snap(page, 'accounts-empty');

    await page.locator('aside').getByRole('button', { name: '退出' }).click();
    await expect(page).toHaveURL(/\/login$/);
    await page.waitForLoadState('networkidle');
    await page.locator('input[name=username]').fill(username);
    await page.locator('input[name=password]').fill('wrong-password');
    await page.getByRole('button', { name: '登录' }).click();
    await expect(page.getByRole('alert')).toContainText('用户名或密码错误');
    await page.locator('input[name=password]').fill(password);
    await snap(page, 'login');
    await page.getByRole('button', { name: '登录' }).click();
    await expect(page).toHaveURL(/\/activities$/);
    await expect(page.getByText('还没有活动')).toBeVisible();
    await snap(page, 'activities-empty');
  });

  await test.step('authorize an official account through the authorization page', async () => {
    await sandbox('/__sandbox/accounts', { appid: APPID, nickName: ACCOUNT_NAME, serviceType: 2, verifyType: 0 });
    await open(page, '/accounts');
    await page.getByRole('button', { name: '授权公众号' }).click();
    await expect(page.getByRole('heading', { name: /授权（沙箱）/ })).toBeVisible();
    await snap(page, 'wechat-authorization-page');
    await page.locator(`button[data-appid="${APPID}"]`).click();
    await expect(page).toHaveURL(new RegExp(`/accounts\\?authorized=${APPID}`));
    await expect(page.getByRole('status')).toContainText(`已授权「${ACCOUNT_NAME}」`);
    const row = page.locator(`tr[data-appid="${APPID}"]`);
    await expect(row).toContainText('认证服务号');
    await expect(row).toContainText('支持');
    await expect(row).toContainText('已授权');
    await snap(page, 'accounts-authorized');
  });

  await test.step('add a template message from the library, for notices customer service cannot deliver', async () => {
    await page.locator(`tr[data-appid="${APPID}"]`).getByRole('link', { name: '管理模板' }).click();
    await expect(page.getByRole('heading', { name: /模板消息/ })).toBeVisible();
    await expect(page.getByText('还没有模板')).toBeVisible();
    await page.getByLabel('模板编号').fill('00000');
    await page.getByRole('button', { name: '添加模板' }).click();
    await expect(page.locator('.field.invalid')).toContainText('模板库中没有这个模板编号');
    await page.getByLabel('模板编号').fill('43216');
    await page.getByRole('button', { name: '添加模板' }).click();
    await expect(page.getByRole('status')).toContainText('已添加模板');
    const row = page.locator('tr[data-template]');
    await expect(row).toContainText('助力成功通知');
    await expect(row).toContainText('活动名称');
    await snap(page, 'account-templates');
  });

  let activityId = 0;
  let scene = '';
  await test.step('create an activity: validation, upload with progress, live preview', async () => {
    await open(page, '/activities/new');
    await expect(page.getByRole('heading', { name: '创建活动' })).toBeVisible();
    // The operator's only account: nothing to choose, so it starts ticked.
    await expect(page.locator(`input[name="publics"][value="${APPID}"]`)).toBeChecked();
    // Submitted nearly empty: the server's field errors come back next to their fields.
    await page.getByRole('button', { name: '创建活动' }).click();
    await expect(page.getByRole('alert').first()).toContainText('请查看标红的字段');
    await expect(page.locator('.invalid').first()).toBeVisible();
    await snap(page, 'activity-validation-errors');

    await page.getByLabel('活动名称').fill('邀好友领帆布袋');
    await page.locator(`input[name="publics"][value="${APPID}"]`).check();
    await page.locator('input[name="awards.0.number"]').fill('1');
    await page.locator('input[name="awards.0.good"]').fill('定制帆布袋');
    await page.locator('input[name="awards.1.number"]').fill('3');
    await page.locator('input[name="awards.1.good"]').fill('保温杯');
    await page.locator('input[name="awards.1.stock"]').fill('50');
    // Tier one ships a bag, tier two hands out 兑换码, tier three is redeemed at the shop.
    await page.locator('select[name="awards.0.kind"]').selectOption('shipping');
    await page.locator('select[name="awards.1.kind"]').selectOption('code');
    await page.locator('input[name="awards.2.number"]').fill('4');
    await page.locator('input[name="awards.2.good"]').fill('到店咖啡');
    await page.getByLabel('参与关键词').fill(KEYWORD);
    await page.getByLabel('活动规则').fill(RULE);
    // A phone photo (12 MP, more pixels than the worker decodes) is cropped to the poster in the browser.
    await page.getByLabel('选择海报背景图').setInputFiles(photo);
    await expect(page.getByText(/已上传：photo-4000x3000\.jpg · 750×1334（已居中裁剪为海报尺寸）/)).toBeVisible();
    await snap(page, 'activity-photo-cropped');
    await page.getByLabel('选择海报背景图').setInputFiles(background);
    await expect(page.getByText(/已上传：poster-background\.jpg · 750×1334/)).toBeVisible();
    const preview = page.getByTestId('poster-preview');
    await expect.poll(() => preview.evaluate(loadedWidth), { timeout: 20_000 }).toBe(750);
    // Drag the QR box up and left on the preview: the layout follows and the poster re-renders.
    const qrX = page.locator('input[name="layout.qr.x"]');
    const startX = Number(await qrX.inputValue());
    // Centred, so the sticky submit bar does not cover it.
    await page.locator('.box.qr').evaluate((el) => (el as { scrollIntoView(o: object): void }).scrollIntoView({ block: 'center' }));
    const box = (await page.locator('.box.qr').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    // Up and a little left, clear of the rule box beside it.
    await page.mouse.move(box.x + box.width / 2 - 8, box.y + box.height / 2 - 80, { steps: 6 });
    await page.mouse.up();
    await expect.poll(async () => Number(await qrX.inputValue())).toBeLessThan(startX);
    const movedTo = encodeURIComponent(`"qr":{"x":${await qrX.inputValue()},`);
    await expect(preview).toHaveAttribute('data-preview', new RegExp(movedTo));
    await expect(page.getByText('正在生成预览')).toHaveCount(0);
    await expect.poll(() => preview.evaluate(loadedWidth)).toBe(750);
    // The rule wraps in its box at the size set: the designer has nothing to warn about.
    await expect(page.getByTestId('rule-fit')).toHaveCount(0);
    await snap(page, 'activity-create-form');

    // Notices: the progress text with a variable that does not exist is flagged in its preview, then fixed.
    const progress = page.locator('details[data-scene="progress"]');
    await progress.locator('summary').click();
    const progressText = progress.locator('textarea[name="notices.progress.text"]');
    await progressText.fill('{nickname}，又有好友为你助力！已有 {number} 位，{next_stepp}。');
    await expect(progress.locator('.error-text')).toContainText('未知变量 {next_stepp}');
    await expect(progress.locator('[data-preview]')).toHaveText('小明，又有好友为你助力！已有 5 位，{next_stepp}。');
    await snap(page, 'notices-unknown-variable');
    await progressText.fill('{nickname}，又有好友为你助力！已有 {number} 位，{next_step}。');
    await expect(progress.locator('.error-text')).toHaveCount(0);
    await expect(progress.locator('[data-preview]')).toHaveText('小明，又有好友为你助力！已有 5 位，再邀请 5 人可得第二档【保温杯】。');
    // Prizes reached: when customer service cannot reach the fan, the template goes, its fields worded with variables.
    const tier = page.locator('details[data-scene="tier_reached"]');
    await tier.locator('summary').click();
    await tier.getByRole('combobox').selectOption({ label: '助力成功通知' });
    await tier.locator('input[name="notices.tier_reached.data.thing1"]').fill('{activity}');
    await tier.locator('input[name="notices.tier_reached.data.number2"]').fill('{number}');
    await tier.locator('input[name="notices.tier_reached.data.thing3"]').fill('{tier}：{good}');
    await tier.getByLabel('领奖页').check();
    await expect(tier.getByText('预览：第一档：定制帆布袋')).toBeVisible();
    await tier.evaluate((el) => (el as { scrollIntoView(o: object): void }).scrollIntoView({ block: 'center' }));
    await snap(page, 'notices-template');

    await page.getByRole('button', { name: '创建活动' }).click();
    await expect(page).toHaveURL(/\/activities\?created=/);
    const row = page.locator('tr[data-activity]').first();
    await expect(row).toContainText('邀好友领帆布袋');
    await expect(row).toContainText('进行中');
    await expect(row).toContainText(ACCOUNT_NAME);
    activityId = Number(await row.getAttribute('data-activity'));
    expect(activityId).toBeGreaterThan(0);
  });

  await test.step('a sandbox fan joins (the reply is the rule and the poster link), opens the poster, and friends scan it', async () => {
    await sandbox('/__sandbox/fans', { appid: APPID, openid: FAN_A.openid, nickname: FAN_A.nickname });
    await push(FAN_A.openid, 'subscribe');
    const joined = await push(FAN_A.openid, 'text', { content: KEYWORD });
    expect(joined.news).toMatchObject({ title: '点击链接生成我的专属海报', description: expect.stringContaining('邀请 1 位好友扫码关注即得定制帆布袋一个') });
    scene = await fanOpensPoster(browser, joined.news!.url, FAN_A.openid);
    expect(scene).toMatch(/^1_\d+$/);
    // The poster itself comes into the chat, so the fan can forward it.
    await expect
      .poll(async () => (await sandbox<{ msgtype: string }[]>(`/__sandbox/messages?appid=${APPID}&touser=${FAN_A.openid}`)).map((m) => m.msgtype))
      .toEqual(['image']);
    // The account's staff answer the fan from the official platform and use every send left to
    // them: 2 of the follow's minute (the poster took one) and the message's 5.
    await sandbox('/__sandbox/fans', { appid: APPID, openid: FAN_A.openid, staffSends: 7 });

    const thanks = await push(FAN_B.openid, 'subscribe', { scene });
    expect(thanks.reply).toBe(`你已为【${FAN_A.nickname}】助力成功！回复“${KEYWORD}”也能生成你的专属海报，赢取【定制帆布袋】。`);
    // The prize is announced by the template, customer service being used up.
    await expect
      .poll(async () => (await sandbox<{ msgtype: string }[]>(`/__sandbox/messages?appid=${APPID}&touser=${FAN_A.openid}`)).map((m) => m.msgtype))
      .toEqual(['image', 'template']);
    await push(FAN_C.openid, 'subscribe', { scene });
    // One friend unfollows: with 取关扣助力 on, the inviter loses that assist.
    await push(FAN_C.openid, 'unsubscribe');
  });

  await test.step('the message history says what each fan was sent, how, and why not', async () => {
    await open(page, `/activities/${activityId}/messages`);
    await expect(page.getByRole('heading', { name: /消息记录/ })).toBeVisible();
    const prize = page.locator('tr[data-message]', { hasText: '达成奖励档位' });
    await expect(prize).toContainText('模板消息');
    await expect(prize).toContainText('客服消息被微信拒绝（45047），改发模板消息');
    // The sandbox pushes the template's receipt as WeChat does.
    await expect
      .poll(async () => {
        await open(page, `/activities/${activityId}/messages?channel=template`);
        return page.locator('tr[data-message]').first().getAttribute('data-status');
      })
      .toBe('delivered');
    await open(page, `/activities/${activityId}/messages`);
    await expect(page.locator('tr[data-message]', { hasText: '参与活动（规则与海报链接）' })).toContainText('被动回复');
    await expect(page.locator('tr[data-message]', { hasText: '感谢助力好友' }).first()).toContainText('被动回复');
    // The queue settles the deduction's notice: no send is left, and no template is bound to it.
    const deducted = page.locator('tr[data-message]', { hasText: '好友取关扣助力' });
    await expect
      .poll(async () => {
        await open(page, `/activities/${activityId}/messages?scene=deducted`);
        return deducted.getAttribute('data-status');
      })
      .toBe('skipped');
    await expect(deducted).toContainText('未送达');
    await expect(deducted).toContainText('45047');
    await open(page, `/activities/${activityId}/messages`);
    await snap(page, 'activity-messages');
    await open(page, `/fans?activity=${activityId}`);
    await page.locator('tr[data-fan]', { hasText: FAN_A.openid }).getByRole('link', { name: '消息记录' }).click();
    await expect(page.getByRole('heading', { name: `${FAN_A.nickname} 的消息` })).toBeVisible();
    // The answer to the keyword, the poster, the prize, the second friend's note and the deduction.
    await expect(page.locator('tr[data-message]')).toHaveCount(5);
    await snap(page, 'fan-messages');
  });

  await test.step('the fan asks for their progress and reads their progress page', async () => {
    const answer = await push(FAN_A.openid, 'text', { content: '进度' });
    expect(answer.news).toMatchObject({ title: '【邀好友领帆布袋】我的助力进度', description: expect.stringContaining('已有 1 位好友为你助力') });
    const phone = await phoneOf(browser, FAN_A.openid);
    const fan = await phone.newPage();
    await fan.goto(answer.news!.url);
    await expect(fan.getByText('已有 1 位好友为你助力 · 第 1 名')).toBeVisible();
    await expect(fan.locator('ol.tiers li.reached')).toContainText('第一档 · 1 人 · 定制帆布袋 ✓');
    await expect(fan.getByText('再邀请 2 人可得第二档【保温杯】')).toBeVisible();
    await expect(fan.getByRole('link', { name: '领取奖品' })).toHaveAttribute('href', /\/h5\/claim\?t=/);
    await expect(fan.locator('.list.helpers li')).toHaveCount(1);
    await expect(fan.locator('.list.leaders li.me')).toContainText('1. 我');
    await expect.poll(() => fan.locator('img.poster').evaluate(loadedWidth)).toBeGreaterThan(0);
    await snap(fan, 'fan-progress-phone');
    await phone.close();
  });

  await test.step('the activity list shows the figures, with filters and search', async () => {
    const figure = (name: string) => page.locator(`tr[data-activity="${activityId}"] td[data-figure="${name}"]`);
    await expect
      .poll(async () => {
        await open(page, '/activities');
        return figure('assists_net').innerText();
      })
      .toBe('1');
    // One fan asked for a poster; two friends helped, one of whom left again.
    await expect(figure('participants')).toHaveText('1');
    await expect(figure('helpers')).toHaveText('2');
    await expect(page.locator('thead')).toContainText('助力好友');
    await page.getByLabel('状态').selectOption('running');
    await page.getByLabel('活动名称').fill('帆布袋');
    await page.getByRole('button', { name: '筛选' }).click();
    await expect(page).toHaveURL(/status=running/);
    await expect(page.locator('tr[data-activity]')).toHaveCount(1);
    await snap(page, 'activities-list');
    await page.getByLabel('状态').selectOption('ended');
    await page.getByRole('button', { name: '筛选' }).click();
    await expect(page.getByText('没有符合条件的活动')).toBeVisible();
  });

  await test.step('after start only some settings may change', async () => {
    await open(page, `/activities/${activityId}/edit`);
    await expect(page.getByText('活动已开始：只能修改')).toBeVisible();
    await expect(page.getByLabel('参与关键词')).toBeDisabled();
    await expect(page.getByLabel('开始时间')).toBeDisabled();
    // By name: the bound template has a field labelled 活动名称 too.
    const name = page.locator('input[name="name"]');
    await name.fill('邀好友领帆布袋（加码）');
    await page.locator('input[name="awards.1.stock"]').fill('80');
    // The poster's layout stays editable: fans' posters are re-rendered with it.
    await page.getByText('精确调整位置（像素）').click();
    await expect(page.locator('input[name="layout.rule.y"]')).toBeEnabled();
    await page.locator('input[name="layout.rule.y"]').fill('1000');
    // Notices stay editable after the start, and the template binding is kept.
    await expect(page.locator('select[name="notices.tier_reached.template_id"]')).toHaveValue(/^tpl_/);
    await page.getByRole('button', { name: '保存修改' }).click();
    await expect(page).toHaveURL(/saved=1/);
    await expect(page.getByText('已保存。')).toBeVisible();
    await expect(name).toHaveValue('邀好友领帆布袋（加码）');
    await expect(page.locator('input[name="layout.rule.y"]')).toHaveValue('1000');
    await expect(page.locator('input[name="notices.tier_reached.data.thing3"]')).toHaveValue('{tier}：{good}');
    await snap(page, 'activity-edit-locked');
  });

  await test.step('fans page: origin, progress, following, blacklist, CSV export', async () => {
    await open(page, `/fans?activity=${activityId}`);
    const rowOf = (fan: { openid: string }) => page.locator('tr[data-fan]', { hasText: fan.openid });
    await expect(rowOf(FAN_A)).toContainText(FAN_A.nickname);
    await expect(rowOf(FAN_A)).toContainText('已达第一档');
    await expect(rowOf(FAN_B)).toContainText(`${FAN_A.nickname} 的海报`);
    await expect(rowOf(FAN_C)).toContainText('已取关');
    await expect(rowOf(FAN_B)).toContainText('关注中');
    await expect(rowOf(FAN_C)).toContainText('助力已扣除');
    // Helpers never opened a link, so WeChat gave no nickname: the page says why.
    await expect(rowOf(FAN_B)).toContainText('未获取昵称');
    await expect(page.getByText('微信只在粉丝打开活动链接（网页授权）时提供昵称和头像')).toBeVisible();
    await snap(page, 'fans');

    await rowOf(FAN_B).getByRole('checkbox').check();
    await expect(page.getByText('已选 1 位')).toBeVisible();
    await page.getByRole('button', { name: '加入黑名单' }).click();
    // Asked first, as deleting is.
    const confirm = page.getByRole('alertdialog');
    await expect(confirm).toContainText('确定把选中的 1 位粉丝加入黑名单');
    await snap(page, 'fans-blacklist-confirm');
    await confirm.getByRole('button', { name: '确认加入黑名单' }).click();
    await expect(page.getByRole('status')).toContainText('已将 1 位粉丝加入黑名单');
    await expect(rowOf(FAN_B)).toContainText('黑名单');
    await snap(page, 'fans-blacklisted');

    await page.getByLabel('黑名单').selectOption('true');
    await page.getByRole('button', { name: '筛选' }).click();
    await expect(page.locator('tr[data-fan]')).toHaveCount(1);
    const downloading = page.waitForEvent('download');
    await page.getByRole('link', { name: /导出 CSV/ }).click();
    const download = await downloading;
    const csv = await readFile((await download.path())!, 'utf8');
    expect(csv).toContain(FAN_B.openid);
    expect(csv).not.toContain(FAN_C.openid);
    expect(csv).toContain('"未达成"');
    expect(download.suggestedFilename()).toMatch(/^fans-\d{4}-\d{2}-\d{2}\.csv$/);
  });

  await test.step('the statistics and the list agree on every figure', async () => {
    await open(page, '/activities');
    const listed: Record<string, string> = {};
    for (const name of ['participants', 'helpers', 'assists_net']) {
      listed[name] = await page.locator(`tr[data-activity="${activityId}"] td[data-figure="${name}"]`).innerText();
    }
    await open(page, `/stats?activity=${activityId}`);
    const totals = page.locator('.totals');
    for (const [name, value] of Object.entries(listed)) await expect(totals.locator(`[data-figure="${name}"] dd`)).toContainText(`${value} `);
    await expect(totals.locator('[data-figure="assists_gross"] dd')).toContainText('2 ');
    await expect(totals).toContainText('其中取关扣除 1 次');
    await snap(page, 'stats-totals-agree');
  });

  await test.step('statistics: cards, charts, tiers, depth, leaderboard', async () => {
    await open(page, `/stats?activity=${activityId}`);
    await expect(page.getByRole('heading', { name: '邀请排行榜' })).toBeVisible();
    await expect(page.locator('.leaderboard')).toContainText(FAN_A.nickname);
    await expect(page.locator('canvas')).toHaveCount(2);
    await expect(page.getByText('第 2 层', { exact: true })).toBeVisible();
    await snap(page, 'stats-7-days');
    await page.getByRole('link', { name: '近 30 天' }).click();
    await expect(page.getByText('当前显示：近 30 天')).toBeVisible();
  });

  await test.step('prizes: import codes, the fan claims (address, code, QR), ship, redeem on a phone', async () => {
    await open(page, `/activities/${activityId}/winners`);
    await page.getByLabel('导入第二档兑换码（每行一个）').fill('CUP-0001\nCUP-0002\nCUP-0001');
    await page.getByRole('button', { name: '导入' }).click();
    await expect(page.getByText('导入 2 个，重复跳过 1 个')).toBeVisible();

    // Fan A reached tier one: the claim keyword answers with the claim page's link.
    const { reply } = await push(FAN_A.openid, 'text', { content: '领奖' });
    expect(reply).toContain('【定制帆布袋】待领取');
    const claimUrl = /https?:\/\/\S+\/h5\/claim\?t=\S+/.exec(reply)![0];
    const phone = await phoneOf(browser, FAN_A.openid);
    const fan = await phone.newPage();
    const fanViolations = cspViolations(fan);
    await fan.goto(claimUrl);
    await expect(fan.getByRole('heading', { level: 2 })).toContainText('定制帆布袋');
    await fan.getByLabel('收货人').fill('王小明');
    await fan.getByLabel('手机号').fill('1380013800');
    await fan.getByLabel('所在地区').fill('浙江省 杭州市 西湖区');
    await fan.getByLabel('详细地址').fill('文三路 100 号');
    await fan.getByRole('button', { name: '提交收货地址' }).click();
    await expect(fan.getByText('请填写 11 位中国大陆手机号')).toBeVisible();
    await fan.getByLabel('手机号').fill('13800138000');
    await fan.getByRole('button', { name: '提交收货地址' }).click();
    await expect(fan.getByRole('status')).toContainText('收货地址已保存');
    await snap(fan, 'fan-claim-address');

    // Three more friends: tier two (a 兑换码) and tier three (a claim code and its QR).
    for (const friend of MORE_FRIENDS) await push(friend, 'subscribe', { scene });
    await expect
      .poll(async () => {
        await fan.reload();
        return fan.locator('section.prize').count();
      })
      .toBe(3);
    const cup = fan.locator('section.prize', { hasText: '保温杯' });
    await expect(cup.locator('p.code')).toHaveText('CUP-0001');
    // The copy button's script is the one the page's policy lets in.
    await cup.getByRole('button', { name: '复制兑换码' }).click();
    await expect(cup.getByRole('button', { name: '已复制' })).toBeVisible();
    expect(fanViolations).toEqual([]);
    const onsite = fan.locator('section.prize', { hasText: '到店咖啡' });
    await expect(onsite.locator('.qr svg')).toBeVisible();
    const claimCode = await onsite.locator('p.code').innerText();
    await snap(fan, 'fan-claim-code-and-qr');
    await phone.close();

    await open(page, `/activities/${activityId}/winners`);
    const bag = page.locator('tr[data-winner]', { hasText: '定制帆布袋' });
    await expect(bag).toContainText('王小明 13800138000');
    await bag.getByLabel('快递公司').fill('顺丰');
    await bag.getByLabel('快递单号').fill('SF1234567890');
    await bag.getByRole('button', { name: '发货' }).click();
    await expect(page.getByRole('status')).toContainText('已发货');
    await expect(bag).toContainText('已兑现');
    await expect
      .poll(async () =>
        (await sandbox<{ body: { text?: { content: string } } }[]>(`/__sandbox/messages?appid=${APPID}&touser=${FAN_A.openid}`)).some((m) =>
          m.body.text?.content.includes('SF1234567890'),
        ),
      )
      .toBe(true);
    await expect(page.locator('tr[data-winner]', { hasText: '保温杯' })).toContainText('CUP-0001');
    await snap(page, 'winners');

    // Staff scan the fan's QR with a phone: the admin opens with the code in the redeem box.
    await page.setViewportSize({ width: 390, height: 844 });
    await open(page, `/activities/${activityId}/winners?redeem=${encodeURIComponent(claimCode)}`);
    await expect(page.getByLabel('核销码')).toHaveValue(claimCode);
    await page.getByRole('button', { name: '核销', exact: true }).click();
    await expect(page.getByRole('status')).toContainText('核销成功：第 3 档「到店咖啡」');
    await snap(page, 'phone-redeem');
    await page.getByRole('button', { name: '核销', exact: true }).click();
    await expect(page.getByRole('alert')).toContainText('核销过');
    await page.setViewportSize({ width: 1280, height: 860 });
    await open(page, `/stats?activity=${activityId}`);
    await expect(page.locator('tr', { hasText: '到店咖啡' })).toContainText('1');
  });

  await test.step('fair play: a burst holds the poster for review; approved, the held assist counts; the audit log', async () => {
    await open(page, `/activities/${activityId}/edit`);
    await page.getByRole('button', { name: '填入建议值' }).click();
    await page.locator('input[name="risk.burst_count"]').fill('3');
    await page.locator('input[name="risk.burst_seconds"]').fill('3600');
    await page.locator('input[name="risk.stay_hours"]').fill('');
    await page.getByRole('button', { name: '保存修改' }).click();
    await expect(page).toHaveURL(/saved=1/);

    // Fan A had three assists within the hour: the next one is held and the poster flagged.
    await push(FAN_H.openid, 'subscribe', { scene });
    await open(page, `/activities/${activityId}/reviews`);
    const flagged = page.locator('section.review');
    await expect(flagged).toHaveCount(1);
    await expect(flagged).toContainText(FAN_A.nickname);
    await expect(flagged).toContainText('1 暂停中');
    await expect(flagged.locator('canvas')).toBeVisible();
    await snap(page, 'review-queue');
    // Fan A writes to the account (a new customer-service window: the earlier one is used up).
    await push(FAN_A.openid, 'text', { content: '领奖' });
    await flagged.getByRole('button', { name: /^通过/ }).click();
    await expect(page.getByRole('status')).toContainText('已通过：1 次助力已按顺序计入');
    await snap(page, 'review-approved');
    await page.getByRole('link', { name: '已通过' }).click();
    await expect(page.locator('section.review')).toContainText(FAN_A.nickname);
    await expect
      .poll(async () =>
        (await sandbox<{ body: { text?: { content: string } } }[]>(`/__sandbox/messages?appid=${APPID}&touser=${FAN_A.openid}`)).some((m) =>
          m.body.text?.content.includes('通过活动核验'),
        ),
      )
      .toBe(true);

    await open(page, '/audit');
    for (const label of ['审核通过', '修改进行中的活动', '核销', '发货', '导入兑换码', '加入黑名单', '导出粉丝']) {
      await expect(page.locator('tbody').getByText(label, { exact: true }).first()).toBeVisible();
    }
    await page.getByLabel('操作').selectOption('review.approve');
    await page.getByRole('button', { name: '筛选' }).click();
    await expect(page.locator('tr[data-audit]')).toHaveCount(1);
    await open(page, '/audit');
    await snap(page, 'audit-log');
  });

  await test.step('promo code: create, QR, follower statistics, rename', async () => {
    await open(page, '/promos');
    await expect(page.getByText('还没有推广码')).toBeVisible();
    await page.getByRole('textbox', { name: '渠道名称' }).fill('门店海报');
    await page.getByRole('button', { name: '生成推广码' }).click();
    await expect(page).toHaveURL(/\/promos\/\d+\?created=1/);
    const promoId = Number(/\/promos\/(\d+)/.exec(page.url())![1]);
    const qr = page.getByTestId('promo-qr');
    await expect.poll(() => qr.evaluate(loadedWidth)).toBeGreaterThan(0);
    // Print sizes, the channel's name under the code.
    for (const size of ['8', '12', '20'])
      await expect(page.getByRole('link', { name: `${size} 厘米` })).toHaveAttribute('href', `/api/promos/${promoId}/qr?size=${size}`);
    const printing = page.waitForEvent('download');
    await page.getByRole('link', { name: '12 厘米' }).click();
    expect((await printing).suggestedFilename()).toBe('推广码-门店海报-12cm.png');

    await push(FAN_D.openid, 'subscribe', { scene: `2_${promoId}` });
    await expect
      .poll(async () => {
        await open(page, `/promos/${promoId}`);
        return page.locator('.stat', { hasText: '带来关注' }).locator('strong').innerText();
      })
      .toBe('1');
    await page.getByLabel('渠道名称').fill('门店海报A');
    await page.getByRole('button', { name: '保存' }).click();
    await expect(page.getByRole('heading', { name: '门店海报A' })).toBeVisible();
    await snap(page, 'promo-detail');
    await open(page, '/promos');
    await expect(page.locator(`tr[data-promo="${promoId}"]`)).toContainText('门店海报A');
    await snap(page, 'promos-list');

    // The follower is a fan before joining any activity: listed under the promo, not blacklistable.
    await open(page, `/fans?promo=${promoId}`);
    const promoFan = page.locator('tr[data-fan]', { hasText: FAN_D.openid });
    await expect(promoFan).toContainText('未参与活动');
    await expect(promoFan).toContainText('推广码：门店海报A');
    await expect(promoFan.getByRole('checkbox')).toBeDisabled();
    await snap(page, 'fans-promo');
  });

  await test.step('phone layout', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await open(page, '/activities');
    await expect(page.getByRole('button', { name: /菜单/ }).or(page.getByText('☰ 菜单'))).toBeVisible();
    await snap(page, 'phone-activities');
    await open(page, `/fans?activity=${activityId}`);
    await snap(page, 'phone-fans');
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  await test.step('delete asks for confirmation', async () => {
    await open(page, '/activities');
    await page.locator(`tr[data-activity="${activityId}"]`).getByRole('link', { name: '删除' }).click();
    const dialog = page.getByRole('alertdialog');
    await expect(dialog).toContainText('确定删除活动');
    await snap(page, 'activity-delete-confirm');
    await dialog.getByRole('link', { name: '取消' }).click();
    await expect(page.getByRole('alertdialog')).toHaveCount(0);
    await expect(page.locator(`tr[data-activity="${activityId}"]`)).toBeVisible();
  });

  await test.step('a deleted activity stays in the statistics and fans filters, and its keyword says it has ended', async () => {
    await open(page, '/activities');
    await page.locator(`tr[data-activity="${activityId}"]`).getByRole('link', { name: '删除' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: '确认删除' }).click();
    await expect(page.getByRole('status')).toContainText('已删除');
    await open(page, `/stats?activity=${activityId}`);
    await expect(page.locator('select[name="activity"] option:checked')).toHaveText(/（已删除）$/);
    await expect(page.locator('.totals [data-figure="participants"] dd')).toContainText('1 ');
    await snap(page, 'stats-deleted-activity');
    await open(page, `/fans?activity=${activityId}`);
    await expect(page.locator('select[name="activity"] option:checked')).toHaveText(/（已删除）$/);
    await expect(page.locator('tr[data-fan]', { hasText: FAN_A.openid })).toBeVisible();
    expect((await push(FAN_A.openid, 'text', { content: KEYWORD })).reply).toMatch(/^活动已结束/);
  });

  await test.step('a rejected session goes to the login page', async () => {
    await page.context().addCookies([{ name: 'sid', value: 'expired-session', url: admin }]);
    await open(page, '/stats');
    await expect(page).toHaveURL(/\/login\?next=%2Fstats/);
  });

  await test.step('every page worked within the console’s Content-Security-Policy', async () => {
    expect(violations).toEqual([]);
  });
});

test('forms work without JavaScript: authorize, create with upload, field errors, delete', async ({ browser }) => {
  const appid = 'wxe2e0000000000002';
  await sandbox('/__sandbox/accounts', { appid, nickName: '无脚本测试号', serviceType: 2, verifyType: 0 });
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const violations = cspViolations(page);

  await test.step('register', async () => {
    await page.goto(`${admin}/register`);
    await page.locator('input[name=username]').fill(`nojs${Date.now().toString(36)}`);
    await page.locator('input[name=password]').fill('e2e-password-123');
    await page.locator('input[name=confirm]').fill('e2e-password-123');
    await page.getByRole('button', { name: '注册并登录' }).click();
    await expect(page).toHaveURL(/\/accounts\?welcome=1/);
  });

  await test.step('authorize an official account', async () => {
    await page.getByRole('button', { name: '授权公众号' }).click();
    await page.locator(`button[data-appid="${appid}"]`).click();
    await expect(page).toHaveURL(new RegExp(`/accounts\\?authorized=${appid}`));
  });

  await test.step("create an activity: the API's field error comes back on its row, the upload is kept", async () => {
    await page.goto(`${admin}/activities/new`);
    await page.getByLabel('活动名称').fill('无脚本活动');
    await page.locator(`input[name="publics"][value="${appid}"]`).check();
    await page.locator('input[name="awards.0.number"]').fill('2');
    await page.locator('input[name="awards.0.good"]').fill('徽章');
    // Tier two needs more assists than tier one: the API's error comes back on that row.
    await page.locator('input[name="awards.1.number"]').fill('1');
    await page.locator('input[name="awards.1.good"]').fill('贴纸');
    await page.getByLabel('参与关键词').fill('无脚本');
    await page.getByLabel('活动规则').fill('邀请好友助力领徽章');
    await page.getByLabel('选择海报背景图').setInputFiles(background);
    await page.getByRole('button', { name: '创建活动' }).click();
    await expect(page.locator('label.field.invalid', { has: page.locator('input[name="awards.1.number"]') })).toContainText('高一阶的助力人数必须更多');
    // The background was uploaded server-side with the first post; the re-rendered form keeps it.
    await expect(page.getByTestId('poster-preview')).toBeVisible();
    await snap(page, 'nojs-activity-errors');
  });

  await test.step('fix the error and create it, then delete it after confirming', async () => {
    await page.locator('input[name="awards.1.number"]').fill('5');
    await page.getByRole('button', { name: '创建活动' }).click();
    await expect(page).toHaveURL(/\/activities\?created=/);
    const row = page.locator('tr[data-activity]', { hasText: '无脚本活动' });
    await expect(row).toContainText('进行中');

    await row.getByRole('link', { name: '删除' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: '确认删除' }).click();
    await expect(page.getByRole('status')).toContainText('活动「无脚本活动」已删除');
    await expect(page.getByText('还没有活动')).toBeVisible();
  });
  await context.close();
  expect(violations, 'no page broke the console’s Content-Security-Policy').toEqual([]);
});
