/**
 * Per-check options (`meta.options`): the values a check runs with — each option's default unless
 * the caller (a configuration file, issue 16) sets it — checked against the option's description.
 */
import { UsageError } from '../errors.js';
import type { CheckMeta, MessageSet, OptionSet, OptionSpec, OptionValues } from './types.js';

type OptionsOf<O extends OptionSet> = Pick<CheckMeta<MessageSet, O>, 'id' | 'options'>;

/** Why `value` is no value of `spec`, or undefined when it is one. */
function invalid(spec: OptionSpec, value: unknown): string | undefined {
  switch (spec.type) {
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'true or false';
    case 'string':
      return typeof value === 'string' ? undefined : 'a string';
    case 'integer':
    case 'number': {
      const what = spec.type === 'integer' ? 'an integer' : 'a number';
      const range = [spec.minimum !== undefined ? `≥ ${spec.minimum}` : '', spec.maximum !== undefined ? `≤ ${spec.maximum}` : ''].filter(Boolean).join(' and ');
      const ok = typeof value === 'number' && Number.isFinite(value) && (spec.type === 'number' || Number.isSafeInteger(value))
        && (spec.minimum === undefined || value >= spec.minimum) && (spec.maximum === undefined || value <= spec.maximum);
      return ok ? undefined : `${what}${range ? ` ${range}` : ''}`;
    }
  }
}

/**
 * The option values a check runs with: `given` over the defaults. An option the check does not
 * have, or a value of the wrong kind, is a UsageError naming `check.option`.
 */
export function resolveOptions<O extends OptionSet>(meta: OptionsOf<O>, given: Readonly<Record<string, unknown>> = {}): OptionValues<O> {
  const specs: OptionSet = meta.options ?? {};
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(given)) {
    if (!Object.hasOwn(specs, name)) {
      const known = Object.keys(specs);
      throw new UsageError(`${meta.id}.${name}: ${meta.id} has no option ${name}${known.length > 0 ? ` (its options: ${known.join(', ')})` : ' (it has no options)'}`);
    }
  }
  for (const [name, spec] of Object.entries(specs)) {
    const value = Object.hasOwn(given, name) ? given[name] : spec.default;
    const why = invalid(spec, value);
    if (why !== undefined) throw new UsageError(`${meta.id}.${name}: expected ${why}, got ${JSON.stringify(value)}`);
    out[name] = value;
  }
  return out as OptionValues<O>;
}
