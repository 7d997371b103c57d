/**
 * The sandbox's phone page back end (dev): friends a fan makes scan are remembered and can
 * unfollow, the QR codes to scan are listed, and the state survives a restart through its file.
 */
import { describe, expect, it } from 'vitest';
import { createSandbox } from '../sandbox/app';
import { SandboxState } from '../sandbox/state';

const APPID = 'wxphone000000000001';

/** A sandbox whose "worker" records each push and thanks every follower. */
function phone() {
  const pushes: string[] = [];
  const sandbox = createSandbox({
    componentAppid: 'wxcomponent',
    componentSecret: 'secret',
    origin: 'http://sandbox.test',
    pushToWorker: async (_appid, inner) => {
      pushes.push(inner);
      return inner.includes('<Event><![CDATA[subscribe]]></Event>') ? { text: '助力成功' } : {};
    },
  });
  sandbox.state.accounts.set(APPID, { appid: APPID, ghId: 'gh_phone', nickName: '沙箱号', serviceType: 2, verifyType: 0, refreshToken: 'r', authorized: true });
  const call = async (path: string, body?: unknown) =>
    (
      await sandbox.app.fetch(
        new Request(`http://sandbox.test${path}`, body ? { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
      )
    ).json() as Promise<any>;
  return { sandbox, pushes, call };
}

describe('the phone page', () => {
  it('makes friends scan a scene, shows them with the reply, and lets one unfollow', async () => {
    const { call, pushes } = phone();
    const made = await call('/__sandbox/phone/friends', { appid: APPID, scene: '1_42', count: 2 });
    expect(made.map((f: any) => f.scene)).toEqual(['1_42', '1_42']);
    expect(pushes.filter((p) => p.includes('qrscene_1_42'))).toHaveLength(2);
    let friends = await call(`/__sandbox/phone/friends?appid=${APPID}`);
    expect(friends.map((f: any) => [f.following, f.reply])).toEqual([
      [true, '助力成功'],
      [true, '助力成功'],
    ]);

    await call('/__sandbox/phone/push', { appid: APPID, openid: friends[0].openid, type: 'unsubscribe' });
    friends = await call(`/__sandbox/phone/friends?appid=${APPID}`);
    expect(friends.map((f: any) => f.following)).toEqual([false, true]);
    expect(pushes.at(-1)).toContain('<Event><![CDATA[unsubscribe]]></Event>');
    expect((await call('/__sandbox/phone/friends', { appid: APPID, scene: '1_42', count: 99 })).errcode).toBe(400);
  });

  it('a fan who writes to the account follows it (only followers can)', async () => {
    const { call, sandbox } = phone();
    await call('/__sandbox/phone/push', { appid: APPID, openid: 'oWriter', type: 'text', content: '海报' });
    expect(sandbox.state.fan(APPID, 'oWriter').following).toBe(true);
  });

  it('lists the QR codes to scan, newest first, one per scene', async () => {
    const { call, sandbox } = phone();
    const qr = (scene: string, createdAt: number) => ({ appid: APPID, scene, expiresAt: null, url: `http://weixin.qq.com/q/${scene}${createdAt}`, createdAt });
    sandbox.state.qrcodes.set('t1', qr('1_1', 1));
    sandbox.state.qrcodes.set('t2', qr('2_7', 2));
    sandbox.state.qrcodes.set('t3', qr('1_1', 3));
    expect((await call(`/__sandbox/qrcodes?appid=${APPID}`)).map((q: any) => [q.ticket, q.scene])).toEqual([
      ['t3', '1_1'],
      ['t2', '2_7'],
    ]);
  });
});

describe('the state', () => {
  it('survives a restart: what snapshot() writes, restore() takes back', async () => {
    const { call, sandbox } = phone();
    await call('/__sandbox/phone/friends', { appid: APPID, scene: '1_9', count: 1 });
    sandbox.state.issueToken('authorizer', APPID);
    sandbox.state.latestTicket = 'ticket@@@kept';
    const restarted = new SandboxState();
    restarted.restore(sandbox.state.snapshot());
    expect(restarted.snapshot()).toBe(sandbox.state.snapshot());
    expect(restarted.accounts.get(APPID)?.nickName).toBe('沙箱号');
    expect(restarted.friends).toHaveLength(1);
    expect(restarted.latestTicket).toBe('ticket@@@kept');
  });
});
