import type { Activity, ActivityInput, Template } from '$lib/api/types';
import { DEFAULT_NOTICE_TEXTS, NOTICE_SCENES, type NoticeScene } from '$notices';

/** One scene in the form: its text, and the template it falls back on (empty: none). */
export interface SceneValues {
  text: string;
  template_id: string;
  data: Record<string, string>;
  url: '' | 'progress' | 'claim';
}
export type NoticesValues = Record<NoticeScene, SceneValues>;

/** An account's templates, for the editor's choices; `error` when WeChat could not list them. */
export interface TemplateChoice {
  appid: string;
  nick_name: string;
  items: Template[];
  error?: string;
}

const scenes = <T>(f: (scene: NoticeScene) => T) => Object.fromEntries(NOTICE_SCENES.map((s) => [s, f(s)])) as Record<NoticeScene, T>;

/** Every scene with its default text and no template (a new activity). */
export const defaultNotices = (): NoticesValues => scenes((s) => ({ text: DEFAULT_NOTICE_TEXTS[s], template_id: '', data: {}, url: '' }));

/** An activity's notices as the form edits them. */
export function noticesOf(notices: Activity['notices']): NoticesValues {
  return scenes((s) => {
    const n = notices[s];
    return {
      text: n?.text ?? DEFAULT_NOTICE_TEXTS[s],
      template_id: n?.template?.template_id ?? '',
      data: { ...n?.template?.data },
      url: n?.template?.url ?? '',
    };
  });
}

/** Reads the posted scenes back (`notices.<scene>.text`, `.template_id`, `.url`, `.data.<KEY>`). */
export function readNotices(form: FormData): NoticesValues {
  const str = (name: string) => {
    const v = form.get(name);
    return typeof v === 'string' ? v.trim() : '';
  };
  return scenes((s) => {
    const prefix = `notices.${s}.data.`;
    const data = Object.fromEntries([...form.keys()].filter((k) => k.startsWith(prefix)).map((k) => [k.slice(prefix.length), str(k)]));
    const url = str(`notices.${s}.url`);
    // Browsers post a textarea's line breaks as CRLF; the texts are stored with LF.
    const text = str(`notices.${s}.text`).replace(/\r\n?/g, '\n');
    return { text, template_id: str(`notices.${s}.template_id`), data, url: url === 'progress' || url === 'claim' ? url : '' };
  });
}

/** The API's `notices`: each scene's text (blank: back to the default) and template (none: unbound). */
export function noticesBody(v: NoticesValues): NonNullable<ActivityInput['notices']> {
  return scenes((s) => {
    const n = v[s];
    // A field left blank is left out: WeChat shows it empty.
    const data = Object.fromEntries(Object.entries(n.data).filter(([, text]) => text));
    const template = n.template_id ? { template_id: n.template_id, data, ...(n.url ? { url: n.url } : {}) } : null;
    return { text: n.text || null, template };
  });
}
