import { XMLParser, XMLValidator } from 'fast-xml-parser';

/** WeChat pushes are a few KB; anything larger is not WeChat. */
export const MAX_PUSH_BYTES = 64 * 1024;

export class XmlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XmlError';
  }
}

// Entities and DOCTYPE are refused before parsing and never expanded by the parser.
const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  processEntities: false,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  trimValues: true,
});

/** A flat WeChat message: `<xml><Tag>value</Tag>…</xml>` → `{ Tag: 'value' }` (strings only). */
export type WeChatXml = Record<string, string>;

/** Parses a push body (plain or the decrypted inner message) into flat string fields. */
export function parseWeChatXml(xml: string): WeChatXml {
  if (xml.length > MAX_PUSH_BYTES) throw new XmlError('body too large');
  if (/<!(DOCTYPE|ENTITY)/i.test(xml)) throw new XmlError('DOCTYPE and entities are not accepted');
  if (XMLValidator.validate(xml) !== true) throw new XmlError('not well-formed XML');
  let doc: unknown;
  try {
    doc = parser.parse(xml);
  } catch {
    throw new XmlError('not well-formed XML');
  }
  const root = (doc as { xml?: unknown }).xml;
  if (!root || typeof root !== 'object' || Array.isArray(root)) throw new XmlError('root element must be <xml>');
  const out: WeChatXml = {};
  for (const [k, v] of Object.entries(root)) {
    if (typeof v === 'string' || typeof v === 'number') out[k] = String(v);
  }
  return out;
}

/** Wraps text in CDATA, splitting any `]]>` so the section cannot be closed early. */
export const cdata = (s: string) => `<![CDATA[${s.replaceAll(']]>', ']]]]><![CDATA[>')}]]>`;

/** Builds `<xml>` with CDATA text fields and bare numeric fields. */
export function buildXml(fields: Record<string, string | number>): string {
  const body = Object.entries(fields)
    .map(([k, v]) => `<${k}>${typeof v === 'number' ? v : cdata(v)}</${k}>`)
    .join('');
  return `<xml>${body}</xml>`;
}

/** One article of a news card. */
export interface NewsArticle {
  title: string;
  description: string;
  url: string;
  picurl: string;
}

/** What a push can be answered with, in the reply itself (no customer-service quota): a text or one news card. */
export type PassiveReply = { type: 'text'; content: string } | { type: 'news'; article: NewsArticle };

/**
 * A passive reply to a fan's push (before encryption). A news card is one article: WeChat shows
 * only one in the reply to a fan's message.
 */
export function buildReply(to: string, from: string, reply: PassiveReply, now = Date.now()): string {
  const head = { ToUserName: to, FromUserName: from, CreateTime: Math.floor(now / 1000) };
  if (reply.type === 'text') return buildXml({ ...head, MsgType: 'text', Content: reply.content });
  const a = reply.article;
  const item = `<item><Title>${cdata(a.title)}</Title><Description>${cdata(a.description)}</Description><PicUrl>${cdata(a.picurl)}</PicUrl><Url>${cdata(a.url)}</Url></item>`;
  return buildXml({ ...head, MsgType: 'news', ArticleCount: 1 }).replace(/<\/xml>$/, `<Articles>${item}</Articles></xml>`);
}
