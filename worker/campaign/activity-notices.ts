import {
  DEFAULT_NOTICE_TEXTS,
  NOTICE_SCENES,
  type NoticeScene,
  type SceneSetting,
  type StoredNotices,
  sceneText,
  type TemplateBinding,
} from '../messaging/notices';
import type { NoticesInput } from './activity-input';

/** What to store of notices: texts equal to the default and empty scenes are dropped. */
export function customNotices(input: NoticesInput | StoredNotices): StoredNotices | null {
  const out: StoredNotices = {};
  for (const scene of NOTICE_SCENES) {
    const s = input[scene];
    if (!s) continue;
    const setting: SceneSetting = {};
    if (s.text && s.text !== DEFAULT_NOTICE_TEXTS[scene]) setting.text = s.text;
    if (s.template) setting.template = s.template;
    if (setting.text || setting.template) out[scene] = setting;
  }
  return Object.keys(out).length ? out : null;
}

/**
 * An edit's notices over the stored ones, scene by scene: a scene given as null goes back to the
 * default; within a scene, `text: null` drops the text and `template: null` the binding.
 */
export function mergeNotices(before: NoticesInput, patch: NoticesInput | undefined): StoredNotices {
  const out: StoredNotices = { ...customNotices(before) };
  for (const scene of NOTICE_SCENES) {
    const change = patch?.[scene];
    if (change === undefined) continue;
    if (change === null) {
      delete out[scene];
      continue;
    }
    const next: SceneSetting = { ...out[scene] };
    if (change.text !== undefined) change.text === null ? delete next.text : (next.text = change.text);
    if (change.template !== undefined) change.template === null ? delete next.template : (next.template = change.template);
    out[scene] = next;
  }
  return out;
}

/**
 * Every scene with the text fans read (the operator's or the default) and its binding, if any.
 * Sent back unchanged, it changes nothing: a text equal to the default is not stored.
 */
export function effectiveNotices(stored: StoredNotices): Record<NoticeScene, { text: string; template: TemplateBinding | null }> {
  return Object.fromEntries(NOTICE_SCENES.map((scene) => [scene, { text: sceneText(stored, scene), template: stored[scene]?.template ?? null }])) as Record<
    NoticeScene,
    { text: string; template: TemplateBinding | null }
  >;
}
