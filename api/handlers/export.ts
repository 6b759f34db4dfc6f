import { reply, type Route } from '../handler.js';
import { EXPORT_FORMATS } from '../services/transcript-export.js';

export const listExportFormats = (): Route<'listExportFormats'> => ({
  async handle(ctx) {
    reply(ctx, 'listExportFormats', 200, { formats: EXPORT_FORMATS.map((f) => ({ ...f })) });
  },
});
