/** `GET /api/fans`, `/api/fans/export`: cursor paging, nickname search, the CSV; blacklisting many at once. (Blacklist rules: assist.test.ts.) */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, fanPush, pushTicket, register, sandbox, uid } from '../helpers';
import { join, openLink, posterOf, rowOf, type Setup, setupActivity } from '../task-helpers';

beforeAll(async () => {
  await pushTicket();
});

const NICKNAMES = ['小明', '王小红', 'Lucky7', '50%折扣', 'a_b', null, '李小'];

/** Writes fans of `s`'s activity straight into D1: rows `${prefix}0…` with these nicknames. */
async function addFans(s: Setup, prefix: string, nicknames: (string | null)[]) {
  const { id: accountId } = (await env.DB.prepare('SELECT id FROM public_numbers WHERE authorizer_appid = ?').bind(s.account.appid).first<{ id: number }>())!;
  await env.DB.batch(
    nicknames.map((name, i) =>
      env.DB.prepare('INSERT INTO take_part_in (activity_id, public_number_id, mtb_user_id, open_id, nick_name, ctime) VALUES (?, ?, ?, ?, ?, ?)').bind(
        s.activity.id,
        accountId,
        s.op.id,
        `${prefix}${i}`,
        name,
        Date.now(),
      ),
    ),
  );
}

/** An activity whose fans are rows `oPage0…` with NICKNAMES. */
async function activityWithFans() {
  const s = await setupActivity();
  await addFans(s, 'oPage', NICKNAMES);
  const list = async (query: string) => (await api(s.op, `/fans?activity=${s.activity.id}&${query}`)).json<any>();
  return { s, list };
}

const nicks = (r: any) => r.items.map((f: any) => f.nick_name);

describe('happy', () => {
  it('pages by cursor both ways and searches nicknames of 1, 2 and more characters', async () => {
    const { list } = await activityWithFans();

    // Forward: 3 pages of 3, 3, 1, newest first; the total is counted on page 1 and carried on.
    const pages = [await list('page_size=3')];
    while (pages.at(-1).next_cursor) pages.push(await list(`page_size=3&cursor=${encodeURIComponent(pages.at(-1).next_cursor)}`));
    expect(pages.map(nicks)).toEqual([['李小', null, 'a_b'], ['50%折扣', 'Lucky7', '王小红'], ['小明']]);
    expect(pages.map((p) => [p.page, p.total, p.total_capped, p.prev_cursor === null])).toEqual([
      [1, 7, false, true],
      [2, 7, false, false],
      [3, 7, false, false],
    ]);
    // Back again from the last page.
    const back = await list(`page_size=3&cursor=${encodeURIComponent(pages[2].prev_cursor)}`);
    expect([nicks(back), back.page]).toEqual([['50%折扣', 'Lucky7', '王小红'], 2]);
    const top = await list(`page_size=3&cursor=${encodeURIComponent(back.prev_cursor)}`);
    expect([nicks(top), top.page, top.prev_cursor]).toEqual([['李小', null, 'a_b'], 1, null]);
    // Page numbers still jump near the top.
    expect(nicks(await list('page_size=3&page=2'))).toEqual(['50%折扣', 'Lucky7', '王小红']);

    const search = async (q: string) => nicks(await list(`q=${encodeURIComponent(q)}`)).sort();
    expect(await search('小')).toEqual(['小明', '李小', '王小红'].sort());
    expect(await search('小红')).toEqual(['王小红']);
    expect(await search('王小红')).toEqual(['王小红']);
    expect(await search('LUCKY')).toEqual(['Lucky7']);
    expect(await search('%')).toEqual(['50%折扣']);
    expect(await search('0%折')).toEqual(['50%折扣']);
    expect(await search('a_b')).toEqual(['a_b']);
    expect(await search('_')).toEqual(['a_b']);
    expect(await search('小x')).toEqual([]);
    // A nickname written later (OAuth) is found by its new name only.
    await env.DB.prepare('UPDATE take_part_in SET nick_name = ? WHERE open_id = ?').bind('张三丰', 'oPage0').run();
    expect(await search('三丰')).toEqual(['张三丰']);
    expect(await search('小明')).toEqual([]);
  });
});

describe('error', () => {
  it('refuses a bad cursor, a page next to a cursor, deep offset pages and unknown filter values', async () => {
    const { s, list } = await activityWithFans();
    const { next_cursor } = await list('page_size=3');
    const refused = async (query: string) => (await api(s.op, `/fans?${query}`)).json<any>();
    expect((await refused('cursor=bogus')).error.fields.cursor).toContain('游标无效');
    expect((await refused(`page=2&cursor=${encodeURIComponent(next_cursor)}`)).error.fields.page).toContain('只能给一个');
    expect((await refused('page=501&page_size=20')).error.fields.page).toContain('cursor');
    expect((await api(s.op, '/fans?following=maybe')).status).toBe(422);
  });
});

describe('the CSV export', () => {
  /** A CSV line's cells (every cell is quoted). */
  const cells = (line: string) => [...line.matchAll(/"((?:[^"]|"")*)"/g)].map((m) => m[1].replaceAll('""', '"'));
  const beijing = (ms: number) => new Date(ms + 8 * 3600_000).toISOString().slice(0, 16).replace('T', ' ');

  it('speaks the admin’s words, shows Beijing times and is named by the Beijing date', async () => {
    const s = await setupActivity();
    const owner = uid('oW');
    await posterOf(await openLink(await join(s, owner), owner));
    const row = await rowOf(s.activity.id, owner);
    const helper = uid('oH');
    await fanPush(s.account, { type: 'subscribe', openId: helper, scene: `1_${row.id}` });
    await fanPush(s.account, { type: 'unsubscribe', openId: helper });

    const res = await api(s.op, `/fans/export?activity=${s.activity.id}`);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="fans-${beijing(Date.now()).slice(0, 10)}.csv"`);
    const [header, ...lines] = (await res.text())
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    const columns = header.split(',');
    expect(columns).toEqual(expect.arrayContaining(['有效助力', '为好友助力', '任务进度', '参与时间', '关注时间']));
    const byOpenId = new Map(lines.map((l) => cells(l)).map((c) => [c[columns.indexOf('OpenID')], Object.fromEntries(columns.map((k, i) => [k, c[i]]))]));
    expect(byOpenId.get(owner)).toMatchObject({ 任务进度: '已达第一档', 有效助力: '0', 为好友助力: '', 参与时间: beijing(row.ctime) });
    const helperRow = await rowOf(s.activity.id, helper);
    expect(byOpenId.get(helper)).toMatchObject({
      昵称: '未获取昵称',
      任务进度: '未达成',
      为好友助力: '已扣除',
      关注状态: '已取关',
      关注时间: beijing(helperRow.subscribe_time),
    });
  });
});

describe('security', () => {
  it('exports the filtered fans as CSV with formula-injection nicknames defused', async () => {
    const s = await setupActivity();
    const fan = uid('oE');
    await sandbox('/__sandbox/fans', { appid: s.account.appid, openid: fan, nickname: "=cmd|' /C calc'!A0" });
    await posterOf(await openLink(await join(s, fan), fan));
    const res = await api(s.op, `/fans/export?activity=${s.activity.id}`);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const csv = await res.text();
    expect(csv.startsWith('\uFEFFID,昵称,OpenID')).toBe(true);
    expect(csv).toContain(`"'=cmd|' /C calc'!A0"`);
    expect(csv).not.toMatch(/(^|,)"?=cmd/m);
    const list = await (await api(s.op, `/fans?activity=${s.activity.id}&q=cmd`)).json<any>();
    expect(list.items[0]).toMatchObject({ open_id: fan, nick_name: "=cmd|' /C calc'!A0", origin_label: '其他', following: true });
  });

  it('defuses fullwidth and whitespace-led formulas in the CSV too', async () => {
    const s = await setupActivity();
    const hostile = ["＝cmd|' /C calc'!A0", '＋1+1', '－1+1', '＠SUM(1)', ' =1+1', '\u3000=1+1', '\t=1+1', '  ＋1'];
    await addFans(s, 'oCsv', hostile);
    const csv = await (await api(s.op, `/fans/export?activity=${s.activity.id}`)).text();
    for (const name of hostile) expect(csv, JSON.stringify(name)).toContain(`"'${name}"`);
    expect(csv).toContain('"oCsv0"');
  });

  it("blacklists 150 fans in one go (past D1's 100 bound parameters), all or nothing, and the counter bars them", async () => {
    const s = await setupActivity();
    await addFans(s, 'oMany', Array(150).fill(null));
    const ids = (await env.DB.prepare('SELECT id FROM take_part_in WHERE activity_id = ?').bind(s.activity.id).all<{ id: number }>()).results.map((r) => r.id);
    const blacklisted = async () =>
      (await env.DB.prepare('SELECT count(*) AS n FROM take_part_in WHERE activity_id = ? AND black = 1').bind(s.activity.id).first<{ n: number }>())!.n;

    const res = await api(s.op, '/fans/blacklist', { method: 'POST', json: { ids, black: true } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ updated: 150 });
    expect(await blacklisted()).toBe(150);
    expect((await fanPush(s.account, { type: 'text', openId: 'oMany149', content: s.keyword })).reply).toBe('抱歉，你暂时无法参与本活动。');

    // One id that is not this operator's fan: nothing changes.
    const refused = await api(s.op, '/fans/blacklist', { method: 'POST', json: { ids: [...ids, 2 ** 31], black: false } });
    expect(refused.status).toBe(404);
    expect(await blacklisted()).toBe(150);
  });

  it("another operator's nickname search finds none of these fans", async () => {
    await activityWithFans();
    const intruder = await register();
    expect((await (await api(intruder, '/fans?q=%E5%B0%8F')).json<any>()).total).toBe(0);
  });
});
