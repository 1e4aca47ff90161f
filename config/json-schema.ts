// `switchyard config schema`: the config's JSON Schema, generated from the zod schema.
// Input side: what a user may write, so fields with defaults are not required. Editors
// can use it for completion and validation of switchyard.yaml.
import { z } from 'zod';
import { ConfigSchema } from './schema.js';

export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ConfigSchema, {
    io: 'input',
    target: 'draft-2020-12',
    unrepresentable: 'any',
    override: (ctx) => {
      // Secret fields: keep the `secret` mark and say so in the standard vocabulary too.
      if ((ctx.jsonSchema as Record<string, unknown>).secret === true) ctx.jsonSchema.writeOnly = true;
    },
  }) as Record<string, unknown>;
  return {
    $schema: schema.$schema,
    title: 'Switchyard configuration',
    description: 'switchyard.yaml, switchyard.<env>.yaml and $SWITCHYARD_HOME/config.yaml. Generated from config/schema.ts.',
    ...schema,
  };
}
