import { describe, expect, it } from 'vitest';
import {
  DEFAULT_NOTICE_TEXTS,
  NOTICE_SCENES,
  renderNotice,
  renderTemplateData,
  SAMPLE_VARS,
  SOLD_OUT_TEXT,
  unknownVariables,
  usesVariable,
} from '../../worker/messaging/notices';
import { templateFields } from '../../worker/wechat/authorizer';

describe('notice texts', () => {
  it('every default text (and the sold-out words) uses known variables only, and the preview fills them all', () => {
    for (const text of [...NOTICE_SCENES.map((s) => DEFAULT_NOTICE_TEXTS[s]), SOLD_OUT_TEXT]) {
      expect(unknownVariables(text)).toEqual([]);
      expect(renderNotice(text, SAMPLE_VARS)).not.toMatch(/[{}]/);
    }
    expect(renderNotice(DEFAULT_NOTICE_TEXTS.tier_reached, SAMPLE_VARS)).toBe(
      '恭喜你达成第一档，获得【定制帆布袋】！已有 5 位好友为你助力，再邀请 5 人可得第二档【保温杯】。领奖：https://mtb.example.com/h5/claim?t=…',
    );
  });

  it('names the unknown variables once each, in order; leaves them as written when rendering', () => {
    expect(unknownVariables('{nickname} {foo} {bar} {foo} {} {a b}')).toEqual(['foo', 'bar', '']);
    expect(renderNotice('{nickname}·{foo}·{rank}', { nickname: '小明' })).toBe('小明·{foo}·');
    expect(usesVariable('进度：{progress_url}', 'progress_url')).toBe(true);
  });

  it('fills template fields, cutting `thing` values to the 20 characters WeChat shows', () => {
    const data = renderTemplateData(
      { template_id: 't', data: { thing1: '{next_step}，快去邀请好友吧', number2: '{number}', character_string3: '{tracking_no}' } },
      SAMPLE_VARS,
    );
    expect(data).toEqual({ thing1: { value: '再邀请 5 人可得第二档【保温杯】，快…' }, number2: { value: '5' }, character_string3: { value: 'SF1234567890' } });
    expect([...data.thing1.value]).toHaveLength(20);
  });

  it('reads a template’s fields and their labels from its content', () => {
    expect(templateFields('{{first.DATA}}\n活动名称：{{thing1.DATA}}\n结束时间: {{time2.DATA}}\n{{remark.DATA}}')).toEqual([
      { key: 'first', label: 'first' },
      { key: 'thing1', label: '活动名称' },
      { key: 'time2', label: '结束时间' },
      { key: 'remark', label: 'remark' },
    ]);
  });
});
