import { createRoute, z } from '@hono/zod-openapi';
import { withBackground } from '../../campaign/backgrounds';
import { ownedUpload } from '../../campaign/uploads';
import { AppError } from '../../errors';
import { resolveLayout } from '../../poster/layout';
import { renderPoster } from '../../poster/render';
import { setRule } from '../../poster/rule';
import { createApi, errorResponses, security } from './openapi';

/** What a fan's QR looks like: the preview draws a real QR of this sample content. */
const SAMPLE_QR = 'http://weixin.qq.com/q/preview-sample-poster';

export const postersApi = createApi().openapi(
  createRoute({
    method: 'post',
    path: '/posters/preview',
    summary: '海报实时预览（与粉丝拿到的海报同一渲染器，示例头像与二维码）',
    security,
    request: {
      body: {
        required: true,
        content: {
          'application/json': {
            schema: z
              .object({
                background_img: z.string().min(1).max(128),
                rule: z.string().max(256).default(''),
                nickname: z.string().max(32).default('微信昵称😀'),
                layout: z.record(z.string(), z.unknown()).optional(),
              })
              .openapi('PosterPreviewInput'),
          },
        },
      },
    },
    responses: {
      200: {
        description: '海报（JPEG）',
        headers: z.object({
          'x-rule-font-size': z.string().openapi({ description: '规则文字在海报上的字号（放不下时比设置的小）' }),
          'x-rule-fits': z.enum(['true', 'false']).openapi({ description: 'false：缩到最小字号仍放不下，超出部分以“…”省略' }),
        }),
        content: { 'image/jpeg': { schema: z.any() } },
      },
      ...errorResponses(401, 404, 422),
    },
  }),
  async (c) => {
    const input = c.req.valid('json');
    const { db, uploads } = c.var.services;
    const upload = await ownedUpload(db, c.var.user.id, input.background_img);
    const layout = resolveLayout(input.layout);
    const image = await withBackground(uploads, upload.key, (background) =>
      renderPoster({ ...background, avatar: null, nickname: input.nickname, rule: input.rule, qrContent: SAMPLE_QR, layout }),
    );
    if (!image) throw new AppError('not_found', '背景图不存在，请重新上传');
    // How the rule was set, for the designer to tell the operator when it had to shrink or be cut.
    const rule = setRule(input.rule, layout.rule);
    return c.body(image.bytes as Uint8Array<ArrayBuffer>, 200, {
      'content-type': image.contentType,
      'cache-control': 'no-store',
      'x-rule-font-size': String(rule.fontSize),
      'x-rule-fits': String(rule.fits),
    });
  },
);
