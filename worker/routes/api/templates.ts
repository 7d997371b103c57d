import { createRoute, z } from '@hono/zod-openapi';
import { addTemplate, deleteTemplate, listTemplates } from '../../platform/templates';
import { type PrivateTemplate, templateFields } from '../../wechat/authorizer';
import { createApi, errorResponses, json, security } from './openapi';

const AppidParam = z.object({
  appid: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'appid 格式错误')
    .openapi({ param: { name: 'appid', in: 'path' } }),
});

const TemplateSchema = z
  .object({
    template_id: z.string(),
    title: z.string(),
    industry: z.string(),
    content: z.string(),
    example: z.string(),
    fields: z.array(z.object({ key: z.string(), label: z.string() })).openapi({ description: '模板的字段（content 中的 {{KEY.DATA}}），label 为字段前的文字' }),
  })
  .openapi('Template');

/** A template as the API shows it, with its fields spelled out for the notices editor. */
function presentTemplate(t: PrivateTemplate): z.infer<typeof TemplateSchema> {
  return {
    template_id: t.template_id,
    title: t.title,
    industry: [t.primary_industry, t.deputy_industry].filter(Boolean).join(' / '),
    content: t.content,
    example: t.example,
    fields: templateFields(t.content),
  };
}

export const templatesApi = createApi()
  .openapi(
    createRoute({
      method: 'get',
      path: '/accounts/{appid}/templates',
      summary: '公众号的模板消息（从微信读取）',
      security,
      request: { params: AppidParam },
      responses: { 200: { description: '模板', ...json(z.object({ items: z.array(TemplateSchema) })) }, ...errorResponses(401, 404, 409, 502) },
    }),
    async (c) => {
      const { db, wechat } = c.var.services;
      return c.json({ items: (await listTemplates(db, wechat, c.var.user.id, c.req.valid('param').appid)).map(presentTemplate) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/accounts/{appid}/templates',
      summary: '从模板库添加模板（模板编号 template_id_short）',
      security,
      request: {
        params: AppidParam,
        body: {
          required: true,
          ...json(
            z.object({
              template_id_short: z.string().trim().min(1, '请填写模板编号').max(64, '模板编号过长'),
              keyword_name_list: z.array(z.string().trim().min(1).max(20)).max(10).optional().openapi({ description: '选用的关键词名称（类目模板需要）' }),
            }),
          ),
        },
      },
      responses: { 201: { description: '已添加', ...json(z.object({ template_id: z.string() })) }, ...errorResponses(401, 404, 409, 422, 502) },
    }),
    async (c) => {
      const { db, wechat } = c.var.services;
      const body = c.req.valid('json');
      const templateId = await addTemplate(db, wechat, c.var.user.id, c.req.valid('param').appid, body.template_id_short, body.keyword_name_list);
      return c.json({ template_id: templateId }, 201);
    },
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/accounts/{appid}/templates/{template_id}',
      summary: '删除模板',
      security,
      request: {
        params: AppidParam.extend({
          template_id: z
            .string()
            .min(1)
            .max(128)
            .openapi({ param: { name: 'template_id', in: 'path' } }),
        }),
      },
      responses: { 204: { description: '已删除' }, ...errorResponses(401, 404, 409, 502) },
    }),
    async (c) => {
      const { db, wechat } = c.var.services;
      const { appid, template_id } = c.req.valid('param');
      await deleteTemplate(db, wechat, c.var.user.id, appid, template_id);
      return c.body(null, 204);
    },
  );
